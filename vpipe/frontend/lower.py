"""Lower a typed recipe to the IR.

Lowering is deliberately naive: it writes the program as "for every row, do everything",
so every op starts `per_row`. Deciding what can run once is the job of the
`hoist-shared` pass (loop-invariant code motion), not of the frontend.
"""

from __future__ import annotations

from vpipe.frontend.recipe import Recipe
from vpipe.ir.graph import Graph, GraphBuilder, Loc
from vpipe.ir.hashing import file_sha256
from vpipe.ir.types import Type
from vpipe.kernel_api import backends
from vpipe.text import words_of


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


def lower(recipe: Recipe) -> Graph:
    b = GraphBuilder(_graph_name(recipe))
    src = recipe.source
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
    synth_lexicon = lexicon  # what the synthesizer reads: the recipe's, plus the row's own entries
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
    voice_attrs = _voice_attrs(recipe)
    write_attrs = {
        "path": recipe.output.path_template,
        "root": str(recipe.output.root),
        "base": str(recipe.dir),
        "codec": recipe.output.codec,
        "crf": recipe.output.crf,
        "preset": recipe.output.preset,
        "audio_bitrate_kbps": recipe.output.audio_bitrate_kbps,
    }
    backend = lipsync_backend(recipe)

    if src.kind == "image":
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
            "speech.narrate", [script, synth_lexicon], Type("Speech"), "speech", voice_attrs, _loc(recipe, "/voice")
        )
        track = b.add("audio.narrate", [speech], Type("Track"), "track", {}, _loc(recipe, "/voice"))
        frames = b.add(
            "lipsync.animate",
            [image, landmarks, track],
            Type("Frames"),
            "frames",
            {"backend": backend, "fps": 25.0, "quality": recipe.lipsync.quality},
            _loc(recipe, "/lipsync"),
        )
        b.add(
            "media.write",
            [frames, track, row],
            Type("File"),
            "file",
            {**write_attrs, "synthetic": True},
            _loc(recipe, "/output"),
        )
        return b.build()

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
    speech = b.add(
        "speech.synthesize",
        [script, synth_lexicon, spans],
        Type("Speech"),
        "speech",
        {**voice_attrs, "policy": recipe.voice.duration, "max_stretch": recipe.voice.max_stretch},
        _loc(recipe, "/voice"),
    )
    slot_audio = b.add(
        "speech.fit",
        [speech, spans],
        Type("SlotAudio"),
        "slot_audio",
        {"policy": recipe.voice.duration, "max_stretch": recipe.voice.max_stretch},
        _loc(recipe, "/voice"),
    )
    if recipe.voice.match_speaker:
        targets = b.add(
            "speech.slot_targets", [audio, spans], Type("SlotTargets"), "slot_targets", {}, _loc(recipe, "/slots")
        )
        voice_stats = b.add(
            "speech.voice_stats",
            [transcript, lexicon],  # the recipe's lexicon: a row's own entries would make it per row
            Type("VoiceStats"),
            "voice_stats",
            voice_attrs,
            _loc(recipe, "/voice"),
        )
        slot_audio = b.add(
            "speech.match_voice",
            [slot_audio, profile, targets, voice_stats],
            Type("SlotAudio"),
            "matched",
            {},
            _loc(recipe, "/voice/match_speaker"),
        )
    track = b.add("audio.splice", [audio, slot_audio, spans], Type("Track"), "track", {}, _loc(recipe, "/slots"))
    if backend == "none":
        frames = b.add("lipsync.passthrough", [video, track], Type("Frames"), "frames", {}, _loc(recipe, "/lipsync"))
    else:
        landmarks = b.add(
            "face.track",
            [video],
            Type("Landmarks"),
            "landmarks",
            {"select": src.face.select, "index": src.face.index, "max_yaw_deg": src.face.max_yaw_deg},
            _loc(recipe, "/source"),
        )
        operands = [video, landmarks, track, spans]
        spec = backends.find("lipsync", backend)
        if spec is not None and spec.needs_inventory:
            operands.append(
                b.add(
                    "face.inventory",
                    [video, landmarks, alignment],
                    Type("Inventory"),
                    "inventory",
                    {},
                    _loc(recipe, "/source"),
                )
            )
        ls_attrs: dict[str, object] = {
            "backend": backend,
            "margin_ms": recipe.lipsync.margin_ms,
            "quality": recipe.lipsync.quality,
        }
        if recipe.lipsync.weights is not None:
            ls_attrs["weights"] = str(recipe.lipsync.weights)
        frames = b.add("lipsync.apply", operands, Type("Frames"), "frames", ls_attrs, _loc(recipe, "/lipsync"))
    file = b.add("media.write", [frames, track, row], Type("File"), "file", write_attrs, _loc(recipe, "/output"))
    thresholds = {
        "min_speaker_similarity": recipe.qc.min_speaker_similarity,
        "max_loudness_delta_db": recipe.qc.max_loudness_delta_db,
        "min_sync_ratio": recipe.qc.min_sync_ratio,
        "min_untouched_psnr_db": recipe.qc.min_untouched_psnr_db,
        "max_seam_ratio": recipe.qc.max_seam_ratio,
        "fail_rows": recipe.qc.fail_rows,
    }
    qc_attrs: dict[str, object] = {"thresholds": thresholds}
    if recipe.qc.contact_sheets:
        qc_attrs["contact_sheets"] = True
    b.add(
        "qc.measure",
        [file, track, frames, profile],
        Type("Report"),
        "report",
        qc_attrs,
        _loc(recipe, "/qc" if "qc" in _top_keys(recipe) else "/output"),
    )
    return b.build()


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
