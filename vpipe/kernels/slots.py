"""slots.locate: the time spans of the slot words in the source; slots.changed: those a row
really changes."""

from __future__ import annotations

from typing import Any

from vpipe.data.alignment import Alignment, SlotLocation, Spans
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Op, thaw
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.speech.align import LOW_CONFIDENCE
from vpipe.text import find_sequence, words_of

CONTEXT_WORDS = 3  # recorded words kept on each side of a slot (QC hears the new word in context)


@kernel("slots.locate", backend="builtin")
class LocateSlots(Kernel):
    version = "3"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Spans:
        (alignment,) = inputs
        return locate(alignment, thaw(op.attr("slots")), rt)


@kernel("slots.changed", backend="builtin")
class ChangedSlots(Kernel):
    """The row's slots whose rendered words differ from the recorded ones (case and
    punctuation aside): a row that says the recorded word keeps the recording there.
    Keyed by its operands (the script is keyed by its text), computed again rather than
    stored: it is a comparison of a few words."""

    version = "1"
    cache = False

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Spans:
        script, spans = inputs
        return changed(script, spans)


def changed(script: Any, spans: Spans) -> Spans:
    said = {s.name: words_of(script.text[s.start : s.end]) for s in script.spans}
    return Spans(tuple(s for s in spans.slots if said.get(s.name) != words_of(" ".join(s.words))))


def locate(alignment: Alignment, slots: dict[str, dict[str, Any]], rt: RunContext | None = None) -> Spans:
    """Where each slot's words are said. `slots` as the op's attribute: name → {say, words,
    word_index (resolved at build time) or occurrence}. `rt` takes warnings and gives the
    recipe location of errors."""
    span = rt.op_span if rt is not None else None
    out: list[SlotLocation] = []
    heard = [w.label for w in alignment.words]
    for name, slot in slots.items():
        words = list(slot["words"])
        first = slot.get("word_index")
        if first is None:  # the transcript was recognised at run time: resolve now
            hits = find_sequence(heard, words)
            occurrence = slot.get("occurrence")
            if not hits or (occurrence is None and len(hits) > 1) or (occurrence or 1) > len(hits):
                raise DiagnosticError(
                    Diagnostic(
                        "VP201" if not hits else "VP202",
                        f"slot '{name}': '{slot['say']}' is said {len(hits)} time(s) in the recognised transcript",
                        span,
                        help="give source.transcript and slots.occurrence",
                        notes=(f"heard: {' '.join(heard)}",),
                    )
                )
            first = hits[(occurrence or 1) - 1]
        segments = alignment.words[first : first + len(words)]
        if any(s.end <= s.start for s in segments):
            raise DiagnosticError(Diagnostic("VP204", f"slot '{name}': '{slot['say']}' has no time span", span))
        if rt is not None:
            _check_confidence(rt, alignment, name, slot["say"], first, len(words))
        out.append(
            SlotLocation(
                name,
                tuple(words),
                first,
                segments[0].start,
                segments[-1].end,
                alignment.phones_of(first, len(words)),
                before=tuple(alignment.words[max(0, first - CONTEXT_WORDS) : first]),
                after=tuple(alignment.words[first + len(words) : first + len(words) + CONTEXT_WORDS]),
            )
        )
    return Spans(tuple(sorted(out, key=lambda s: s.start)))


def _check_confidence(rt: RunContext, alignment: Alignment, name: str, say: str, first: int, count: int) -> None:
    scores = alignment.scores[first : first + count] if alignment.scores else ()
    worst = min(scores, default=0.0)
    if worst < LOW_CONFIDENCE:
        rt.warn(
            "VP206",
            f"slot '{name}': the aligner is unsure that '{say}' is said there (confidence {worst:.0f}; "
            f"correct words score above {LOW_CONFIDENCE:.0f})",
            help="check the transcript around the slot word",
        )
