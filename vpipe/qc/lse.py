"""Lip-sync error LSE-D / LSE-C (Chung & Zisserman's SyncNet protocol, as syncnet_python's
`SyncNetInstance.evaluate` and Wav2Lip's `evaluation/scores_LSE` compute it).

At 25 fps, window i pairs 5 video frames (i … i+4) with the audio under them; each side is
embedded, and for every offset d in −15 … +15 frames the audio embeddings are shifted
(zero-padded) and the Euclidean distance to the video embedding averaged over all windows:

    LSE-D = min_d mean distance      LSE-C = median_d − min_d      AV offset = 15 − argmin

(a positive offset: the audio is early; a 200 ms late audio gives −5). The embedding comes
from a `Scorer`: `SyncNetV2Scorer` (joonson's `syncnet_v2.model`, the metric papers report)
or `ExpertScorer` (Wav2Lip's `lipsync_expert.pth`). Both need the user's weights; without
them QC reports no LSE. The same code scores any output, weight-free backends included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vpipe.kernel_api.context import RunContext

VSHIFT = 15
FPS = 25.0
CROP_SCALE = 0.4  # syncnet_python run_pipeline's crop_scale


@dataclass(frozen=True)
class SyncResult:
    lse_d: float
    lse_c: float
    offset: int  # frames at 25 fps; 0 = in sync
    dist_at_zero: float  # mean distance at offset 0 (rises when the audio is shifted)
    windows: int
    mean_dist: tuple[float, ...]  # per candidate offset, 15 … −15


def offset_search(video: np.ndarray, audio: np.ndarray, vshift: int = VSHIFT) -> SyncResult:
    """syncnet_python's calc_pdist + evaluate on (N, E) embeddings of the same N windows."""
    v = np.asarray(video, np.float64)
    a = np.asarray(audio, np.float64)
    n = len(v)
    padded = np.concatenate([np.zeros((vshift, a.shape[1])), a, np.zeros((vshift, a.shape[1]))])
    span = 2 * vshift + 1
    dists = np.empty((n, span))
    for i in range(n):
        dists[i] = np.linalg.norm(v[i][None, :] - padded[i : i + span] + 1e-6, axis=1)  # torch pairwise_distance
    mdist = dists.mean(axis=0)
    k = int(np.argmin(mdist))
    return SyncResult(
        float(mdist[k]),
        float(np.median(mdist) - mdist[k]),
        vshift - k,
        float(mdist[vshift]),
        n,
        tuple(float(x) for x in mdist),
    )


class Scorer(Protocol):
    name: str

    def embed(
        self, images: np.ndarray, landmarks: np.ndarray, samples_16k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(video, audio) embeddings (N, E) of the windows of 25 fps BGR `images`, their
        FaceMesh `landmarks` and the 16 kHz audio starting at the first frame."""
        ...


def syncnet_crops(images: np.ndarray, landmarks: np.ndarray, size: int = 224) -> np.ndarray:
    """syncnet_python's face crops: a box of half-size bs around the face centre, widened to
    bs(1+cs) either side and bs(1+2cs) below (cs = 0.4), resized to size². Frames without
    landmarks take the nearest frame's box."""
    from vpipe.lipsync.facecrop import crop, face_boxes

    boxes = _filled(face_boxes(landmarks, np.isfinite(landmarks[:, 0, 0])))
    out = np.empty((len(images), size, size, 3), np.uint8)
    for i, (image, b) in enumerate(zip(images, boxes, strict=True)):
        bs = max(b[2] - b[0], b[3] - b[1]) / 2
        mx, my = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        cs = CROP_SCALE
        x0, x1 = mx - bs * (1 + cs), mx + bs * (1 + cs)
        y0, y1 = my - bs, my + bs * (1 + 2 * cs)
        out[i] = crop(image, (round(x0), round(y0), round(x1), round(y1)), size)
    return out


def _filled(boxes: np.ndarray) -> np.ndarray:
    ok = np.isfinite(boxes).all(axis=1)
    if not ok.any():
        raise ValueError("no face in the scored frames")
    idx = np.nonzero(ok)[0]
    nearest = idx[np.abs(np.arange(len(boxes))[:, None] - idx[None, :]).argmin(axis=1)]
    return boxes[nearest]


def _batched(fn: Any, items: list[Any], batch: int) -> np.ndarray:
    import torch

    outs = []
    with torch.inference_mode():
        for s in range(0, len(items), batch):
            outs.append(fn(torch.stack(items[s : s + batch])).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, 1))


