"""Tiny training configurations shared by the trainer tests (not a test module)."""
from __future__ import annotations

from trainer.config import preset

TINY_MODEL = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)
TINY_DATA = "synthetic:faces?n=32"


def tiny_config(arch: str, out, res: int = 8, **overrides):
    """A few-kimg run at 8² (progressive archs: 4² then 8²) with 16-channel networks, batch 4."""
    values = dict(model=dict(TINY_MODEL), data=TINY_DATA, out=str(out), device="cpu", kimg=0.2,
                  batch=4, batch_per_res={}, phase_kimg=0.016, transition_kimg=0.032,
                  tick_kimg=0.02, preview_kimg=0.04, snapshot_kimg=1.0, r1_interval=2,
                  pl_interval=2, preview_grid=(2, 2), seed=3)
    values.update(overrides)
    return preset(arch, res, **values)
