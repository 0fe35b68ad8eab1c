"""Helpers of the end-to-end tests: recipes over the shared real clips, running the CLI as a
user does, and measurements taken from the written files only (PyAV demux and decode,
pocketsphinx forced alignment of the output audio)."""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from tests.clips import CLIPS, GLASSES, INTERVIEW, STUDIO, Clip  # noqa: F401  (re-exported for the tests)
from vpipe.cli.app import app

runner = CliRunner()


# --- recipes ----------------------------------------------------------------------------------
def write_rows(path: Path, values: Sequence[str], ids: Sequence[str] | None = None) -> Path:
    ids = list(ids) if ids is not None else [f"r{i + 1}" for i in range(len(values))]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "value"])
        for i, v in zip(ids, values, strict=True):
            w.writerow([i, v])
    return path


def write_recipe(
    work: Path,
    clip: Clip,
    values: Sequence[str],
    *,
    lipsync: str = "none",
    duration: str = "fit",
    source: Path | None = None,
    name: str = "recipe",
    out: str = "out",
    extra: str = "",
    ids: Sequence[str] | None = None,
) -> Path:
    """A recipe in `work` (rows in a CSV beside it) over the clip, or over `source` (a clip
    derived from it: same speech, edited pictures). Absolute media paths: nothing is copied."""
    work.mkdir(parents=True, exist_ok=True)
    write_rows(work / f"{name}.csv", values, ids)
    recipe = work / f"{name}.yaml"
    recipe.write_text(
        f"""vpipe: 1
name: {clip.name}-{lipsync}
source:
  video: {source or clip.source}
  transcript: {clip.transcript}
slots:
  value: {{say: {clip.slot_word}}}
template: "{clip.template}"
rows: {{csv: {name}.csv, id: id}}
voice: {{duration: {duration}}}
lipsync: {{model: {lipsync}}}
output: {{path: "{out}/{{{{ row_id }}}}.mp4"}}
{extra}""",
        encoding="utf-8",
    )
    return recipe


# --- the command line ---------------------------------------------------------------------------
@dataclass
class Cli:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def vpipe(*args: str | Path) -> Cli:
    """`vpipe ARGS` in this process (loaded models stay loaded between tests)."""
    result = runner.invoke(app, [str(a) for a in args])
    cli = Cli(result.exit_code, result.stdout, result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"vpipe {' '.join(map(str, args))} raised {result.exception!r}\n{cli.text}")
    assert "Traceback" not in cli.text, cli.text
    return cli


@dataclass
class Run:
    recipe: Path
    cli: Cli
    records: list[dict[str, Any]] = field(default_factory=list)  # this run's own manifest
    view: list[dict[str, Any]] = field(default_factory=list)  # out/manifest.jsonl: latest over all runs

    @property
    def rows(self) -> dict[str, dict[str, Any]]:
        """Manifest row records by row id."""
        return {r["id"]: r for r in self.records if r["type"] == "row"}

    def output(self, row_id: str) -> Path:
        return Path(self.rows[row_id]["output"])

    def codes(self, row_id: str) -> list[str]:
        return [d["code"] for d in self.rows[row_id]["diagnostics"]]

    @property
    def shared(self) -> dict[str, Any]:
        return next(r for r in self.records if r["type"] == "shared")


def read_manifest(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def latest_run(out: Path) -> Path | None:
    """The newest run folder under an output folder (out/runs/ID)."""
    runs = sorted((out / "runs").glob("*/manifest.jsonl")) if (out / "runs").is_dir() else []
    return runs[-1].parent if runs else None


def run_recipe(recipe: Path, *args: str | Path, cache: Path | None = None, out: str = "out") -> Run:
    extra: list[str | Path] = ["--cache-dir", cache] if cache is not None else []
    cli = vpipe("run", recipe, "--no-progress", *extra, *args)
    view = recipe.parent / out / "manifest.jsonl"
    folder = latest_run(recipe.parent / out)
    records = read_manifest(folder / "manifest.jsonl") if folder is not None else []
    return Run(recipe, cli, records, read_manifest(view) if view.is_file() else [])


# --- reading the written files ----------------------------------------------------------------
def video_packets(path: Path) -> list[tuple[Fraction, bytes]]:
    """(presentation time in seconds, exact payload) of every video packet, in file order."""
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return [(p.pts * p.time_base, bytes(p)) for p in c.demux(stream) if p.size]


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32 (n, channels)
    rate: int
    channels: int
    start: float  # seconds, the first decoded frame's time

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1).astype(np.float32)


