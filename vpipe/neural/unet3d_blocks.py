"""The layers of LatentSync's UNet3D: 2D layers inflated over frames, plus temporal motion
modules. Written from the published architecture (bytedance/LatentSync a229c39,
`latentsync/models/{resnet,attention,motion_module,unet_blocks}.py`, itself AnimateDiff's);
every submodule keeps the published attribute name so a published `latentsync_unet.pt`
loads key for key.

Tensors are (batch, channels, frames, height, width). Facts that matter for parity:
- ResNet GroupNorms are plain `nn.GroupNorm` on the 5-D tensor, so they normalise over the
  frames too (`use_inflated_groupnorm` is false in the published config);
- spatial transformers (`attentions.*`) run per frame; `attn2` cross-attends to the audio
  tokens (one 50×384 set per frame);
- motion modules attend over frames at each pixel, with a sinusoidal position table `pe`
  (a persistent buffer, so it is in the checkpoint) of 24 positions, and always use 32
  GroupNorm groups (their default, not the config's).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def frames_to_batch(x: torch.Tensor) -> torch.Tensor:
    """(b, c, f, h, w) → (b·f, c, h, w)."""
    b, c, f, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def batch_to_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """(b·f, c, h, w) → (b, c, f, h, w)."""
    bf, c, h, w = x.shape
    return x.reshape(bf // frames, frames, c, h, w).permute(0, 2, 1, 3, 4)


class InflatedConv3d(nn.Conv2d):
    """A 2-D convolution applied to every frame."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_to_frames(super().forward(frames_to_batch(x)), x.shape[2])


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, gate = self.proj(x).chunk(2, dim=-1)
        return hidden * F.gelu(gate)


class FeedForward(nn.Module):
    """diffusers' GEGLU feed-forward: keys `net.0.proj`, `net.2`."""

    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        inner = dim * mult
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            x = layer(x)
        return x


class Attention(nn.Module):
    """Multi-head attention: `to_q`, `to_k`, `to_v` (no bias), `to_out.0` (with bias)."""

    def __init__(self, query_dim: int, heads: int, dim_head: int, cross_attention_dim: int | None = None) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        context = x if context is None else context
        out = F.scaled_dot_product_attention(
            self._split(self.to_q(x)), self._split(self.to_k(context)), self._split(self.to_v(context))
        )
        b, h, n, d = out.shape
        return self.to_out[1](self.to_out[0](out.transpose(1, 2).reshape(b, n, h * d)))


class BasicTransformerBlock(nn.Module):
    """Self-attention, audio cross-attention (`attn2`), GEGLU feed-forward; pre-LayerNorm."""

    def __init__(self, dim: int, heads: int, dim_head: int, cross_attention_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads, dim_head)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, dim_head, cross_attention_dim)
        self.ff = FeedForward(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, audio: torch.Tensor | None) -> torch.Tensor:
        x = self.attn1(self.norm1(x)) + x
        if audio is not None:
            x = self.attn2(self.norm2(x), audio) + x
        return self.ff(self.norm3(x)) + x


class Transformer3DModel(nn.Module):
    """A spatial transformer applied to every frame (1×1 conv projections)."""

    def __init__(self, heads: int, dim_head: int, in_channels: int, groups: int, cross_attention_dim: int) -> None:
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(groups, in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Conv2d(in_channels, inner, kernel_size=1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(inner, heads, dim_head, cross_attention_dim)])
        self.proj_out = nn.Conv2d(inner, in_channels, kernel_size=1)

    def forward(self, x: torch.Tensor, audio: torch.Tensor | None) -> torch.Tensor:
        frames = x.shape[2]
        x = frames_to_batch(x)
        bf, _, h, w = x.shape
        residual = x
        x = self.proj_in(self.norm(x))
        inner = x.shape[1]
        x = x.permute(0, 2, 3, 1).reshape(bf, h * w, inner)
        if audio is not None and audio.dim() == 4:  # (b, f, tokens, dim) → (b·f, tokens, dim)
            audio = audio.reshape(-1, *audio.shape[2:])
        for block in self.transformer_blocks:
            x = block(x, audio)
        x = self.proj_out(x.reshape(bf, h, w, inner).permute(0, 3, 1, 2).contiguous())
        return batch_to_frames(x + residual, frames)


