"""The vpipe op set. Shared analysis of the source, then the per-row personalization.

media.open ─┬─ media.audio ── speech.align ── slots.locate ──────────────┐
            └─ face.track ── face.inventory (backends that read it)     │
rows.row ── template.render ── speech.synthesize ── speech.fit ── speech.match_voice
         ── audio.splice ── lipsync.apply ── media.write ── qc.measure

Passes, the verifier and the CLI find specs with `lookup` and `all_specs` here: importing
this module is what makes vpipe's op set defined (a plug-in adds its own with `define`).
"""

from __future__ import annotations

from vpipe.ir.graph import Op
from vpipe.ir.opspec import DURATIONS, OUTPUT, REPORT, SCRIPT, WRITES_FILE, OpSpec, define, defined
from vpipe.ir.types import Scope

STR = {"type": "string"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}
# what writing a row's file takes (media.write, and media.splice from a normalised source)
WRITE_ATTRS = {
    "path": STR,
    "root": STR,
    "base": STR,
    "codec": STR,
    "crf": INT,
    "preset": STR,
    "audio_bitrate_kbps": INT,
    "synthetic": BOOL,
    "dedupe": BOOL,
    "audio_by": STR,  # what synthesized the audio spans (provenance)
    "video_by": STR,  # what re-rendered the video spans (provenance)
    "source": STR,  # the recording (the provenance's parent ingredient)
}
# lowering always sets these from the recipe (whose schema is their defaults' one home)
WRITE_REQUIRED = ("path", "root", "base", "codec", "crf", "preset", "audio_bitrate_kbps", "audio_by", "video_by")

