"""GOP kernels (PyAV): normalise the source once for splicing; write a row by splicing GOPs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from vpipe.data.media import GopIndex, OutputFile, VideoSource, file_digest
from vpipe.ir.graph import Estimate, Op
from vpipe.ir.hashing import digest
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.kernels.media import WriteVideo, _fail, output_target, reuse_output, seal_output, sealed_file, write_settings
from vpipe.media.decode import DecodeError, frame_timing
from vpipe.media.normalize import NormalizeError, frame_psnr, gop_table, normalize
from vpipe.media.splice import splice
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


@kernel("media.splice", backend="pyav")
class SpliceVideo(Kernel):
    version = "3"  # 3: a picture-unchanged row copies the recording's own stream
    cache = True  # like media.write: the value records path + hash, so intact rows are skipped

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.3, ram_mb=120)

    def reuse(self, op: Op, row: Any, earlier: OutputFile, rt: RunContext) -> OutputFile:
        return reuse_output(op, row, earlier, rt)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> OutputFile:
        frames, track, row, gops = inputs
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
            report = splice(frames, gops.path, gops.gops, track.audio, target, settings)
        except WriteError as exc:
            raise _fail("VP308", f"row {row.index}: {exc}", rt) from None
        report["original"] = str(gops.gops.original)  # QC measures the sound against the recording itself
        seal_output(op, frames, track, row, target, rt)
        return sealed_file(target, report)
