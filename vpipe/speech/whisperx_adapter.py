"""whisperx as an optional aligner and recogniser (GPU users; the `whisperx` extra).

whisperx aligns text to speech with a wav2vec2 CTC model (and recognises with
faster-whisper); it reports words, not phones, and words it cannot place (digits, symbols
missing from the model's alphabet) come back without times. This adapter turns its result
into vpipe's `Alignment`:
- its words are matched to the transcript's words (`vpipe.text.words_of` on both sides, so
  punctuation and case do not matter; it may split or merge tokens differently);
- words without times get the gap between their timed neighbours, shared by length;
- phones come from the same pronunciations the pocketsphinx aligner uses (lexicon,
  CMUdict, espeak-ng G2P), spread over each word by a typical relative length (vowels
  about twice a consonant), with SIL in the pauses — enough for visemes and room tone.

Models are local folders named in the recipe, never hub names: vpipe downloads nothing.
whisperx cannot be installed next to the CPU torch vpipe's tests use, so `run_align` and
`run_recognize` (the only functions that import it) are thin; the conversion is tested on
recorded result structures.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.alignment import Alignment, Segment
from vpipe.speech.align import AlignmentFailed
from vpipe.text import words_of

SAMPLE_RATE = 16000  # whisperx's models take 16 kHz mono float32
MIN_PAUSE = 0.03  # seconds between words that become a SIL phone
MAX_UNTIMED = 0.5  # fraction of transcript words whisperx may leave without times
_VOWELS = frozenset(["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"])


def timed_words(result: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(text, start, end) of every word whisperx returned, in order. `word_segments` is the
    flat list (newer versions); older results only have `segments[].words`."""
    words = result.get("word_segments")
    if words is None:
        words = [w for seg in result.get("segments") or [] for w in seg.get("words") or []]
    out = []
    for w in words:
        text = str(w.get("word", w.get("text", "")))
        start, end = _time(w.get("start")), _time(w.get("end"))
        out.append((text, start, end) if start is not None and end is not None and end >= start else (text, None, None))
    return out


def _time(value: Any) -> float | None:
    try:
        t = float(value)
    except (TypeError, ValueError):
        return None
    return t if np.isfinite(t) else None


def match_transcript(
    transcript_words: Sequence[str], result_words: Sequence[tuple[str, float | None, float | None]]
) -> list[tuple[float | None, float | None]]:
    """Times for each transcript word from whisperx's words (None where it has none)."""
    tokens: list[str] = []
    owner: list[int] = []  # token → index into result_words
    for k, (text, _, _) in enumerate(result_words):
        for token in words_of(text):
            tokens.append(token)
            owner.append(k)
    times: list[tuple[float | None, float | None]] = [(None, None)] * len(transcript_words)
    matcher = difflib.SequenceMatcher(a=list(transcript_words), b=tokens, autojunk=False)
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            _, start, end = result_words[owner[block.b + i]]
            times[block.a + i] = (start, end)
    return times


def fill_gaps(times: list[tuple[float | None, float | None]], words: Sequence[str], duration: float) -> list[Segment]:
    """Give untimed words the time between their timed neighbours, in proportion to their length."""
    out: list[tuple[float, float] | None] = [(s, e) if s is not None and e is not None else None for s, e in times]
    i = 0
    while i < len(out):
        if out[i] is not None:
            i += 1
            continue
        j = i
        while j < len(out) and out[j] is None:
            j += 1
        left = out[i - 1][1] if i > 0 and out[i - 1] is not None else 0.0  # type: ignore[index]
        right = out[j][0] if j < len(out) and out[j] is not None else duration  # type: ignore[index]
        right = max(right, left)
        weights = np.array([max(1, len(w)) for w in words[i:j]], np.float64)
        edges = left + (right - left) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        for k in range(i, j):
            out[k] = (float(edges[k - i]), float(edges[k - i + 1]))
        i = j
    return [Segment(w, a, b) for w, (a, b) in zip(words, out, strict=True)]  # type: ignore[misc]


