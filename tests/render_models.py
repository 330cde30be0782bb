"""Tiny StyleGAN2 models for the render tests (parameters from a torch.Generator, biases and noise
strengths moved off their initial values so that bias/noise mistakes show)."""
from __future__ import annotations

import torch

from ganstudio.core.checkpoint import save_generator
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator


def tiny_stylegan2(res: int = 32, seed: int = 0, channel_max: int = 16, z_dim: int = 32,
                   c_dim: int = 0) -> StyleGAN2Generator:
    cfg = StyleGAN2Config(img_resolution=res, z_dim=z_dim, w_dim=z_dim, c_dim=c_dim,
                          channel_base=channel_max * res, channel_max=channel_max,
                          mapping_layers=2)
    with torch.random.fork_rng(devices=[]):
        G = StyleGAN2Generator(cfg)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(G.named_parameters()):
            if name.endswith("noise_strength"):
                p.fill_(0.5)
            elif name.endswith("bias") and "mapping" not in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=g) + (1.0 if "affine" in name else 0))
            elif name.startswith("mapping") and name.endswith("weight"):
                p.copy_(100 * torch.randn(p.shape, generator=g))    # lr multiplier 0.01
            else:
                p.copy_(torch.randn(p.shape, generator=g))
        for name, b in sorted(G.named_buffers()):
            if name.endswith("noise_const"):
                b.copy_(torch.randn(b.shape, generator=g))
        G.mapping.w_avg.copy_(0.1 * torch.randn(G.w_dim, generator=g))
    return G.eval().requires_grad_(False)


def save_tiny(path, **kw) -> StyleGAN2Generator:
    G = tiny_stylegan2(**kw)
    save_generator(path, G, G_ema=G)
    return G
