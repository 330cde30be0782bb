"""Named directions from factors read off a generator's own samples (InterFaceGAN-style).

Sample w, render, let a `FaceReader` label every image (smile, glasses, hair colour …), then fit
one labelled direction per factor (`labelled_direction`: logistic for yes/no factors, ridge for
continuous ones). Targets name a factor, a class of a categorical factor (`hair_colour=blonde`),
and optionally a display name: `smile:mouth_curve`.
"""
from __future__ import annotations

import numpy as np
import torch

from .directions import Direction, DirectionError, labelled_direction, sample_w
from .face_reader import FaceReader
from .interface import GeneratorBase

# What the demo model's picker offers: (display name, factor target).
FACE_TARGETS = (("smile", "mouth_curve"), ("glasses", "glasses"), ("head tilt", "tilt"),
                ("blonde hair", "hair_colour=blonde"), ("grey hair", "hair_colour=grey"),
                ("long hair", "hair_style=long"), ("darker skin", "skin_tone"),
                ("bigger eyes", "eye_size"), ("wider face", "face_aspect"))


def parse_targets(text: str) -> tuple[tuple[str, str], ...]:
    """"smile:mouth_curve,glasses" → (("smile", "mouth_curve"), ("glasses", "glasses"))."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, _, target = item.rpartition(":")
        out.append((name or target, target))
    if not out:
        raise DirectionError("no factors given")
    return tuple(out)


@torch.no_grad()
def read_samples(G: GeneratorBase, reader: FaceReader, num_samples: int, seed: int,
                 batch: int = 64, truncation_psi: float = 1.0
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """w `[N, w_dim]` of seeded samples and what the reader reads on their images."""
    ws = sample_w(G, num_samples, seed, truncation_psi=truncation_psi)
    readings: dict[str, list] = {}
    for i in range(0, num_samples, batch):
        w = ws[i:i + batch]
        img = G.synthesis(w.unsqueeze(1).repeat(1, G.num_ws, 1), noise_mode="const")
        for name, value in reader.read(img.clamp(-1, 1).float().cpu()).items():
            readings.setdefault(name, []).append(value)
    return ws.numpy(), {k: np.concatenate(v) for k, v in readings.items()}


def target_labels(reader: FaceReader, readings: dict[str, np.ndarray], target: str) -> np.ndarray:
    """Labels `[N]` for one target: continuous values, or 0/1 for yes/no factors and classes."""
    factor, _, cls = target.partition("=")
    spec = reader.factors.get(factor)
    if spec is None:
        raise DirectionError(f"unknown factor {factor!r}; the reader knows {', '.join(reader.factors)}")
    kind, value = spec[0], readings[factor]
    if kind == "categorical":
        if cls not in spec[1]:
            raise DirectionError(f"{factor} needs a class: {factor}=" + "|".join(spec[1]))
        return (value.argmax(1) == spec[1].index(cls)).astype(np.float64)
    if cls:
        raise DirectionError(f"{factor} is {kind}; it takes no '=class'")
    if kind == "bool":
        return (value > 0.5).astype(np.float64)
    if kind == "circular":
        raise DirectionError(f"{factor} wraps around; a linear direction cannot follow it")
    return value.astype(np.float64)


def factor_directions(G: GeneratorBase, reader: FaceReader, targets=FACE_TARGETS,
                      num_samples: int = 2000, seed: int = 0, name: str = "face factors",
                      layers: tuple[int, int] = (0, -1)) -> Direction:
    """One unit direction per target, stacked; values are each fit's train accuracy (yes/no)
    or R² (continuous); `arrays["weight"]`/`["bias"]` `[k, w_dim]`/`[k]` give the scores."""
    ws, readings = read_samples(G, reader, num_samples, seed)
    fits, skipped = [], []
    for label, target in targets:
        y = target_labels(reader, readings, target)
        binary = set(np.unique(y).tolist()) <= {0.0, 1.0}
        if (min((y == 0).sum(), (y == 1).sum()) < 10) if binary else not np.ptp(y) > 0:
            skipped.append(label)                 # the model (nearly) never or always draws it
            continue
        fits.append((label, target, labelled_direction(ws, y, label)))
    if not fits:
        raise DirectionError("no factor varies across the samples: nothing to fit")
    d0 = fits[0][2]
    return Direction(
        name=name, method="labelled", vectors=np.concatenate([d.vectors for *_, d in fits]),
        layers=layers, values=[float(d.values[0]) for *_, d in fits], values_label="fit",
        component_names=tuple(label for label, *_ in fits),
        info={"num_samples": int(num_samples), "seed": int(seed), "skipped": skipped,
              "targets": {label: t for label, t, _ in fits},
              "fit": {label: d.values_label for label, _, d in fits},
              "reader": getattr(reader, "info", {}), "l2": d0.info["l2"]},
        arrays={"weight": np.stack([d.arrays["weight"] for *_, d in fits]),
                "bias": np.concatenate([d.arrays["bias"] for *_, d in fits])})
