"""The typed recipe: what the frontend hands to lowering once the document is valid.

Every part keeps a JSON pointer so lowering can attach recipe locations to the IR ops it
creates (`loc` in printed IR, and the span of any later diagnostic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vpipe.diagnostics.diagnostic import Span
from vpipe.frontend.rows import RowSet
from vpipe.frontend.yamlmap import SourceMap
from vpipe.lexicon import Lexicon
from vpipe.probe import MediaInfo
from vpipe.templates import TemplateProgram


@dataclass(frozen=True)
class FaceSelect:
    select: str = "largest"
    index: int = 0
    max_yaw_deg: float = 35.0


@dataclass(frozen=True)
class AlignerSpec:
    engine: str = "pocketsphinx"
    align_model: Path | None = None  # whisperx: local wav2vec2 folder
    asr_model: Path | None = None  # whisperx: local faster-whisper folder
    language: str = "en"


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "video" | "image"
    path: Path
    transcript: str | None = None
    audio: Path | None = None
    face: FaceSelect = FaceSelect()
    media: MediaInfo | None = None  # probed format of a video source
    image_size: tuple[int, int] | None = None  # (w, h) of an image source
    aligner: AlignerSpec = AlignerSpec()


@dataclass(frozen=True)
class SlotSpec:
    name: str
    say: str
    occurrence: int | None = None
    max_chars: int = 60

    @property
    def words(self) -> tuple[str, ...]:
        from vpipe.text import words_of

        return tuple(words_of(self.say))


@dataclass(frozen=True)
class VoiceSpec:
    engine: str = "piper"
    voice: str = "en_US-joe-medium"
    match_speaker: bool = True
    lexicon: Lexicon = field(default_factory=Lexicon)
    lexicon_file: Path | None = None
    lexicon_column: str | None = None
    duration: str = "auto"
    max_stretch: float = 0.2
    speed: float = 1.0


@dataclass(frozen=True)
class LipsyncSpec:
    model: str = "auto"
    quality: str = "balanced"
    weights: Path | None = None
    margin_ms: float = 120.0


@dataclass(frozen=True)
class TargetSpec:
    preset: str | None = "cpu"
    device: str = "cpu"
    vram_gb: float = 0.0
    precision: str = "fp32"
    workers: int = 1


@dataclass(frozen=True)
class OutputSpec:
    path_template: str = "out/{{ row_id }}.mp4"
    root: Path = Path("out")  # the directory outputs are confined to
    codec: str = "h264"
    crf: int = 12
    preset: str = "veryfast"
    audio_bitrate_kbps: int = 128


@dataclass(frozen=True)
class QcSpec:
    min_speaker_similarity: float = 0.6
    max_loudness_delta_db: float = 2.0
    min_sync_ratio: float = 0.5
    min_untouched_psnr_db: float = 45.0
    max_seam_ratio: float = 2.0
    fail_rows: bool = False
    contact_sheets: bool = False


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
