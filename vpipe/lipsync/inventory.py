"""The mouth inventory: the recording as a library of the speaker's own mouth shapes.

For every source frame with a usable face: the viseme being spoken (from the aligned
phones), the measured aperture, the lip shape in a head-normalised frame (so shapes from
different head poses compare), the head pose, the mouth's brightness, and a crop of the
lower face. Built once per source (shared); every row's lip-sync draws from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vpipe.data.alignment import Alignment, Segment
from vpipe.data.codec import cacheable
from vpipe.data.face import FaceTrack
from vpipe.data.mapped import RowWriter
from vpipe.face import landmarks as L
from vpipe.lipsync.geometry import lower_face_box, similarity_transform
from vpipe.lipsync.visemes import BILABIALS, CLOSURE_REACH, INDEX, LIP_LEAD, NAMES, VISEMES, frame_visemes


@cacheable("MouthInventory")
@dataclass(frozen=True)
class MouthInventory:
    frames: np.ndarray  # (M,) int64 source frame index of each entry
    visemes: np.ndarray  # (M,) int16 viseme index (vpipe.lipsync.visemes.INDEX)
    aperture: np.ndarray  # (M,) float32 measured mouth aperture
    shape: np.ndarray  # (M, 80) float32 lip contour (40 points) in the canonical head frame
    pose: np.ndarray  # (M, 3) float32 yaw, pitch, roll (degrees)
    luma: np.ndarray  # (M,) float32 mean brightness of the mouth region
    crops: np.ndarray  # (M, H, W, 3) uint8 lower-face crops, all the same size (memory-mapped in a run)
    crop_origin: np.ndarray  # (M, 2) int32 top-left (x, y) of each crop in its frame
    viseme_aperture: np.ndarray  # (len(NAMES),) this speaker's typical aperture per viseme
    scale: float  # median inter-ocular distance (pixels), the unit of shape distances
    repeats: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (N,) frame i repeats frame i-1
    phones: tuple[Segment, ...] = ()  # the source's aligned phones (source time)
    natural_sync: float = float("nan")  # the sync measure on the source's own words (QC baseline)
    natural_ghost: float = float("nan")  # the highest double-exposure score of the source's own frames
    sharpness: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (M,) mouth detail (QC)
    # the sync measure's expected phone aperture per viseme, and the speaker's mean (lipsync.sync.speaker_table)
    sync_table: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    sync_centre: float = float("nan")

    @property
    def size(self) -> int:
        return int(self.frames.shape[0])

    @property
    def target_apertures(self) -> np.ndarray:
        """The aperture per viseme the mouth search aims a new phone at: the sync measure's
        phone-level table (`sync_table`), so the search and QC expect the same mouth of a
        phone. The per-frame medians (`viseme_aperture`) count every frame under a phone's
        label, coarticulated ones too: glasses_woman's 's' frames have a median of 0.177 (her
        mean phone is 0.109) where her 's' phones, each counted once (and shrunk towards the
        generic value), give 0.082, and the search chose mouths that opened on the 's' of
        'oversight' (QC: 11 % of her natural sync)."""
        return self.sync_table if len(self.sync_table) == len(self.viseme_aperture) else self.viseme_aperture

    def entry_of(self, frame: int) -> int | None:
        hits = np.nonzero(self.frames == frame)[0]
        return int(hits[0]) if len(hits) else None


def closure_level(inv: MouthInventory, times: np.ndarray) -> float:
    """The aperture at which this speaker's lips are shut for a p, b or m: the upper quartile,
    over the recording's bilabial phones, of the smallest aperture measured within
    CLOSURE_REACH of each phone (`times`: source frame times): three quarters of the speaker's
    own closures reach it, and a phone the alignment misplaced (lips never met) does not
    loosen it. Measured (mouth_aperture units; median apertures 0.10-0.18): interview 0.007,
    glasses 0.004, studio 0.008. A recording without a bilabial falls back to its 5th
    percentile aperture (lips at rest)."""
    if inv.size == 0:
        return float("nan")
    at = times[np.clip(inv.frames, 0, len(times) - 1)]
    closures = []
    for p in inv.phones:
        if p.label.upper().rstrip("012") not in BILABIALS:
            continue
        near = (at >= p.start - CLOSURE_REACH) & (at <= p.end + CLOSURE_REACH)
        if near.any():
            closures.append(float(inv.aperture[near].min()))
    if closures:
        return float(np.percentile(closures, 75))
    return float(np.percentile(inv.aperture, 5))


def canonical_shapes(track: FaceTrack, reference: np.ndarray) -> np.ndarray:
    """Lip contours mapped by each frame's rigid-point similarity onto `reference` (N, 80)."""
    out = np.full((track.frames, len(L.LIPS) * 2), np.nan, np.float32)
    rigid = list(L.RIGID)
    for i in np.nonzero(track.present)[0]:
        m = similarity_transform(track.landmarks[i, rigid, :2], reference)
        lips = track.landmarks[i, list(L.LIPS), :2]
        out[i] = (lips @ m[:, :2].T + m[:, 2]).reshape(-1)
    return out


