"""Mapping network z → w (StyleGAN, StyleGAN2), with w_avg tracking and truncation."""
from __future__ import annotations

import torch
from torch import nn

from .layers import FullyConnectedLayer, normalize_2nd_moment


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, truncation_psi: float = 1.0,
             truncation_cutoff: int | None = None) -> torch.Tensor:
    """w' = w_avg + ψ (w − w_avg) on layers < cutoff (all when cutoff is None)."""
    if truncation_psi == 1:
        return ws
    cutoff = ws.shape[1] if truncation_cutoff is None else int(truncation_cutoff)
    out = ws.clone()
    out[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], truncation_psi)
    return out


class MappingNetwork(nn.Module):
    """Normalised z (and an optional class embedding) through `num_layers` leaky-ReLU dense layers.

    Submodule names (`embed`, `fc0`…, buffer `w_avg`) match the official networks.
    `w_avg_beta=None` leaves out `w_avg` (and truncation), as the discriminator's label mapping does.
    """

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, num_layers: int = 8,
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995,
                 layer_features: int | None = None):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        layer_features = w_dim if layer_features is None else layer_features
        embed_features = w_dim if c_dim > 0 else 0
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            self.add_module(f"fc{i}", FullyConnectedLayer(
                features[i], features[i + 1], activation="lrelu", lr_multiplier=lr_multiplier))
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        x = None
        if self.z_dim > 0:
            x = normalize_2nd_moment(z.to(torch.float32))                # [N, z_dim]
        if self.c_dim > 0:
            if c is None:
                raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass c")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))   # [N, w_dim]
            x = torch.cat([x, y], dim=1) if x is not None else y
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if self.w_avg_beta is None:
            return x.unsqueeze(1).repeat(1, self.num_ws, 1)                # [N, num_ws, w_dim]
        if update_emas:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)                   # [N, num_ws, w_dim]
        return truncate(ws, self.w_avg, truncation_psi, truncation_cutoff)
