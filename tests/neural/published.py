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


# joonson/syncnet_python SyncNetModel.S (commit 6efbb1c): index in its nn.Sequential, layer, shape
# arguments. conv2d/conv3d: in out kernel; bn: channels; lin: in out.
SYNCNET_V2 = """
netcnnaud.0 conv2d 1 64 3x3
netcnnaud.1 bn 64
netcnnaud.4 conv2d 64 192 3x3
netcnnaud.5 bn 192
netcnnaud.8 conv2d 192 384 3x3
netcnnaud.9 bn 384
netcnnaud.11 conv2d 384 256 3x3
netcnnaud.12 bn 256
netcnnaud.14 conv2d 256 256 3x3
netcnnaud.15 bn 256
netcnnaud.18 conv2d 256 512 5x4
netcnnaud.19 bn 512
netfcaud.0 lin 512 512
netfcaud.1 bn 512
netfcaud.3 lin 512 1024
netfclip.0 lin 512 512
netfclip.1 bn 512
netfclip.3 lin 512 1024
netcnnlip.0 conv3d 3 96 5x7x7
netcnnlip.1 bn 96
netcnnlip.4 conv3d 96 256 1x5x5
netcnnlip.5 bn 256
netcnnlip.8 conv3d 256 256 1x3x3
netcnnlip.9 bn 256
netcnnlip.11 conv3d 256 256 1x3x3
netcnnlip.12 bn 256
netcnnlip.14 conv3d 256 256 1x3x3
netcnnlip.15 bn 256
netcnnlip.18 conv3d 256 512 1x6x6
netcnnlip.19 bn 512
"""

# Wav2Lip models/syncnet.py SyncNet_color: same line format as GENERATOR.
EXPERT = """
face_encoder.0 c 15 32 7 1 3
face_encoder.1 c 32 64 5 1x2 1
face_encoder.2 r 64 64 3 1 1
face_encoder.3 r 64 64 3 1 1
face_encoder.4 c 64 128 3 2 1
face_encoder.5 r 128 128 3 1 1
face_encoder.6 r 128 128 3 1 1
face_encoder.7 r 128 128 3 1 1
face_encoder.8 c 128 256 3 2 1
face_encoder.9 r 256 256 3 1 1
face_encoder.10 r 256 256 3 1 1
face_encoder.11 c 256 512 3 2 1
face_encoder.12 r 512 512 3 1 1
face_encoder.13 r 512 512 3 1 1
face_encoder.14 c 512 512 3 2 1
face_encoder.15 c 512 512 3 1 0
face_encoder.16 c 512 512 1 1 0
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
audio_encoder.11 r 256 256 3 1 1
audio_encoder.12 c 256 512 3 1 0
audio_encoder.13 c 512 512 1 1 0
"""


def syncnet_v2_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for line in SYNCNET_V2.strip().splitlines():
        prefix, kind, *args = line.split()
        if kind == "bn":
            c = int(args[0])
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{prefix}.{name}"] = (c,)
            shapes[f"{prefix}.num_batches_tracked"] = ()
        elif kind == "lin":
            shapes[f"{prefix}.weight"] = (int(args[1]), int(args[0]))
            shapes[f"{prefix}.bias"] = (int(args[1]),)
        else:
            k = tuple(int(x) for x in args[2].split("x"))
            shapes[f"{prefix}.weight"] = (int(args[1]), int(args[0]), *k)
            shapes[f"{prefix}.bias"] = (int(args[1]),)
    return shapes


def expert_shapes() -> dict[str, tuple[int, ...]]:
    global GENERATOR
    saved = GENERATOR
    try:
        GENERATOR = EXPERT
        return checkpoint_shapes()
    finally:
        GENERATOR = saved