def decode_audio(path: Path) -> DecodedAudio:
    import av

    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        chunks, start = [], None
        for frame in c.decode(stream):
            if start is None:
                start = float(frame.time or 0.0)
            a = frame.to_ndarray()  # planar float: (channels, n)
            if frame.format.is_packed:
                a = a.reshape(-1, channels).T
            chunks.append(a.astype(np.float32))
    return DecodedAudio(np.concatenate(chunks, axis=1).T.copy(), rate, channels, start or 0.0)


def stream_durations(path: Path) -> tuple[float, float]:
    """(video end, audio end) in seconds: last packet's presentation end on each stream."""
    import av

    ends = []
    with av.open(str(path)) as c:
        for stream in (c.streams.video[0], c.streams.audio[0]):
            end = 0.0
            for p in c.demux(stream):
                if p.pts is not None and p.size:
                    end = max(end, float((p.pts + (p.duration or 0)) * p.time_base))
            ends.append(end)
            c.seek(0)
    return ends[0], ends[1]


def luma_frames(path: Path, keep: Callable[[int, float], bool] | None = None) -> list[tuple[float, np.ndarray]]:
    """(time, luma plane) of the decoded frames (all, or those `keep(index, time)` selects)."""
    import av

    out = []
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(c.streams.video[0])):
            t = float(frame.time)
            if keep is None or keep(i, t):
                out.append((t, frame.to_ndarray(format="gray").copy()))
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def changed_pixels(a: np.ndarray, b: np.ndarray, threshold: int = 25) -> int:
    """Pixels that differ by more than codec noise (re-encoding at crf 12 stays far below 25)."""
    return int(np.count_nonzero(np.abs(a.astype(np.int16) - b.astype(np.int16)) > threshold))


@functools.cache
def face_region(path: Path, every: int = 5) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): where the speaker's face and chin are over the whole clip, found by
    OpenCV's Haar detector (independent of vpipe's tracker): the union of the largest face
    of every `every`-th frame, widened by 10 % and reaching 35 % further down (chin)."""
    import cv2

    detector = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    boxes = []
    for i, (_, y) in enumerate(luma_frames(path)):
        if i % every == 0:
            found = detector.detectMultiScale(y, 1.1, 5, minSize=(60, 60))
            if len(found):
                boxes.append(max(found, key=lambda b: b[2] * b[3]))
            height, width = y.shape
    assert boxes, f"no face found in {path.name}"
    b = np.asarray(boxes)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
    pad_x, pad_y = int(0.1 * (x1 - x0)), int(0.35 * (y1 - y0))
    return max(0, x0 - pad_x), max(0, y0), min(width, x1 + pad_x), min(height, y1 + pad_y)


def outside(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels outside `box`, as a flat array."""
    x0, y0, x1, y1 = box
    mask = np.ones(image.shape[:2], bool)
    mask[y0:y1, x0:x1] = False
    return image[mask]


def inside(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1]


# --- hearing the words ----------------------------------------------------------------------------
def transcript_with(clip: Clip, value: str) -> str:
    return clip.transcript.replace(clip.slot_word, value.lower(), 1)


def align(path_or_audio: Path | DecodedAudio, text: str) -> Any:
    """Forced alignment (pocketsphinx, with per-word confidence) of a file's audio to `text`."""
    from vpipe.lexicon import Lexicon
    from vpipe.speech.align import align as _align
    from vpipe.speech.tts import phonemize

    audio = decode_audio(path_or_audio) if isinstance(path_or_audio, Path) else path_or_audio
    return _align(audio.mono(), audio.rate, text, Lexicon(), phonemize)