def spread_phones(word: Segment, phones: Sequence[str]) -> list[Segment]:
    """The word's phones over its span, vowels weighted twice a consonant."""
    weights = np.array([2.0 if p.rstrip("012") in _VOWELS else 1.0 for p in phones])
    edges = word.start + (word.end - word.start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return [Segment(p.rstrip("012"), float(edges[k]), float(edges[k + 1])) for k, p in enumerate(phones)]


def to_alignment(
    result: dict[str, Any],
    transcript: str,
    duration: float,
    pronounce: Callable[[list[str]], list[list[str]]],
) -> Alignment:
    """vpipe's Alignment of `transcript` from a whisperx alignment result. `pronounce` gives
    the ARPAbet phones of each transcript word (see `vpipe.speech.align.phones_of_words`)."""
    words = words_of(transcript)
    if not words:
        raise AlignmentFailed("the transcript has no words")
    times = match_transcript(words, timed_words(result))
    untimed = sum(1 for s, _ in times if s is None)
    if untimed > MAX_UNTIMED * len(words):
        raise AlignmentFailed(f"whisperx placed only {len(words) - untimed} of {len(words)} transcript words")
    word_segs = fill_gaps(times, words, duration)
    phones: list[Segment] = []
    ranges: list[tuple[int, int]] = []
    cursor = 0.0
    for seg, word_phones in zip(word_segs, pronounce(words), strict=True):
        if seg.start - cursor >= MIN_PAUSE:
            phones.append(Segment("SIL", cursor, seg.start))
        first = len(phones)
        phones.extend(spread_phones(seg, word_phones or ["AH"]))
        ranges.append((first, len(phones)))
        cursor = max(cursor, seg.end)
    if duration - cursor >= MIN_PAUSE:
        phones.append(Segment("SIL", cursor, duration))
    return Alignment(transcript, tuple(word_segs), tuple(phones), tuple(ranges), duration, "whisperx")


def transcript_of(result: dict[str, Any]) -> str:
    """A recognition result as vpipe's transcript: lower-case words, no punctuation."""
    return " ".join(w for seg in result.get("segments") or [] for w in words_of(str(seg.get("text", ""))))


def _local_model(path: Path | str | None, what: str) -> str:
    if path is None or not Path(path).is_dir():
        raise AlignmentFailed(f"whisperx needs a local {what} folder (got {path!r}); vpipe downloads no models")
    return str(path)


def _audio16k(mono: np.ndarray, rate: int) -> np.ndarray:
    from vpipe.speech.pitch import resample

    return resample(np.asarray(mono, np.float64), rate, SAMPLE_RATE).astype(np.float32)


def run_align(
    mono: np.ndarray, rate: int, transcript: str, model_dir: Path | str | None, device: str, language: str = "en"
) -> dict[str, Any]:
    """whisperx forced alignment of `transcript` (one segment spanning the audio)."""
    import whisperx

    audio = _audio16k(mono, rate)
    model, metadata = whisperx.load_align_model(
        language_code=language, device=device, model_name=_local_model(model_dir, "alignment model")
    )
    segments = [{"text": transcript, "start": 0.0, "end": len(audio) / SAMPLE_RATE}]
    return dict(whisperx.align(segments, model, metadata, audio, device, return_char_alignments=False))


def run_recognize(
    mono: np.ndarray, rate: int, model_dir: Path | str | None, device: str, language: str = "en"
) -> dict[str, Any]:
    """whisperx (faster-whisper) recognition of the audio."""
    import whisperx

    compute_type = "float16" if device == "cuda" else "int8"
    model = whisperx.load_model(
        _local_model(model_dir, "faster-whisper model"), device, compute_type=compute_type, language=language
    )
    return dict(model.transcribe(_audio16k(mono, rate), batch_size=8, language=language))
