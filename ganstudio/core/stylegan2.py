"""StyleGAN2 generator (config F: modulated convolutions, skip toRGB, no progressive growing).

Module and parameter names, stored values and the w-index assignment are those of NVIDIA's
official networks (stylegan2-ada-pytorch), so official weights load through an identity name map.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .interface import GeneratorBase, check_noise_scale, style_layer_table
from .layers import (LRELU_GAIN, FullyConnectedLayer, bias_act, make_noise, modulated_conv2d,
                     setup_filter, upsample2d)
from .mapping import MappingNetwork


@dataclass
class StyleGAN2Config:
    img_resolution: int = 64
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0
    img_channels: int = 3
    channel_base: int = 32768
    channel_max: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    conv_clamp: float | None = None
    # Explicit channels per resolution, {res: channels}, for tables the channel_base/channel_max
    # formula cannot express (e.g. rosinality checkpoints with channel_multiplier 4). None = formula.
    channel_table: dict | None = None

    def __post_init__(self):
        if self.channel_table is not None:  # JSON round trips turn the int keys into strings
            self.channel_table = {int(r): int(c) for r, c in self.channel_table.items()}

    def channels(self, res: int) -> int:
        if self.channel_table is not None:
            return self.channel_table[res]
        return min(self.channel_base // res, self.channel_max)


class SynthesisLayer(nn.Module):
    """Modulated 3×3 convolution, optional 2× upsampling, noise, bias and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *,
                 up: int = 1, conv_clamp: float | None = None, kernel_size: int = 3):
        super().__init__()
        self.resolution, self.up, self.conv_clamp = resolution, up, conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = LRELU_GAIN
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("resample_filter", setup_filter())
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
                noise_scale: float = 1.0, noise_generator: torch.Generator | None = None
                ) -> torch.Tensor:
        styles = self.affine(w)                                                  # [N, I]
        noise = None
        if noise_scale != 0:
            noise = make_noise(noise_mode, self.noise_const, x.shape[0], noise_generator)
            if noise is not None:
                noise = noise * (self.noise_strength * noise_scale)
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=(self.up == 1))
        clamp = self.conv_clamp
        return bias_act(x, self.bias.to(x.dtype), act="lrelu", gain=self.act_gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 convolution to RGB without demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int,
                 conv_clamp: float | None = None):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain                                # [N, I]
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (const | upsampling conv0), conv1, toRGB added to the upsampled skip image."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int, conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        self.register_buffer("resample_filter", setup_filter())
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        conv_clamp=conv_clamp)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution,
                                    conv_clamp=conv_clamp)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: str = "const", noise_scale=(1.0, 1.0),
                noise_generator: torch.Generator | None = None):
        """ws: [N, num_conv + 1, w_dim]; noise_scale: one multiplier per conv. Returns (x, img)."""
        i = 0
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)             # [N, C, 4, 4]
        else:
            x = self.conv0(x, ws[:, 0], noise_mode, noise_scale[0], noise_generator)
            i = 1
        x = self.conv1(x, ws[:, i], noise_mode, noise_scale[i], noise_generator)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        y = self.torgb(x, ws[:, i + 1])
        img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    """Blocks b4 … b{res}; a toRGB shares its w index with the next block's first conv."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int,
                 channel_max: int, conv_clamp: float | None = None,
                 channel_table: dict[int, int] | None = None):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        log2 = int(np.log2(img_resolution))
        if img_resolution != 2 ** log2 or img_resolution < 4:
            raise ValueError(f"img_resolution must be a power of two ≥ 4, got {img_resolution}")
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        if channel_table is not None:
            missing = [r for r in self.block_resolutions if r not in channel_table]
            if missing:
                raise ValueError(f"channel_table has no entry for resolutions {missing}")
            channels = {r: int(channel_table[r]) for r in self.block_resolutions}
        self.num_ws = 0
        for res in self.block_resolutions:
            in_c = channels[res // 2] if res > 4 else 0
            block = SynthesisBlock(in_c, channels[res], w_dim, res, img_channels, conv_clamp)
            self.num_ws += block.num_conv
            setattr(self, f"b{res}", block)
        self.num_ws += 1  # the last toRGB

    def blocks(self) -> list[SynthesisBlock]:
        return [getattr(self, f"b{r}") for r in self.block_resolutions]

    def block_w_start(self) -> list[int]:
        """Index of the first w each block consumes."""
        starts, idx = [], 0
        for block in self.blocks():
            starts.append(idx)
            idx += block.num_conv
        return starts

    def conv_w_indices(self) -> list[list[int]]:
        """Per block, the w index each of its convs consumes (noise scale is keyed by it)."""
        return [[s + j for j in range(b.num_conv)] for s, b in zip(self.block_w_start(), self.blocks())]

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", noise_scale=None,
                noise_generator: torch.Generator | None = None, start_block: int = 0,
                x: torch.Tensor | None = None, img: torch.Tensor | None = None,
                on_block=None) -> torch.Tensor:
        """ws: [N, num_ws, w_dim] → img [N, C, res, res].

        `start_block`, `x` and `img` resume synthesis from a stored block boundary, and
        `on_block(i, x, img)` sees every block's output (incremental rendering uses both).
        """
        assert ws.ndim == 3 and ws.shape[1] == self.num_ws, (ws.shape, self.num_ws)
        scale = check_noise_scale(noise_scale, self.num_ws)
        ws = ws.to(torch.float32)
        blocks = self.blocks()
        starts = self.block_w_start()
        for i in range(start_block, len(blocks)):
            block, s = blocks[i], starts[i]
            block_scale = [1.0, 1.0] if scale is None else [scale[s + j] for j in range(block.num_conv)]
            x, img = block(x, img, ws[:, s: s + block.num_conv + 1], noise_mode, block_scale,
                           noise_generator)
            if on_block is not None:
                on_block(i, x, img)
        return img


class StyleGAN2Generator(GeneratorBase):
    arch = "stylegan2"

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim, self.c_dim = config.z_dim, config.w_dim, config.c_dim
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        self.synthesis = SynthesisNetwork(config.w_dim, config.img_resolution, config.img_channels,
                                          config.channel_base, config.channel_max,
                                          config.conv_clamp, config.channel_table)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(config.z_dim, config.c_dim, config.w_dim, self.num_ws,
                                      num_layers=config.mapping_layers,
                                      lr_multiplier=config.mapping_lr_multiplier)

    def layer_table(self):
        roles, noise = [], []
        for i in range(self.num_ws):
            if i == 0:
                roles.append("b4.conv1")
            elif i % 2 == 1:
                r = 2 ** (2 + i // 2)
                roles.append(f"b{r}.torgb" + (f"+b{2 * r}.conv0" if i < self.num_ws - 1 else ""))
            else:
                roles.append(f"b{2 ** (2 + i // 2)}.conv1")
            noise.append(i < self.num_ws - 1)
        return style_layer_table(self.num_ws, roles, noise)
