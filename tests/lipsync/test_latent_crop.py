"""Crops for the neural models from FaceMesh landmarks (vpipe.lipsync.latent_crop)."""

from __future__ import annotations

import numpy as np

from tests.lipsync.sources import source
from vpipe.face import landmarks as L
from vpipe.lipsync import latent_crop as facecrop
from vpipe.lipsync.geometry import apply


def _lm() -> np.ndarray:
    src = source("interview_man")
    k = int(np.nonzero(src.face.usable)[0][10])
    return src.face.landmarks[k]


def test_musetalk_crop_is_square_256_with_the_chin_margin() -> None:
    lm = _lm()
    crop = facecrop.musetalk_crop(lm)
    chin = apply(crop.matrix, lm[[L.CHIN], :2])[0]
    s = crop.matrix[0, 0]
    assert crop.size == 256 and crop.matrix[0, 0] == crop.matrix[1, 1]
    assert (
        chin[1] == np.float64(256 - facecrop.CHIN_MARGIN * s) or abs(chin[1] - (256 - facecrop.CHIN_MARGIN * s)) < 1.0
    )
    mouth = apply(crop.matrix, L.mouth_center(lm)[None])[0]
    assert 128 < mouth[1] < 256 and 64 < mouth[0] < 192  # the mouth is in the masked lower half


def test_latentsync_crop_puts_brows_and_nose_on_the_template() -> None:
    lm = _lm()
    for size in (256, 512):
        crop = facecrop.latentsync_crop(lm, size)
        points = np.stack(
            [
                lm[list(facecrop.BROW_LEFT), :2].mean(0),
                lm[list(facecrop.BROW_RIGHT), :2].mean(0),
                lm[list(facecrop.NOSE_CENTRE), :2].mean(0),
            ]
        )
        got = apply(crop.matrix, points)
        k = size / 256
        want = (
            facecrop.TEMPLATE_256 * k * [size / (facecrop.FACE_SIZE_256[0] * k), size / (facecrop.FACE_SIZE_256[1] * k)]
        )
        assert np.abs(got - want).max() < 0.06 * size  # a similarity fit of 3 points


def test_paste_changes_only_pixels_under_the_region() -> None:
    frame = np.full((300, 300, 3), 100, np.uint8)
    crop = facecrop.Crop(np.array([[1.0, 0, -20], [0, 1.0, -20]]), 256)
    face = np.full((256, 256, 3), 200, np.uint8)
    region = np.zeros((300, 300), np.float32)
    region[150:250, 100:200] = 1.0
    out = facecrop.paste(frame, face, crop, region)
    assert (out[:150] == 100).all() and (out[:, :100] == 100).all()
    assert (out[170:230, 120:180] == 200).all()
