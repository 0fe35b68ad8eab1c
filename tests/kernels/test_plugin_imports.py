"""Finding the kernels is cheap: importing every kernel module (which registers its kernels
and declares its backends) imports none of the heavy libraries the kernels run with.

Schema validation asks the backend registry for the allowed `lipsync.model` values, so every
`vpipe check`/`build`/`run` loads the plug-ins at start-up; scipy.signal alone cost ~1 s of
CPU there (several seconds on a loaded machine). Kernels import such libraries inside
`run`/`available` (docs/architecture.md, "a backend")."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "torch", "cv2", "mediapipe", "librosa", "onnxruntime", "av", "pyworld", "sklearn", "transformers")

PROBE = """
import json, sys
from vpipe.kernel_api import backends, registry
from vpipe.kernel_api.plugins import load_plugins
problems = load_plugins()
described = {b.name: b.summary for task in backends.TASKS for b in backends.backends(task)}
kernels = [k.kind for k in registry.all_kernels()]
print(json.dumps({"heavy": [m for m in HEAVY if m in sys.modules], "backends": described, "kernels": kernels}))
"""


def test_loading_the_plugins_imports_no_heavy_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["heavy"] == [], f"loading the kernel plug-ins imported {found['heavy']}"
    # and the registries are complete: every backend describes itself, every op kind has kernels
    assert {"retrieve", "wav2lip", "musetalk", "piper", "pocketsphinx"} <= set(found["backends"])
    assert all(found["backends"].values())
    assert {"lipsync.apply", "speech.synthesize", "media.splice", "qc.measure"} <= set(found["kernels"])
