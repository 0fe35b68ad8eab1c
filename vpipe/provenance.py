"""Provenance of every output: which time ranges are synthesized (audio and video), and by what.

Every output gets a JSON sidecar, `<output>.provenance.json`, with these facts. When a C2PA
signing certificate is configured (`VPIPE_C2PA_CERT`: the PEM chain, signer first;
`VPIPE_C2PA_KEY`: its private key; optional `VPIPE_C2PA_ALG`, default es256, and
`VPIPE_C2PA_TSA`, a time-stamp authority URL), the output also carries an embedded C2PA
manifest (c2pa-python): EDIT intent, the source recording as its `parentOf` ingredient, a
`c2pa.actions` assertion (`c2pa.edited`, IPTC digital source type
compositeWithTrainedAlgorithmicMedia) and the `org.vpipe.synthesized` assertion with the
same spans as the sidecar. `vpipe verify` validates both.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpipe.atomic import atomic_path, atomic_write_text
from vpipe.version import __version__

ASSERTION = "org.vpipe.synthesized"
SIDECAR_SUFFIX = ".provenance.json"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
_MIME = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska", ".webm": "video/webm"}


class ProvenanceError(Exception):
    """The signing configuration cannot be used, or signing failed."""


@dataclass(frozen=True)
class SignerConfig:
    cert: bytes  # PEM chain, signer first
    key: bytes  # PEM private key
    alg: str = "es256"
    tsa: str | None = None

    @staticmethod
    def from_env() -> SignerConfig | None:
        """The configured signer, None when none is configured; ProvenanceError if it is unusable."""
        cert, key = os.environ.get("VPIPE_C2PA_CERT"), os.environ.get("VPIPE_C2PA_KEY")
        if not cert and not key:
            return None
        if not cert or not key:
            raise ProvenanceError("set both VPIPE_C2PA_CERT (certificate chain) and VPIPE_C2PA_KEY (private key)")
        try:
            chain, secret = Path(cert).read_bytes(), Path(key).read_bytes()
        except OSError as exc:
            raise ProvenanceError(f"cannot read {exc.filename}: {exc.strerror}") from None
        if b"BEGIN CERTIFICATE" not in chain or b"PRIVATE KEY" not in secret:
            raise ProvenanceError(
                "VPIPE_C2PA_CERT must be a PEM certificate chain and VPIPE_C2PA_KEY a PEM private key"
            )
        return SignerConfig(chain, secret, os.environ.get("VPIPE_C2PA_ALG", "es256"), os.environ.get("VPIPE_C2PA_TSA"))


def c2pa_available() -> bool:
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return False
    return True


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SIDECAR_SUFFIX)


_SOURCE_DIGESTS: dict[tuple[int, int, int, int], str] = {}


def source_sha256(path: Path) -> str:
    """The recording's SHA-256, hashed once per process while the file stays the same file
    (device, inode, size, modification time), as the up-to-date check takes a file to be
    unchanged: every row's sidecar names the same source, and hashing it per row made a row's
    cost grow with the recording's length. One entry per source file."""
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _SOURCE_DIGESTS:
        _SOURCE_DIGESTS[key] = file_sha256(path)
    return _SOURCE_DIGESTS[key]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def spans(
    edits: list[tuple[float, float, str, str]],
    rendered_times: list[tuple[float, float]],
    audio_by: str,
    video_by: str,
) -> list[dict[str, Any]]:
    """The synthesized spans: audio from the slot edits (output start, end, said, replaced),
    video from the runs of re-rendered frames (start, end), in time order."""
    out = [
        {"track": "audio", "start": round(a, 3), "end": round(b, 3), "said": said, "replaced": old, "by": audio_by}
        for a, b, said, old in edits
    ]
    out += [{"track": "video", "start": round(a, 3), "end": round(b, 3), "by": video_by} for a, b in rendered_times]
    return sorted(out, key=lambda s: (s["start"], s["track"]))


def frame_runs(indices: list[int], times: list[float], frame_seconds: float) -> list[tuple[float, float]]:
    """Contiguous runs of frame indices as (start, end) times."""
    runs: list[tuple[float, float]] = []
    start = prev = None
    for i in sorted(indices):
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            runs.append((times[start], times[prev] + frame_seconds))
            start = prev = i
    if start is not None and prev is not None:
        runs.append((times[start], times[prev] + frame_seconds))
    return runs


def seal(output: Path, source: Path, row_id: str, synthesized: list[dict[str, Any]], root: Path) -> dict[str, Any]:
    """Embed the C2PA manifest (when a signer is configured) and write the sidecar; returns the facts."""
    config = SignerConfig.from_env()
    facts: dict[str, Any] = {
        "vpipe": __version__,
        "output": output.name,
        "row": row_id,
        "source": {"file": source.name, "sha256": source_sha256(source)},
        "synthesized": synthesized,
        "c2pa": None,
    }
    if config is not None:
        _embed(output, source, facts, config, root)
        facts["c2pa"] = {"assertion": ASSERTION, "intent": "edit", "alg": config.alg}
    facts["sha256"] = file_sha256(output)  # of the final file, manifest included
    atomic_write_text(sidecar_path(output), json.dumps(facts, indent=2, ensure_ascii=False) + "\n", root)
    return facts


