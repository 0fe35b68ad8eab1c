"""Visemes: the mouth shapes phones make, and the mouth opening each predicts.

Phones that look alike on the lips share a class (p/b/m all close the lips). Each class
has a typical aperture (inner-lip gap over mouth width, the measure of
`vpipe.face.landmarks.mouth_aperture`) and roundness (lip spreading vs rounding), used to
choose a source mouth for a new phone and to predict the aperture the audio implies
(the weight-free sync measure). Values are relative: only their order and spacing matter
for matching and for correlations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment


@dataclass(frozen=True)
class Viseme:
    name: str
    aperture: float  # 0 closed … 1 widest
    round: float  # -1 spread (smile) … +1 rounded (pout)


VISEMES: dict[str, Viseme] = {
    v.name: v
    for v in (
        Viseme("sil", 0.02, 0.0),
        Viseme("PP", 0.0, 0.0),  # p b m: lips pressed
        Viseme("FF", 0.10, -0.2),  # f v: lower lip to teeth
        Viseme("TH", 0.22, -0.1),
        Viseme("DD", 0.28, -0.2),  # t d n l
        Viseme("kk", 0.32, -0.1),  # k g ng
        Viseme("CH", 0.22, 0.6),  # ch jh sh zh: protruded
        Viseme("SS", 0.14, -0.5),  # s z: teeth together, spread
        Viseme("RR", 0.30, 0.5),  # r er
        Viseme("aa", 0.85, 0.0),  # open vowels
        Viseme("E", 0.55, -0.5),  # eh ey
        Viseme("ih", 0.38, -0.7),  # ih iy y
        Viseme("oh", 0.65, 0.8),  # ao ow oy
        Viseme("ou", 0.32, 1.0),  # uw uh w
    )
}

PHONE_VISEME: dict[str, str] = {
    "SIL": "sil",
    "P": "PP",
    "B": "PP",
    "M": "PP",
    "F": "FF",
    "V": "FF",
    "TH": "TH",
    "DH": "TH",
    "T": "DD",
    "D": "DD",
    "N": "DD",
    "L": "DD",
    "K": "kk",
    "G": "kk",
    "NG": "kk",
    "HH": "kk",
    "CH": "CH",
    "JH": "CH",
    "SH": "CH",
    "ZH": "CH",
    "S": "SS",
    "Z": "SS",
    "R": "RR",
    "ER": "RR",
    "AA": "aa",
    "AE": "aa",
    "AH": "aa",
    "AW": "aa",
    "AY": "aa",
    "EH": "E",
    "EY": "E",
    "IH": "ih",
    "IY": "ih",
    "Y": "ih",
    "AO": "oh",
    "OW": "oh",
    "OY": "oh",
    "UW": "ou",
    "UH": "ou",
    "W": "ou",
}
NAMES = tuple(VISEMES)
# Seconds the lips lead the sound. Measured on the three shared clips, aperture/phone
# correlation peaks at 0 to −40 ms, so no lead is assumed.
LIP_LEAD = 0.0
INDEX = {n: i for i, n in enumerate(NAMES)}
# Phones that close the lips, and how far (seconds) around such a phone its closure is looked for:
# the lips close for a few tens of ms somewhere in or just around the aligned phone.
BILABIALS = frozenset({"P", "B", "M"})
CLOSURE_REACH = 0.04


def viseme_of(phone: str) -> str:
    return PHONE_VISEME.get(phone.upper().rstrip("012"), "sil")


def distance_matrix() -> np.ndarray:
    """How different two visemes look: aperture and roundness, with an extra step for
    closing the lips (a p/b/m must never be shown open)."""
    n = len(NAMES)
    out = np.zeros((n, n), np.float32)
    for i, a in enumerate(NAMES):
        for j, b in enumerate(NAMES):
            va, vb = VISEMES[a], VISEMES[b]
            d = abs(va.aperture - vb.aperture) + 0.5 * abs(va.round - vb.round)
            if (a == "PP") != (b == "PP"):
                d += 0.4
            out[i, j] = 0.0 if a == b else d
    return out


def frame_visemes(phones: tuple[Segment, ...] | list[Segment], times: np.ndarray, offset: float = 0.0) -> list[str]:
    """Viseme shown at each frame time: the phone under the frame's time (+ offset).
    Frames outside every phone are silence."""
    out = []
    k = 0
    ordered = sorted(phones, key=lambda p: p.start)
    for t in times:
        t = float(t) + offset
        while k < len(ordered) and ordered[k].end <= t:
            k += 1
        out.append(viseme_of(ordered[k].label) if k < len(ordered) and ordered[k].start <= t else "sil")
    return out


def predicted_aperture(
    phones: list[Segment],
    times: np.ndarray,
    lead: float = LIP_LEAD,
    smooth: float = 0.06,
    table: np.ndarray | None = None,
) -> np.ndarray:
    """The mouth opening the phones imply at each time: each phone's viseme aperture (from
    `table`, indexed like NAMES; default: the generic VISEMES values), shown slightly before
    the sound (the lips lead the audio), smoothed for coarticulation."""
    if len(times) == 0:
        return np.zeros(0)
    values_of = table if table is not None else np.array([VISEMES[n].aperture for n in NAMES])
    step = 0.005
    grid = np.arange(float(times.min()) - 0.3, float(times.max()) + 0.3, step)
    values = np.array([values_of[INDEX[v]] for v in frame_visemes(phones, grid, offset=lead)])
    sigma = max(1.0, smooth / step)
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    smoothed = np.convolve(np.pad(values, radius, mode="edge"), kernel, mode="valid")
    return np.interp(times, grid, smoothed)
