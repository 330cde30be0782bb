"""Discriminators: StyleGAN2's residual D, and the progressive D of PGGAN / StyleGAN (v1).

Both end in the same 4×4 epilogue: minibatch stddev (group 4, 1 channel), 3×3 conv, dense,
output dense; with `c_dim > 0` the output is projected on a mapping of the label (projection
discriminator, as in StyleGAN2-ADA). The residual D uses NVIDIA's module names (`b{res}.fromrgb`,
`conv0`, `conv1`, `skip`; `b4.mbstd`, `conv`, `fc`, `out`; `mapping`), so official D weights can
load through an identity name map.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .growth import GrowthMixin, check_resolution, downsample_box
from .layers import Conv2dLayer, FullyConnectedLayer, MinibatchStd, setup_filter
from .mapping import MappingNetwork

SQRT_HALF = math.sqrt(0.5)


def _channels(config, res: int) -> int:
    return min(config.channel_base // res, config.channel_max)


class DiscriminatorEpilogue(nn.Module):
    """4×4 head: [fromrgb,] mbstd, conv 3×3, fc, out → logits `[N, 1]` (or `[N, cmap_dim]`)."""

    def __init__(self, in_channels: int, cmap_dim: int = 0, *, resolution: int = 4,
                 img_channels: int | None = None, mbstd_group_size: int = 4,
                 mbstd_num_channels: int = 1, conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.cmap_dim, self.resolution = in_channels, cmap_dim, resolution
        if img_channels is not None:  # the progressive D reads 4² images directly
            self.fromrgb = Conv2dLayer(img_channels, in_channels, 1, activation="lrelu",
                                       conv_clamp=conv_clamp)
        self.mbstd = MinibatchStd(mbstd_group_size, mbstd_num_channels)
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3,
                                activation="lrelu", conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, cmap: torch.Tensor | None = None) -> torch.Tensor:
        assert x.shape[1:] == (self.in_channels, self.resolution, self.resolution), x.shape
        x = self.mbstd(x.to(torch.float32))                                    # [N, C+1, 4, 4]
        x = self.conv(x)                                                        # [N, C, 4, 4]
        x = self.fc(x.flatten(1))                                               # [N, C]
        x = self.out(x)                                                         # [N, 1 | cmap_dim]
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))  # [N, 1]
        return x


def _label_mapping(c_dim: int, cmap_dim: int) -> MappingNetwork | None:
    """The official D's label mapping: c → cmap through 8 dense layers (lr 0.01), no w_avg."""
    if c_dim <= 0:
        return None
    return MappingNetwork(z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=1, w_avg_beta=None)


def _cmap(mapping: MappingNetwork | None, c: torch.Tensor | None, n: int) -> torch.Tensor | None:
    if mapping is None:
        return None
    if c is None:
        raise ValueError(f"this discriminator is class-conditional (c_dim={mapping.c_dim}): pass c")
    if c.shape != (n, mapping.c_dim):
        raise ValueError(f"c must be [N, {mapping.c_dim}], got {list(c.shape)}")
    return mapping(None, c)[:, 0]                                               # [N, cmap_dim]


def _check_image(img: torch.Tensor, channels: int, resolution: int) -> None:
    if img.ndim != 4 or img.shape[1:] != (channels, resolution, resolution):
        raise ValueError(f"the discriminator expects images [N, {channels}, {resolution}, "
                         f"{resolution}], got {list(img.shape)}")


# ---------------------------------------------------------------------------------------------
# StyleGAN2: residual discriminator
# ---------------------------------------------------------------------------------------------

