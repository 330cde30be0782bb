"""StyleGAN (v1) generator: mapping network, AdaIN after every conv, noise, progressive growing.

Per resolution two layers, each: (conv) → noise × per-channel strength → bias → leaky ReLU →
instance norm → style (AdaIN with [ys, yb] = affine(w_i)). At 4² the first layer starts from the
learned constant (no conv). Upsampling is nearest 2× → 3×3 conv → [1, 2, 1] blur at every
resolution; the official code's fused transposed conv at ≥ 128² computes the same function
with the same weights, so one path suffices. num_ws = 2·log2(res) − 2, w_i feeds layer i.

Leaky ReLU carries its √2 gain after the activation (as everywhere in this package) rather than in
the conv weight as the original TensorFlow code did: the instance norm that follows removes the
factor, so an importer maps the original bias and noise strength by dividing them by √2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .growth import (GrowingGenerator, GrowthMixin, blur, check_resolution, render_progressive,
                     upsample_nearest)
from .interface import check_noise_scale, style_layer_table
from .layers import (NOISE_MODES, Conv2dLayer, FullyConnectedLayer, adaptive_instance_norm,
                     bias_act, make_noise, setup_filter)
from .mapping import MappingNetwork


@dataclass
class StyleGANConfig:
    img_resolution: int = 64          # target resolution (growing stops here)
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0
    img_channels: int = 3
    channel_base: int = 16384         # the paper's table: 512 up to 32², then halving
    channel_max: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01

    # The discriminator's [1, 2, 1] blur → 3×3 conv → 2×2 average, folded into one FIR filter
    # ([1, 2, 1] * [1, 1]) before a stride-2 conv: same numbers, centred as the box (not a field).
    DOWN_FILTER = (1, 3, 3, 1)

    def channels(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)


class StyleLayer(nn.Module):
    """(↑2 conv 3×3 blur | conv 3×3 | nothing), noise, bias, lrelu, AdaIN driven by w."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 up: bool = False):
        super().__init__()
        self.in_channels, self.resolution, self.up = in_channels, resolution, up
        if in_channels > 0:
            self.conv = Conv2dLayer(in_channels, out_channels, 3, bias=False)
        if up:
            self.register_buffer("blur_filter", setup_filter([1, 2, 1]))
        self.noise_strength = nn.Parameter(torch.zeros(out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.affine = FullyConnectedLayer(w_dim, 2 * out_channels)            # → [ys, yb]
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
                noise_scale: float = 1.0, noise_generator: torch.Generator | None = None
                ) -> torch.Tensor:
        if self.up:
            x = upsample_nearest(x)                                            # [N, I, R, R]
        if self.in_channels > 0:
            x = self.conv(x)                                                   # [N, C, R, R]
        if self.up:
            x = blur(x, self.blur_filter)
        if noise_scale != 0:
            noise = make_noise(noise_mode, self.noise_const, x.shape[0], noise_generator)
            if noise is not None:                                              # [N|1, 1, R, R]
                x = x + noise * (self.noise_strength.reshape(1, -1, 1, 1) * noise_scale)
        x = bias_act(x, self.bias, act="lrelu")
        return adaptive_instance_norm(x, self.affine(w))                       # [N, C, R, R]


class StyleBlock(nn.Module):
    """One resolution: conv0 (the constant at 4², else ↑2 conv), conv1, and this resolution's toRGB."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int):
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        if in_channels == 0:
            self.const = nn.Parameter(torch.ones(out_channels, resolution, resolution))
        self.conv0 = StyleLayer(in_channels, out_channels, w_dim, resolution, up=in_channels > 0)
        self.conv1 = StyleLayer(out_channels, out_channels, w_dim, resolution)
        self.torgb = Conv2dLayer(out_channels, img_channels, 1)

    def forward(self, x: torch.Tensor | None, ws: torch.Tensor, noise_mode: str = "const",
                noise_scale=(1.0, 1.0), noise_generator: torch.Generator | None = None
                ) -> torch.Tensor:
        """ws: [N, 2, w_dim] → features [N, C, R, R]."""
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)           # [N, C, 4, 4]
        x = self.conv0(x, ws[:, 0], noise_mode, noise_scale[0], noise_generator)
        return self.conv1(x, ws[:, 1], noise_mode, noise_scale[1], noise_generator)


class StyleSynthesisNetwork(GrowthMixin, nn.Module):
    """Blocks b4 … b{res}; w_{2k}, w_{2k+1} feed block k. Holds the growth state."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int,
                 channel_max: int):
        super().__init__()
        self.w_dim, self.img_channels = w_dim, img_channels
        self.img_resolution = check_resolution(img_resolution)
        log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        for res in self.block_resolutions:
            in_c = channels[res // 2] if res > 4 else 0
            setattr(self, f"b{res}", StyleBlock(in_c, channels[res], w_dim, res, img_channels))
        self.num_ws = 2 * len(self.block_resolutions)
        self._init_growth(img_resolution)

    def blocks(self) -> list[StyleBlock]:
        return [getattr(self, f"b{r}") for r in self.block_resolutions]

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", noise_scale=None,
                noise_generator: torch.Generator | None = None, start_block: int = 0,
                x: torch.Tensor | None = None, img: torch.Tensor | None = None,
                on_block=None) -> torch.Tensor:
        """ws: [N, num_ws, w_dim] → img [N, C, R, R], R = current_resolution.

        `start_block`/`x` resume from the features block `start_block − 1` produced (`img` is
        accepted for symmetry with StyleGAN2 and not needed: there is no skip image).
        """
        assert ws.ndim == 3 and ws.shape[1] == self.num_ws, (ws.shape, self.num_ws)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        scale = check_noise_scale(noise_scale, self.num_ws) or [1.0] * self.num_ws
        ws = ws.to(torch.float32)
        blocks = self.blocks()

        def run_block(i: int, h: torch.Tensor | None) -> torch.Tensor:
            return blocks[i](h, ws[:, 2 * i: 2 * i + 2], noise_mode, scale[2 * i: 2 * i + 2],
                             noise_generator)

        return render_progressive(blocks, run_block, self.current_resolution, self.alpha,
                                  start_block, x, on_block)


