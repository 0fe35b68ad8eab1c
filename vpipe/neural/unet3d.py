"""LatentSync's UNet3DConditionModel, written from its published architecture.

The config is `configs/unet/stage2.yaml` (1.5, 256 px) / `stage2_512.yaml` (1.6, 512 px) of
bytedance/LatentSync a229c39: the two differ only in the training resolution, so one
architecture serves both (`LATENTSYNC_UNET`). In 13 channels (noisy latent 4 + mask 1 +
masked latent 4 + reference latent 4), out 4, audio cross-attention 384, SD 1.x blocks
[320, 640, 1280, 1280] with 8 heads, a Vanilla motion module after every resnet/transformer
pair at every resolution of the encoder and decoder (none in the middle block).

Keys are the published ones (`conv_in`, `time_embedding.linear_1`, `down_blocks.0.attentions.0.
transformer_blocks.0.attn2.to_k.weight`, `up_blocks.3.motion_modules.2.temporal_transformer.
transformer_blocks.0.attention_blocks.1.pos_encoder.pe`, ...): a published checkpoint loads
strictly (their loader uses strict=False and silently drops mismatched tensors; ours reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import nn

from vpipe.neural.unet3d_blocks import (
    Downsample3D,
    InflatedConv3d,
    ResnetBlock3D,
    Transformer3DModel,
    Upsample3D,
    VanillaTemporalModule,
)


@dataclass(frozen=True)
class UNet3DConfig:
    in_channels: int = 13
    out_channels: int = 4
    block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280)
    down_block_types: tuple[str, ...] = ("CrossAttnDownBlock3D",) * 3 + ("DownBlock3D",)
    up_block_types: tuple[str, ...] = ("UpBlock3D",) + ("CrossAttnUpBlock3D",) * 3
    layers_per_block: int = 2
    attention_head_dim: int = 8  # LatentSync passes it as the number of heads
    cross_attention_dim: int = 384
    norm_num_groups: int = 32
    norm_eps: float = 1e-5
    downsample_padding: int = 1
    flip_sin_to_cos: bool = True
    freq_shift: int = 0
    motion_module_resolutions: tuple[int, ...] = (1, 2, 4, 8)
    motion_heads: int = 8
    motion_layers: int = 1  # num_transformer_block
    motion_attention_blocks: int = 2  # Temporal_Self, Temporal_Self
    motion_max_len: int = 24  # temporal_position_encoding_max_len
    sample_size: int = 64
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def from_yaml_model(cls, model: dict[str, object]) -> UNet3DConfig:
        """From the `model:` section of LatentSync's stage2 config (unknown keys kept in `extra`)."""
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, object] = {}
        mm = dict(model.get("motion_module_kwargs") or {})  # type: ignore[call-overload]
        for key, value in model.items():
            if key in names and key != "extra":
                kwargs[key] = tuple(value) if isinstance(value, list) else value
        kwargs["motion_heads"] = mm.get("num_attention_heads", 8)
        kwargs["motion_layers"] = mm.get("num_transformer_block", 1)
        kwargs["motion_attention_blocks"] = len(mm.get("attention_block_types", ("Temporal_Self",) * 2))
        kwargs["motion_max_len"] = mm.get("temporal_position_encoding_max_len", 24)
        kwargs["norm_eps"] = float(model.get("norm_eps", 1e-5))  # type: ignore[arg-type]  (YAML 1.1 reads "1e-5" as text)
        kwargs["extra"] = {k: v for k, v in model.items() if k not in names}
        return cls(**kwargs)  # type: ignore[arg-type]


# The published architecture of LatentSync 1.5 and 1.6 (identical; resolution differs).
LATENTSYNC_UNET = UNet3DConfig()


class _Block(nn.Module):
    """A down or up block: resnets, optional spatial transformers, optional motion modules."""

    has_attention: bool

    def _layers(self, x: torch.Tensor, temb: torch.Tensor, audio: torch.Tensor | None, i: int) -> torch.Tensor:
        x = self.resnets[i](x, temb)
        if self.has_attention:
            x = self.attentions[i](x, audio)
        if self.motion_modules[i] is not None:
            x = self.motion_modules[i](x)
        return x


def _motion(cfg: UNet3DConfig, channels: int, enabled: bool) -> VanillaTemporalModule | None:
    if not enabled:
        return None
    return VanillaTemporalModule(
        channels, cfg.motion_heads, cfg.motion_layers, cfg.motion_attention_blocks, cfg.motion_max_len
    )


