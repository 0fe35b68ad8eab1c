"""Lower a typed recipe to the IR, one function per part of the recipe.

Lowering is deliberately naive: it writes the program as "for every row, do everything",
so every op starts `per_row`. Deciding what can run once is the job of the
`hoist-shared` pass (loop-invariant code motion), not of the frontend. Which lip-sync backend
`auto` means, and whether it reads the speaker's mouth inventory, is the backend registry's
answer (`vpipe.kernel_api.backends`), not a name written here.

    video source:  _script → _source → _speech → _lipsync → _output → _qc
    still source:  _script → _still (narration, animation) → _output
"""

from __future__ import annotations

from typing import NamedTuple

from vpipe.frontend.recipe import Recipe
from vpipe.ir.graph import Graph, GraphBuilder, Loc
from vpipe.ir.hashing import file_sha256
from vpipe.ir.types import Type
from vpipe.kernel_api import backends
from vpipe.text import words_of

STILL_FPS = 25.0  # frame rate of a video made from a still portrait


def _loc(recipe: Recipe, pointer: str) -> Loc:
    span = recipe.smap.value(pointer)
    return Loc(span.file, span.line, span.col, pointer)


def lipsync_backend(recipe: Recipe) -> str:
    """The backend the recipe's `lipsync.model` names; for `auto`, the one the registry picks
    for this source (`none` when no backend fits)."""
    model = recipe.lipsync.model
    if model == "auto":
        chosen = backends.choose_auto(recipe.source.kind, recipe.lipsync.weights, recipe.target.device)
        return chosen.name if chosen is not None else "none"
    return model


class Script(NamedTuple):
    """What every row starts from: its row, its rendered script and the lexicons."""

    row: str
    script: str
    lexicon: str  # the recipe's
    synth_lexicon: str  # what the synthesizer reads: the recipe's plus the row's own entries


class Source(NamedTuple):
    """The analysis of a recorded source."""

    video: str
    audio: str
    transcript: str
    alignment: str
    spans: str
    profile: str


def lower(recipe: Recipe) -> Graph:
    b = GraphBuilder(_graph_name(recipe))
    script = _script(b, recipe)
    if recipe.source.kind == "image":
        frames, track = _still(b, recipe, script)
        _output(b, recipe, frames, track, script.row, synthetic=True)
        return b.build()
    source = _source(b, recipe, script.lexicon)
    track = _speech(b, recipe, script, source)
    frames = _lipsync(b, recipe, source, track)
    file = _output(b, recipe, frames, track, script.row)
    _qc(b, recipe, file, track, frames, source.profile)
    return b.build()


def _script(b: GraphBuilder, recipe: Recipe) -> Script:
    """voice.lexicon, rows, voice.lexicon_column, template."""
    lexicon = b.add(
        "speech.lexicon",
        [],
        Type("Lexicon"),
        "lexicon",
        {
            "entries": recipe.voice.lexicon.to_json(),
            **({"file": str(recipe.voice.lexicon_file)} if recipe.voice.lexicon_file else {}),
        },
        _loc(recipe, "/voice/lexicon" if recipe.voice.lexicon.entries else "/voice"),
    )
    row = b.add(
        "rows.row",
        [],
        Type("Row"),
        "row",
        {"file": recipe.rows.file, "columns": list(recipe.rows.columns)},
        _loc(recipe, "/rows"),
    )
    synth_lexicon = lexicon
    if recipe.voice.lexicon_column:
        synth_lexicon = b.add(
            "speech.row_lexicon",
            [lexicon, row],
            Type("Lexicon"),
            "row_lexicon",
            {"column": recipe.voice.lexicon_column},
            _loc(recipe, "/voice/lexicon_column"),
        )
    script = b.add(
        "template.render",
        [row],
        Type("Script"),
        "script",
        {"template": recipe.template.source, "slots": sorted(recipe.template.slots)},
        _loc(recipe, "/template"),
    )
    return Script(row, script, lexicon, synth_lexicon)


def _still(b: GraphBuilder, recipe: Recipe, script: Script) -> tuple[str, str]:
    """source.image, voice (the whole script narrated), lipsync (the portrait animated)."""
    src = recipe.source
    w, h = src.image_size or (None, None)
    image = b.add(
        "media.open_image",
        [],
        Type.of("Image", w=w, h=h),
        "image",
        {"path": str(src.path), "sha256": file_sha256(str(src.path))},
        _loc(recipe, "/source/image"),
    )
    landmarks = b.add(
        "face.track_image",
        [image],
        Type("Landmarks"),
        "landmarks",
        {"select": src.face.select, "index": src.face.index},
        _loc(recipe, "/source"),
    )
    speech = b.add(
        "speech.narrate",
        [script.script, script.synth_lexicon],
        Type("Speech"),
        "speech",
        _voice_attrs(recipe),
        _loc(recipe, "/voice"),
    )
    track = b.add("audio.narrate", [speech], Type("Track"), "track", {}, _loc(recipe, "/voice"))
    frames = b.add(
        "lipsync.animate",
        [image, landmarks, track],
        Type("Frames"),
        "frames",
        {"backend": lipsync_backend(recipe), "fps": STILL_FPS, "quality": recipe.lipsync.quality},
        _loc(recipe, "/lipsync"),
    )
    return frames, track


