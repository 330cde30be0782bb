"""A small CNN that reads the factors of a `synthetic:faces` image back: smile, tilt, glasses, hair
colour… It labels generated images so that directions in W can be fitted to named factors
(`ganstudio.core.factor_directions`).

The factor table travels inside the reader's file, so the core needs nothing from the trainer:
`{name: ["continuous", lo, hi] | ["circular"] | ["bool"] | ["categorical", [class names]]}`.
Heads: continuous → one number scaled to [-1, 1] over (lo, hi); circular (a hue in [0, 1)) →
(cos, sin); bool → one logit; categorical → one logit per class.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .checkpoint import CheckpointError, atomic_write

META_KEY = "ganstudio_face_reader"
INPUT_RESOLUTION = 64


def head_width(spec: list) -> int:
    kind = spec[0]
    return {"continuous": 1, "circular": 2, "bool": 1}.get(kind) or len(spec[1])


class FaceReader(nn.Module):
    """[N, 3, H, W] images in [-1, 1] (any H = W; resized to 64²) → one head per factor."""

    def __init__(self, factors: dict[str, list], width: int = 16):
        super().__init__()
        self.factors = {name: list(spec) for name, spec in factors.items()}
        self.width = width
        chans = [3, width, 2 * width, 4 * width, 4 * width]               # 64² → 32² → … → 4²
        layers = []
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2),
                       nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
                       nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(chans[-1] * 16, sum(head_width(s) for s in self.factors.values()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Raw head outputs `[N, Σ widths]` (logits, scaled values, cos/sin)."""
        x = images.to(torch.float32)
        if x.shape[-1] != INPUT_RESOLUTION:
            x = F.interpolate(x, size=(INPUT_RESOLUTION, INPUT_RESOLUTION), mode="bilinear",
                              antialias=True, align_corners=False)
        return self.head(self.features(x).flatten(1))

    def split(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw outputs per factor."""
        parts, i = {}, 0
        for name, spec in self.factors.items():
            n = head_width(spec)
            parts[name] = out[:, i:i + n]
            i += n
        return parts

    @torch.no_grad()
    def read(self, images: torch.Tensor, batch: int = 256) -> dict[str, np.ndarray]:
        """Factor values in their own units: continuous → value, circular → [0, 1), bool →
        probability, categorical → class probabilities `[N, classes]`."""
        self.eval()
        outs = torch.cat([self(images[i:i + batch]) for i in range(0, len(images), batch)])
        return {name: decode(self.factors[name], raw) for name, raw in self.split(outs).items()}


def decode(spec: list, raw: torch.Tensor) -> np.ndarray:
    kind = spec[0]
    if kind == "continuous":
        lo, hi = spec[1], spec[2]
        return ((raw[:, 0] + 1) / 2 * (hi - lo) + lo).numpy()
    if kind == "circular":
        return (torch.atan2(raw[:, 1], raw[:, 0]) / (2 * math.pi) % 1.0).numpy()
    if kind == "bool":
        return torch.sigmoid(raw[:, 0]).numpy()
    return torch.softmax(raw, dim=1).numpy()


def factor_target(spec: list, values: np.ndarray) -> np.ndarray:
    """What a head is trained towards, `[N, width]`, from label values `[N]`."""
    kind = spec[0]
    v = np.asarray(values, dtype=np.float64)
    if kind == "continuous":
        return ((v - spec[1]) / (spec[2] - spec[1]) * 2 - 1)[:, None]
    if kind == "circular":
        return np.stack([np.cos(2 * np.pi * v), np.sin(2 * np.pi * v)], axis=1)
    return v[:, None]                                    # bool 0/1, categorical class index


def save_face_reader(path: str | os.PathLike, reader: FaceReader, info: dict | None = None) -> None:
    meta = {"factors": reader.factors, "width": reader.width, "info": info or {}}
    tensors = {k: v.detach().contiguous() for k, v in reader.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta)}))


def load_face_reader(path: str | os.PathLike) -> FaceReader:
    """A reader saved by `save_face_reader`; a clear CheckpointError for anything else."""
    name = os.fspath(path)
    try:
        from safetensors import safe_open
        with safe_open(name, "pt") as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "null"))
        state = load_file(name)
    except FileNotFoundError:
        raise CheckpointError(f"{name}: no such face-reader file") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{name}: not a readable face-reader file ({e})") from None
    if not isinstance(meta, dict) or "factors" not in meta:
        raise CheckpointError(f"{name}: a safetensors file, but not a GANStudio face reader")
    reader = FaceReader(meta["factors"], width=int(meta.get("width", 16)))
    result = reader.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{name}: face-reader weights do not fit its factor table")
    reader.info = meta.get("info", {})
    return reader.eval().requires_grad_(False)
