"""LSE-C / LSE-D: the offset search on embeddings whose truth is known, the scoring pipeline
on real clips with transparent features, and the two sync experts' published layouts.

What needs the real weights (not here): that syncnet_v2 / lipsync_expert embeddings separate
in-sync from shifted speech. Random weights cannot. What is proven here: the statistics
(syncnet_python's calc_pdist + evaluate, sign convention included), the windowing of real
clips (25 fps frames, 4 MFCC frames or a 16-frame mel per video frame), and that the
published checkpoints load key for key into the models the scorers run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.media import shared_media  # noqa: E402
from tests.neural.published import expert_shapes, syncnet_v2_shapes  # noqa: E402
from vpipe.catalog import model as catalog_model  # noqa: E402
from vpipe.face import landmarks as L  # noqa: E402
from vpipe.neural.features import syncnet_mfcc  # noqa: E402
from vpipe.neural.syncnet import SyncNetColor, SyncNetV2  # noqa: E402
from vpipe.neural.wav2lip import parameter_count  # noqa: E402
from vpipe.qc.lse import ExpertScorer, SyncNetV2Scorer, load_expert, load_syncnet, offset_search, score_file  # noqa: E402


def _calc_pdist_reference(feat1: np.ndarray, feat2: np.ndarray, vshift: int) -> np.ndarray:
    """syncnet_python's calc_pdist + mean, written from its description with torch."""
    f1, f2 = torch.from_numpy(feat1), torch.from_numpy(feat2)
    win = vshift * 2 + 1
    f2p = torch.nn.functional.pad(f2, (0, 0, vshift, vshift))
    dists = [
        torch.nn.functional.pairwise_distance(f1[[i], :].repeat(win, 1), f2p[i : i + win, :]) for i in range(len(f1))
    ]
    return torch.mean(torch.stack(dists, 1), 1).numpy()


@pytest.mark.parametrize("delay", [0, 5, -3])
def test_offset_search_recovers_a_known_shift(delay: int) -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(140, 16))
    video = base[20:120]
    audio = base[20 - delay : 120 - delay] + 0.05 * rng.normal(size=(100, 16))  # audio late by `delay` windows
    r = offset_search(video, audio)
    assert r.offset == -delay  # syncnet_python's sign: late audio is a negative offset
    assert np.allclose(r.mean_dist, _calc_pdist_reference(video, audio, 15), atol=1e-6)
    assert r.lse_d == pytest.approx(min(r.mean_dist)) and r.lse_c > 3 * r.lse_d
    assert (r.dist_at_zero == pytest.approx(r.lse_d)) == (delay == 0)
    unrelated = offset_search(video, rng.normal(size=(100, 16)))
    assert unrelated.lse_c < 0.2 * r.lse_c  # no sync: no confidence


class ApertureEnergy:
    """Transparent stand-in embeddings with a known physical link: the tracked mouth aperture
    of the 5 frames vs the speech energy (MFCC c0) under them. Not a quality metric: it only
    lets the pipeline's timing be checked on real speech without trained weights."""

    name = "aperture-energy"

    def embed(self, images: np.ndarray, landmarks: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ap = np.asarray(L.mouth_aperture(landmarks), float)
        ap = np.where(np.isfinite(ap), ap, np.nanmean(ap))
        c0 = syncnet_mfcc(x)[0]
        energy = np.array([c0[4 * i : 4 * i + 4].mean() for i in range(len(c0) // 4)])
        n = min(len(ap), len(energy))
        z = lambda v: (v[:n] - v[:n].mean()) / (v[:n].std() + 1e-9)  # noqa: E731
        ap, energy = z(ap), z(energy)
        return np.stack([ap[i : i + 5] for i in range(n - 5)]), np.stack([energy[i : i + 5] for i in range(n - 5)])


@pytest.mark.parametrize("clip", ["interview_man", "glasses_woman"])
def test_a_200ms_shift_moves_the_offset_by_5_frames_on_real_clips(clip: str) -> None:
    from vpipe.media.decode import read_audio

    path = shared_media(f"{clip}.mp4")
    a = read_audio(path)
    own = score_file(path, 0.0, a.duration - 0.2, ApertureEnergy())
    late = np.concatenate([np.zeros(round(0.2 * a.rate), np.float32), a.mono()])[: a.frames]
    shifted = score_file(path, 0.0, a.duration - 0.2, ApertureEnergy(), audio=(late, a.rate, a.start))
    print(
        f"{clip}: own offset {own.offset} LSE-C {own.lse_c:.3f}; 200 ms late {shifted.offset} LSE-C {shifted.lse_c:.3f}"
    )
    assert own.windows == shifted.windows >= 100  # 4 s of speech or more
    assert shifted.offset - own.offset == -5  # 200 ms at 25 fps, in syncnet_python's sign
    assert abs(own.offset) <= 4  # lips lead the sound by a few frames, within the search range


def test_syncnet_v2_has_the_published_layout(tmp_path: Path) -> None:
    with torch.device("meta"):
        net = SyncNetV2()
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == syncnet_v2_shapes()
    assert parameter_count(net) == 13_631_616 == catalog_model("syncnet")["parameters"]
    with torch.device("meta"):
        expert = SyncNetColor()
    assert {k: tuple(v.shape) for k, v in expert.state_dict().items()} == expert_shapes()
    assert parameter_count(expert) == 16_435_072 == catalog_model("wav2lip-syncnet")["parameters"]


def test_tiny_sync_experts_load_strictly_and_score_a_real_clip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    torch.save(SyncNetV2(width=1 / 8, embedding=32).state_dict(), tmp_path / "syncnet_v2.model")  # plain state dict
    expert = SyncNetColor(width=1 / 8)
    torch.save(
        {"state_dict": {"module." + k: v for k, v in expert.state_dict().items()}}, tmp_path / "lipsync_expert.pth"
    )
    path = shared_media("interview_man.mp4")
    for scorer in (
        SyncNetV2Scorer(load_syncnet(tmp_path / "syncnet_v2.model")),
        ExpertScorer(load_expert(tmp_path / "lipsync_expert.pth")),
    ):
        r = score_file(path, 1.0, 3.0, scorer)
        assert r.windows == 50 - 5 and len(r.mean_dist) == 31
        assert np.isfinite([r.lse_d, r.lse_c]).all() and -15 <= r.offset <= 15
    state = SyncNetV2(width=1 / 8, embedding=32).state_dict()
    state.pop("netfclip.1.running_mean")
    torch.save(state, tmp_path / "broken.model")
    from vpipe.weights import WeightsError

    with pytest.raises(WeightsError, match=r"1 missing: netfclip\.1\.running_mean"):
        load_syncnet(tmp_path / "broken.model")


def test_qc_scores_with_the_users_sync_expert_only_when_it_is_there() -> None:
    from vpipe.kernel_api.context import RunContext
    from vpipe.qc.lse import available_scorer, lse_metrics
    from vpipe.weights import default_root

    rt = RunContext(Path("."))
    assert available_scorer(rt) is None  # no weights: QC reports no LSE
    folder = default_root() / "wav2lip-syncnet"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save({"state_dict": SyncNetColor(width=1 / 8).state_dict()}, folder / "lipsync_expert.pth")
    scorer = available_scorer(rt)
    assert isinstance(scorer, ExpertScorer)
    m = lse_metrics(shared_media("interview_man.mp4"), [(1.2, 1.9)], 6.1, scorer)
    assert m["lse_windows"] == round((1.9 - 1.2 + 2 * 0.6) * 25) - 5 and np.isfinite(m["lse_d"])
