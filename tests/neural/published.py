"""The published Wav2Lip generator as a description of its checkpoint (written for these
tests from the authors' models/wav2lip.py and models/conv.py at commit 5c90fa9), and a
reference forward that runs straight from a state dict by those key names.

Each line: key prefix, block type, in, out, kernel, stride, padding. Types: `c` conv+BN+ReLU,
`r` the same with a residual add, `t` transposed conv (output_padding 1 when stride 2) +
BN+ReLU, `o` plain conv (the output head). Strides and kernels are (h, w) pairs or one int.
"""

from __future__ import annotations

GENERATOR = """
face_encoder_blocks.0.0 c 6 16 7 1 3
face_encoder_blocks.1.0 c 16 32 3 2 1
face_encoder_blocks.1.1 r 32 32 3 1 1
face_encoder_blocks.1.2 r 32 32 3 1 1
face_encoder_blocks.2.0 c 32 64 3 2 1
face_encoder_blocks.2.1 r 64 64 3 1 1
face_encoder_blocks.2.2 r 64 64 3 1 1
face_encoder_blocks.2.3 r 64 64 3 1 1
face_encoder_blocks.3.0 c 64 128 3 2 1
face_encoder_blocks.3.1 r 128 128 3 1 1
face_encoder_blocks.3.2 r 128 128 3 1 1
face_encoder_blocks.4.0 c 128 256 3 2 1
face_encoder_blocks.4.1 r 256 256 3 1 1
face_encoder_blocks.4.2 r 256 256 3 1 1
face_encoder_blocks.5.0 c 256 512 3 2 1
face_encoder_blocks.5.1 r 512 512 3 1 1
face_encoder_blocks.6.0 c 512 512 3 1 0
face_encoder_blocks.6.1 c 512 512 1 1 0
audio_encoder.0 c 1 32 3 1 1
audio_encoder.1 r 32 32 3 1 1
audio_encoder.2 r 32 32 3 1 1
audio_encoder.3 c 32 64 3 3x1 1
audio_encoder.4 r 64 64 3 1 1
audio_encoder.5 r 64 64 3 1 1
audio_encoder.6 c 64 128 3 3 1
audio_encoder.7 r 128 128 3 1 1
audio_encoder.8 r 128 128 3 1 1
audio_encoder.9 c 128 256 3 3x2 1
audio_encoder.10 r 256 256 3 1 1
audio_encoder.11 c 256 512 3 1 0
audio_encoder.12 c 512 512 1 1 0
face_decoder_blocks.0.0 c 512 512 1 1 0
face_decoder_blocks.1.0 t 1024 512 3 1 0
face_decoder_blocks.1.1 r 512 512 3 1 1
face_decoder_blocks.2.0 t 1024 512 3 2 1
face_decoder_blocks.2.1 r 512 512 3 1 1
face_decoder_blocks.2.2 r 512 512 3 1 1
face_decoder_blocks.3.0 t 768 384 3 2 1
face_decoder_blocks.3.1 r 384 384 3 1 1
face_decoder_blocks.3.2 r 384 384 3 1 1
face_decoder_blocks.4.0 t 512 256 3 2 1
face_decoder_blocks.4.1 r 256 256 3 1 1
face_decoder_blocks.4.2 r 256 256 3 1 1
face_decoder_blocks.5.0 t 320 128 3 2 1
face_decoder_blocks.5.1 r 128 128 3 1 1
face_decoder_blocks.5.2 r 128 128 3 1 1
face_decoder_blocks.6.0 t 160 64 3 2 1
face_decoder_blocks.6.1 r 64 64 3 1 1
face_decoder_blocks.6.2 r 64 64 3 1 1
output_block.0 c 80 32 3 1 1
output_block.1 o 32 3 1 1 0
"""


def _pair(text: str) -> tuple[int, int]:
    a, _, b = text.partition("x")
    return (int(a), int(b or a))


