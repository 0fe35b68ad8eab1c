# SPDX-License-Identifier: GPL-3.0-or-later
"""The piper / espeak-ng worker: a separate program that vpipe talks to over a pipe.

piper-tts and espeak-ng are GPL-3.0; vpipe is Apache-2.0. This file is the only vpipe code
that imports them, it is licensed GPL-3.0-or-later, and it runs as its own process
(`python -m vpipe.speech.piper_worker`), exchanging JSON lines with
`vpipe.speech.piper_client`. Keep it small: everything that is not a call into piper or
espeak-ng (text preparation, word timing, cutting) lives in the Apache-licensed client.

Protocol: one JSON object per line in each direction.
  {"op": "load", "model": PATH, "config": PATH, "store": DIR?}     -> {"sample_rate", "espeak_voice"}
        (store: where the voice's prepared form is kept between processes, see vpipe.speech.prepared)
  {"op": "synthesize", "model": PATH, "text": STR, "length_scale": F, "phoneme_scales": [[F, ...], ...]?,
   "decode": [FIRST, LAST, PAD_SAMPLES]?}
        -> {"sample_rate", "audio": base64 float32 LE, "offset": SAMPLES, "phonemes": [[phoneme, samples], ...]}
           ("|" marks each sentence; phoneme_scales: one factor per phoneme of each sentence,
            in the order "phonemes" lists them, ^ and $ included; decode: only the audio of
            phonemes FIRST..LAST (flat indices into "phonemes") and PAD_SAMPLES around them is
            rendered, starting at sample "offset" of the sentence — the rest is not decoded)
  {"op": "durations", ...same...}  -> {"sample_rate", "phonemes": [...]}   (the duration predictor only)
  {"op": "phonemize", "voice": "en-us", "texts": [STR, ...]}       -> {"ipa": [STR, ...]}
  {"op": "espeak", "voice": "en-us", "text": STR, "rate": WPM}      -> {"sample_rate", "audio", "words": [[chars_start, ms], ...]}
Errors come back as {"error": MESSAGE}.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import json
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

NOISE_SEED = 20240601
DURATIONS_OUTPUT = "/Ceil_output_0"  # frames per phoneme id, before the decoder runs
LATENT = "/Mul_7_output_0"  # the flow's output, masked: the HiFi-GAN decoder's only input
AUDIO_OUTPUT = "output"
# Frames of latent decoded beyond a window on each side and then dropped: the decoder is
# convolutional, its receptive field is 10 frames (measured: 8 frames leave 1e-4 differences, 10 none), so the kept samples equal a full
# decode's (tests/speech/test_tts.py measures the difference).
DECODER_CONTEXT_FRAMES = 10
SCALES_INPUT = "vpipe_phoneme_scales"  # per-phoneme-id duration factors (added by vpipe)
# Runs larger than these give their memory back (_run_options): ~400 phoneme ids or 800
# latent frames are a sentence of ~9 s, longer than a row's sentence usually is.
SHRINK_IDS = 400
SHRINK_FRAMES = 800
_VOICES: dict[str, Any] = {}
_ESPEAK_LOCK = threading.Lock()
_TRIM = threading.Event()  # a large run happened in this request: trim the heap after it


def _patched(model_path: Path) -> Any:
    """The voice model with three changes, all in memory:

    - its alignment output exposed (frames per phoneme id), as piper's own patch does;
    - its sampling noise fixed: VITS draws Gaussian noise for durations and for the latent
      at every call, so the same text sounds slightly different each time; vpipe's cache
      needs equal input → equal output, so each RandomNormalLike becomes a slice of a
      constant seeded noise tensor of the same distribution (natural prosody, reproducible);
    - a per-phoneme duration factor input multiplied into the predicted durations just
      before they are rounded to frames: a slot word can be lengthened or shortened to the
      recorded word's duration while the words around it keep their natural timing
      (piper's own length_scale stretches the whole sentence). 1.0 leaves the model exact."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    add_alignment_output(model)
    graph = model.graph
    rng = np.random.default_rng(NOISE_SEED)
    new_nodes = []
    for node in graph.node:
        if node.op_type == "Ceil" and node.output[0] == DURATIONS_OUTPUT:
            scaled = f"{node.name}/vpipe_scaled"
            new_nodes.append(helper.make_node("Mul", [node.input[0], SCALES_INPUT], [scaled], name=scaled))
            node.input[0] = scaled
            new_nodes.append(node)
            continue
        if node.op_type != "RandomNormalLike":
            new_nodes.append(node)
            continue
        # Channels: 2 for the duration predictor, 192 for the flow latent (this voice family);
        # time: enough frames for ~3 minutes of speech per sentence.
        noise = rng.standard_normal((1, 256, 16384)).astype(np.float32)
        const_name = f"{node.name}/vpipe_noise"
        graph.initializer.append(numpy_helper.from_array(noise, const_name))
        shape_name = f"{node.name}/vpipe_shape"
        zeros_name = f"{node.name}/vpipe_starts"
        graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.int64), zeros_name))
        new_nodes.append(helper.make_node("Shape", [node.input[0]], [shape_name], name=shape_name))
        new_nodes.append(
            helper.make_node(
                "Slice", [const_name, zeros_name, shape_name], [node.output[0]], name=f"{node.name}/vpipe_slice"
            )
        )
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.input.append(helper.make_tensor_value_info(SCALES_INPUT, TensorProto.FLOAT, ["batch_size", 1, "phonemes"]))
    return model