class PositionalEncoding(nn.Module):
    def __init__(self, dim: int, max_len: int) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        pe = torch.zeros(1, max_len, dim)
        pe[0, :, 0::2] = torch.sin(position * div)
        pe[0, :, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[:, : x.size(1)].to(x.dtype)


class TemporalAttention(Attention):
    """Self-attention over the frames at each pixel, positions added first."""

    def __init__(self, dim: int, heads: int, dim_head: int, max_len: int) -> None:
        super().__init__(dim, heads, dim_head)
        self.pos_encoder = PositionalEncoding(dim, max_len)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:  # type: ignore[override]
        bf, s, c = x.shape
        t = x.reshape(bf // frames, frames, s, c).permute(0, 2, 1, 3).reshape(-1, frames, c)
        t = super().forward(self.pos_encoder(t))
        return t.reshape(bf // frames, s, frames, c).permute(0, 2, 1, 3).reshape(bf, s, c)


class TemporalTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, blocks: int, max_len: int) -> None:
        super().__init__()
        self.attention_blocks = nn.ModuleList([TemporalAttention(dim, heads, dim_head, max_len) for _ in range(blocks)])
        self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(blocks)])
        self.ff = FeedForward(dim)
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms, strict=True):
            x = attention(norm(x), frames) + x
        return self.ff(self.ff_norm(x)) + x


class TemporalTransformer3DModel(nn.Module):
    def __init__(self, channels: int, heads: int, layers: int, attention_blocks: int, max_len: int) -> None:
        super().__init__()
        dim_head = channels // heads
        self.norm = nn.GroupNorm(32, channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(channels, heads * dim_head)
        self.transformer_blocks = nn.ModuleList(
            [
                TemporalTransformerBlock(heads * dim_head, heads, dim_head, attention_blocks, max_len)
                for _ in range(layers)
            ]
        )
        self.proj_out = nn.Linear(heads * dim_head, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[2]
        x = frames_to_batch(x)
        bf, c, h, w = x.shape
        residual = x
        t = self.proj_in(self.norm(x).permute(0, 2, 3, 1).reshape(bf, h * w, c))
        for block in self.transformer_blocks:
            t = block(t, frames)
        t = self.proj_out(t).reshape(bf, h, w, c).permute(0, 3, 1, 2).contiguous()
        return batch_to_frames(t + residual, frames)


class VanillaTemporalModule(nn.Module):
    """AnimateDiff's "Vanilla" motion module (`motion_modules.*.temporal_transformer`)."""

    def __init__(self, channels: int, heads: int, layers: int, attention_blocks: int, max_len: int) -> None:
        super().__init__()
        self.temporal_transformer = TemporalTransformer3DModel(channels, heads, layers, attention_blocks, max_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal_transformer(x)


class ResnetBlock3D(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, groups: int, eps: float) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps, affine=True)
        self.conv1 = InflatedConv3d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps, affine=True)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = InflatedConv3d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.conv_shortcut = (
            InflatedConv3d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)
            if in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # GroupNorm over (channels/group, frames, h, w)
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Downsample3D(nn.Module):
    def __init__(self, channels: int, padding: int) -> None:
        super().__init__()
        self.conv = InflatedConv3d(channels, channels, kernel_size=3, stride=2, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample3D(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = InflatedConv3d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        dtype = x.dtype
        if dtype == torch.bfloat16:
            x = x.float()
        if size is None:
            x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest")
        else:
            x = F.interpolate(x, size=(x.shape[2], *size), mode="nearest")
        return self.conv(x.to(dtype))
