"""`vpipe run --executor ray` on a local Ray cluster (2 CPUs, loopback): the rows run as Ray
tasks (every per-row op computed again in the workers: --force) and give the same decoded
frames, the same QC measurements and the same manifest rows as the local executor."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import INTERVIEW, read_manifest, vpipe, write_recipe

pytestmark = [pytest.mark.media, pytest.mark.slow]  # a Ray instance: ~1.5 GB, seconds to start
ray = pytest.importorskip("ray")

VALUES = ["feedback", "support", "advice"]


# QC metrics that time the run rather than measure the output (the row's AAC splice CPU
# seconds): present on both sides, equal on neither
RUN_TIMINGS = {"audio_cpu_s"}


def _measured(qc: dict) -> dict:
    return {**qc, "metrics": {k: v for k, v in qc["metrics"].items() if k not in RUN_TIMINGS}}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    temp = Path(tempfile.mkdtemp(prefix="vpray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    ray.init(
        num_cpus=2, _temp_dir=str(temp), include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False
    )
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _frames(path: Path) -> list[str]:
    import av

    with av.open(str(path)) as c:
        return [
            hashlib.sha256(f.to_ndarray(format="yuv420p").tobytes()).hexdigest() for f in c.decode(c.streams.video[0])
        ]


def _rows(manifest: Path) -> dict[str, dict]:
    return {r["id"]: r for r in read_manifest(manifest) if r["type"] == "row"}


def test_ray_executor_gives_the_same_outputs_and_manifest_as_local(tmp_path: Path, cluster: None) -> None:
    cache = tmp_path / "cache"
    local = write_recipe(tmp_path / "local", INTERVIEW, VALUES, lipsync="retrieve")
    assert vpipe("run", local, "--no-progress", "--cache-dir", cache).code == 0
    remote = write_recipe(tmp_path / "ray", INTERVIEW, VALUES, lipsync="retrieve")
    cli = vpipe("run", remote, "--no-progress", "--cache-dir", cache, "--executor", "ray", "--force")
    assert cli.code == 0, cli.text
    assert "rendered 3 row(s), 0 up to date, 0 failed" in cli.stdout
    mine, theirs = (
        _rows(tmp_path / "local" / "out" / "manifest.jsonl"),
        _rows(tmp_path / "ray" / "out" / "manifest.jsonl"),
    )
    assert sorted(theirs) == sorted(mine) == ["r1", "r2", "r3"]  # each row exactly once
    for rid in mine:
        a, b = mine[rid], theirs[rid]
        assert (a["row"], a["status"], a["diagnostics"], _measured(a["qc"])) == (
            b["row"],
            b["status"],
            b["diagnostics"],
            _measured(b["qc"]),
        )
        assert a["qc"]["metrics"].keys() >= RUN_TIMINGS and b["qc"]["metrics"].keys() >= RUN_TIMINGS
        assert "cached" not in b or not set(b["cached"]) & {"speech", "frames", "file"}  # computed in the workers
        assert _frames(Path(a["output"])) == _frames(Path(b["output"]))
    shared = [r for r in read_manifest(tmp_path / "ray" / "out" / "manifest.jsonl") if r["type"] == "shared"]
    assert shared and shared[0]["timings"] is not None  # the shared analysis ran once, in the driver


def test_ray_executor_refuses_a_gpu_target_without_gpus(tmp_path: Path, cluster: None) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, VALUES[:1], extra="target: {device: cuda, vram_gb: 16}\n")
    cli = vpipe("run", recipe, "--no-progress", "--cache-dir", tmp_path / "cache", "--executor", "ray")
    assert cli.code == 2
    assert "VP344 the target is cuda but the Ray cluster has no GPU" in cli.stderr