# A frame repeats the previous one when its face region (mean absolute 8-bit difference,
# every 2nd pixel) changed by less than REPEAT_THRESHOLD or REPEAT_FRACTION of the clip's
# median change. Measured: studio_woman's frame-rate-conversion repeats differ by up to 0.28
# (re-encoding noise), its moving frames by ≥ 0.74 (median ~2.6); interview_man's stillest
# real frames by 0.17 and its one repeat by 0.008. No fixed threshold separates both clips;
# relative to the clip's own motion they separate. A false "repeat" of a near-still frame
# is harmless (it shows the same mouth twice).
REPEAT_THRESHOLD = 0.1
REPEAT_FRACTION = 0.1


def speaker_apertures(visemes: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """This speaker's aperture for each viseme: the median over the frames that show it
    (a regression of measured on generic apertures would flatten the range: noise dilutes
    its slope). Visemes seen fewer than 3 times use the generic value mapped by quantiles."""
    generic = np.array([VISEMES[n].aperture for n in NAMES])
    lo, hi = np.percentile(measured, [5, 95]) if len(measured) else (0.0, 0.3)
    g_lo, g_hi = generic.min(), generic.max()
    mapped = lo + (generic - g_lo) * (hi - lo) / max(g_hi - g_lo, 1e-6)
    out = mapped.astype(np.float32)
    for v in range(len(NAMES)):
        seen = measured[visemes == v]
        if len(seen) >= 3:
            out[v] = float(np.median(seen))
    return out


def build_inventory(
    video: Path, track: FaceTrack, alignment: Alignment, crops_dir: Path | None = None
) -> MouthInventory:
    """The speaker's mouth library from one decode of the recording. Long on purpose: every
    per-frame measure (crop, lip luma, sharpness, frame-repeat change, double-exposure baseline)
    is taken in the same pass over the frames, so the video is decoded once. With `crops_dir`
    the crops (one per frame: the part that grows with the recording) are written to a file
    there as they are cut and come back memory-mapped (vpipe.data.mapped), never all in memory."""
    from vpipe.lipsync.ghost import ghost_score, lips_box, mouth_sharpness
    from vpipe.media.decode import iter_frames

    usable = np.nonzero(track.usable)[0]
    if len(usable) == 0:
        raise ValueError("no frame of the source has a usable face")
    lm = track.landmarks
    reference = np.nanmedian(lm[usable][:, list(L.RIGID), :2], axis=0)
    shapes = canonical_shapes(track, reference)
    aperture = np.asarray(L.mouth_aperture(lm), np.float32)
    visemes = frame_visemes(alignment.phones, track.times, offset=LIP_LEAD)
    scale = float(np.nanmedian(L.inter_ocular(lm[usable])))
    # One crop size for all entries: the largest lower-face box, so crops stack.
    boxes = np.array([lower_face_box(lm[i], scale) for i in usable])
    w = int(np.ceil((boxes[:, 2] - boxes[:, 0]).max()))
    h = int(np.ceil((boxes[:, 3] - boxes[:, 1]).max()))
    crops = RowWriter(crops_dir, (len(usable), h, w, 3), np.uint8)
    origin = np.zeros((len(usable), 2), np.int32)
    luma = np.zeros(len(usable), np.float32)
    sharpness = np.full(len(usable), np.nan, np.float32)
    index_of = {int(f): k for k, f in enumerate(usable)}
    change = np.full(track.frames, np.nan)  # face-region change from the previous frame
    previous: np.ndarray | None = None
    grays: list[np.ndarray] = []  # the last three frames' luma, for the double-exposure baseline
    ghosts: list[float] = []
    fx0, fy0 = np.floor(np.nanmin(lm[usable][:, :, :2], axis=(0, 1))).astype(int)
    fx1, fy1 = np.ceil(np.nanmax(lm[usable][:, :, :2], axis=(0, 1))).astype(int)
    for i, _, image in iter_frames(video):
        # Frame-rate conversions repeat frames (a 24 fps take in a 30 fps file): a repeated
        # frame must show the same mouth, or the edit adds motion the source never had.
        small = image[max(fy0, 0) : fy1 : 2, max(fx0, 0) : fx1 : 2].astype(np.int16)
        if previous is not None and i < len(change):
            change[i] = float(np.abs(small - previous).mean())
        previous = small
        grays = [*grays[-2:], _gray(image)]
        if len(grays) == 3 and i - 1 < track.frames and track.present[i - 1]:
            box = lips_box(lm[i - 1], grays[1].shape)
            if box is not None:
                x0_, y0_, x1_, y1_ = box
                ghosts.append(ghost_score(*(g[y0_:y1_, x0_:x1_] for g in grays))[0])
        k = index_of.get(i)
        if k is None:
            continue
        cx = (boxes[k, 0] + boxes[k, 2]) / 2
        cy = (boxes[k, 1] + boxes[k, 3]) / 2
        x0 = int(np.clip(round(cx - w / 2), 0, max(0, image.shape[1] - w)))
        y0 = int(np.clip(round(cy - h / 2), 0, max(0, image.shape[0] - h)))
        crops.put(k, image[y0 : y0 + h, x0 : x0 + w])
        origin[k] = (x0, y0)
        mouth = lm[i, list(L.OUTER_LIPS), :2]
        mx0, my0 = np.floor(mouth.min(axis=0)).astype(int)
        mx1, my1 = np.ceil(mouth.max(axis=0)).astype(int)
        region = image[max(my0, 0) : my1, max(mx0, 0) : mx1]
        luma[k] = float(region.mean()) if region.size else 0.0
        sharpness[k] = mouth_sharpness(grays[-1], lm[i])
    typical = float(np.nanmedian(change)) if np.isfinite(change).any() else 0.0
    repeats = np.nan_to_num(change, nan=np.inf) < max(REPEAT_THRESHOLD, REPEAT_FRACTION * typical)
    vis_idx = np.array([INDEX[visemes[i]] for i in usable], np.int16)
    measured = aperture[usable].astype(np.float64)
    from vpipe.lipsync.sync import natural_baseline, speaker_table

    table = speaker_apertures(vis_idx, measured)
    phones, times = list(alignment.phones), track.times[usable]
    sync_table, centre = speaker_table(measured, times, phones)
    natural = natural_baseline(measured, times, phones, list(alignment.words), sync_table, centre)
    return MouthInventory(
        frames=usable.astype(np.int64),
        visemes=vis_idx,
        aperture=measured.astype(np.float32),
        shape=shapes[usable],
        pose=track.pose[usable].astype(np.float32),
        luma=luma,
        crops=crops.finish(),
        crop_origin=origin,
        viseme_aperture=table,
        scale=scale,
        repeats=repeats,
        phones=tuple(alignment.phones),
        natural_sync=natural,
        natural_ghost=float(np.nanmax(ghosts)) if np.isfinite(ghosts).any() else float("nan"),
        sharpness=sharpness,
        sync_table=sync_table,
        sync_centre=centre,
    )


def _gray(image: np.ndarray) -> np.ndarray:
    """Luma as the written files carry it (BT.601 video range), float32."""
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2YUV)[..., 0].astype(np.float32) * (219.0 / 255.0) + 16.0
