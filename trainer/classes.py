"""Class-conditional training helpers: the number and names of classes, per-class previews.

A fresh BigGAN run takes its classes from the data (`synthetic:faces`: one class per hair colour
by default; folders: one per top-level subfolder), records `n_classes` in the model config, and
saves the class names in every checkpoint's meta (`class_names`), which the explorer's class
picker shows. Previews of conditional models show one row per class (at most MAX_CLASS_ROWS),
each column one fixed z, so a column shows what the class changes.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

MAX_CLASS_ROWS = 16
CLASS_ARCHS = ("biggan",)          # architectures that need class labels


def with_data_classes(config, model_config: dict, open_data):
    """(config, model_config) with `n_classes` from the data for a fresh class-conditional run.

    open_data(labels=True) returns the dataset. A model config that already sets n_classes keeps
    it. Raises ValueError when the data has no labels.
    """
    if config.arch not in CLASS_ARCHS or "n_classes" in config.model:
        return config, model_config
    n = open_data(labels=True).num_classes
    if n < 1:
        raise ValueError(f"--arch {config.arch} is class-conditional, but {config.data} has no "
                         "class labels (use class subfolders, or synthetic:faces)")
    config = dataclasses.replace(config, model={**config.model, "n_classes": n})
    return config, {**model_config, "n_classes": n}


def class_names(dataset, c_dim: int) -> list[str] | None:
    """The data's class names when they name every class of the model, else None."""
    names = list(getattr(dataset, "class_names", ()) or ())
    return names if c_dim and len(names) == c_dim else None


def preview_latents(generator: torch.Generator, rows: int, cols: int, z_dim: int, c_dim: int,
                    device) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int]]:
    """(z [R·C, z_dim], one-hot c [R·C, c_dim] or None, (R, C)) for the preview grid.

    Unconditional: R × C independent z. Conditional: R = min(c_dim, MAX_CLASS_ROWS) rows, row r
    class r, the same C z in every row.
    """
    if not c_dim:
        z = torch.randn([rows * cols, z_dim], generator=generator)
        return z.to(device), None, (rows, cols)
    rows = min(c_dim, MAX_CLASS_ROWS)
    z = torch.randn([cols, z_dim], generator=generator).repeat(rows, 1)         # [R·C, z_dim]
    c = F.one_hot(torch.arange(rows).repeat_interleave(cols), c_dim).float()   # [R·C, c_dim]
    return z.to(device), c.to(device), (rows, cols)