def _attention(cfg: UNet3DConfig, channels: int) -> Transformer3DModel:
    heads = cfg.attention_head_dim
    return Transformer3DModel(heads, channels // heads, channels, cfg.norm_num_groups, cfg.cross_attention_dim)


class DownBlock3D(_Block):
    def __init__(self, cfg: UNet3DConfig, cin: int, cout: int, temb: int, attention: bool, motion: bool, down: bool):
        super().__init__()
        self.has_attention = attention
        n = cfg.layers_per_block
        self.resnets = nn.ModuleList(
            [ResnetBlock3D(cin if i == 0 else cout, cout, temb, cfg.norm_num_groups, cfg.norm_eps) for i in range(n)]
        )
        if attention:
            self.attentions = nn.ModuleList([_attention(cfg, cout) for _ in range(n)])
        self.motion_modules = nn.ModuleList([_motion(cfg, cout, motion) for _ in range(n)])
        self.downsamplers = nn.ModuleList([Downsample3D(cout, cfg.downsample_padding)]) if down else None

    def forward(
        self, x: torch.Tensor, temb: torch.Tensor, audio: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for i in range(len(self.resnets)):
            x = self._layers(x, temb, audio, i)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock3D(_Block):
    def __init__(
        self, cfg: UNet3DConfig, cin: int, cprev: int, cout: int, temb: int, attention: bool, motion: bool, up: bool
    ):
        super().__init__()
        self.has_attention = attention
        n = cfg.layers_per_block + 1
        self.resnets = nn.ModuleList(
            [
                ResnetBlock3D(
                    (cprev if i == 0 else cout) + (cin if i == n - 1 else cout),
                    cout,
                    temb,
                    cfg.norm_num_groups,
                    cfg.norm_eps,
                )
                for i in range(n)
            ]
        )
        if attention:
            self.attentions = nn.ModuleList([_attention(cfg, cout) for _ in range(n)])
        self.motion_modules = nn.ModuleList([_motion(cfg, cout, motion) for _ in range(n)])
        self.upsamplers = nn.ModuleList([Upsample3D(cout)]) if up else None

    def forward(
        self,
        x: torch.Tensor,
        skips: list[torch.Tensor],
        temb: torch.Tensor,
        audio: torch.Tensor | None,
        size: tuple[int, int] | None,
    ) -> torch.Tensor:
        for i in range(len(self.resnets)):
            x = torch.cat([x, skips.pop()], dim=1)
            x = self._layers(x, temb, audio, i)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x, size)
        return x


class UNetMidBlock3DCrossAttn(nn.Module):
    def __init__(self, cfg: UNet3DConfig, channels: int, temb: int) -> None:
        super().__init__()
        g, eps = cfg.norm_num_groups, cfg.norm_eps
        self.resnets = nn.ModuleList([ResnetBlock3D(channels, channels, temb, g, eps) for _ in range(2)])
        self.attentions = nn.ModuleList([_attention(cfg, channels)])

    def forward(self, x: torch.Tensor, temb: torch.Tensor, audio: torch.Tensor | None) -> torch.Tensor:
        x = self.resnets[0](x, temb)
        return self.resnets[1](self.attentions[0](x, audio), temb)


class UNet3DConditionModel(nn.Module):
    """forward(sample (b, 13, f, h, w), timestep, audio (b·f, 50, 384)) → noise (b, 4, f, h, w)."""

    def __init__(self, cfg: UNet3DConfig = LATENTSYNC_UNET) -> None:
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps

        self.config = cfg
        ch = cfg.block_out_channels
        temb = ch[0] * 4
        self.conv_in = InflatedConv3d(cfg.in_channels, ch[0], kernel_size=3, padding=(1, 1))
        self.time_proj = Timesteps(ch[0], cfg.flip_sin_to_cos, cfg.freq_shift)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        out = ch[0]
        for i, kind in enumerate(cfg.down_block_types):
            cin, out = out, ch[i]
            motion = 2**i in cfg.motion_module_resolutions
            self.down_blocks.append(
                DownBlock3D(cfg, cin, out, temb, kind.startswith("CrossAttn"), motion, i < len(ch) - 1)
            )
        self.mid_block = UNetMidBlock3DCrossAttn(cfg, ch[-1], temb)
        rev = list(reversed(ch))
        self.up_blocks = nn.ModuleList()
        out = rev[0]
        for i, kind in enumerate(cfg.up_block_types):
            prev, out = out, rev[i]
            cin = rev[min(i + 1, len(ch) - 1)]
            motion = 2 ** (len(ch) - 1 - i) in cfg.motion_module_resolutions
            self.up_blocks.append(
                UpBlock3D(cfg, cin, prev, out, temb, kind.startswith("CrossAttn"), motion, i < len(ch) - 1)
            )
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, ch[0], eps=cfg.norm_eps)
        self.conv_act = nn.SiLU()
        self.conv_out = InflatedConv3d(ch[0], cfg.out_channels, kernel_size=3, padding=1)

    @property
    def dtype(self) -> torch.dtype:
        return self.conv_in.weight.dtype

    def forward(
        self, sample: torch.Tensor, timestep: torch.Tensor | float | int, audio: torch.Tensor | None
    ) -> torch.Tensor:
        t = torch.as_tensor(timestep, device=sample.device)
        t = t.reshape(-1).expand(sample.shape[0]) if t.numel() == 1 else t
        emb = self.time_embedding(self.time_proj(t).to(self.dtype))
        x = self.conv_in(sample)
        skips: list[torch.Tensor] = [x]
        sizes: list[tuple[int, int]] = []
        for block in self.down_blocks:
            sizes.append((x.shape[3], x.shape[4]))
            x, res = block(x, emb, audio)
            skips.extend(res)
        x = self.mid_block(x, emb, audio)
        for i, block in enumerate(self.up_blocks):
            size = sizes[-1 - i - 1] if i < len(self.up_blocks) - 1 else None
            x = block(x, skips, emb, audio, size)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))
