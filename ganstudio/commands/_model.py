"""Shared by the model commands: open MODEL (native .safetensors, or other formats through
`ganstudio.core.importers` when that module is present) and pick a device."""
from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import torch

from ganstudio.core.checkpoint import CheckpointError, load_native_generator
from ganstudio.core.device import pick_device as core_pick_device


class CommandError(Exception):
    """Reported as one line on stderr; the command exits with status 1."""


def pick_device(name: str | None = None) -> torch.device:
    """auto (CUDA, then MPS, then CPU) unless `name` or $GANSTUDIO_DEVICE says otherwise."""
    try:
        return core_pick_device(name)
    except ValueError as e:
        raise CommandError(str(e)) from None


def load_model(path: str, device: torch.device):
    """The generator in `path`, in eval mode without gradients, on `device`."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        if p.suffix.lower() == ".safetensors":
            G = load_native_generator(p)
        else:
            try:
                importers = importlib.import_module("ganstudio.core.importers")
            except ModuleNotFoundError:
                raise CommandError(f"{path}: only GANStudio .safetensors checkpoints can be opened "
                                   "in this version") from None
            G = importers.load_generator(str(p))
    except CheckpointError as e:
        raise CommandError(str(e)) from None
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise CommandError(f"{path}: cannot load the model ({e})") from None
    return G.to(device).eval().requires_grad_(False)


def parse_layers(text: str | None, num_ws: int) -> tuple[int, int] | None:
    """"A-B" (inclusive W indices) or "A" → (A, B); None → None (all layers)."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not m:
        raise CommandError(f"--layers must look like 0-3 or 5, got {text!r}")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) is not None else first
    if not 0 <= first <= last < num_ws:
        raise CommandError(f"--layers {text}: the model has W indices 0-{num_ws - 1}")
    return first, last
