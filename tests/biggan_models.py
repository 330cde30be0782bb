"""Tiny BigGAN generators for the render and UI tests (not a test module).

Every parameter is drawn from a `torch.Generator` (the attention gain moved off 0 so that it
matters); the stored BatchNorm statistics are those of one seeded batch.
"""
from __future__ import annotations

import torch

from ganstudio.core.biggan import BigGANConfig, BigGANGenerator
from ganstudio.core.checkpoint import save_generator

CLASS_NAMES = ("black", "brown", "blonde", "red")


def tiny_biggan_config(**kw) -> BigGANConfig:
    base = dict(img_resolution=32, ch=4, z_dim=20, shared_dim=8, n_classes=len(CLASS_NAMES),
                attn_resolutions=(16,), d_ch=4, d_attn_resolutions=(16,))
    return BigGANConfig(**{**base, **kw})


def tiny_biggan(seed: int = 0, **kw) -> BigGANGenerator:
    with torch.random.fork_rng(devices=[]):
        G = BigGANGenerator(tiny_biggan_config(**kw))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(G.named_parameters()):
            if name.endswith("gamma"):
                p.fill_(0.5)
            elif name.startswith("shared"):                    # classes that differ visibly
                p.copy_(3 * torch.randn(p.shape, generator=g))
            elif name == "output_layer.0.gain":                  # full contrast
                p.fill_(4.0)
            elif name.endswith("weight"):
                p.copy_(torch.randn(p.shape, generator=g) / max(p[0].numel(), 1) ** 0.5)
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
        for name, b in sorted(G.named_buffers()):
            if name.split(".")[-1].startswith("u"):
                b.copy_(torch.randn(b.shape, generator=g))
        # BatchNorm statistics of a batch (momentum 1), so activations keep their scale
        norms = [m for m in G.modules() if hasattr(m, "stored_mean")]
        for m in norms:
            m.momentum = 1.0
        G.train()(torch.randn([32, G.z_dim], generator=g),
                  torch.randint(G.c_dim, [32], generator=g))
        for m in norms:
            m.momentum = 0.1
    return G.eval().requires_grad_(False)


def save_tiny_biggan(path, class_names=CLASS_NAMES, **kw) -> BigGANGenerator:
    G = tiny_biggan(**kw)
    meta = {"class_names": list(class_names)} if class_names else {}
    save_generator(path, G, G_ema=G, meta=meta)
    return G
