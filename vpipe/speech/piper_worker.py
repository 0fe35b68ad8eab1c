# SPDX-License-Identifier: GPL-3.0-or-later
"""The piper / espeak-ng worker: a separate program that vpipe talks to over a pipe.

piper-tts and espeak-ng are GPL-3.0; vpipe is Apache-2.0. This file is the only vpipe code
that imports them, it is licensed GPL-3.0-or-later, and it runs as its own process
(`python -m vpipe.speech.piper_worker`), exchanging JSON lines with
`vpipe.speech.piper_client`. Keep it small: everything that is not a call into piper or
espeak-ng (text preparation, word timing, cutting) lives in the Apache-licensed client.

Protocol: one JSON object per line in each direction.
  {"op": "load", "model": PATH, "config": PATH}                    -> {"sample_rate", "espeak_voice"}
  {"op": "synthesize", "model": PATH, "text": STR, "length_scale": F}
        -> {"sample_rate", "audio": base64 float32 LE, "phonemes": [[phoneme, samples], ...]}
  {"op": "phonemize", "voice": "en-us", "texts": [STR, ...]}       -> {"ipa": [STR, ...]}
  {"op": "espeak", "voice": "en-us", "text": STR, "rate": WPM}      -> {"sample_rate", "audio", "words": [[chars_start, ms], ...]}
Errors come back as {"error": MESSAGE}.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

NOISE_SEED = 20240601
_VOICES: dict[str, Any] = {}
_ESPEAK_LOCK = threading.Lock()


def _deterministic_model(model_path: Path) -> bytes:
    """The voice with its alignment output exposed and its sampling noise fixed.

    VITS draws Gaussian noise for durations and for the latent at every call, so the same
    text sounds slightly different each time. vpipe's cache needs equal input → equal
    output, so each RandomNormalLike node is replaced by a slice of a constant, seeded
    noise tensor of the same distribution: natural prosody, reproducible audio."""
    import onnx
    from onnx import helper, numpy_helper
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    add_alignment_output(model)
    graph = model.graph
    rng = np.random.default_rng(NOISE_SEED)
    new_nodes = []
    for node in graph.node:
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
    return bytes(model.SerializeToString())


def _voice(model: str, config: str | None) -> Any:
    if model not in _VOICES:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        config_path = Path(config) if config else Path(model + ".json")
        with open(config_path, encoding="utf-8") as f:
            cfg = PiperConfig.from_dict(json.load(f))
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            _deterministic_model(Path(model)), sess_options=options, providers=_providers()
        )
        _VOICES[model] = PiperVoice(session=session, config=cfg)
    return _VOICES[model]


def _providers() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def _b64(audio: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(audio, dtype="<f4").tobytes()).decode("ascii")


def synthesize(req: dict[str, Any]) -> dict[str, Any]:
    from piper import SynthesisConfig

    voice = _voice(req["model"], req.get("config"))
    cfg = SynthesisConfig(length_scale=float(req.get("length_scale", 1.0)), normalize_audio=False)
    audio: list[np.ndarray] = []
    phonemes: list[list[Any]] = []
    for chunk in voice.synthesize(req["text"], cfg, include_alignments=True):
        audio.append(chunk.audio_float_array)
        phonemes.append(["|", 0])  # sentence boundary marker
        phonemes.extend([a.phoneme, int(a.num_samples)] for a in chunk.phoneme_alignments or [])
    data = np.concatenate(audio) if audio else np.zeros(0, np.float32)
    return {"sample_rate": voice.config.sample_rate, "audio": _b64(data), "phonemes": phonemes}


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
    import ctypes

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
        text = req["text"].encode("utf-8") + b"\0"
        lib.espeak_Synth(ctypes.c_char_p(text), ctypes.c_size_t(len(text)), 0, 1, 0, 1, None, None)
        lib.espeak_Synchronize()
    data = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.float32) / 32768.0
    return {"sample_rate": int(rate), "audio": _b64(data), "words": words}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req.get("op")
    if op == "load":
        voice = _voice(req["model"], req.get("config"))
        return {"sample_rate": voice.config.sample_rate, "espeak_voice": voice.config.espeak_voice}
    if op == "synthesize":
        return synthesize(req)
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


if __name__ == "__main__":
    main()
