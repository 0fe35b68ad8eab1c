"""Which of the speaker's phones (ARPAbet labels) may stand in for one another: the broad
classes the unit search's fill draws frames from, and the close sounds a phone the
recording lacks may borrow (`vpipe.speech.units`)."""

from __future__ import annotations

VOWELS = frozenset(["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"])
# broad classes for the kNN fill: a missing vowel takes vowel frames, a fricative fricative ones
CLASSES = {
    **dict.fromkeys(VOWELS, 0),
    **dict.fromkeys(["L", "R", "W", "Y"], 1),
    **dict.fromkeys(["M", "N", "NG"], 2),
    **dict.fromkeys(["F", "V", "TH", "DH", "S", "Z", "SH", "ZH", "HH"], 3),
    **dict.fromkeys(["P", "B", "T", "D", "K", "G", "CH", "JH"], 4),
}
# Close sounds a missing phone may borrow (a unit, not a fill): the voicing partner of a
# consonant, a neighbouring vowel. Tried only when the recording lacks the phone itself.
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "S": ("Z", "SH"),
    "Z": ("S",),
    "SH": ("ZH", "S"),
    "ZH": ("SH", "Z"),
    "F": ("TH", "V"),
    "V": ("F", "DH"),
    "TH": ("F", "DH"),
    "DH": ("TH", "V"),
    "P": ("B", "T"),
    "B": ("P", "D"),
    "T": ("D", "K"),
    "D": ("T", "G"),
    "K": ("G", "T"),
    "G": ("K", "D"),
    "CH": ("JH", "SH"),
    "JH": ("CH", "ZH"),
    "M": ("N",),
    "N": ("M", "NG"),
    "NG": ("N",),
    "L": ("R", "W"),
    "R": ("ER", "L"),
    "W": ("UW", "L"),
    "Y": ("IY",),
    "HH": (),
    "IY": ("IH", "EY"),
    "IH": ("IY", "EH"),
    "EY": ("EH", "IY"),
    "EH": ("AE", "IH"),
    "AE": ("EH", "AA"),
    "AA": ("AO", "AH"),
    "AO": ("AA", "OW"),
    "AH": ("AA", "ER"),
    "OW": ("AO", "UW"),
    "UH": ("UW", "AH"),
    "UW": ("UH", "OW"),
    "ER": ("R", "AH"),
    "AY": ("AA", "EY"),
    "AW": ("AA", "AO"),
    "OY": ("AO", "OW"),
}
