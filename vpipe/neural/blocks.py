"""The convolution block the Wav2Lip family is built from (key layout `conv_block.0` = conv,
`conv_block.1` = batch norm), as one spec table → modules helper."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


class ConvNormAct(nn.Module):
    """conv (or transposed conv) → batch norm → (+ input when residual) → ReLU."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int],
        padding: int,
        residual: bool = False,
        transpose: bool = False,
        output_padding: int = 0,
    ) -> None:
        super().__init__()
        conv: nn.Module
        if transpose:
            conv = nn.ConvTranspose2d(cin, cout, kernel, stride, padding, output_padding)
        else:
            conv = nn.Conv2d(cin, cout, kernel, stride, padding)
        self.conv_block = nn.Sequential(conv, nn.BatchNorm2d(cout))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_block(x)
        if self.residual:
            y = y + x
        return torch.relu(y)


@dataclass(frozen=True)
class C:
    """One block of a spec table; channel counts are the published (full-width) ones."""

    cin: int
    cout: int
    k: int | tuple[int, int] = 3
    s: int | tuple[int, int] = 1
    p: int = 1
    res: bool = False
    up: bool = False  # transposed convolution with output_padding 1 when strided

    def build(self, width: float) -> ConvNormAct:
        op = 1 if self.up and self.s != 1 else 0
        return ConvNormAct(
            scaled(self.cin, width), scaled(self.cout, width), self.k, self.s, self.p, self.res, self.up, op
        )


def scaled(channels: int, width: float) -> int:
    """Channels at `width` (1.0 = published). Input channels (≤ 15) are never scaled."""
    if channels <= 15:
        return channels
    return max(1, round(channels * width))


def res(ch: int, n: int = 1) -> list[C]:
    """n residual 3×3 blocks at ch channels."""
    return [C(ch, ch, res=True) for _ in range(n)]


def sequential(specs: list[C], width: float) -> nn.Sequential:
    return nn.Sequential(*(s.build(width) for s in specs))