class StyleGANGenerator(GrowingGenerator):
    arch = "stylegan"

    def __init__(self, config: StyleGANConfig):
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim, self.c_dim = config.z_dim, config.w_dim, config.c_dim
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        self.synthesis = StyleSynthesisNetwork(config.w_dim, config.img_resolution,
                                               config.img_channels, config.channel_base,
                                               config.channel_max)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(config.z_dim, config.c_dim, config.w_dim, self.num_ws,
                                      num_layers=config.mapping_layers,
                                      lr_multiplier=config.mapping_lr_multiplier)

    @property
    def active_num_ws(self) -> int:
        """How many ws the current growth stage reads (2 per resolution up to the current one)."""
        return 2 * int(np.log2(self.current_resolution)) - 2

    def layer_table(self):
        roles = [f"b{2 ** (2 + i // 2)}.conv{i % 2}" for i in range(self.num_ws)]
        return style_layer_table(self.num_ws, roles, [True] * self.num_ws)

    def style_affines(self) -> list[tuple[int, str, torch.Tensor]]:
        """(w index, name, effective weight `[2C, w_dim]`) per AdaIN layer, for SeFa.

        Both halves of each affine count: after instance norm the features have unit variance,
        so a unit change in the scale ys moves the output as much as a unit change in the bias yb.
        There is no style on toRGB in StyleGAN v1.
        """
        out = []
        for k, block in enumerate(self.synthesis.blocks()):
            for j, layer in enumerate((block.conv0, block.conv1)):
                aff = layer.affine
                out.append((2 * k + j, f"b{block.resolution}.conv{j}",
                            aff.weight.detach() * aff.weight_gain))
        return out
