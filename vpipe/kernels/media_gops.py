"""GOP kernels (PyAV): inspect the source's own GOPs, index them or normalise the source once
for splicing; write a row by splicing GOPs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from vpipe.data.media import GopIndex, GopLayout, OutputFile, VideoSource, file_digest
from vpipe.ir.graph import Estimate, Op
from vpipe.ir.hashing import digest
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.kernels.media import WriteVideo, _fail, output_target, reuse_output, seal_output, sealed_file, write_settings
from vpipe.media.decode import DecodeError, frame_timing
from vpipe.media.normalize import NormalizeError, frame_psnr, gop_table, normalize
from vpipe.media.source_gops import inspect, own_index
from vpipe.media.splice import RowSound, splice
from vpipe.media.write import WriteError


@kernel("media.normalize", backend="pyav")
class Normalize(Kernel):
    """The normalised file lives in the run's store (beside the cache), named by the source's
    content and the settings; the cached value is its index, checked against the file's size."""

    version = "3"  # 2: upright (display matrix applied), video range, sample aspect ratio kept; 3: colour tags kept

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=5.0, ram_mb=200)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> VideoSource:
        (video,) = inputs
        gop = int(op.attr("gop"))  # required: splice-gops chooses it
        crf, preset = int(op.attr("crf")), str(op.attr("preset"))
        store = Path(getattr(rt, "store_dir", None) or rt.work_dir) / "normalized"
        name = digest(video.sha256 or str(video.path), str(gop), str(crf), preset, self.version)[:24]
        target = store / f"{name}.mp4"
        try:
            settings = normalize(video.path, target, crf, preset, gop)
            table = gop_table(target)
            timing = frame_timing(target)
            psnr = frame_psnr(video.path, target)
        except (NormalizeError, DecodeError) as exc:
            raise _fail("VP318", f"source video {video.path.name}: {exc}", rt) from None
        index = GopIndex(
            video.path,
            settings.to_json(),
            table.starts,
            table.digests,
            table.pts,
            psnr,
            target.stat().st_size,
        )
        return VideoSource(
            target,
            file_digest(target),
            video.width,
            video.height,
            timing.times,
            timing.time_base,
            video.duration,
            video.has_audio,
            index,
        )


@kernel("media.gop_layout", backend="pyav")
class InspectGops(Kernel):
    """Demuxes the source (its packets and parameter sets; one frame decoded for a display
    matrix): cached by the source's content, so a re-run does not read it again."""

    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.1, ram_mb=50)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> GopLayout:
        (video,) = inputs
        return inspect(video.path, int(op.attr("max_gop")))


@kernel("media.own_gops", backend="pyav")
class OwnGops(Kernel):
    """The source itself, indexed GOP by GOP: rows copy its packets and re-encode the GOPs with
    changed frames under their own parameter sets (`media/source_gops.py`)."""

    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.2, ram_mb=80)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> VideoSource:
        video, layout = inputs
        if not layout.eligible:  # the own-gops pass only chooses this for a source that qualified
            raise _fail("VP318", f"source video {video.path.name} cannot be spliced as it is: {layout.reason}", rt)
        import av

        # the pictures of the GOPs rows re-encode, decoded once and kept in the run's store (named
        # by the source's content), as a normalised source's are beside its normalised file
        store = Path(getattr(rt, "store_dir", None) or rt.work_dir) / "own"
        name = digest(video.sha256 or str(video.path), self.version)[:24]
        try:
            index = own_index(video.path, layout, int(op.attr("crf")), str(op.attr("preset")), store / f"{name}.gen1")
        except (OSError, ValueError, av.error.FFmpegError) as exc:
            raise _fail("VP318", f"source video {video.path.name}: {exc}", rt) from None
        if index.pts.shape[0] != video.frames:
            raise _fail("VP318", f"source video {video.path.name} changed since it was inspected", rt)
        return replace(video, gops=index)


@kernel("media.splice", backend="pyav")
class SpliceVideo(Kernel):
    """With the recording's sound as a fifth input (the splice-aac pass), the row's AAC
    packets are spliced from the recording's shared encodes too (`media/aac_row.py`)."""

    version = "5"  # 3: a picture-unchanged row copies the recording's own stream; 4: AAC spliced;
    # 5: re-encoded GOPs from the recording's own pictures
    cache = True  # like media.write: the value records path + hash, so intact rows are skipped

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.3, ram_mb=120)

    def reuse(self, op: Op, row: Any, earlier: OutputFile, rt: RunContext) -> OutputFile:
        return reuse_output(op, row, earlier, rt)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> OutputFile:
        frames, track, row, gops = inputs[:4]
        recording = inputs[4] if len(inputs) > 4 else None
        if gops.gops is None or frames.still or frames.source != gops.path:
            return WriteVideo().run(op, [frames, track, row], rt)  # not drawn from the normalised source
        target = output_target(op, row, rt)
        settings = write_settings(op, row)
        if frames.is_passthrough and not track.retimed:
            # nothing changed in the picture (no face, say): the recording's own stream is copied, and
            # QC measures the sound against the recording (the normalised file carries no audio)
            original = gops.gops.original
            copied = WriteVideo().run(op, [replace(frames, source=original), track, row], rt)
            return replace(copied, splice={"original": str(original)})
        try:
            store = getattr(rt, "store_dir", None)
            sound = RowSound(recording, track.sample_shifts(), store) if recording is not None else None
            report = splice(frames, gops.path, gops.gops, track.audio, target, settings, sound)
        except WriteError as exc:
            raise _fail("VP308", f"row {row.index}: {exc}", rt) from None
        report["original"] = str(gops.gops.original)  # QC measures the sound against the recording itself
        return sealed_file(target, report, seal_output(op, frames, track, row, target, rt))