def _manifest(output: Path, facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "vpipe", "version": __version__}],
        "title": output.name,
        "format": _MIME.get(output.suffix.lower(), "video/mp4"),
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.edited",
                            "softwareAgent": {"name": "vpipe", "version": __version__},
                            "digitalSourceType": SOURCE_TYPE,
                            "description": "spoken words re-synthesized and the mouth re-animated in the listed spans",
                        }
                    ]
                },
            },
            {"label": ASSERTION, "data": {"row": facts["row"], "synthesized": facts["synthesized"]}},
        ],
    }


def _embed(output: Path, source: Path, facts: dict[str, Any], config: SignerConfig, root: Path) -> None:
    try:
        import c2pa
    except ImportError:
        raise ProvenanceError("a C2PA certificate is configured but c2pa-python is not installed") from None
    mime = _MIME.get(output.suffix.lower(), "video/mp4")
    try:
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(
                config.alg.encode(), config.cert, config.key, config.tsa.encode() if config.tsa else None
            )
        )
        builder = c2pa.Builder(_manifest(output, facts))
        builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
        with open(source, "rb") as f:
            builder.add_ingredient(
                {"title": source.name, "relationship": "parentOf"}, _MIME.get(source.suffix.lower(), "video/mp4"), f
            )
        with atomic_path(output, root) as tmp, open(output, "rb") as src, open(tmp, "r+b") as dst:
            builder.sign(signer, mime, src, dst)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"C2PA signing failed: {exc}") from None


@dataclass
class Verification:
    """What `vpipe verify` found: the embedded manifest's state ("Trusted": signature valid and
    the signer chains to a trust anchor; "Valid": signature valid, signer not trusted here;
    "Invalid": the file or manifest was altered; None: no manifest) and the sidecar's."""

    path: Path
    state: str | None = None
    failures: list[str] | None = None
    signer: dict[str, Any] | None = None
    ingredient: str | None = None
    synthesized: list[dict[str, Any]] | None = None
    sidecar: dict[str, Any] | None = None
    sidecar_matches: bool | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        embedded_ok = self.state in ("Trusted", "Valid") or (self.state is None and self.sidecar is not None)
        return embedded_ok and self.sidecar_matches is not False and self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "ok": self.ok,
            "c2pa": None
            if self.state is None
            else {
                "state": self.state,
                "failures": self.failures or [],
                "signer": self.signer,
                "ingredient": self.ingredient,
                "synthesized": self.synthesized,
            },
            "sidecar": None
            if self.sidecar is None
            else {"path": str(sidecar_path(self.path)), "matches": self.sidecar_matches, **self.sidecar},
            "problem": self.problem,
        }


def verify(path: Path, trust: bytes | None = None) -> Verification:
    result = Verification(path)
    side = sidecar_path(path)
    if side.is_file():
        try:
            result.sidecar = json.loads(side.read_text(encoding="utf-8"))
            result.sidecar_matches = result.sidecar.get("sha256") == file_sha256(path)
        except (OSError, ValueError) as exc:
            result.problem = f"the sidecar {side.name} cannot be read: {exc}"
    if not c2pa_available():
        if result.sidecar is None:
            result.problem = "no sidecar, and c2pa-python is not installed to read an embedded manifest"
        return result
    import c2pa

    settings: dict[str, Any] = {"verify": {"verify_trust": True}}
    if trust:
        settings["trust"] = {"trust_anchors": trust.decode("utf-8", "replace")}
    try:
        with open(path, "rb") as f:
            reader = c2pa.Reader(
                _MIME.get(path.suffix.lower(), "video/mp4"), f, context=c2pa.Context.from_dict(settings)
            )
            result.state = reader.get_validation_state()
            failures = (reader.get_validation_results() or {}).get("activeManifest", {}).get("failure", [])
            result.failures = [x["code"] for x in failures]
            manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        if "ManifestNotFound" not in type(exc).__name__ + str(exc):
            result.state, result.failures = "Invalid", [str(exc)]
        elif result.sidecar is None:
            result.problem = "no C2PA manifest and no provenance sidecar"
        return result
    except OSError as exc:
        result.problem = f"cannot read {path.name}: {exc.strerror}"
        return result
    result.signer = manifest.get("signature_info")
    ingredients = manifest.get("ingredients") or []
    result.ingredient = next((i.get("title") for i in ingredients if i.get("relationship") == "parentOf"), None)
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") == ASSERTION:
            result.synthesized = assertion.get("data", {}).get("synthesized")
    if result.state == "Valid" and trust and "signingCredential.untrusted" in (result.failures or []):
        result.problem = "the signer does not chain to the given trust anchors"
    return result