class _Voice:
    """A patched voice split in three sessions: durations only (the duration predictor), the
    front (text encoder, durations, flow → latent frames) and the decoder (latent → audio).
    The decoder is ~90 % of the work and convolutional, so a row that needs one word of a
    sentence decodes just that word's frames (`decode`)."""

    def __init__(self, model: str, config: str | None, store: str | None = None) -> None:
        from piper import PiperVoice
        from piper.config import PiperConfig

        config_path = Path(config) if config else Path(model + ".json")
        with open(config_path, encoding="utf-8") as f:
            self.config = PiperConfig.from_dict(json.load(f))
        self.durations, self.front, self.decoder = _sessions(
            Path(model), config_path, Path(store) / "piper" if store else None
        )
        # piper's PiperVoice does phonemization and groups phoneme ids into phonemes; its
        # phoneme_ids_to_audio is replaced so the sessions above run with vpipe's inputs.
        self.speaker = PiperVoice(session=self.front, config=self.config)
        self.timer = PiperVoice(session=self.durations, config=self.config)
        self.sentence_scales: list[list[float]] = []
        self._latents: list[np.ndarray] = []
        self.speaker.phoneme_ids_to_audio = lambda ids, cfg, include_alignments=False: self._run(ids, cfg, False)
        self.timer.phoneme_ids_to_audio = lambda ids, cfg, include_alignments=False: self._run(ids, cfg, True)

    def _id_scales(self, ids: list[int]) -> np.ndarray:
        """This sentence's per-phoneme factors, spread over each phoneme's ids (its own and
        the pad after it), in the order piper builds the id sequence."""
        per_phoneme = self.sentence_scales.pop(0) if self.sentence_scales else []
        if not per_phoneme:
            return np.ones(len(ids), np.float32)
        from piper.const import BOS, EOS, PAD

        counts = [len(self.config.phoneme_id_map.get(BOS, [])) + len(self.config.phoneme_id_map.get(PAD, []))]
        counts += [
            len(self.config.phoneme_id_map.get(p, [])) + len(self.config.phoneme_id_map.get(PAD, []))
            for p in self._phonemes
        ]
        counts.append(len(self.config.phoneme_id_map.get(EOS, [])))
        factors = np.repeat(np.asarray(per_phoneme, np.float32), counts[: len(per_phoneme)])
        if len(factors) != len(ids):  # a phoneme map we did not foresee: keep the natural timing
            return np.ones(len(ids), np.float32)
        return factors

    def _run(self, ids: list[int], cfg: Any, durations_only: bool) -> Any:
        args = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(
                [
                    cfg.noise_scale or self.config.noise_scale,
                    cfg.length_scale or 1.0,
                    cfg.noise_w_scale or self.config.noise_w_scale,
                ],
                dtype=np.float32,
            ),
            SCALES_INPUT: self._id_scales(ids).reshape(1, 1, -1),
        }
        if durations_only:
            (frames,) = self.durations.run([DURATIONS_OUTPUT], args, _run_options(len(ids), SHRINK_IDS))
        else:  # the latent is decoded later, only where it is needed
            latent, frames = self.front.run([LATENT, DURATIONS_OUTPUT], args, _run_options(len(ids), SHRINK_IDS))
            self._latents.append(latent)
        return np.zeros(1, np.float32), (frames.squeeze() * self.config.hop_length).astype(np.int64).reshape(-1)

    def speak(
        self,
        text: str,
        length_scale: float,
        scales: list[list[float]] | None,
        durations_only: bool,
        decode: tuple[int, int, int] | None = None,
    ) -> tuple[np.ndarray, list[list[Any]], int]:
        """(audio, phonemes, offset): the audio of the whole text, or with `decode` (first and
        last flat phoneme index, padding in samples) of just that stretch, which starts at
        sample `offset` of the whole."""
        from piper import SynthesisConfig

        voice = self.timer if durations_only else self.speaker
        self.sentence_scales = [list(x) for x in scales] if scales else []
        self._latents = []
        sentences = voice.phonemize(text)
        cfg = SynthesisConfig(length_scale=length_scale, normalize_audio=False)
        phonemes: list[list[Any]] = []
        for sentence in sentences:
            if not sentence:
                continue
            self._phonemes = sentence
            for chunk in voice.synthesize(_as_phonemes(sentence), cfg, include_alignments=True):
                phonemes.append(["|", 0])
                phonemes.extend([a.phoneme, int(a.num_samples)] for a in chunk.phoneme_alignments or [])
        if durations_only:
            return np.zeros(0, np.float32), phonemes, 0
        lengths = [latent.shape[-1] * self.config.hop_length for latent in self._latents]
        start, end = 0, sum(lengths)
        if decode is not None:
            first, last, pad = decode
            edges = np.concatenate([[0], np.cumsum([int(n) for _, n in phonemes])])
            if 0 <= first <= last < len(phonemes) and edges[-1] == end:
                start, end = max(0, int(edges[first]) - pad), min(end, int(edges[last + 1]) + pad)
        return self._decode(lengths, start, end), phonemes, start

    def _decode(self, lengths: list[int], start: int, end: int) -> np.ndarray:
        """Samples [start, end) of the concatenated sentences, decoding only the latent frames
        they need plus DECODER_CONTEXT_FRAMES on each side."""
        hop = self.config.hop_length
        pieces: list[np.ndarray] = []
        offset = 0
        for latent, n in zip(self._latents, lengths, strict=True):
            a, b = max(start, offset) - offset, min(end, offset + n) - offset
            offset += n
            if b <= a:
                continue
            fa = max(0, a // hop - DECODER_CONTEXT_FRAMES)
            fb = min(latent.shape[-1], -(-b // hop) + DECODER_CONTEXT_FRAMES)
            (audio,) = self.decoder.run(
                [AUDIO_OUTPUT],
                {LATENT: np.ascontiguousarray(latent[:, :, fa:fb])},
                _run_options(fb - fa, SHRINK_FRAMES),
            )
            pieces.append(audio.reshape(-1)[a - fa * hop : b - fa * hop])
        return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


PARTS = ("durations.onnx", "front.onnx", "decoder.onnx")
PREPARED_VERSION = f"1:{NOISE_SEED}:{DURATIONS_OUTPUT}:{LATENT}:{SCALES_INPUT}"  # change with _patched


def _sessions(model: Path, config: Path, store: Path | None) -> tuple[Any, Any, Any]:
    """The voice's three sessions (durations, front, decoder). With `store`, from its prepared
    form there (onnxruntime's optimised models, loaded without optimising again: ~0.4 s of CPU
    instead of ~2.2 s) when it is there and intact, else prepared now and kept there for the
    next process. Only for the CPU provider: other providers' optimised graphs are theirs."""
    from vpipe.speech import prepared

    folder = None
    if store is not None and _providers() == ["CPUExecutionProvider"]:
        folder = prepared.folder_for(store, [model, config], _prepared_salt())
        found = prepared.read(folder, PARTS)
        if found is not None:
            try:
                return tuple(_session(found[name], optimize=False) for name in PARTS)  # type: ignore[return-value]
            except Exception:  # onnxruntime's own error types, whatever its version: prepare it again
                pass
    from onnx.utils import Extractor

    extractor = Extractor(_patched(model))
    inputs = ["input", "input_lengths", "scales", SCALES_INPUT]
    models = (
        extractor.extract_model(inputs, [DURATIONS_OUTPUT]),
        extractor.extract_model(inputs, [LATENT, DURATIONS_OUTPUT]),
        extractor.extract_model([LATENT], [AUDIO_OUTPUT]),
    )
    blobs = [m.SerializeToString() for m in models]
    if folder is not None:
        try:
            with prepared.writing(folder, PARTS, store) as temps:
                if temps is not None:
                    return tuple(_session(b, save=temps[name]) for b, name in zip(blobs, PARTS, strict=True))  # type: ignore[return-value]
        except Exception:  # onnxruntime could not write it: prepared here, kept nowhere
            pass
    return tuple(_session(b) for b in blobs)  # type: ignore[return-value]


def _session(model: bytes, optimize: bool = True, save: Path | None = None) -> Any:
    """An onnxruntime session of `model`; `save`: where onnxruntime writes the model as it
    optimised it (a prepared form); `optimize=False` for a model that was saved so."""
    import onnxruntime

    options = _session_options()
    if not optimize:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    if save is not None:
        options.optimized_model_filepath = str(save)
    return onnxruntime.InferenceSession(model, sess_options=options, providers=_providers())


def _prepared_salt() -> list[str]:
    """What a prepared voice depends on besides the voice's files."""
    from importlib.metadata import PackageNotFoundError, version

    import onnx
    import onnxruntime

    from vpipe.speech.prepared import cpu_identity

    try:
        piper_version = version("piper-tts")
    except PackageNotFoundError:
        piper_version = "?"
    return [PREPARED_VERSION, onnx.__version__, onnxruntime.__version__, piper_version, cpu_identity()]


def _as_phonemes(sentence: list[str]) -> str:
    """A sentence's phonemes as a raw phoneme block, so it is synthesized exactly as phonemized."""
    return "[[" + "".join(sentence) + "]]"


def _voice(model: str, config: str | None, store: str | None = None) -> _Voice:
    if model not in _VOICES:
        _VOICES[model] = _Voice(model, config, store)
    return _VOICES[model]


def _session_options() -> Any:
    """One intra-op thread unless VPIPE_TTS_THREADS says otherwise: rows run in parallel
    processes, and a second thread per synthesis costs more CPU than it saves time."""
    import os

    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = int(os.environ.get("VPIPE_TTS_THREADS", "1"))
    options.inter_op_num_threads = 1
    return options


def _run_options(size: int, limit: int) -> Any:
    """A run larger than `limit` (phoneme ids, or latent frames for the decoder) hands back
    what it grew onnxruntime's CPU arena by, at its end, and has the heap trimmed after the
    request. The arena otherwise keeps its largest run's working memory for the process's
    life, and the largest run is the voice statistics' one synthesis of up to 60 words of the
    transcript: the worker stayed ~280 MB larger at a 122 s source than at a 5 s one
    (benchmarks/rss_ops.py). Smaller runs (a row's sentence) keep the arena as before:
    shrinking after every run cost a row's synthesis ~0.06 s of CPU (measured). Only where
    memory comes from changes, never what is computed."""
    if size <= limit:
        return None
    _TRIM.set()
    return _shrinking()


@functools.cache
def _shrinking() -> Any:
    import onnxruntime

    options = onnxruntime.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def _release_free_memory() -> None:
    """After a request with a large run: give the C heap's free pages back to the system
    (glibc's malloc_trim); the arena's freed blocks below glibc's mmap threshold stay in the
    heap otherwise."""
    if not _TRIM.is_set():
        return
    _TRIM.clear()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(None).malloc_trim(0)


def _providers() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def _b64(audio: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(audio, dtype="<f4").tobytes()).decode("ascii")


def synthesize(req: dict[str, Any], durations_only: bool = False) -> dict[str, Any]:
    voice = _voice(req["model"], req.get("config"), req.get("store"))
    decode = req.get("decode")
    audio, phonemes, offset = voice.speak(
        req["text"],
        float(req.get("length_scale", 1.0)),
        req.get("phoneme_scales"),
        durations_only,
        tuple(int(x) for x in decode) if decode else None,
    )
    reply = {"sample_rate": voice.config.sample_rate, "phonemes": phonemes}
    if not durations_only:
        reply["audio"] = _b64(audio)
        reply["offset"] = offset
    return reply


def phonemize(req: dict[str, Any]) -> dict[str, Any]:
    from piper.phonemize_espeak import EspeakPhonemizer

    phonemizer = _VOICES.setdefault("__espeak_phonemizer__", EspeakPhonemizer())
    out = []
    with _ESPEAK_LOCK:
        for text in req["texts"]:
            sentences = phonemizer.phonemize(req.get("voice", "en-us"), text)
            out.append(" ".join("".join(s) for s in sentences))
    return {"ipa": out}


def espeak(req: dict[str, Any]) -> dict[str, Any]:
    """espeak-ng's own formant synthesis, for the fallback engine, with word events."""
    import piper
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    lib = ctypes.CDLL(str(Path(piper.__file__).parent / "espeakbridge.so"))

    class Event(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int),
            ("unique_identifier", ctypes.c_uint),
            ("text_position", ctypes.c_int),
            ("length", ctypes.c_int),
            ("audio_position", ctypes.c_int),
            ("sample", ctypes.c_int),
            ("user_data", ctypes.c_void_p),
            ("id", ctypes.c_uint64),
        ]

    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(Event))
    chunks: list[np.ndarray] = []
    words: list[list[int]] = []

    def on_audio(wav: Any, n: int, events: Any) -> int:
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events and events[i].type != 0:  # 0 = espeakEVENT_LIST_TERMINATED
            if events[i].type == 1:  # espeakEVENT_WORD: text_position is 1-based characters
                words.append([events[i].text_position - 1, events[i].length, events[i].audio_position])
            i += 1
        return 0

    cb = callback_type(on_audio)
    with _ESPEAK_LOCK:
        rate = lib.espeak_Initialize(1, 0, str(ESPEAK_DATA_DIR).encode(), 0)  # 1 = retrieval mode
        lib.espeak_SetSynthCallback(cb)
        lib.espeak_SetVoiceByName(req.get("voice", "en-us").encode())
        lib.espeak_SetParameter(1, int(req.get("rate", 165)), 0)  # words per minute
        # Events left over from the phonemizer's use of the same library would fill the first
        # buffer's event list and drop the first word's event: flush them with a throwaway call.
        lib.espeak_Synth(ctypes.c_char_p(b" \0"), ctypes.c_size_t(2), 0, 1, 0, 1, None, None)
        lib.espeak_Synchronize()
        chunks.clear()
        words.clear()
        text = req["text"].encode("utf-8") + b"\0"
        lib.espeak_Synth(ctypes.c_char_p(text), ctypes.c_size_t(len(text)), 0, 1, 0, 1, None, None)
        lib.espeak_Synchronize()
    data = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.float32) / 32768.0
    return {"sample_rate": int(rate), "audio": _b64(data), "words": words}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req.get("op")
    if op == "load":
        voice = _voice(req["model"], req.get("config"), req.get("store"))
        return {"sample_rate": voice.config.sample_rate, "espeak_voice": voice.config.espeak_voice}
    if op == "synthesize":
        return synthesize(req)
    if op == "durations":
        return synthesize(req, durations_only=True)
    if op == "phonemize":
        return phonemize(req)
    if op == "espeak":
        return espeak(req)
    if op == "ping":
        return {"pong": True}
    return {"error": f"unknown op {op!r}"}


def main() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but protocol lines may reach the pipe
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            reply = handle(req)
        except Exception as exc:  # report, keep serving: one bad request must not kill the worker
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        reply["id"] = req.get("id") if isinstance(req, dict) else None
        out.write(json.dumps(reply) + "\n")
        out.flush()
        _release_free_memory()  # after the reply: the caller is not kept waiting for it


if __name__ == "__main__":
    main()
