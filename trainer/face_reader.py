"""Train and evaluate the face-factor reader (`ganstudio.core.face_reader`) on `synthetic:faces`.

    python -m trainer.face_reader --out resources/face_reader.safetensors

Images are drawn at 64² from one dataset seed and evaluated on another. Training images are
lightly degraded (blur, noise) at random, because the reader's real job is labelling a GAN's
samples, which are softer and noisier than the drawings.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.core.face_reader import (INPUT_RESOLUTION, FaceReader, factor_target,
                                        save_face_reader)

from .data.face_factors import FACTORS
from .data.synthetic_faces import SyntheticFaces

TRAIN_SEED, EVAL_SEED = 1000, 2000


def reader_factors() -> dict[str, list]:
    """The dataset's factor table in the reader's terms (the background hue wraps around)."""
    out = {}
    for name, spec in FACTORS.items():
        if name == "background_hue":
            out[name] = ["circular"]
        elif spec[0] == "categorical":
            out[name] = ["categorical", list(spec[1])]
        elif spec[0] == "bool":
            out[name] = ["bool"]
        else:
            out[name] = ["continuous", float(spec[1]), float(spec[2])]
    return out


def dataset_arrays(n: int, seed: int) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """n faces at 64² as [-1, 1] `[n, 3, 64, 64]`, and their labels per factor."""
    data = SyntheticFaces(INPUT_RESOLUTION, size=n, seed=seed)
    images = torch.from_numpy(data.images(np.arange(n))).permute(0, 3, 1, 2)
    images = images.to(torch.float32) / 127.5 - 1
    labels = data.labels_array()
    return images, {name: labels[:, j] for j, name in enumerate(FACTORS)}


def degrade(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Half the batch blurred (down 2×, up again), every image with noise of σ ∈ [0, 0.08]."""
    n = x.shape[0]
    blurred = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="bilinear", align_corners=False)
    pick = (torch.rand(n, 1, 1, 1, generator=g) < 0.5).to(x.dtype)
    x = pick * blurred + (1 - pick) * x
    return x + torch.randn(x.shape, generator=g) * (0.08 * torch.rand(n, 1, 1, 1, generator=g))


def reader_loss(reader: FaceReader, out: torch.Tensor, targets: dict[str, torch.Tensor]) -> torch.Tensor:
    loss = out.new_zeros([])
    for name, raw in reader.split(out).items():
        kind, t = reader.factors[name][0], targets[name]
        if kind in ("continuous", "circular"):
            loss = loss + F.mse_loss(raw, t)
        elif kind == "bool":
            loss = loss + F.binary_cross_entropy_with_logits(raw[:, 0], t[:, 0])
        else:
            loss = loss + F.cross_entropy(raw, t[:, 0].long())
    return loss


def train_face_reader(n_train: int = 10000, steps: int = 2000, batch: int = 128, lr: float = 2e-3,
                      seed: int = 0, width: int = 16, log=None) -> FaceReader:
    torch.manual_seed(seed)
    factors = reader_factors()
    reader = FaceReader(factors, width=width)
    images, labels = dataset_arrays(n_train, TRAIN_SEED)
    targets = {k: torch.as_tensor(factor_target(factors[k], v), dtype=torch.float32)
               for k, v in labels.items()}
    opt = torch.optim.Adam(reader.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    reader.train()
    for step in range(steps):
        idx = torch.randint(n_train, (batch,), generator=g)
        out = reader(degrade(images[idx], g))
        loss = reader_loss(reader, out, {k: t[idx] for k, t in targets.items()})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step % 200 == 0 or step == steps - 1):
            log(f"step {step:5d}  loss {loss.item():.4f}", flush=True)
    return reader.eval().requires_grad_(False)


def evaluate_face_reader(reader: FaceReader, n: int = 2000, seed: int = EVAL_SEED) -> dict[str, float]:
    """Per factor on fresh faces: accuracy (bool, categorical), R² (continuous), or the mean
    circular error in turns (circular)."""
    images, labels = dataset_arrays(n, seed)
    read = reader.read(images)
    scores = {}
    for name, spec in reader.factors.items():
        truth, got = labels[name], read[name]
        if spec[0] == "continuous":
            scores[name] = float(1 - ((truth - got) ** 2).sum() / ((truth - truth.mean()) ** 2).sum())
        elif spec[0] == "circular":
            d = np.abs(truth - got) % 1.0
            scores[name] = float(np.minimum(d, 1 - d).mean())
        elif spec[0] == "bool":
            scores[name] = float(((got > 0.5) == (truth > 0.5)).mean())
        else:
            scores[name] = float((got.argmax(1) == truth.astype(np.int64)).mean())
    return scores


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.face_reader", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="reader file (.safetensors)")
    p.add_argument("--n-train", type=int, default=10000)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    reader = train_face_reader(a.n_train, a.steps, seed=a.seed, log=print)
    scores = evaluate_face_reader(reader)
    info = {"n_train": a.n_train, "steps": a.steps, "seed": a.seed, "eval_seed": EVAL_SEED,
            "eval": scores, "train_seconds": round(time.perf_counter() - t0, 1)}
    save_face_reader(a.out, reader, info)
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
