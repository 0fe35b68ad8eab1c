"""Wav2Lip's generator (Prajwal et al. 2020, arXiv:2008.10010; layer lists of the authors'
`models/wav2lip.py` at commit 5c90fa9), rebuilt with the same state-dict keys.

    forward(mel[B,1,80,16], faces[B,6,96,96]) → [B,3,96,96] in [0,1]

faces: channels 0-2 the BGR crop with rows 48-95 zeroed, 3-5 the unmasked reference, both
scaled to [0,1]. The audio embedding (512×1×1) is decoded with skip connections from the
face encoder's seven stages. `width` < 1 builds the same graph with fewer channels.
"""

from __future__ import annotations

import torch
from torch import nn

from vpipe.neural.blocks import C, ConvNormAct, res, scaled, sequential

FACE_ENCODER = [
    [C(6, 16, 7, 1, 3)],  # 96
    [C(16, 32, 3, 2, 1), *res(32, 2)],  # 48
    [C(32, 64, 3, 2, 1), *res(64, 3)],  # 24
    [C(64, 128, 3, 2, 1), *res(128, 2)],  # 12
    [C(128, 256, 3, 2, 1), *res(256, 2)],  # 6
    [C(256, 512, 3, 2, 1), *res(512, 1)],  # 3
    [C(512, 512, 3, 1, 0), C(512, 512, 1, 1, 0)],  # 1
]
AUDIO_ENCODER = [  # 80×16 → 27×16 → 9×6 → 3×3 → 1×1
    C(1, 32),
    *res(32, 2),
    C(32, 64, 3, (3, 1), 1),
    *res(64, 2),
    C(64, 128, 3, 3, 1),
    *res(128, 2),
    C(128, 256, 3, (3, 2), 1),
    *res(256, 1),
    C(256, 512, 3, 1, 0),
    C(512, 512, 1, 1, 0),
]
FACE_DECODER = [  # input channels = previous output + the matching encoder stage (skip)
    [C(512, 512, 1, 1, 0)],
    [C(1024, 512, 3, 1, 0, up=True), *res(512, 1)],  # 3
    [C(1024, 512, 3, 2, 1, up=True), *res(512, 2)],  # 6
    [C(768, 384, 3, 2, 1, up=True), *res(384, 2)],  # 12
    [C(512, 256, 3, 2, 1, up=True), *res(256, 2)],  # 24
    [C(320, 128, 3, 2, 1, up=True), *res(128, 2)],  # 48
    [C(160, 64, 3, 2, 1, up=True), *res(64, 2)],  # 96
]

MEL_SHAPE = (1, 80, 16)
FACE_SHAPE = (6, 96, 96)


class Wav2Lip(nn.Module):
    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        self.width = width
        self.face_encoder_blocks = nn.ModuleList(sequential(b, width) for b in FACE_ENCODER)
        self.audio_encoder = sequential(AUDIO_ENCODER, width)
        self.face_decoder_blocks = nn.ModuleList(sequential(b, width) for b in FACE_DECODER)
        self.output_block = nn.Sequential(
            ConvNormAct(scaled(80, width), scaled(32, width), 3, 1, 1),
            nn.Conv2d(scaled(32, width), 3, 1, 1, 0),
            nn.Sigmoid(),
        )

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        skips = []
        x = faces
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = self.audio_encoder(mel)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)
        return self.output_block(x)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