def _source(b: GraphBuilder, recipe: Recipe, lexicon: str) -> Source:
    """source.video / audio / transcript / aligner, slots, and the speaker's profile."""
    src = recipe.source
    media = src.media
    video = b.add(
        "media.open",
        [],
        Type.of(
            "Video",
            fps=media.fps if media else None,
            w=media.width if media else None,
            h=media.height if media else None,
            frames=media.frames if media else None,
            vfr=media.vfr if media else None,
        ),
        "video",
        {"kind": "video", "path": str(src.path), "sha256": file_sha256(str(src.path))},
        _loc(recipe, "/source/video"),
    )
    if src.audio is not None:
        audio = b.add(
            "media.load_audio",
            [],
            Type("Audio"),
            "audio",
            {"path": str(src.audio), "sha256": file_sha256(str(src.audio))},
            _loc(recipe, "/source/audio"),
        )
    else:
        audio = b.add(
            "media.audio",
            [video],
            Type.of("Audio", sr=media.audio_rate if media else None, ch=media.audio_channels if media else None),
            "audio",
            {},
            _loc(recipe, "/source/video"),
        )
    if src.transcript:
        transcript = b.add(
            "text.const", [], Type("Text"), "transcript", {"text": src.transcript}, _loc(recipe, "/source/transcript")
        )
    else:
        transcript = b.add(
            "speech.recognize",
            [audio],
            Type("Text"),
            "transcript",
            _aligner_attrs(recipe, "asr_model"),
            _loc(recipe, "/source"),
        )
    alignment = b.add(
        "speech.align",
        [audio, transcript, lexicon],
        Type("Alignment"),
        "alignment",
        _aligner_attrs(recipe, "align_model"),
        _loc(recipe, "/source"),
    )
    slots = {
        s.name: {"say": s.say, "words": words_of(s.say), **({"occurrence": s.occurrence} if s.occurrence else {})}
        for s in recipe.slots
    }
    spans = b.add("slots.locate", [alignment], Type("Spans"), "spans", {"slots": slots}, _loc(recipe, "/slots"))
    profile = b.add("speech.profile", [audio, alignment], Type("Profile"), "profile", {}, _loc(recipe, "/voice"))
    return Source(video, audio, transcript, alignment, spans, profile)


def _speech(b: GraphBuilder, recipe: Recipe, script: Script, source: Source) -> str:
    """voice: the slot words synthesized in their sentence, fitted, matched to the speaker and
    spliced into the recording's track."""
    voice_attrs = _voice_attrs(recipe)
    speech = b.add(
        "speech.synthesize",
        [script.script, script.synth_lexicon, source.spans],
        Type("Speech"),
        "speech",
        {**voice_attrs, "policy": recipe.voice.duration, "max_stretch": recipe.voice.max_stretch},
        _loc(recipe, "/voice"),
    )
    slot_audio = b.add(
        "speech.fit",
        [speech, source.spans],
        Type("SlotAudio"),
        "slot_audio",
        {"policy": recipe.voice.duration, "max_stretch": recipe.voice.max_stretch},
        _loc(recipe, "/voice"),
    )
    if recipe.voice.match_speaker:
        targets = b.add(
            "speech.slot_targets",
            [source.audio, source.spans],
            Type("SlotTargets"),
            "slot_targets",
            {},
            _loc(recipe, "/slots"),
        )
        voice_stats = b.add(
            "speech.voice_stats",
            [source.transcript, script.lexicon],  # the recipe's lexicon: a row's own entries would make it per row
            Type("VoiceStats"),
            "voice_stats",
            voice_attrs,
            _loc(recipe, "/voice"),
        )
        operands = [slot_audio, source.profile, targets, voice_stats]
        if recipe.voice.speaker_units:
            operands.append(
                b.add(
                    "speech.units",
                    [source.audio, source.alignment],
                    Type("UnitLibrary"),
                    "units",
                    {},
                    _loc(recipe, "/voice/speaker_units"),
                )
            )
            operands += [source.audio, source.spans]  # the heard-word guard splices the word to listen
        slot_audio = b.add(
            "speech.match_voice",
            operands,
            Type("SlotAudio"),
            "matched",
            {},
            _loc(recipe, "/voice/match_speaker"),
        )
    return b.add(
        "audio.splice", [source.audio, slot_audio, source.spans], Type("Track"), "track", {}, _loc(recipe, "/slots")
    )


