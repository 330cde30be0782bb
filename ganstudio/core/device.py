"""Which torch device to run on: auto → CUDA, then MPS, then CPU, unless told otherwise."""
from __future__ import annotations

import os

import torch

DEVICE_ENV = "GANSTUDIO_DEVICE"


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def pick_device(name: str | None = None) -> torch.device:
    """`name` (or $GANSTUDIO_DEVICE when `name` is empty) as a torch device; 'auto' picks the best.

    Raises ValueError with a one-line reason for unknown or unavailable devices.
    """
    name = (name or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine")
    if dev.type == "mps" and not mps_available():
        raise ValueError(f"device {name!r}: MPS is not available on this machine")
    return dev