def layers(width: float = 1.0) -> list[tuple[str, str, int, int, tuple[int, int], tuple[int, int], int]]:
    def ch(c: int) -> int:
        return c if c <= 15 else max(1, round(c * width))

    out = []
    for line in GENERATOR.strip().splitlines():
        prefix, kind, cin, cout, k, s, p = line.split()
        out.append((prefix, kind, ch(int(cin)), ch(int(cout)), _pair(k), _pair(s), int(p)))
    return out


def checkpoint_shapes(width: float = 1.0) -> dict[str, tuple[int, ...]]:
    """Every key of the published generator's state dict and its shape."""
    shapes: dict[str, tuple[int, ...]] = {}
    for prefix, kind, cin, cout, k, _s, _p in layers(width):
        if kind == "o":
            shapes[f"{prefix}.weight"] = (cout, cin, *k)
            shapes[f"{prefix}.bias"] = (cout,)
            continue
        conv, bn = f"{prefix}.conv_block.0", f"{prefix}.conv_block.1"
        shapes[f"{conv}.weight"] = (cin, cout, *k) if kind == "t" else (cout, cin, *k)
        shapes[f"{conv}.bias"] = (cout,)
        for name in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{bn}.{name}"] = (cout,)
        shapes[f"{bn}.num_batches_tracked"] = ()
    return shapes


def random_checkpoint(width: float = 1.0, seed: int = 0):  # type: ignore[no-untyped-def]
    """A state dict of the published layout with random values (BN statistics included)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in checkpoint_shapes(width).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000, dtype=torch.int64)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif key.endswith(".weight") and len(shape) == 4:
            state[key] = torch.randn(shape, generator=g) / (shape[1] * shape[2] * shape[3]) ** 0.5
        else:
            state[key] = 0.1 * torch.randn(shape, generator=g)
    return state


def reference_forward(state, mel, faces):  # type: ignore[no-untyped-def]
    """The published forward pass, run from the state dict by key name (torch.nn.functional)."""
    from torch.nn import functional as F

    def block(x, prefix, kind, s, p):  # type: ignore[no-untyped-def]
        if kind == "o":
            return F.conv2d(x, state[f"{prefix}.weight"], state[f"{prefix}.bias"], s, p)
        w, b = state[f"{prefix}.conv_block.0.weight"], state[f"{prefix}.conv_block.0.bias"]
        if kind == "t":
            y = F.conv_transpose2d(x, w, b, s, p, output_padding=1 if s != (1, 1) else 0)
        else:
            y = F.conv2d(x, w, b, s, p)
        bn = f"{prefix}.conv_block.1"
        y = F.batch_norm(
            y,
            state[f"{bn}.running_mean"],
            state[f"{bn}.running_var"],
            state[f"{bn}.weight"],
            state[f"{bn}.bias"],
            training=False,
            eps=1e-5,
        )
        return F.relu(y + x if kind == "r" else y)

    import torch

    stages: dict[str, list] = {}
    for prefix, kind, _ci, _co, _k, s, p in layers():
        group = (
            prefix.rsplit(".", 1)[0]
            if not prefix.startswith(("audio_encoder", "output_block"))
            else prefix.split(".")[0]
        )
        stages.setdefault(group, []).append((prefix, kind, s, p))
    feats = []
    x = faces
    for i in range(7):
        for prefix, kind, s, p in stages[f"face_encoder_blocks.{i}"]:
            x = block(x, prefix, kind, s, p)
        feats.append(x)
    a = mel
    for prefix, kind, s, p in stages["audio_encoder"]:
        a = block(a, prefix, kind, s, p)
    x = a
    for i in range(7):
        for prefix, kind, s, p in stages[f"face_decoder_blocks.{i}"]:
            x = block(x, prefix, kind, s, p)
        x = torch.cat((x, feats.pop()), dim=1)
    for prefix, kind, s, p in stages["output_block"]:
        x = block(x, prefix, kind, s, p)
    return torch.sigmoid(x)
