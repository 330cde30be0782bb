"""Progressive GAN generator (Karras et al. 2018): pixel norm, equalized LR, fade-in.

z is pixel-normalised, a dense layer makes the 4×4 features (lrelu, pixel norm), then a 3×3 conv;
each higher resolution is nearest 2× upsampling and two 3×3 convs, each followed by leaky ReLU and
pixel norm; a 1×1 toRGB per resolution. There is no W space: `mapping` returns ψ·z as the single
style input `[N, 1, z_dim]` (w_avg = 0), and synthesis starts with the pixel norm — so, as in the
paper's generator, only the direction of z matters and truncation has no effect except ψ = 0.

Leaky ReLU carries its √2 gain after the activation (as everywhere in this package), not in the
weights; the pixel norm after every layer makes this the same function with the original biases
divided by √2. The dense layer's extra weight gain of 1/4 is the official configuration's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .growth import (GrowingGenerator, GrowthMixin, check_resolution, render_progressive,
                     upsample_nearest)
from .interface import LayerInfo, check_noise_scale
from .layers import NOISE_MODES, Conv2dLayer, FullyConnectedLayer, bias_act, normalize_2nd_moment
from .mapping import truncate


@dataclass
class PGGANConfig:
    img_resolution: int = 64          # target resolution (growing stops here)
    z_dim: int = 512
    img_channels: int = 3
    channel_base: int = 16384         # the paper's table: 512 up to 32², then halving
    channel_max: int = 512

    DOWN_FILTER = (1, 1)              # the discriminator's conv then 2×2 average pool (not a field)

    def channels(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)


class ZMapping(nn.Module):
    """z → ws `[N, 1, z_dim]` = ψ·z (w_avg is a zero buffer, so truncation works as everywhere)."""

    def __init__(self, z_dim: int):
        super().__init__()
        self.z_dim, self.w_dim, self.c_dim, self.num_ws = z_dim, z_dim, 0, 1
        self.register_buffer("w_avg", torch.zeros(z_dim))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        ws = z.to(torch.float32).unsqueeze(1)                                  # [N, 1, z_dim]
        return truncate(ws, self.w_avg, truncation_psi, truncation_cutoff)


class PGGANBlock(nn.Module):
    """4²: pixel norm, dense → 4×4, conv1. Higher: ↑2 nearest, conv0, conv1. toRGB per block."""

    def __init__(self, in_channels: int, out_channels: int, z_dim: int, resolution: int,
                 img_channels: int):
        super().__init__()
        self.in_channels, self.out_channels, self.resolution = in_channels, out_channels, resolution
        if in_channels == 0:
            self.fc = FullyConnectedLayer(z_dim, out_channels * resolution ** 2, bias=False,
                                          gain=0.25)
            self.bias = nn.Parameter(torch.zeros(out_channels))
        else:
            self.conv0 = Conv2dLayer(in_channels, out_channels, 3, activation="lrelu")
        self.conv1 = Conv2dLayer(out_channels, out_channels, 3, activation="lrelu")
        self.torgb = Conv2dLayer(out_channels, img_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.resolution
        if self.in_channels == 0:                                              # x: z [N, z_dim]
            x = self.fc(normalize_2nd_moment(x)).reshape(-1, self.out_channels, r, r)
            x = normalize_2nd_moment(bias_act(x, self.bias, act="lrelu"))      # [N, C, 4, 4]
        else:
            x = normalize_2nd_moment(self.conv0(upsample_nearest(x)))          # [N, C, R, R]
        return normalize_2nd_moment(self.conv1(x))


class PGGANSynthesisNetwork(GrowthMixin, nn.Module):
    """Blocks b4 … b{res}; renders ws `[N, 1, z_dim]`. Holds the growth state."""

    def __init__(self, z_dim: int, img_resolution: int, img_channels: int, channel_base: int,
                 channel_max: int):
        super().__init__()
        self.z_dim, self.img_channels, self.num_ws = z_dim, img_channels, 1
        self.img_resolution = check_resolution(img_resolution)
        log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        for res in self.block_resolutions:
            in_c = channels[res // 2] if res > 4 else 0
            setattr(self, f"b{res}", PGGANBlock(in_c, channels[res], z_dim, res, img_channels))
        self._init_growth(img_resolution)

    def blocks(self) -> list[PGGANBlock]:
        return [getattr(self, f"b{r}") for r in self.block_resolutions]

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", noise_scale=None,
                noise_generator: torch.Generator | None = None, start_block: int = 0,
                x: torch.Tensor | None = None, img: torch.Tensor | None = None,
                on_block=None) -> torch.Tensor:
        """ws: [N, 1, z_dim] → img [N, C, R, R], R = current_resolution. PGGAN has no noise:
        `noise_mode`/`noise_scale` are checked and ignored; `start_block`/`x` resume a render."""
        assert ws.ndim == 3 and ws.shape[1:] == (1, self.z_dim), (ws.shape, self.z_dim)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        check_noise_scale(noise_scale, self.num_ws)
        z = ws[:, 0].to(torch.float32)                                          # [N, z_dim]
        blocks = self.blocks()

        def run_block(i: int, h: torch.Tensor | None) -> torch.Tensor:
            return blocks[i](z if i == 0 else h)

        return render_progressive(blocks, run_block, self.current_resolution, self.alpha,
                                  start_block, x, on_block)


class PGGANGenerator(GrowingGenerator):
    arch = "pggan"

    def __init__(self, config: PGGANConfig):
        super().__init__()
        self.config = config
        self.z_dim = self.w_dim = config.z_dim
        self.c_dim, self.num_ws = 0, 1
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        self.synthesis = PGGANSynthesisNetwork(config.z_dim, config.img_resolution,
                                               config.img_channels, config.channel_base,
                                               config.channel_max)
        self.mapping = ZMapping(config.z_dim)

    @property
    def has_w_space(self) -> bool:
        return False

    def layer_table(self) -> list[LayerInfo]:
        return [LayerInfo(0, 4, "z", "coarse", False)]
