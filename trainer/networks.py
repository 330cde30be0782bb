"""Building the networks and optimizers of a run (seeded, no global RNG), and device choice."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ganstudio.core.device import pick_device  # noqa: F401  (re-exported for trainer.loop)
from ganstudio.core.registry import build_discriminator, build_generator

from .config import TrainConfig
from .seeding import derive_seed, seeded_build

SEED_G, SEED_D, SEED_DATA, SEED_TRAIN, SEED_GRID = 1, 2, 3, 4, 5


@dataclass
class Networks:
    G: torch.nn.Module
    G_ema: torch.nn.Module
    D: torch.nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer


def build_networks(config: TrainConfig, model_config: dict, device: torch.device) -> Networks:
    """G and D at the target size from the run seed; G_ema a copy of G; one Adam per network."""
    arch = config.arch
    G = seeded_build(lambda: build_generator(arch, model_config), derive_seed(config.seed, SEED_G))
    try:
        D = seeded_build(lambda: build_discriminator(arch, model_config),
                         derive_seed(config.seed, SEED_D))
    except ValueError as e:
        raise ValueError(f"cannot train {arch}: {e}") from None
    G, D = G.to(device).train().requires_grad_(True), D.to(device).train().requires_grad_(True)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    kw = dict(betas=tuple(config.betas), eps=config.adam_eps)
    opt_G = torch.optim.Adam(G.parameters(), lr=config.g_lr, **kw)
    opt_D = torch.optim.Adam(D.parameters(), lr=config.d_lr, **kw)
    return Networks(G, G_ema, D, opt_G, opt_D)


def set_growth(modules, resolution: int, alpha: float) -> None:
    for m in modules:
        if hasattr(m, "set_growth"):
            m.set_growth(resolution, alpha)


def first_non_finite(named: dict[str, torch.nn.Module]) -> str | None:
    """Name of the first parameter or buffer holding NaN/Inf, or None when all are finite."""
    for what, m in named.items():
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                return f"{what}.{name}"
    return None
