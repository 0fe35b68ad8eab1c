"""Audio-visual sync experts, rebuilt with the published state-dict keys.

- `SyncNetV2`: joonson/syncnet_python `SyncNetModel.S` (commit 6efbb1c), the LSE-C/LSE-D
  model (`syncnet_v2.model`, a plain state dict): 5 BGR 224² frames (raw 0-255) →
  1024-d; MFCC 1×13×20 (100 Hz) → 1024-d; compared by Euclidean distance.
- `SyncNetColor`: Wav2Lip's expert (`models/syncnet.py`, `lipsync_expert.pth`): the lower
  halves of 5 BGR 96² crops stacked as 15×48×96 in [0,1] and a mel 1×80×16 → 512-d each,
  L2-normalised, compared by cosine similarity.

Sequential indices (conv, norm, relu, pool) follow the originals so keys such as
`netcnnlip.4.weight` land where the authors' checkpoints put them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vpipe.neural.blocks import C, res, scaled, sequential


def _conv2(cin: int, cout: int, k: tuple[int, int], p: tuple[int, int] = (1, 1)) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, (1, 1), p), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _conv3(
    cin: int, cout: int, k: tuple[int, int, int], s: tuple[int, int, int], p: tuple[int, int, int]
) -> list[nn.Module]:
    return [nn.Conv3d(cin, cout, k, s, p), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)]


def _fc(cin: int, mid: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cin, mid), nn.BatchNorm1d(mid), nn.ReLU(), nn.Linear(mid, out))


class SyncNetV2(nn.Module):
    VIDEO_SHAPE = (3, 5, 224, 224)
    AUDIO_SHAPE = (1, 13, 20)

    def __init__(self, width: float = 1.0, embedding: int = 1024) -> None:
        super().__init__()
        w = lambda c: scaled(c, width)  # noqa: E731
        self.netcnnaud = nn.Sequential(
            *_conv2(1, w(64), (3, 3)),
            nn.MaxPool2d((1, 1), (1, 1)),
            *_conv2(w(64), w(192), (3, 3)),
            nn.MaxPool2d((3, 3), (1, 2)),
            *_conv2(w(192), w(384), (3, 3)),
            *_conv2(w(384), w(256), (3, 3)),
            *_conv2(w(256), w(256), (3, 3)),
            nn.MaxPool2d((3, 3), (2, 2)),
            *_conv2(w(256), w(512), (5, 4), (0, 0)),
        )
        self.netfcaud = _fc(w(512), w(512), embedding)
        self.netfclip = _fc(w(512), w(512), embedding)
        self.netcnnlip = nn.Sequential(
            *_conv3(3, w(96), (5, 7, 7), (1, 2, 2), (0, 0, 0)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            *_conv3(w(96), w(256), (1, 5, 5), (1, 2, 2), (0, 1, 1)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            *_conv3(w(256), w(256), (1, 3, 3), (1, 1, 1), (0, 1, 1)),
            *_conv3(w(256), w(256), (1, 3, 3), (1, 1, 1), (0, 1, 1)),
            *_conv3(w(256), w(256), (1, 3, 3), (1, 1, 1), (0, 1, 1)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            *_conv3(w(256), w(512), (1, 6, 6), (1, 1, 1), (0, 0, 0)),
        )

    def forward_aud(self, mfcc: torch.Tensor) -> torch.Tensor:
        """[N,1,13,20] → [N,E]"""
        return self.netfcaud(self.netcnnaud(mfcc).flatten(1))

    def forward_lip(self, video: torch.Tensor) -> torch.Tensor:
        """[N,3,5,224,224] (BGR, 0-255) → [N,E]"""
        return self.netfclip(self.netcnnlip(video).flatten(1))


SYNC_FACE = [  # 15×48×96 → 48×47 → 24 → 12 → 6 → 3 → 1
    C(15, 32, 7, 1, 3),
    C(32, 64, 5, (1, 2), 1),
    *res(64, 2),
    C(64, 128, 3, 2, 1),
    *res(128, 3),
    C(128, 256, 3, 2, 1),
    *res(256, 2),
    C(256, 512, 3, 2, 1),
    *res(512, 2),
    C(512, 512, 3, 2, 1),
    C(512, 512, 3, 1, 0),
    C(512, 512, 1, 1, 0),
]
SYNC_AUDIO = [
    C(1, 32),
    *res(32, 2),
    C(32, 64, 3, (3, 1), 1),
    *res(64, 2),
    C(64, 128, 3, 3, 1),
    *res(128, 2),
    C(128, 256, 3, (3, 2), 1),
    *res(256, 2),
    C(256, 512, 3, 1, 0),
    C(512, 512, 1, 1, 0),
]


class SyncNetColor(nn.Module):
    FACE_SHAPE = (15, 48, 96)
    MEL_SHAPE = (1, 80, 16)

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        self.face_encoder = sequential(SYNC_FACE, width)
        self.audio_encoder = sequential(SYNC_AUDIO, width)

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(audio embedding, face embedding), each [B,512] L2-normalised."""
        a = F.normalize(self.audio_encoder(mel).flatten(1), p=2, dim=1)
        v = F.normalize(self.face_encoder(faces).flatten(1), p=2, dim=1)
        return a, v
