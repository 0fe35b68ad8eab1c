"""A damaged cache entry is a miss that is recomputed and stored again, never an error:
every way a file of an entry can be cut short, emptied, lost or overwritten (a full disk, a
killed copy, a user's cleanup, a sync tool) reads as `Cache.MISS`, and the next `put` heals it."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vpipe.data.audio import Audio
from vpipe.runtime.cache import Cache

KEY = "ab" * 32


def value() -> Audio:
    samples = np.random.default_rng(1).standard_normal((4000, 2)).astype(np.float32)
    return Audio(samples, 16000, 0.5)


def _truncate(fraction: float) -> Callable[[Path], None]:
    def cut(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return cut


def _flip_byte(offset_fraction: float) -> Callable[[Path], None]:
    def flip(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[int(len(data) * offset_fraction)] ^= 0xFF
        path.write_bytes(bytes(data))

    return flip


def _replace_with_dir(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _other_array(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, b7=np.zeros(3))  # a valid archive without the entry's array


def _wrong_shape_json(path: Path) -> None:
    path.write_text('{"__type__": "audio", "fields": {"nope": 1}}', encoding="utf-8")


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "arrays-truncated-half": ("arrays.npz", _truncate(0.5)),
    "arrays-truncated-to-header": ("arrays.npz", _truncate(0.02)),
    "arrays-truncated-last-byte": ("arrays.npz", _truncate(0.999)),
    "arrays-empty": ("arrays.npz", lambda p: p.write_bytes(b"")),
    "arrays-missing": ("arrays.npz", lambda p: p.unlink()),
    "arrays-garbage": ("arrays.npz", lambda p: p.write_bytes(b"\x00garbage" * 50)),
    "arrays-byte-flipped-in-data": ("arrays.npz", _flip_byte(0.5)),
    "arrays-byte-flipped-in-header": ("arrays.npz", _flip_byte(0.01)),
    "arrays-other-archive": ("arrays.npz", _other_array),
    "arrays-a-directory": ("arrays.npz", _replace_with_dir),
    "value-truncated": ("value.json", _truncate(0.5)),
    "value-empty": ("value.json", lambda p: p.write_bytes(b"")),
    "value-missing": ("value.json", lambda p: p.unlink()),
    "value-not-utf8": ("value.json", lambda p: p.write_bytes(b"\xff\xfe\x00{")),
    "value-not-json": ("value.json", lambda p: p.write_text("{not json", encoding="utf-8")),
    "value-wrong-fields": ("value.json", _wrong_shape_json),
    "value-unknown-type": ("value.json", lambda p: p.write_text('{"__type__": "os.system", "fields": {}}')),
    "value-malformed-node": ("value.json", lambda p: p.write_text('{"x": 1}', encoding="utf-8")),
    "value-array-not-an-object": ("value.json", lambda p: p.write_text('{"__array__": ["a0"]}', encoding="utf-8")),
    "value-a-directory": ("value.json", _replace_with_dir),
    "entry-empty-directory": (".", lambda p: [shutil.rmtree(c) if c.is_dir() else c.unlink() for c in p.iterdir()]),
}


def _rewrite_integrity(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def rewrite(path: Path) -> None:
        path.write_text(json.dumps(change(json.loads(path.read_text()))), encoding="utf-8")

    return rewrite


def _edit_consistently(path: Path) -> None:
    """value.json replaced by undecodable JSON *and* its integrity record updated to match
    (a user's or tool's deliberate edit): the hashes pass, decoding fails."""
    data = b'{"__type__": "os.system", "fields": {}}'
    path.write_bytes(data)
    record = json.loads((path.parent / "integrity.json").read_text())
    record["value.json"] = [len(data), hashlib.sha256(data).hexdigest()]
    (path.parent / "integrity.json").write_text(json.dumps(record), encoding="utf-8")


DAMAGE.update(
    {
        "integrity-missing": ("integrity.json", lambda p: p.unlink()),
        "integrity-empty": ("integrity.json", lambda p: p.write_bytes(b"")),
        "integrity-a-list": ("integrity.json", _rewrite_integrity(lambda r: ["value.json"])),
        "integrity-without-value": ("integrity.json", _rewrite_integrity(lambda r: {"arrays.npz": r["arrays.npz"]})),
        "integrity-unknown-file": ("integrity.json", _rewrite_integrity(lambda r: {**r, "../x": [1, "00"]})),
        "value-edited-consistently": ("value.json", _edit_consistently),
    }
)

# what the user is told (VP342, `Cache.damaged`): {now} is the damaged file's size, {stored} its size when stored
REASON: dict[str, str] = {
    "arrays-a-directory": "it cannot be decoded (IsADirectoryError)",
    "arrays-missing": "arrays.npz is missing",
    "entry-empty-directory": "value.json is missing",
    "value-a-directory": "value.json is missing",
    "value-missing": "value.json is missing",
    "integrity-missing": "its integrity record is missing",
    "integrity-empty": "it cannot be decoded (JSONDecodeError)",
    "integrity-a-list": "its integrity record is unreadable",
    "integrity-without-value": "its integrity record is unreadable",
    "integrity-unknown-file": "its integrity record names an unknown file '../x'",
    "value-edited-consistently": "it cannot be decoded (CodecError)",
    **{n: "arrays.npz does not match the SHA-256 stored with it" for n in DAMAGE if n.startswith("arrays-byte")},
}
for _name, (_file, _) in DAMAGE.items():
    REASON.setdefault(_name, _file + " is {now} bytes, {stored} were stored")


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_a_damaged_entry_is_a_miss_and_is_stored_again(name: str, tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    original = value()
    assert cache.put(KEY, original)
    entry = tmp_path / KEY[:2] / KEY
    assert {"arrays.npz", "value.json", "integrity.json"} == {p.name for p in entry.iterdir()}
    file, damage = DAMAGE[name]
    stored = (entry / file).stat().st_size
    damage(entry / file)
    now = (entry / file).stat().st_size if (entry / file).is_file() else -1

    got: Any = cache.get(KEY)
    assert got is Cache.MISS, f"{name}: a damaged entry was returned as {type(got).__name__}"
    assert cache.stats.misses == 1 and cache.stats.hits == 0
    assert cache.damaged == [(KEY, REASON[name].format(now=now, stored=stored))]
    assert not entry.exists()  # removed, so that it is stored again
    # the damaged entry does not stay in the way: the recomputed value is stored and read back
    assert cache.put(KEY, original)
    again = Cache(tmp_path).get(KEY)
    assert isinstance(again, Audio), f"{name}: the recomputed value was not stored again"
    assert np.array_equal(again.samples, original.samples) and again.rate == original.rate


def test_an_entry_without_arrays_still_round_trips(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.put(KEY, {"a": (1, 2.5, "x")})
    assert not (tmp_path / KEY[:2] / KEY / "arrays.npz").exists()
    assert Cache(tmp_path).get(KEY) == {"a": (1, 2.5, "x")}


# --- through the executor: a run after the damage recomputes the value and succeeds ----------
ARRAY_CALLS: list[int] = []


def _define_array_op() -> None:
    from vpipe.ir.opspec import OpSpec, define
    from vpipe.kernel_api.registry import Kernel, kernel

    define(OpSpec("test.array_value", "an array result", operands=(), results=("Text",), attrs={}))

    @kernel("test.array_value", backend="test")
    class ArrayValue(Kernel):
        def run(self, op: Any, inputs: list[Any], rt: Any) -> np.ndarray:
            ARRAY_CALLS.append(1)
            return np.arange(1000, dtype=np.float32)


_define_array_op()
ARRAY_GRAPH = """
graph @g {
  %arr = test.array_value() : Text shared kernel(test@cpu)
}
"""


@pytest.mark.parametrize("name", ["arrays-truncated-half", "arrays-empty", "arrays-missing", "value-empty"])
def test_a_run_after_the_damage_recomputes(name: str, tmp_path: Path) -> None:
    from vpipe.ir.parser import parse_graph
    from vpipe.runtime.executor import Executor

    ARRAY_CALLS.clear()
    root = tmp_path / "cache"

    def run() -> Any:
        return Executor(parse_graph(ARRAY_GRAPH), Cache(root), work_root=tmp_path / "w").run_shared()

    assert np.array_equal(run().values["arr"], np.arange(1000)) and len(ARRAY_CALLS) == 1
    assert run().cached == ["arr"] and len(ARRAY_CALLS) == 1
    (entry,) = [p for p in root.glob("*/*") if p.is_dir()]
    file, damage = DAMAGE[name]
    damage(entry / file)
    state = run()
    assert state.cached == [] and len(ARRAY_CALLS) == 2  # recomputed, not an exception
    assert np.array_equal(state.values["arr"], np.arange(1000))
    assert run().cached == ["arr"] and len(ARRAY_CALLS) == 2  # and stored again


def test_has_tells_a_stored_entry(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert not cache.has(KEY)
    assert cache.put(KEY, value())
    assert cache.has(KEY) and Cache(tmp_path).has(KEY) and not cache.has("cd" * 32)
    (tmp_path / KEY[:2] / KEY / "value.json").unlink()
    assert not cache.has(KEY)
