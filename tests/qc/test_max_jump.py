"""qc.audio.max_jump a block at a time: the largest sample-to-sample jump of the whole signal,
equal bit for bit to the one-shot np.diff over it, whatever the length relative to a block
(the blocks overlap by one sample), and on a real clip's track."""

from __future__ import annotations

import numpy as np
import pytest

from vpipe.qc.audio import JUMP_BLOCK, max_jump


def _one_shot(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x, axis=0)).max()) if len(x) > 1 else 0.0


@pytest.mark.parametrize(
    "n", [0, 1, 2, 3, JUMP_BLOCK - 1, JUMP_BLOCK, JUMP_BLOCK + 1, JUMP_BLOCK + 2, 3 * JUMP_BLOCK + 17]
)
@pytest.mark.parametrize("channels", [1, 2])
def test_blocks_give_the_whole_signal_maximum(n: int, channels: int) -> None:
    x = np.random.default_rng(n).standard_normal((n, channels)).astype(np.float32)
    assert max_jump(x) == _one_shot(x)


@pytest.mark.parametrize("at", [JUMP_BLOCK - 1, JUMP_BLOCK, JUMP_BLOCK + 1, 2 * JUMP_BLOCK])
def test_a_jump_across_a_block_boundary_is_found(at: int) -> None:
    """A single step between samples at-1 and at (a boundary of the blocks or beside one)."""
    x = np.zeros((3 * JUMP_BLOCK, 2), np.float32)
    x[at:] = 0.75
    assert max_jump(x) == pytest.approx(0.75) and max_jump(x) == _one_shot(x)


@pytest.mark.media
def test_a_real_track() -> None:
    from tests.speech.realclips import audio

    a = audio("interview_man")
    assert max_jump(a.samples) == _one_shot(a.samples) > 0
