"""resolve-slots: bind each recipe slot to the words it replaces in the source.

The slot's words are looked up in the transcript (the recipe's, or the recognised one
when the driver can evaluate it). A slot whose words are absent (VP201), said more than
once without `occurrence` (VP202), or with an out-of-range `occurrence` (VP203) is an
error at the recipe's `say:`. When the alignment can be evaluated, the slot also gets its
times, and words the aligner could not place are an error (VP204).

Before:
    %spans = slots.locate(%alignment) {"slots": {"skill": {"say": "help", "words": ["help"]}}} : Spans shared

After (transcript "my biggest weakness is asking for help when needed", aligned):
    %spans = slots.locate(%alignment) {"slots": {"skill": {"end": 2.23, "say": "help", "start": 1.95, "word_index": 6, "words": ["help"]}}} : Spans shared
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, ClassVar

from vpipe.ir.graph import Graph, Op, thaw
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register
from vpipe.text import find_sequence, words_of


@register
@dataclass(frozen=True)
class ResolveSlots:
    name: ClassVar[str] = "resolve-slots"
    summary: ClassVar[str] = "bind slot variables to words (and times) in the source"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            if op.kind != "slots.locate":
                continue
            alignment_name = op.operands[0]
            align_op = graph.producer(alignment_name)
            transcript_op = graph.producer(align_op.operands[1])
            transcript = self._transcript(graph, transcript_op, ctx)
            if transcript is None:
                ctx.diagnostics.remark(
                    "VP221", "the transcript is recognised at run time; slots will be resolved then", ctx.span(op)
                )
                continue
            ctx.facts["transcript"] = transcript
            resolved = self._bind(op, words_of(transcript), ctx)
            if resolved is None:
                continue
            alignment = ctx.evaluate(graph, alignment_name)
            if alignment is not None:
                resolved = self._time(op, resolved, alignment, ctx)
                if transcript_op.kind == "text.const":  # a given transcript: does it fit the audio?
                    verify_transcript(alignment, ctx, ctx.span(op, "/source/transcript"))
            ctx.facts["slots"] = resolved
            updates[index] = op.with_attrs(slots=resolved)
        return graph.replace_ops(updates)

    @staticmethod
    def _transcript(graph: Graph, op: Op, ctx: PassContext) -> str | None:
        if op.kind == "text.const":
            return str(op.attr("text"))
        value = ctx.evaluate(graph, op.results[0].name)
        return str(value) if value is not None else None

    @staticmethod
    def _bind(op: Op, heard: list[str], ctx: PassContext) -> dict[str, Any] | None:
        slots: dict[str, Any] = thaw(op.attr("slots"))
        taken: dict[int, str] = {}
        ok = True
        for name, slot in slots.items():
            words = list(slot["words"])
            where = ctx.span(op, f"/slots/{name}/say")
            hits = find_sequence(heard, words)
            occurrence = slot.get("occurrence")
            if not hits:
                guess = difflib.get_close_matches(" ".join(words), _ngrams(heard, len(words)), n=1, cutoff=0.5)
                ctx.diagnostics.error(
                    "VP201",
                    f"slot '{name}': '{slot['say']}' is not said in the source",
                    where,
                    help=f"did you mean '{guess[0]}'?" if guess else "check the transcript with `vpipe build`",
                    notes=(f"transcript: {' '.join(heard)}",),
                )
                ok = False
                continue
            if occurrence is None and len(hits) > 1:
                contexts = "; ".join(f"#{k + 1}: …{_context(heard, h, len(words))}…" for k, h in enumerate(hits))
                ctx.diagnostics.error(
                    "VP202",
                    f"slot '{name}': '{slot['say']}' is said {len(hits)} times",
                    where,
                    help=f"set slots.{name}.occurrence to 1..{len(hits)}",
                    notes=(contexts,),
                )
                ok = False
                continue
            if occurrence is not None and occurrence > len(hits):
                ctx.diagnostics.error(
                    "VP203",
                    f"slot '{name}': occurrence {occurrence} asked, but '{slot['say']}' is said {len(hits)} time(s)",
                    ctx.span(op, f"/slots/{name}/occurrence"),
                )
                ok = False
                continue
            start = hits[(occurrence or 1) - 1]
            for i in range(start, start + len(words)):
                if i in taken:
                    ctx.diagnostics.error(
                        "VP205", f"slots '{taken[i]}' and '{name}' replace the same word '{heard[i]}'", where
                    )
                    ok = False
                taken[i] = name
            slot["word_index"] = start
        return slots if ok else None

    @staticmethod
    def _time(op: Op, slots: dict[str, Any], alignment: Any, ctx: PassContext) -> dict[str, Any]:
        for name, slot in slots.items():
            first, n = slot["word_index"], len(slot["words"])
            segments = alignment.words[first : first + n]
            if len(segments) != n or any(s.end <= s.start for s in segments):
                ctx.diagnostics.error(
                    "VP204",
                    f"slot '{name}': the aligner could not place '{slot['say']}' in the audio",
                    ctx.span(op, f"/slots/{name}/say"),
                    help="check that the transcript matches what is said, or add the word to the lexicon",
                )
                continue
            slot["start"] = round(segments[0].start, 4)
            slot["end"] = round(segments[-1].end, 4)
        return slots


# Forced-alignment confidence per word (the word's acoustic score per frame minus a free phone
# loop's, vpipe.speech.align): on the three shared clips with their right transcripts the
# lowest word scores -51 (the clip's cut-off last word) and the mean is -1.6 to -12.7; with
# a wrong word swapped in ("raining", "pizza", "mayor", "london") the swapped words score
# -60 to -77 and the mean drops to -19 .. -25.
MIN_WORD_FIT = -55.0
MIN_MEAN_FIT = -16.0


def verify_transcript(alignment: Any, ctx: PassContext, span: Any) -> None:
    """Warn (VP207) with the transcript words the audio does not support."""
    scores = [s for s in getattr(alignment, "scores", ()) if s == s]  # NaN-free
    if not scores or len(scores) != len(alignment.words):
        return
    misfits = [(w.label, s) for w, s in zip(alignment.words, alignment.scores, strict=True) if s < MIN_WORD_FIT]
    mean = sum(scores) / len(scores)
    ctx.facts["transcript_fit"] = {
        "mean": round(mean, 2),
        "words": [[w.label, s] for w, s in zip(alignment.words, alignment.scores, strict=True)],
    }
    if misfits or mean < MIN_MEAN_FIT:
        shown = ", ".join(f"'{w}' ({s:.0f})" for w, s in misfits[:8]) or "no single word, but overall"
        ctx.diagnostics.warning(
            "VP207",
            f"the transcript does not fit the audio: {shown} (mean fit {mean:.1f}; the shared clips' "
            f"right transcripts score {MIN_MEAN_FIT:g} or better, every word {MIN_WORD_FIT:g} or better)",
            span,
            help="write source.transcript as the words actually said, or leave it out to have them recognised",
        )


def _ngrams(words: list[str], n: int) -> list[str]:
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def _context(words: list[str], start: int, n: int) -> str:
    left = words[max(0, start - 3) : start]
    hit = [w.upper() for w in words[start : start + n]]
    right = words[start + n : start + n + 3]
    return " ".join(left + hit + right)
