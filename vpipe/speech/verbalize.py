"""Written text → the words a TTS voice should say, with a map back to the input.

A personalised video re-synthesises only its variables ("$25", "03/15/2024", "ana.lee@acme.io"),
and a voice given digits or symbols either guesses or says nothing. `verbalize` rewrites them
as words ("twenty-five dollars", "March fifteenth, twenty twenty-four", "ana dot lee at acme dot
i-o") and records every rewrite as a `Change`, so a caller that gets word timings for the spoken
text can find which characters of the input each spoken word came from.

Everything not rewritten is copied verbatim, so `text` is exactly the input with each change's
`original` replaced by its `spoken`. Names in any Latin spelling (Zoë, Łukasz, Nguyễn) pass
through, only NFC-normalised; fullwidth ASCII ("１２") is folded to ASCII because espeak-ng
cannot read it. The rules themselves are in `rules_numeric` and `rules_words`; this module is
the engine: normalisation with offset tracking, trying rules in order, and spacing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from vpipe.speech import rules_numeric, rules_words
from vpipe.speech.rule import Rule

__all__ = ["Change", "Verbalized", "verbalize"]

# Digits first: a digit string's most specific reading must win over letter rules ("3M" stays
# a number followed by a letter, "AT&T" is tried as initials before the plain "&" rule).
RULES: tuple[Rule, ...] = rules_numeric.RULES + rules_words.RULES
_LOCALES = frozenset({"en", "en-us"})


@dataclass(frozen=True)
class Change:
    """Input characters `start:end` (`original`) are said as `spoken`; `kind` names the rule."""

    start: int
    end: int
    original: str
    spoken: str
    kind: str


@dataclass(frozen=True)
class Verbalized:
    """What to speak, and the changes (sorted, non-overlapping) that turned the input into it."""

    text: str
    changes: tuple[Change, ...]

    def _segments(self) -> list[tuple[int, int, int, int, bool]]:
        """(spoken start, spoken end, input start, input end, is a change) covering `text`."""
        segments: list[tuple[int, int, int, int, bool]] = []
        out = inp = 0
        for c in self.changes:
            if c.start > inp:
                n = c.start - inp
                segments.append((out, out + n, inp, c.start, False))
                out += n
            segments.append((out, out + len(c.spoken), c.start, c.end, True))
            out += len(c.spoken)
            inp = c.end
        tail = len(self.text) - out
        segments.append((out, out + tail, inp, inp + tail, False))
        return segments

    def spoken_span(self, index: int) -> tuple[int, int]:
        """Where `changes[index]` landed in `text`."""
        segments = [s for s in self._segments() if s[4]]
        return segments[index][0], segments[index][1]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The input span that characters `start:end` of `text` were said for.

        A span touching any part of a change covers the whole change: "twenty" in "twenty-five
        dollars" maps back to all of "$25", since a word of a rewrite has no smaller source.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} is outside the spoken text (length {len(self.text)})")
        segments = self._segments()
        lo = hi = segments[-1][3]  # a span at the very end maps to the end of the input
        for out_a, out_b, in_a, _, changed in segments:
            if out_a <= start < out_b:
                lo = in_a if changed else in_a + (start - out_a)
                break
        if end == start:
            return lo, lo
        for out_a, out_b, in_a, in_b, changed in segments:
            if out_a < end <= out_b:
                hi = in_b if changed else in_a + (end - out_a)
                break
        return lo, hi


# Invisible characters that copy-paste leaves in CSV cells: zero-width space, BOM, soft hyphen,
# word joiner, bidi marks. They split words for the aligner and mean nothing to the voice.
# (Zero-width joiners stay: they hold emoji and Indic clusters together.)
_INVISIBLE = frozenset("\u200b\ufeff\u00ad\u2060\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _folds(c: str) -> bool:
    return 0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" or c in _INVISIBLE


def _fold(chunk: str) -> str:
    """NFC; fullwidth ASCII and the ideographic space folded to ASCII; invisible characters dropped."""
    chunk = unicodedata.normalize("NFC", chunk)
    return "".join(
        "" if c in _INVISIBLE else chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else " " if c == "\u3000" else c
        for c in chunk
    )


def _chunks(text: str) -> list[tuple[int, int, str]]:
    """Split `text` where normalisation cannot join neighbours: (start, end, normalised chunk).

    A new chunk starts at a character with combining class 0 that NFC leaves separate from what
    precedes it, so "e" + U+0301 stays one chunk (→ "é") and offsets can be mapped back exactly.
    """
    if unicodedata.is_normalized("NFC", text) and not any(_folds(c) for c in text):
        return [(i, i + 1, c) for i, c in enumerate(text)]
    chunks: list[tuple[int, int, str]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or (
            unicodedata.combining(text[i]) == 0
            and unicodedata.normalize("NFC", text[start : i + 1])
            == unicodedata.normalize("NFC", text[start:i]) + unicodedata.normalize("NFC", text[i])
        ):
            chunks.append((start, i, _fold(text[start:i])))
            start = i
    return chunks


def _normalize_context(text: str) -> str:
    return "".join(c for _, _, c in _chunks(text))


def verbalize(text: str, locale: str = "en-US", *, before: str = "", after: str = "") -> Verbalized:
    """Rewrite numbers, money, dates, times, addresses, abbreviations and initialisms as words.

    `before`/`after` are the text around `text` when it is one piece of a longer sentence (a slot
    value): they are never rewritten, but rules look at them, so "1999" after "in " is read as
    a year and "St." before "Louis" as "Saint". Only US English is supported (`locale` "en-US"
    or "en"); anything else raises ValueError rather than reading numbers in the wrong language.
    """
    if locale.lower().replace("_", "-") not in _LOCALES:
        raise ValueError(f"verbalize supports en-US only, not {locale!r}")
    chunks = _chunks(text)
    head, tail = _normalize_context(before), _normalize_context(after)
    body = "".join(c for _, _, c in chunks)
    full = head + body + tail
    lo, hi = len(head), len(head) + len(body)
    # normalised offset (relative to body) → index of the chunk starting / ending there
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    offset = 0
    for k, (_, _, c) in enumerate(chunks):
        starts[offset] = k
        offset += len(c)
        ends[offset] = k

    out: list[str] = []
    changes: list[Change] = []
    copied = lo  # everything in full[copied:pos] is unchanged and not yet copied
    pos = lo
    last_out = full[lo - 1 : lo]  # the character the next piece of output follows
    while pos < hi:
        if pos - lo not in starts:  # inside a chunk that normalisation merged
            pos += 1
            continue
        for rule in RULES:
            m = rule.pattern.match(full, pos)
            if m is None or m.end() == pos or m.end() > hi or m.end() - lo not in ends:
                continue
            spoken = rule.speak(m)
            if spoken is not None:
                break
        else:
            pos += 1
            continue
        out.append(full[copied:pos])
        last_out = full[pos - 1 : pos] if pos > copied else last_out
        if spoken[:1].isalnum() and last_out.isalnum():
            spoken = " " + spoken
        if spoken[-1:].isalnum() and full[m.end() : m.end() + 1].isalnum():
            spoken += " "
        first, last = starts[pos - lo], ends[m.end() - lo]
        a, b = chunks[first][0], chunks[last][1]
        changes.append(Change(a, b, text[a:b], spoken, rule.name))
        out.append(spoken)
        last_out = spoken[-1:] or last_out
        pos = copied = m.end()
    out.append(full[copied:hi])
    return Verbalized("".join(out), _with_normalization(text, chunks, changes))


def _with_normalization(text: str, chunks: list[tuple[int, int, str]], changes: list[Change]) -> tuple[Change, ...]:
    """Add a "normalize" change for every run of chunks that normalisation alone altered."""
    covered = [(c.start, c.end) for c in changes]
    extra: list[Change] = []
    for a, b, norm in chunks:
        if norm == text[a:b] or any(s <= a and b <= e for s, e in covered):
            continue
        if extra and extra[-1].end == a:
            prev = extra[-1]
            extra[-1] = Change(prev.start, b, text[prev.start : b], prev.spoken + norm, "normalize")
        else:
            extra.append(Change(a, b, text[a:b], norm, "normalize"))
    return tuple(sorted(changes + extra, key=lambda c: c.start))
