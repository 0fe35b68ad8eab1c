"""Where a model's weight files are, and whether they are the published ones.

`model_status(model_id)` looks for every file the catalog names (spec.py) in the search
roots, in order, and checks what it finds against the published size and sha256 where the
catalog has them. It never downloads and never writes into the user's folders (except the
hash memo under the default root)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vpipe.catalog import model, model_entries
from vpipe.weights.digest import file_sha256
from vpipe.weights.home import default_root
from vpipe.weights.spec import ExpectedFile, expected_files

ENV_MODELS = "VPIPE_MODELS"  # a folder of model folders (or of files)


def _hf_hub_dirs() -> list[Path]:
    out = []
    if os.environ.get("HF_HUB_CACHE"):
        out.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        out.append(Path(os.environ["HF_HOME"]) / "hub")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    out.append(Path(base) / "huggingface" / "hub")
    return list(dict.fromkeys(out))


def _hf_snapshots(repo: str) -> list[Path]:
    """Snapshot folders of `org/name` in the hub caches: the one `refs/main` names first."""
    out: list[Path] = []
    for hub in _hf_hub_dirs():
        folder = hub / f"models--{repo.replace('/', '--')}"
        snaps = folder / "snapshots"
        if not snaps.is_dir():
            continue
        ref = folder / "refs" / "main"
        main = ref.read_text(encoding="utf-8").strip() if ref.is_file() else ""
        found = sorted(snaps.iterdir(), key=lambda p: (p.name != main, -p.stat().st_mtime))
        out.extend(p for p in found if p.is_dir())
    return out


def search_roots(model_id: str, extra_dirs: Sequence[Path] = ()) -> list[Path]:
    """Folders searched for `model_id`'s files, first hit wins (see the package docstring)."""
    roots: list[Path] = [Path(d) for d in extra_dirs]
    env = os.environ.get(ENV_MODELS)
    if env:
        roots += [Path(env) / model_id, Path(env)]
    roots.append(default_root() / model_id)
    entry = model(model_id) or {}
    repos = entry.get("hf_repo")
    for repo in [repos] if isinstance(repos, str) else list(repos or []):
        roots += _hf_snapshots(str(repo))
    return list(dict.fromkeys(roots))


@dataclass(frozen=True)
class FileStatus:
    expected: ExpectedFile
    state: str  # "found" | "missing" | "wrong-hash" | "wrong-size"
    path: Path | None = None
    name: str | None = None  # which of the accepted names was found
    sha256: str | None = None  # computed when the catalog publishes one
    version: str | None = None  # from the catalog's variants table, by hash
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "found"

    @property
    def verified(self) -> bool:
        return self.ok and self.sha256 is not None


def _check(expected: ExpectedFile, name: str, path: Path, verify: bool) -> FileStatus:
    size = path.stat().st_size
    want_size = (expected.size or {}).get(name)
    if want_size is not None and size != want_size:
        return FileStatus(
            expected, "wrong-size", path, name, detail=f"{size} bytes, the published file has {want_size}"
        )
    want_hash = (expected.sha256 or {}).get(name)
    digest = None
    if verify and (want_hash or expected.variants):
        digest = file_sha256(path)
    if want_hash and digest is not None and digest != want_hash:
        return FileStatus(
            expected, "wrong-hash", path, name, digest, detail=f"sha256 {digest[:12]}…, published {want_hash[:12]}…"
        )
    version = (expected.variants or {}).get(digest or "")
    return FileStatus(expected, "found", path, name, digest, version)


@dataclass(frozen=True)
class ModelStatus:
    model_id: str
    files: tuple[FileStatus, ...]
    roots: tuple[Path, ...] = field(default=())

    @property
    def needs_weights(self) -> bool:
        return bool(self.files)

    @property
    def ready(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def expected_dir(self) -> Path:
        """Where vpipe tells the user to put the files."""
        return default_root() / self.model_id

    def path(self, name: str | None = None) -> Path:
        """The found file for the expected `name` (default: the first one)."""
        for f in self.files:
            if (name is None or name in f.expected.names) and f.path is not None and f.ok:
                return f.path
        raise KeyError(f"{self.model_id}: no usable file for {name or 'its weights'}")

    def problems(self) -> list[str]:
        out = []
        for f in self.files:
            if f.state == "missing":
                alts = f" (or {', '.join(f.expected.alternatives)})" if f.expected.alternatives else ""
                out.append(f"{f.expected.name}{alts} not found; put it at {self.expected_dir / f.expected.name}")
            elif not f.ok:
                out.append(f"{f.path}: {f.state}: {f.detail}")
        return out

    @property
    def weights_hash(self) -> str:
        """sha256 over the files' own sha256s (computed, memoised): a cache-key part."""
        import hashlib

        h = hashlib.sha256(self.model_id.encode())
        for f in self.files:
            if f.path is not None:
                h.update((f.sha256 or file_sha256(f.path)).encode())
        return h.hexdigest()


def model_status(model_id: str, extra_dirs: Sequence[Path] = (), verify: bool = True) -> ModelStatus:
    """Found / missing / wrong size or hash for every file `model_id` needs. `verify=False`
    skips hashing (sizes are still compared): for quick availability checks."""
    roots = search_roots(model_id, extra_dirs)
    out = []
    for expected in expected_files(model_id):
        hit = next(((n, r / n) for r in roots for n in expected.names if (r / n).is_file()), None)
        if hit is None:
            out.append(FileStatus(expected, "missing", detail="searched " + ", ".join(str(r) for r in roots)))
        else:
            out.append(_check(expected, hit[0], hit[1], verify))
    return ModelStatus(model_id, tuple(out), tuple(roots))


def neural_models() -> list[str]:
    """Catalog ids whose weights the user supplies (not bundled with a package)."""
    out = []
    for model_id, entry in model_entries():
        w = entry.get("weights")
        user = entry.get("user_weights")
        if user is None:
            user = isinstance(w, dict) and bool(w.get("files")) and "package" not in entry
        if user:
            out.append(model_id)
    return out


def catalog_ids(name: str) -> list[str]:
    """Catalog ids a recipe's model name means: `wav2lip` → [wav2lip], `latentsync` →
    [latentsync-1.5, latentsync-1.6] (any version whose files are found will do)."""
    ids = neural_models()
    return [i for i in ids if i == name] or [i for i in ids if i.startswith(name + "-")]


def missing_weights(name: str, extra_dirs: Sequence[Path] = ()) -> tuple[str, list[str]] | None:
    """None when some catalog version of the model `name` has all its files (and they match
    what is published); else (catalog id, what is wrong and where to put the files)."""
    ids = catalog_ids(name)
    if not ids:
        return None
    statuses = [model_status(i, extra_dirs) for i in ids]
    if any(s.ready for s in statuses):
        return None
    first = statuses[0]
    return first.model_id, first.problems()