class DiscriminatorBlock(nn.Module):
    """Residual block: (fromrgb,) conv0 3×3, conv1 3×3 ↓2, plus a 1×1 ↓2 skip; sum × √½."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int,
                 img_channels: int, conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        self.register_buffer("resample_filter", setup_filter())  # unused; official state dict has it
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu",
                                       conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu",
                                 conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2,
                                 conv_clamp=conv_clamp)
        self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None) -> torch.Tensor:
        if self.in_channels == 0:
            x = self.fromrgb(img.to(torch.float32))                             # [N, C, R, R]
        y = self.skip(x, gain=SQRT_HALF)                                        # [N, C', R/2, R/2]
        x = self.conv0(x)
        x = self.conv1(x, gain=SQRT_HALF)
        return y + x


class StyleGAN2Discriminator(nn.Module):
    """NVIDIA's StyleGAN2 D ('resnet' architecture): blocks b{R} … b8, epilogue b4."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.img_resolution = check_resolution(config.img_resolution)
        self.img_channels, self.c_dim = config.img_channels, config.c_dim
        log2 = int(np.log2(self.img_resolution))
        self.block_resolutions = [2 ** i for i in range(log2, 2, -1)]
        clamp = getattr(config, "conv_clamp", None)
        for res in self.block_resolutions:
            in_c = _channels(config, res) if res < self.img_resolution else 0
            block = DiscriminatorBlock(in_c, _channels(config, res), _channels(config, res // 2),
                                       res, self.img_channels, conv_clamp=clamp)
            setattr(self, f"b{res}", block)
        cmap_dim = _channels(config, 4) if self.c_dim > 0 else 0
        self.mapping = _label_mapping(self.c_dim, cmap_dim)
        self.b4 = DiscriminatorEpilogue(  # a 4² model reads the image in the epilogue
            _channels(config, 4), cmap_dim, conv_clamp=clamp,
            img_channels=self.img_channels if self.img_resolution == 4 else None)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """img `[N, C, R, R]` (R = img_resolution), c `[N, c_dim]` → logits `[N, 1]`."""
        _check_image(img, self.img_channels, self.img_resolution)
        x = None
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, img)
        if x is None:  # 4² model
            x = self.b4.fromrgb(img.to(torch.float32))
        return self.b4(x, _cmap(self.mapping, c, img.shape[0]))


# ---------------------------------------------------------------------------------------------
# PGGAN / StyleGAN (v1): progressive discriminator
# ---------------------------------------------------------------------------------------------

class ProgressiveBlock(nn.Module):
    """fromrgb (used when this is the top resolution), conv0 3×3, conv1 3×3 with FIR ↓2."""

    def __init__(self, channels: int, out_channels: int, img_channels: int, down_filter):
        super().__init__()
        self.fromrgb = Conv2dLayer(img_channels, channels, 1, activation="lrelu")
        self.conv0 = Conv2dLayer(channels, channels, 3, activation="lrelu")
        self.conv1 = Conv2dLayer(channels, out_channels, 3, activation="lrelu", down=2,
                                 resample_filter=down_filter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1(self.conv0(x))                                       # [N, C', R/2, R/2]


class ProgressiveDiscriminator(GrowthMixin, nn.Module):
    """PGGAN / StyleGAN discriminator with fromRGB per resolution and fade-in.

    At resolution R with α < 1: lerp(fromrgb_{R/2}(downsample(img)), b{R}(fromrgb_R(img)), α),
    then blocks R/2 … 8 and the 4² epilogue. The downsampling conv uses the config's
    `DOWN_FILTER`: a box [1, 1] for PGGAN (conv then average pooling), [1, 3, 3, 1] for StyleGAN
    (its [1, 2, 1] blur, conv, then average pooling). Even filters keep the output centred
    between input pixels, as the fade-in branch's `downsample_box` is.
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.img_channels = config.img_channels
        self.c_dim = int(getattr(config, "c_dim", 0))
        self._init_growth(config.img_resolution)
        self.img_resolution = self._target_resolution
        down_filter = tuple(getattr(config, "DOWN_FILTER", (1, 1)))
        self.block_resolutions = [r for r in reversed(self.growth_resolutions()) if r > 4]
        for res in self.block_resolutions:
            setattr(self, f"b{res}", ProgressiveBlock(_channels(config, res),
                                                      _channels(config, res // 2),
                                                      self.img_channels, down_filter))
        cmap_dim = _channels(config, 4) if self.c_dim > 0 else 0
        self.mapping = _label_mapping(self.c_dim, cmap_dim)
        self.b4 = DiscriminatorEpilogue(_channels(config, 4), cmap_dim, img_channels=self.img_channels)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """img `[N, C, R, R]` (R = current_resolution), c `[N, c_dim]` → logits `[N, 1]`."""
        res, alpha = self.current_resolution, self.alpha
        _check_image(img, self.img_channels, res)
        img = img.to(torch.float32)
        x = self._fromrgb_at(res)(img)                                             # [N, C_R, R, R]
        for r in [r for r in self.block_resolutions if r <= res]:
            x = getattr(self, f"b{r}")(x)                                       # [N, C_r/2, r/2, r/2]
            if r == res and alpha < 1:
                y = self._fromrgb_at(r // 2)(downsample_box(img))
                x = y + (x - y) * alpha if alpha > 0 else y
        return self.b4(x, _cmap(self.mapping, c, img.shape[0]))

    def _fromrgb_at(self, res: int) -> Conv2dLayer:
        return self.b4.fromrgb if res == 4 else getattr(self, f"b{res}").fromrgb
