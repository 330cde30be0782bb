"""Latent helpers: seeds → z, style mixing, per-layer blending, interpolation."""
from __future__ import annotations

import numpy as np
import torch


def z_from_seed(seed: int, z_dim: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """z `[1, z_dim]` from a seed through `torch.Generator`: the same seed gives the same z anywhere."""
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn([1, z_dim], generator=g).to(device)


def z_from_seed_nvidia(seed: int, z_dim: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """z as NVIDIA's generate.py draws it: `np.random.RandomState(seed).randn(1, z_dim)`."""
    z = np.random.RandomState(int(seed)).randn(1, z_dim)
    return torch.from_numpy(z).to(device=device, dtype=torch.float32)


def style_mix(ws_a: torch.Tensor, ws_b: torch.Tensor, crossover: int) -> torch.Tensor:
    """Layers ≥ crossover take their style from B (the StyleGAN paper's style mixing)."""
    out = ws_a.clone()
    out[:, crossover:] = ws_b[:, crossover:]
    return out


def blend_layers(ws_a: torch.Tensor, ws_b: torch.Tensor, weights) -> torch.Tensor:
    """Per-layer A↔B blend: weight 0 keeps A, 1 takes B. `weights` has one entry per W input."""
    t = torch.as_tensor(weights, dtype=ws_a.dtype, device=ws_a.device).reshape(1, -1, 1)
    if t.shape[1] != ws_a.shape[1]:
        raise ValueError(f"{t.shape[1]} blend weights for {ws_a.shape[1]} W inputs")
    return ws_a + (ws_b - ws_a) * t


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last dimension (for Gaussian z); falls back to lerp."""
    na = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    nb = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    dot = (na * nb).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    small = so.abs() < eps
    wa = torch.where(small, 1.0 - t, torch.sin((1.0 - t) * omega) / so.where(~small, 1.0))
    wb = torch.where(small, torch.full_like(so, t), torch.sin(t * omega) / so.where(~small, 1.0))
    return wa * a + wb * b