define(
    OpSpec(
        "media.open",
        "Open the source video or image; its type carries the probed format.",
        operands=(),
        results=("Video",),
        attrs={"path": STR, "sha256": STR, "kind": {"enum": ["video", "image"]}},
        required=("path", "kind"),
    )
)
define(
    OpSpec(
        "media.open_image",
        "Open a still source image.",
        operands=(),
        results=("Image",),
        attrs={"path": STR, "sha256": STR},
        required=("path",),
    )
)
define(
    OpSpec(
        "media.audio",
        "Decode the audio track of the source video.",
        operands=(("video", "Video"),),
        results=("Audio",),
    )
)
define(
    OpSpec(
        "media.load_audio",
        "Decode an external audio file (dubbing, or a silent video).",
        operands=(),
        results=("Audio",),
        attrs={"path": STR, "sha256": STR},
        required=("path",),
    )
)
define(
    OpSpec(
        "text.const",
        "A known text, e.g. the recipe's transcript.",
        operands=(),
        results=("Text",),
        attrs={"text": STR},
        required=("text",),
    )
)
define(
    OpSpec(
        "speech.recognize",
        "Recognise what is said (when the recipe gives no transcript).",
        operands=(("audio", "Audio"),),
        results=("Text",),
        attrs={"backend": STR, "model": STR, "language": STR},
    )
)
define(
    OpSpec(
        "speech.lexicon",
        "The recipe's pronunciation lexicon.",
        operands=(),
        results=("Lexicon",),
        attrs={"entries": OBJ, "file": STR},
    )
)
define(
    OpSpec(
        "speech.align",
        "Word and phone timings of the source speech (forced alignment).",
        operands=(("audio", "Audio"), ("transcript", "Text"), ("lexicon", "Lexicon")),
        results=("Alignment",),
        attrs={"backend": STR, "model": STR, "language": STR},
    )
)
define(
    OpSpec(
        "slots.locate",
        "Time spans of the slot words in the source.",
        operands=(("alignment", "Alignment"),),
        results=("Spans",),
        attrs={"slots": OBJ, "fps": NUM},
        required=("slots",),
    )
)
define(
    OpSpec(
        "slots.changed",
        "The slots whose row value is not the recorded word (keep-recorded): the others keep the recording.",
        operands=(("script", "Script"), ("spans", "Spans")),
        results=("Spans",),
    )
)
define(
    OpSpec(
        "speech.profile",
        "Measure the source speaker: pitch, spectral envelope, loudness, room tone.",
        operands=(("audio", "Audio"), ("alignment", "Alignment")),
        results=("Profile",),
    )
)
define(
    OpSpec(
        "face.track",
        "Per-frame face landmarks, head pose and presence of the chosen face.",
        operands=(("video", "Video"),),
        results=("Landmarks",),
        attrs={"select": STR, "index": INT, "max_yaw_deg": NUM},
        required=("select", "index", "max_yaw_deg"),
    )
)
define(
    OpSpec(
        "face.inventory",
        "Library of the speaker's mouth shapes labelled by viseme, aperture and pose.",
        operands=(("video", "Video"), ("landmarks", "Landmarks"), ("alignment", "Alignment")),
        results=("Inventory",),
    )
)
define(
    OpSpec(
        "rows.row",
        "The current recipient row.",
        operands=(),
        results=("Row",),
        attrs={"file": STR, "columns": {"type": "array", "items": STR}},
        fixed_scope=Scope.PER_ROW,
    )
)
define(
    OpSpec(
        "template.render",
        "Render the script template with the row's values.",
        operands=(("row", "Row"),),
        results=("Script",),
        attrs={"template": STR, "slots": {"type": "array", "items": STR}},
        required=("template",),
        traits=frozenset({SCRIPT}),
    )
)
define(
    OpSpec(
        "speech.row_lexicon",
        "The recipe lexicon plus the row's own pronunciations (from a column).",
        operands=(("lexicon", "Lexicon"), ("row", "Row")),
        results=("Lexicon",),
        attrs={"column": STR},
        required=("column",),
    )
)
define(
    OpSpec(
        "speech.synthesize",
        "Synthesize the sentences that hold slots, steering each slot word towards the "
        "recorded word's duration with the synthesizer's own length control.",
        operands=(("script", "Script"), ("lexicon", "Lexicon"), ("spans", "Spans")),
        results=("Speech",),
        attrs={
            "engine": STR,
            "voice": STR,
            "voice_sha256": STR,
            "speed": NUM,
            "policy": {"enum": ["auto", "fit", "elastic"]},
            "max_stretch": NUM,
        },
        required=("engine", "voice", "speed", "policy", "max_stretch"),
    )
)
define(
    OpSpec(
        "speech.narrate",
        "Synthesize the whole script (a still-image source has no recording to keep).",
        operands=(("script", "Script"), ("lexicon", "Lexicon")),
        results=("Speech",),
        attrs={"engine": STR, "voice": STR, "voice_sha256": STR, "speed": NUM},
        required=("engine", "voice", "speed"),
    )
)
define(
    OpSpec(
        "speech.fit",
        "Cut each slot's words out of the synthesized sentence and fit their duration.",
        operands=(("speech", "Speech"), ("spans", "Spans")),
        results=("SlotAudio",),
        attrs={"policy": {"enum": ["auto", "fit", "elastic"]}, "max_stretch": NUM},
        required=("policy", "max_stretch"),
        traits=frozenset({DURATIONS}),
    )
)
define(
    OpSpec(
        "speech.match_voice",
        "Move the new words' pitch, timbre, loudness and room tone towards the speaker "
        "(and each word's pitch and loudness towards the recorded word it replaces); with "
        "`units`, the phones the speaker has said take the speaker's own envelopes, kept where "
        "the new word, spliced into `audio` at its span, is still heard as the word.",
        operands=(
            ("slot_audio", "SlotAudio"),
            ("profile", "Profile"),
            ("targets", "SlotTargets"),
            ("voice", "VoiceStats"),
            ("units", "UnitLibrary"),
            ("audio", "Audio"),
            ("spans", "Spans"),
        ),
        results=("SlotAudio",),
        traits=frozenset({DURATIONS}),
        optional=3,
        # splice-aac: the guard cuts the track as audio.splice will, and hears it as the row's
        # AAC packets decode (the write's audio bitrate)
        attrs={"shift_multiple": INT, "audio_bitrate_kbps": INT},
    )
)
define(
    OpSpec(
        "speech.units",
        "The source speaker's phones as a library (WORLD envelope and aperiodicity per phone): "
        "the new words take the speaker's own sounds where the recording has them.",
        operands=(("audio", "Audio"), ("alignment", "Alignment")),
        results=("UnitLibrary",),
    )
)
define(
    OpSpec(
        "speech.voice_stats",
        "Measure the synthetic voice (pitch statistics, long-term envelope) on the source's "
        "transcript, spoken by it once: what voice matching moves from.",
        operands=(("transcript", "Text"), ("lexicon", "Lexicon")),
        results=("VoiceStats",),
        attrs={"engine": STR, "voice": STR, "voice_sha256": STR, "speed": NUM},
        required=("engine", "voice", "speed"),
    )
)
define(
    OpSpec(
        "speech.slot_targets",
        "The recorded slot words' own pitch and the loudness of the speech around them.",
        operands=(("audio", "Audio"), ("spans", "Spans")),
        results=("SlotTargets",),
    )
)
define(
    OpSpec(
        "audio.splice",
        "Replace the slot audio in the source track with crossfades at quiet points.",
        operands=(("audio", "Audio"), ("slot_audio", "SlotAudio"), ("spans", "Spans")),
        results=("Track",),
        attrs={"shift_multiple": INT},  # splice-aac: the timeline after a slot moves by whole AAC blocks
    )
)
define(
    OpSpec(
        "audio.narrate",
        "The whole track of a still-image source: the synthesized script.",
        operands=(("speech", "Speech"),),
        results=("Track",),
    )
)
define(
    OpSpec(
        "lipsync.apply",
        "Re-animate the mouth in the slot windows to the new audio (the mouth inventory only "
        "for backends that declare `needs_inventory`).",
        operands=(
            ("video", "Video"),
            ("landmarks", "Landmarks"),
            ("track", "Track"),
            ("spans", "Spans"),
            ("inventory", "Inventory"),
        ),
        results=("Frames",),
        attrs={
            "backend": STR,
            "margin_ms": NUM,
            "quality": STR,
            "windows": {"type": "array"},
            "weights": STR,
            # neural backends (fit-vram, reduce-steps)
            "model": STR,
            "precision": {"enum": ["fp32", "fp16", "bf16"]},
            "batch": INT,
            "rows_per_batch": INT,  # batch-rows: rows rendered together, sharing the model's forward passes
            "offload": BOOL,
            "vram_gb": NUM,
            "sampler": STR,
            "steps": INT,
            "guidance": NUM,
            "unet_evaluations": INT,
            "onnx": {"type": "object"},  # the graph export-onnx wrote (path, precision, opset, parity)
        },
        required=("backend", "margin_ms"),
        optional=1,
    )
)
define(
    OpSpec(
        "lipsync.animate",
        "Animate a still portrait to the track (idle motion and mouth).",
        operands=(("image", "Image"), ("landmarks", "Landmarks"), ("track", "Track")),
        results=("Frames",),
        attrs={"backend": STR, "fps": NUM, "quality": STR},
        required=("backend", "fps"),
    )
)
define(
    OpSpec(
        "face.track_image",
        "Face landmarks of a still image.",
        operands=(("image", "Image"),),
        results=("Landmarks",),
        attrs={"select": STR, "index": INT},
        required=("select", "index"),
    )
)
define(
    OpSpec(
        "media.write",
        "Encode the changed frames, mux with the new audio, write the row's file atomically.",
        operands=(("frames", "Frames"), ("track", "Track"), ("row", "Row")),
        results=("File",),
        attrs=WRITE_ATTRS,
        required=WRITE_REQUIRED,
        pure=False,
        traits=frozenset({OUTPUT, WRITES_FILE}),
    )
)
define(
    OpSpec(
        "qc.measure",
        "Measure the output: words heard, loudness, speaker similarity, sync, untouched PSNR, seams.",
        operands=(("file", "File"), ("track", "Track"), ("frames", "Frames"), ("profile", "Profile")),
        results=("Report",),
        attrs={"thresholds": OBJ, "contact_sheets": BOOL},
        required=("thresholds",),
        pure=False,
        traits=frozenset({REPORT}),
    )
)
define(
    OpSpec(
        "lipsync.passthrough",
        "Keep the source frames (lip-sync disabled); the timeline follows the track.",
        operands=(("video", "Video"), ("track", "Track")),
        results=("Frames",),
    )
)
define(
    OpSpec(
        "media.normalize",
        "Re-encode the source once as H.264 with a fixed closed GOP, so rows can be spliced GOP by GOP.",
        operands=(("video", "Video"),),
        results=("Video",),
        attrs={"gop": INT, "crf": INT, "preset": STR},
        required=("gop", "crf", "preset"),
        traits=frozenset({WRITES_FILE}),  # the normalised file lives beside the cache
    )
)
define(
    OpSpec(
        "media.gop_layout",
        "Inspect the source's GOPs: can rows be spliced on them as they are (and what must a re-encoded GOP match)?",
        operands=(("video", "Video"),),
        results=("GopLayout",),
        attrs={"max_gop": INT},
        required=("max_gop",),
    )
)
define(
    OpSpec(
        "media.own_gops",
        "Index the source's own GOPs (its packets, nothing re-encoded) so rows can be spliced on them.",
        operands=(("video", "Video"), ("layout", "GopLayout")),
        results=("Video",),
        attrs={"crf": INT, "preset": STR},
        required=("crf", "preset"),
    )
)
define(
    OpSpec(
        "media.splice",
        "Write the row's file from a normalised source: re-encode the GOPs with changed frames, copy the rest.",
        operands=(("frames", "Frames"), ("track", "Track"), ("row", "Row"), ("gops", "Video"), ("recording", "Audio")),
        optional=1,  # the recording's sound (splice-aac): the row's AAC is spliced from its shared encodes
        results=("File",),
        attrs=WRITE_ATTRS,
        required=WRITE_REQUIRED,
        pure=False,
        traits=frozenset({OUTPUT, WRITES_FILE}),
    )
)


def lookup(kind: str) -> OpSpec | None:
    return defined().get(kind)


def all_specs() -> list[OpSpec]:
    return sorted(defined().values(), key=lambda s: s.kind)


def operand_roles(op: Op) -> dict[str, str]:
    """The op's operand values by role (an optional operand left out has no entry)."""
    spec = lookup(op.kind)
    return spec.roles(op.operands) if spec is not None else {}
