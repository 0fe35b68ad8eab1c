"""speech.fit: cut each slot's words out of the synthesized sentence and fit their length.

The cut keeps a little of the sentence on each side of the word (its own coarticulation)
as crossfade room for the splice. Policies: `fit` stretches the word to the recorded
word's duration; `elastic` keeps its natural length (the timeline after it moves);
`auto` fits when that needs at most `max_stretch`, else stretches by `max_stretch` and
lets the rest be elastic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.speech import SlotAudio, SlotClip, Speech
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.speech.stretch import wsola

CONTEXT = 0.03  # seconds of sentence kept on each side of the word


def cut_slot(speech: Speech, name: str) -> tuple[np.ndarray, int, int, float, float, tuple[Segment, ...]]:
    """(audio with context, word start/end sample inside it, lead, tail, phones relative to the word)."""
    s = speech.slot(name)
    first, last = speech.words[s.first_word], speech.words[s.last_word]
    rate = speech.rate
    start = round(speech.offset * rate)  # the audio may begin after the utterance does
    a, b = round(first.start * rate) - start, round(last.end * rate) - start
    if a < 0 or b > len(speech.audio):
        raise ValueError(f"slot '{name}' lies outside the synthesized audio")
    lead = min(int(CONTEXT * rate), a)
    tail = min(int(CONTEXT * rate), len(speech.audio) - b)
    clip = speech.audio[a - lead : b + tail].astype(np.float32)
    phones = tuple(
        Segment(p.label, p.start - first.start, p.end - first.start)
        for w in speech.words[s.first_word : s.last_word + 1]
        for p in w.phones
    )
    return clip, lead, lead + (b - a), lead / rate, tail / rate, phones


def decide(natural: float, target: float, policy: str, max_stretch: float) -> tuple[float, bool]:
    """(duration to render, whether it exceeds what the policy allows)."""
    if policy == "elastic" or natural <= 0 or target <= 0:
        return natural, False
    ratio = target / natural
    if policy == "fit":
        return target, abs(ratio - 1) > max_stretch + 1e-9
    clamped = min(max(ratio, 1 - max_stretch), 1 + max_stretch)
    return natural * clamped, False


@kernel("speech.fit", backend="wsola")
class FitSlots(Kernel):
    version = "3"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.01, ram_mb=10)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> SlotAudio:
        speech, spans = inputs
        policy = str(op.attr("policy"))
        max_stretch = float(op.attr("max_stretch"))
        clips = []
        for loc in spans.slots:
            clip, a, b, lead, tail, phones = cut_slot(speech, loc.name)
            rate = speech.rate
            natural = (b - a) / rate
            target = loc.end - loc.start
            duration, too_far = decide(natural, target, policy, max_stretch)
            if too_far:
                rt.warn(
                    "VP311",
                    f"slot '{loc.name}': '{speech.slot(loc.name).text}' needed a {100 * (target / natural - 1):+.0f} % "
                    f"time-scale to fit the recorded word (max_stretch is {100 * max_stretch:.0f} %)",
                    help="use voice.duration: auto or elastic to keep its natural length",
                )
            n = max(1, round(duration * rate))
            word = wsola(clip[a:b], rate, n) if n != b - a else clip[a:b]
            audio = np.concatenate([clip[:a], word, clip[b:]]).astype(np.float32)
            scale = n / max(b - a, 1)
            clips.append(
                SlotClip(
                    name=loc.name,
                    text=speech.slot(loc.name).text,
                    audio=audio,
                    rate=rate,
                    lead=lead,
                    tail=tail,
                    source_start=loc.start,
                    source_end=loc.end,
                    duration=n / rate,
                    stretch=scale,
                    fitted=abs(duration - target) < 1e-9,
                    phones=tuple(Segment(p.label, p.start * scale, p.end * scale) for p in phones),
                )
            )
        return SlotAudio(tuple(clips), policy)
