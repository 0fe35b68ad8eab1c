"""The typed recipe: what the frontend hands to lowering once the document is valid.

Every part keeps a JSON pointer so lowering can attach recipe locations to the IR ops it
creates (`loc` in printed IR, and the span of any later diagnostic). The parts hold no
defaults of their own: the loader fills what a recipe leaves out from the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vpipe.diagnostics.diagnostic import Span
from vpipe.frontend.rows import RowSet
from vpipe.frontend.yamlmap import SourceMap
from vpipe.lexicon import Lexicon
from vpipe.probe import MediaInfo
from vpipe.templates import TemplateProgram


@dataclass(frozen=True)
class FaceSelect:
    select: str
    index: int
    max_yaw_deg: float


@dataclass(frozen=True)
class AlignerSpec:
    engine: str
    align_model: Path | None  # whisperx: local wav2vec2 folder
    asr_model: Path | None  # whisperx: local faster-whisper folder
    language: str


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "video" | "image"
    path: Path
    transcript: str | None
    audio: Path | None
    face: FaceSelect
    media: MediaInfo | None  # probed format of a video source
    image_size: tuple[int, int] | None  # (w, h) of an image source
    aligner: AlignerSpec


@dataclass(frozen=True)
class SlotSpec:
    name: str
    say: str
    occurrence: int | None
    max_chars: int
    column: str | None = None  # the row column that fills the slot (absent: the slot's own name)

    @property
    def words(self) -> tuple[str, ...]:
        from vpipe.text import words_of

        return tuple(words_of(self.say))


@dataclass(frozen=True)
class VoiceSpec:
    engine: str
    voice: str
    match_speaker: bool
    speaker_units: bool
    lexicon: Lexicon
    lexicon_file: Path | None
    lexicon_column: str | None
    duration: str
    max_stretch: float
    speed: float


@dataclass(frozen=True)
class LipsyncSpec:
    model: str
    quality: str
    weights: Path | None
    margin_ms: float


@dataclass(frozen=True)
class TargetSpec:
    preset: str | None
    device: str
    vram_gb: float
    precision: str
    workers: int


@dataclass(frozen=True)
class OutputSpec:
    path_template: str
    root: Path  # the directory outputs are confined to
    codec: str
    crf: int
    preset: str
    audio_bitrate_kbps: int


@dataclass(frozen=True)
class QcSpec:
    min_speaker_similarity: float
    max_loudness_delta_db: float
    min_sync_ratio: float
    min_untouched_psnr_db: float
    max_seam_ratio: float
    fail_rows: bool  # on_fail == "fail"
    contact_sheets: bool
    on_fail: str  # flag | fail: what a missed threshold does to the row


@dataclass(frozen=True)
class Recipe:
    file: Path
    name: str
    source: SourceSpec
    slots: tuple[SlotSpec, ...]
    template: TemplateProgram
    rows: RowSet
    voice: VoiceSpec
    lipsync: LipsyncSpec
    target: TargetSpec
    output: OutputSpec
    qc: QcSpec
    smap: SourceMap
    output_program: TemplateProgram

    @property
    def dir(self) -> Path:
        return self.file.parent

    def span(self, pointer: str) -> Span:
        return self.smap.value(pointer)

    def slot(self, name: str) -> SlotSpec:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)