def _lipsync(b: GraphBuilder, recipe: Recipe, source: Source, track: str) -> str:
    """lipsync: the chosen backend on the slot windows (the mouth inventory only for a backend
    that declares it reads one), or the source frames when it is `none`."""
    backend = lipsync_backend(recipe)
    if backend == "none":
        return b.add(
            "lipsync.passthrough", [source.video, track], Type("Frames"), "frames", {}, _loc(recipe, "/lipsync")
        )
    face = recipe.source.face
    landmarks = b.add(
        "face.track",
        [source.video],
        Type("Landmarks"),
        "landmarks",
        {"select": face.select, "index": face.index, "max_yaw_deg": face.max_yaw_deg},
        _loc(recipe, "/source"),
    )
    operands = [source.video, landmarks, track, source.spans]
    spec = backends.find("lipsync", backend)
    if spec is not None and spec.needs_inventory:
        operands.append(
            b.add(
                "face.inventory",
                [source.video, landmarks, source.alignment],
                Type("Inventory"),
                "inventory",
                {},
                _loc(recipe, "/source"),
            )
        )
    attrs: dict[str, object] = {
        "backend": backend,
        "margin_ms": recipe.lipsync.margin_ms,
        "quality": recipe.lipsync.quality,
    }
    if recipe.lipsync.weights is not None:
        attrs["weights"] = str(recipe.lipsync.weights)
    return b.add("lipsync.apply", operands, Type("Frames"), "frames", attrs, _loc(recipe, "/lipsync"))


def _output(b: GraphBuilder, recipe: Recipe, frames: str, track: str, row: str, synthetic: bool = False) -> str:
    """output: the row's file (a still source's is labelled synthetic)."""
    attrs: dict[str, object] = {
        "path": recipe.output.path_template,
        "root": str(recipe.output.root),
        "base": str(recipe.dir),
        "codec": recipe.output.codec,
        "crf": recipe.output.crf,
        "preset": recipe.output.preset,
        "audio_bitrate_kbps": recipe.output.audio_bitrate_kbps,
        # what produced the synthesized spans, and the recording they edit: the output's
        # provenance (C2PA manifest and sidecar)
        "audio_by": f"{recipe.voice.engine} voice {recipe.voice.voice}"
        + (", moved towards the speaker's voice" if recipe.voice.match_speaker else ""),
        "video_by": f"lip-sync {lipsync_backend(recipe)}",
        "source": str(recipe.source.path),
    }
    if synthetic:
        attrs["synthetic"] = True
    return b.add("media.write", [frames, track, row], Type("File"), "file", attrs, _loc(recipe, "/output"))


def _qc(b: GraphBuilder, recipe: Recipe, file: str, track: str, frames: str, profile: str) -> str:
    """qc: measure the written file against the recipe's thresholds."""
    thresholds = {
        "min_speaker_similarity": recipe.qc.min_speaker_similarity,
        "max_loudness_delta_db": recipe.qc.max_loudness_delta_db,
        "min_sync_ratio": recipe.qc.min_sync_ratio,
        "min_untouched_psnr_db": recipe.qc.min_untouched_psnr_db,
        "max_seam_ratio": recipe.qc.max_seam_ratio,
        "fail_rows": recipe.qc.fail_rows,
    }
    attrs: dict[str, object] = {"thresholds": thresholds}
    if recipe.qc.contact_sheets:
        attrs["contact_sheets"] = True
    return b.add(
        "qc.measure",
        [file, track, frames, profile],
        Type("Report"),
        "report",
        attrs,
        _loc(recipe, "/qc" if "qc" in _top_keys(recipe) else "/output"),
    )


def _aligner_attrs(recipe: Recipe, model: str) -> dict[str, object]:
    """The aligner's backend, and for one that reads local models (whisperx) its model folder
    and language."""
    spec = recipe.source.aligner
    attrs: dict[str, object] = {"backend": spec.engine}
    folder = getattr(spec, model)
    aligner = backends.find("align", spec.engine)
    if aligner is not None and aligner.needs_weights:
        if folder is not None:
            attrs["model"] = str(folder)
        attrs["language"] = spec.language
    return attrs


def _voice_attrs(recipe: Recipe) -> dict[str, object]:
    """Engine, voice and the hash of the voice's weights: a new voice model must not hit
    cached audio of the old one."""
    attrs: dict[str, object] = {"engine": recipe.voice.engine, "voice": recipe.voice.voice, "speed": recipe.voice.speed}
    tts = backends.find("tts", recipe.voice.engine)
    if tts is not None and tts.resolve_voice is not None:
        try:
            name, weights = tts.resolve_voice(recipe.voice.voice, recipe.dir)
        except LookupError:
            return attrs  # the frontend reported it
        attrs["voice"] = name if name == recipe.voice.voice else str(weights)
        attrs["voice_sha256"] = file_sha256(str(weights))
    return attrs


def _top_keys(recipe: Recipe) -> set[str]:
    return {p.split("/")[1] for p in recipe.smap.values if p.count("/") >= 1 and p}


def _graph_name(recipe: Recipe) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in recipe.name) or "recipe"
