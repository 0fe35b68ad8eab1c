"""Media kernels (PyAV): open sources, decode audio, write the row's video atomically."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.audio import Audio
from vpipe.data.media import Frames, ImageSource, OutputFile, Track, VideoSource
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.lipsync.timeline import output_timeline, slot_windows
from vpipe.media.decode import DecodeError, frame_timing, iter_decoded, read_audio, upright
from vpipe.media.write import Picture, VideoSettings, WriteError, encode, output_pix_fmt, remux, restamp
from vpipe.outputs import CONTAINER_CODECS, confine
from vpipe.probe import MediaInfo, ProbeError, probe_image, probe_video
from vpipe.provenance import ProvenanceError, frame_runs, seal, sidecar_path, spans
from vpipe.templates import TemplateProgram, TemplateRenderError
from vpipe.version import __version__


def _fail(code: str, message: str, rt: RunContext, help: str | None = None) -> DiagnosticError:
    return DiagnosticError(Diagnostic(code, message, rt.row_span(), help=help))


@kernel("media.open", backend="pyav")
class OpenVideo(Kernel):
    cache = False  # cheap, and its value names a file that must exist now

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> VideoSource:
        path = Path(op.attr("path"))
        try:
            info = probe_video(path)
            timing = frame_timing(path)
        except (ProbeError, DecodeError) as exc:
            raise _fail("VP021", f"source video {path.name}: {exc}", rt) from None
        return VideoSource(
            path,
            str(op.attr("sha256", "")),
            info.width,
            info.height,
            timing.times,
            timing.time_base,
            info.duration,
            info.has_audio,
        )


@kernel("media.open_image", backend="opencv")
class OpenImage(Kernel):
    cache = False

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> ImageSource:
        path = Path(op.attr("path"))
        try:
            w, h = probe_image(path)
        except ProbeError as exc:
            raise _fail("VP021", f"source image {path.name} {exc}", rt) from None
        return ImageSource(path, str(op.attr("sha256", "")), w, h)


@kernel("media.audio", backend="pyav")
class SourceAudio(Kernel):
    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.02, ram_mb=20)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Audio:
        (video,) = inputs
        if not video.has_audio:
            raise _fail(
                "VP303",
                f"source video {video.path.name} has no audio track",
                rt,
                help="set source.audio to the speech to use",
            )
        try:
            return read_audio(video.path)
        except DecodeError as exc:
            raise _fail("VP301", str(exc), rt) from None


@kernel("media.load_audio", backend="pyav")
class ExternalAudio(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Audio:
        try:
            return read_audio(Path(op.attr("path")))
        except DecodeError as exc:
            raise _fail("VP301", str(exc), rt) from None


@kernel("lipsync.passthrough", backend="builtin")
class Passthrough(Kernel):
    """Lip-sync disabled: every output frame is a source frame; an elastic slot repeats or
    skips source frames inside its window so picture and sound stay in step after it."""

    cache = False

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        video, track = inputs
        return retimed_frames(video, track)


def retimed_frames(video: VideoSource, track: Track) -> Frames:
    timeline = output_timeline(video, track, slot_windows(track, 0.0, video.duration))
    return Frames(
        video.path,
        timeline.times,
        timeline.pose_frame,
        {},
        video.time_base,
        video.width,
        video.height,
        report={"identity_timeline": timeline.identity},
    )


@kernel("media.write", backend="pyav")
class WriteVideo(Kernel):
    version = "5"  # 4: re-rendered frames converted by PyAV at every size; 5: upright, SAR, colour range
    cache = True  # the value records path + hash: a later run skips rows whose file is intact

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.6, ram_mb=150)

    def reuse(self, op: Op, row: Any, earlier: OutputFile, rt: RunContext) -> OutputFile:
        return reuse_output(op, row, earlier, rt)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> OutputFile:
        frames, track, row = inputs[:3]
        target = output_target(op, row, rt)
        settings = write_settings(op, row)
        try:
            source = None if frames.still else probe_video(frames.source)
            if frames.is_passthrough and not track.retimed and source is not None and _can_copy(source.codec, target):
                remux(frames.source, track.audio, target, settings)
            else:
                source_format = source.pix_fmt if source is not None else None
                size = (frames.width, frames.height)
                encode(
                    lambda: _frame_stream(frames),
                    size,
                    Fraction(*frames.time_base),
                    track.audio,
                    target,
                    settings,
                    output_pix_fmt(settings.codec, source_format, size),
                    _picture(source),
                )
        except (WriteError, DecodeError) as exc:
            raise _fail("VP308", f"row {row.index}: {exc}", rt) from None
        return sealed_file(target, sha256=seal_output(op, frames, track, row, target, rt))


def output_target(op: Op, row: Any, rt: RunContext) -> Path:
    """The row's output path, confined to the output directory."""
    try:
        rendered = TemplateProgram(str(op.attr("path")), path=True).render(row.variables()).text
    except TemplateRenderError as exc:
        raise _fail("VP302", f"row {row.index}: {exc}", rt) from None
    target = confine(rendered, Path(op.attr("base")), Path(op.attr("root")))
    if target is None:
        raise _fail("VP302", f"row {row.index}: output path '{rendered}' leaves the output directory", rt)
    return target


