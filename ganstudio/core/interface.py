"""The one generator interface that PGGAN, StyleGAN and StyleGAN2 implement.

A generator exposes `z_dim`, `w_dim`, `c_dim`, `num_ws`, `img_resolution`, a per-W-input layer
table, `mapping(z, c, truncation_psi, truncation_cutoff)` → ws `[N, num_ws, w_dim]` and
`synthesis(ws, noise_mode, noise_scale, noise_generator)` → images `[N, 3, H, W]` in [-1, 1].
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn


def resolution_group(resolution: int) -> str:
    """The StyleGAN paper's grouping of styles: coarse 4–8², middle 16–32², fine ≥ 64²."""
    if resolution <= 8:
        return "coarse"
    if resolution <= 32:
        return "middle"
    return "fine"


@dataclass(frozen=True)
class LayerInfo:
    """One W input (style) of a generator, as the explorer shows it."""
    index: int          # position in ws[:, index]
    resolution: int     # the resolution whose layers it mainly steers
    role: str           # the layers that consume it, e.g. "b8.conv1" or "b4.torgb+b8.conv0"
    group: str          # "coarse" | "middle" | "fine"
    has_noise: bool     # whether a layer fed by it adds per-pixel noise

    @property
    def label(self) -> str:
        return f"w{self.index} · {self.resolution}² · {self.group}"


def style_layer_table(num_ws: int, roles: Sequence[str], noise: Sequence[bool]) -> list[LayerInfo]:
    """Layer table where w_i steers resolution 2^(2 + i//2), the convention of the StyleGAN paper."""
    table = []
    for i in range(num_ws):
        res = 2 ** (2 + i // 2)
        table.append(LayerInfo(i, res, roles[i], resolution_group(res), bool(noise[i])))
    return table


class GeneratorBase(nn.Module):
    """Common behaviour; subclasses define `mapping` and `synthesis` submodules or methods."""

    arch: str = "?"
    config: object

    z_dim: int
    w_dim: int
    c_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int = 3
    # True when `synthesis(ws, c, ...)` needs the class too (BigGAN: c drives every block's
    # conditional BatchNorm); otherwise c only enters `mapping`.
    class_in_synthesis: bool = False

    # --- growing models override these -------------------------------------------------------
    @property
    def current_resolution(self) -> int:
        return self.img_resolution

    @property
    def alpha(self) -> float:
        return 1.0

    @property
    def active_num_ws(self) -> int:
        """How many ws the current growth stage reads (all of them unless the model grows)."""
        return self.num_ws

    @property
    def has_w_space(self) -> bool:
        return True

    def layer_table(self) -> list[LayerInfo]:
        raise NotImplementedError

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const",
                noise_generator: torch.Generator | None = None) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, noise_generator=noise_generator)

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def check_noise_scale(noise_scale, num_ws: int) -> list[float] | None:
    """Validate a per-W-input noise multiplier list (None = 1 everywhere)."""
    if noise_scale is None:
        return None
    scale = [float(s) for s in noise_scale]
    if len(scale) != num_ws:
        raise ValueError(f"noise_scale has {len(scale)} entries, the generator has {num_ws} W inputs")
    return scale
