"""User-supplied model weights, shared by every neural backend and QC model.

vpipe downloads nothing. The user puts the published files where vpipe looks, and every
backend asks this package where they are, whether they are the right files, and for their
tensors (never for arbitrary pickled objects).

Where a model's files are looked for, first hit wins (`search_roots`):

1. the recipe's folder (`lipsync.weights: DIR`): files directly inside it,
2. `$VPIPE_MODELS` (files in `<dir>/<model-id>/` or directly in `<dir>`),
3. `~/.cache/vpipe/models/<model-id>/` (the default; `vpipe doctor` names it),
4. the Hugging Face hub cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`),
   `models--<org>--<name>/snapshots/<rev>/<file>`, for catalog entries that name a `hf_repo`.

What a backend uses:

    from vpipe.weights import model_status, load_state_dict, load_strict

    status = model_status("wav2lip", extra_dirs=[recipe_dir])
    if not status.ready: ...                     # status.problems(), status.expected_dir
    path = status.path("wav2lip_gan.pth")        # the first required file (or its alternative)
    state = load_state_dict(path)                # safetensors, or torch.load(weights_only=True)
    report = load_strict(module, state)          # raises WeightsError listing missing/unexpected keys
    status.weights_hash                          # sha256 over the files: part of cache keys

`WeightsError` carries a message fit for a coded diagnostic.
"""

from vpipe.weights.digest import file_sha256
from vpipe.weights.home import default_root
from vpipe.weights.load import LoadReport, WeightsError, compare, load_state_dict, load_strict, strip_prefix
from vpipe.weights.locate import (
    ENV_MODELS,
    FileStatus,
    ModelStatus,
    catalog_ids,
    missing_weights,
    model_status,
    neural_models,
    search_roots,
)
from vpipe.weights.spec import ExpectedFile, expected_files

__all__ = [
    "ENV_MODELS",
    "ExpectedFile",
    "FileStatus",
    "LoadReport",
    "ModelStatus",
    "WeightsError",
    "catalog_ids",
    "compare",
    "default_root",
    "expected_files",
    "file_sha256",
    "load_state_dict",
    "load_strict",
    "missing_weights",
    "model_status",
    "neural_models",
    "search_roots",
    "strip_prefix",
]