def write_settings(op: Op, row: Any) -> VideoSettings:
    return VideoSettings(
        codec=str(op.attr("codec")),
        crf=int(op.attr("crf")),
        preset=str(op.attr("preset")),
        audio_bitrate_kbps=int(op.attr("audio_bitrate_kbps")),
        metadata=_metadata(bool(op.attr("synthetic")), row.id),
    )


def reuse_output(op: Op, row: Any, earlier: OutputFile, rt: RunContext) -> OutputFile:
    """A duplicate row (dedupe): the earlier row's file, under this row's name and metadata."""
    target = output_target(op, row, rt)
    try:
        restamp(earlier.path, target, write_settings(op, row).metadata)
    except WriteError as exc:
        raise _fail("VP308", f"row {row.index}: {exc}", rt) from None
    try:  # the same spans as the earlier row's: its provenance, sealed again under this row's id
        spans_of = json.loads(sidecar_path(earlier.path).read_text(encoding="utf-8"))["synthesized"]
    except (OSError, ValueError, KeyError, TypeError):
        spans_of = None
    digest = _seal(op, Path(str(op.attr("source", earlier.path))), row, target, spans_of, rt)
    return sealed_file(target, earlier.splice, digest)


def _picture(source: MediaInfo | None) -> Picture:
    """The written picture is seen as the source's: pixel aspect, colour range and tags."""
    if source is None:
        return Picture()
    return Picture(
        sar=source.sar,
        full_range=source.color_range == 2 or source.pix_fmt.startswith("yuvj"),
        colorspace=source.colorspace,
        color_primaries=source.color_primaries,
        color_trc=source.color_trc,
    )


def sealed_file(target: Path, splice: dict[str, object] | None = None, sha256: str | None = None) -> OutputFile:
    """The written, sealed output with its sidecar as a companion (both must stay for the row to
    be up to date). `sha256`: the file's, as sealing just hashed it (not hashed a second time)."""
    return OutputFile.of(target, splice, (sidecar_path(target),), sha256)


def seal_output(op: Op, frames: Frames, track: Track, row: Any, target: Path, rt: RunContext) -> str:
    """Give the written output its provenance (sidecar, and C2PA manifest when configured);
    returns the sealed file's SHA-256."""
    return _seal(op, Path(str(op.attr("source", frames.source))), row, target, _synthesized(op, frames, track), rt)


def _seal(op: Op, source: Path, row: Any, target: Path, synthesized: list[dict[str, Any]] | None, rt: RunContext) -> str:
    if synthesized is None:  # the earlier row's sidecar is gone: say what is known
        synthesized = [
            {"track": "audio", "start": None, "end": None, "by": str(op.attr("audio_by"))}
        ]
    try:
        return str(seal(target, source, row.id, synthesized, Path(op.attr("root")))["sha256"])
    except (ProvenanceError, OSError) as exc:
        with contextlib.suppress(OSError):
            target.unlink()  # an output without its provenance is not written
        raise _fail("VP343", f"row {row.index}: provenance: {exc}", rt) from None


def _synthesized(op: Op, frames: Frames, track: Track) -> list[dict[str, Any]]:
    """The output's synthesized spans: the new words (audio) and the re-rendered frames (video);
    a narration over a still image is synthetic throughout."""
    times = [float(t) for t in frames.times]
    period = float(np.median(np.diff(times))) if len(times) > 1 else 0.04
    if frames.still:
        end = round(times[-1] + period, 3) if times else 0.0
        edits = [(0.0, track.audio.duration, "", "")]
        video = [(0.0, end)]
    else:  # no edit: the row says the recorded words (keep-recorded), nothing in it is synthetic
        edits = [(e.output_start, e.output_end, e.said, e.replaced) for e in track.edits]
        video = frame_runs(list(frames.rendered), times, period)
    return spans(edits, video, str(op.attr("audio_by")), str(op.attr("video_by")))


# decoder names → the codec they decode (what a container is asked to carry)
_DECODED_AS = {"libdav1d": "av1", "libaom-av1": "av1", "libvpx-vp9": "vp9"}


def _can_copy(source_codec: str, target: Path) -> bool:
    """The source's video stream can be copied into `target`'s container as it is."""
    codec = _DECODED_AS.get(source_codec, source_codec)
    return codec in CONTAINER_CODECS.get(target.suffix.lower(), ())


def _metadata(synthetic: bool, row_id: str) -> tuple[tuple[str, str], ...]:
    what = (
        "synthetic presenter (generated image animation and speech)"
        if synthetic
        else "personalized: synthetic speech and mouth movement in the replaced words"
    )
    return (("comment", f"vpipe {__version__}: {what}"), ("description", f"vpipe row {row_id}; {what}"))


def _frame_stream(frames: Frames) -> Iterator[tuple[float, Any]]:
    """Output frames in order: re-rendered ones as given (BGR), others as decoded from the
    source (av.VideoFrame: no colour conversion, so they lose only the encoder's rounding),
    turned upright plane by plane where the source has a display matrix."""
    if frames.still:
        import cv2

        base = cv2.imread(str(frames.source), cv2.IMREAD_COLOR)
        for i, t in enumerate(frames.times):
            yield float(t), frames.rendered.get(i, base)
        return
    needed = frames.source_index
    decoder = iter_decoded(frames.source)
    current_index, current = -1, None
    for i, t in enumerate(frames.times):
        if i in frames.rendered:
            yield float(t), frames.rendered[i]
            continue
        want = int(needed[i])
        while current_index < want:
            current_index, _, current = next(decoder)
        assert current is not None
        yield float(t), upright(current)