def slot_confidence(audio: Path | DecodedAudio, clip: Clip, said: str) -> float:
    """Mean aligner confidence of the slot's words when the audio is aligned to the transcript
    with the slot saying `said` (the whole clip: the context pins the slot's boundaries)."""
    from vpipe.text import words_of

    before = len(words_of(clip.transcript[: clip.transcript.index(clip.slot_word)]))
    n = len(words_of(said))
    from vpipe.speech.align import AlignmentFailed

    try:
        al = align(audio, transcript_with(clip, said))
    except AlignmentFailed as exc:  # only "no path": the text does not fit the audio at all
        if "found no path" not in str(exc):
            raise  # a word it cannot pronounce, a crash: a broken measurement, not a lost word
        return -math.inf
    scores = [s for s in al.scores[before : before + n] if math.isfinite(s)]
    return float(np.mean(scores)) if scores else -math.inf


@dataclass(frozen=True)
class Heard:
    new: float
    old: float

    @property
    def new_wins(self) -> bool:
        return self.new > self.old


def heard(audio: Path | DecodedAudio, clip: Clip, value: str) -> Heard:
    return Heard(slot_confidence(audio, clip, value), slot_confidence(audio, clip, clip.slot_word))


@dataclass(frozen=True)
class SlotTiming:
    index: int  # of the slot's first word in the transcript
    start: float  # seconds
    end: float
    words: tuple[Any, ...]  # every aligned word (Segment: label, start, end)


def slot_timing(audio: Path | DecodedAudio, clip: Clip, said: str | None = None) -> SlotTiming:
    """Where the slot's words (the recorded ones, or `said`) are in the audio, by alignment."""
    from vpipe.text import words_of

    said = said if said is not None else clip.slot_word
    index = len(words_of(clip.transcript[: clip.transcript.index(clip.slot_word)]))
    al = align(audio, transcript_with(clip, said))
    n = len(words_of(said))
    return SlotTiming(index, al.words[index].start, al.words[index + n - 1].end, tuple(al.words))


_SOURCE_SLOTS: dict[str, SlotTiming] = {}


def source_slot(clip: Clip) -> SlotTiming:
    """The recorded slot words in the source clip (aligned once per session)."""
    if clip.name not in _SOURCE_SLOTS:
        _SOURCE_SLOTS[clip.name] = slot_timing(clip.source, clip)
    return _SOURCE_SLOTS[clip.name]


def frame_interval(path: Path) -> float:
    """Median time between the video's frames (the frame period of a variable-rate clip)."""
    times = sorted(float(t) for t, _ in video_packets(path))
    return float(np.median(np.diff(times)))


# --- derived clips (the shared clip's speech under edited pictures) ------------------------------
def derive_clip(source: Path, target: Path, edit: Callable[[int, float, np.ndarray], np.ndarray]) -> Path:
    """Re-encode `source`'s video with each frame passed through `edit(index, seconds, bgr)`
    (same timestamps, same size unless `edit` changes it), copying its audio packets as they are."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        vin = src.streams.video[0]
        ain = src.streams.audio[0]
        vout = None
        aout = out.add_stream_from_template(ain)
        for i, frame in enumerate(src.decode(vin)):
            img = edit(i, float(frame.time), frame.to_ndarray(format="bgr24"))
            if vout is None:
                vout = out.add_stream("libx264")
                vout.height, vout.width = img.shape[:2]
                vout.pix_fmt = "yuv420p"
                vout.time_base = vin.time_base
                vout.codec_context.time_base = vin.time_base
                vout.options = {"crf": "10", "preset": "ultrafast"}
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            new.pts, new.time_base = frame.pts, vin.time_base
            for packet in vout.encode(new):
                out.mux(packet)
        assert vout is not None
        for packet in vout.encode(None):
            out.mux(packet)
        src.seek(0)
        for packet in src.demux(ain):
            if packet.dts is None:
                continue
            packet.stream = aout
            out.mux(packet)
    return target