class SyncNetV2Scorer:
    """syncnet_v2: 5 BGR 224² crops (0-255) vs MFCC 13×20 (4 MFCC frames per video frame)."""

    name = "syncnet"

    def __init__(self, model: Any, device: str = "cpu", batch: int = 20) -> None:
        self.model, self.device, self.batch = model, device, batch

    def embed(
        self, images: np.ndarray, landmarks: np.ndarray, samples_16k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from vpipe.neural.features import syncnet_mfcc

        crops = syncnet_crops(images, landmarks)
        mfcc = syncnet_mfcc(samples_16k)
        n = min(len(crops), int(len(samples_16k) // 640)) - 5
        if n <= 0:
            raise ValueError("too short to score (fewer than 6 frames)")
        video = torch.from_numpy(crops).float().permute(3, 0, 1, 2)  # 3, T, H, W
        vids = [video[:, i : i + 5] for i in range(n)]
        auds = [torch.from_numpy(mfcc[None, :, 4 * i : 4 * i + 20].copy()) for i in range(n)]
        m = self.model
        v = _batched(lambda x: m.forward_lip(x.to(self.device)), vids, self.batch)
        a = _batched(lambda x: m.forward_aud(x.to(self.device)), auds, self.batch)
        return v, a


class ExpertScorer:
    """Wav2Lip's expert: lower halves of 5 BGR 96² crops (0-1, 15 channels) vs mel 1×80×16."""

    name = "wav2lip-syncnet"

    def __init__(self, model: Any, device: str = "cpu", batch: int = 32) -> None:
        self.model, self.device, self.batch = model, device, batch

    def embed(
        self, images: np.ndarray, landmarks: np.ndarray, samples_16k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from vpipe.lipsync.facecrop import crop, face_boxes, int_box
        from vpipe.neural.features import mel_windows, wav2lip_mel

        boxes = _filled(face_boxes(landmarks, np.isfinite(landmarks[:, 0, 0])))
        crops = np.stack([crop(im, int_box(b), 96) for im, b in zip(images, boxes, strict=True)])
        lower = torch.from_numpy(crops[:, 48:].astype(np.float32) / 255.0).permute(0, 3, 1, 2)  # T, 3, 48, 96
        mel = wav2lip_mel(samples_16k)
        n = min(len(crops) - 4, int(mel.shape[1] * FPS / 80) - 5)
        if n <= 0:
            raise ValueError("too short to score (fewer than 6 frames)")
        faces = [lower[i : i + 5].reshape(15, 48, 96) for i in range(n)]
        mels = list(torch.from_numpy(mel_windows(mel, np.arange(n) / FPS)))
        m = self.model
        v = _batched(lambda x: m.face_encoder(x.to(self.device)).flatten(1), faces, self.batch)
        a = _batched(lambda x: m.audio_encoder(x.to(self.device)).flatten(1), mels, self.batch)
        norm = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)  # noqa: E731
        return norm(v), norm(a)


def frames_at_25fps(path: Path, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """(images, times): the frame shown at each 1/25 s step of [start, end) (the authors
    re-encode to 25 fps first)."""
    from vpipe.media.decode import frame_timing, iter_frames

    timing = frame_timing(path)
    times = timing.times
    grid = np.arange(start, end, 1 / FPS)
    want = np.clip(np.searchsorted(times, grid + 1e-9, side="right") - 1, 0, len(times) - 1)
    first, last = int(want.min()), int(want.max())
    decoded = {i: im for i, _, im in iter_frames(path, first, last + 1, timing.pts)}  # from the keyframe before
    return np.stack([decoded[int(i)] for i in want]), grid


def score_file(
    path: Path, start: float, end: float, scorer: Scorer, audio: tuple[np.ndarray, int, float] | None = None
) -> SyncResult:
    """LSE of the file's [start, end) against its own audio, or against `audio` (samples, rate,
    time of the first sample): the control with shifted audio uses this."""
    from vpipe.face.tracker import track_frames
    from vpipe.media.decode import read_audio
    from vpipe.neural.features import resample

    images, grid = frames_at_25fps(path, start, end)
    if audio is None:
        a = read_audio(path)
        audio = (a.mono(), a.rate, a.start)
    samples, rate, t0 = audio
    x = resample(samples, rate)
    lo = max(0, round((start - t0) * 16000))
    x = x[lo : lo + round(len(grid) / FPS * 16000)]
    track = track_frames(list(images), list(grid))
    lm = np.where(track.present[:, None, None], track.landmarks, np.nan)
    v, a_emb = scorer.embed(images, lm, x)
    return offset_search(v, a_emb)


def load_syncnet(path: Path, device: str = "cpu") -> Any:
    """syncnet_v2.model (a plain state dict) into SyncNetV2, strictly."""
    import torch

    from vpipe.neural.syncnet import SyncNetV2
    from vpipe.weights import WeightsError, load_state_dict, load_strict

    state = load_state_dict(Path(path), prefix="")
    first, last = state.get("netcnnaud.0.weight"), state.get("netfcaud.3.weight")
    if first is None or last is None:
        raise WeightsError(f"{path}: not a syncnet_python model (no netcnnaud.0.weight / netfcaud.3.weight)")
    with torch.device("meta"):
        model = SyncNetV2(width=int(first.shape[0]) / 64, embedding=int(last.shape[0]))
    load_strict(model, state, source=str(path))
    return model.eval().to(device)


def load_expert(path: Path, device: str = "cpu") -> Any:
    """lipsync_expert.pth ({"state_dict"}, `module.` stripped) into SyncNetColor, strictly."""
    import torch

    from vpipe.neural.syncnet import SyncNetColor
    from vpipe.weights import WeightsError, load_state_dict, load_strict

    state = load_state_dict(Path(path))
    first = state.get("face_encoder.0.conv_block.0.weight")
    if first is None:
        raise WeightsError(f"{path}: not Wav2Lip's lip-sync expert (no face_encoder.0.conv_block.0.weight)")
    with torch.device("meta"):
        model = SyncNetColor(width=int(first.shape[0]) / 32)
    load_strict(model, state, source=str(path))
    return model.eval().to(device)


CONTEXT = 0.6  # seconds scored either side of the re-rendered windows (the ±15-frame search)


def available_scorer(rt: RunContext) -> Scorer | None:
    """The best sync expert whose weights the user has (syncnet_v2 first), loaded once per
    process; None without weights or torch (QC then reports no LSE)."""
    from vpipe.weights import model_status

    try:
        import torch
    except ImportError:
        return None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for model_id, loader, cls in (
        ("syncnet", load_syncnet, SyncNetV2Scorer),
        ("wav2lip-syncnet", load_expert, ExpertScorer),
    ):
        status = model_status(model_id)
        if status.ready:
            path = status.path()
            model = rt.resource(f"lse:{model_id}:{path}:{device}", lambda p=path, ld=loader: ld(p, device))
            scorer: Scorer = cls(model, device)
            return scorer
    return None


def lse_metrics(path: Path, windows: list[tuple[float, float]], duration: float, scorer: Scorer) -> dict[str, float]:
    """LSE of a written file over its re-rendered windows (merged, with CONTEXT either side)."""
    start = max(0.0, min(a for a, _ in windows) - CONTEXT)
    end = min(duration, max(b for _, b in windows) + CONTEXT)
    r = score_file(path, start, end, scorer)
    return {"lse_d": r.lse_d, "lse_c": r.lse_c, "lse_offset_frames": float(r.offset), "lse_windows": float(r.windows)}
