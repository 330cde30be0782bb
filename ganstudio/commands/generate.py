"""`ganstudio generate MODEL --seeds 0-3 --trunc 0.7 --outdir DIR`: like NVIDIA's generate.py.

z = np.random.RandomState(seed).randn(1, z_dim); one `seedNNNN.png` per seed through the official
conversion (x·127.5 + 128).clamp(0, 255) → uint8; `--save-npy` also writes the raw float32 NCHW
output as `seedNNNN.npy`. Works on every format `load_generator` reads; the code only uses
`G.mapping` and `G.synthesis`, so every architecture family renders the same way.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

import numpy as np
import torch

from ganstudio.core.biggan import z_from_seed_biggan
from ganstudio.core.checkpoint import CheckpointError, atomic_write
from ganstudio.core.device import pick_device
from ganstudio.core.importers import load_generator
from ganstudio.core.latents import z_from_seed_nvidia


def parse_seeds(text: str) -> list[int]:
    """'0-3' → [0, 1, 2, 3]; '1,5,7' and mixes like '0-2,9' work too."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                raise argparse.ArgumentTypeError(f"empty seed range {part!r}")
            seeds.extend(range(a, b + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"not a seed list: {text!r} (e.g. 0-3 or 1,5,7)")
    return seeds


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] → [N, H, W, C] uint8, NVIDIA's generate.py conversion."""
    return (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8).cpu().numpy()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="checkpoint: NVIDIA .pkl, rosinality .pt or .safetensors")
    parser.add_argument("--seeds", type=parse_seeds, required=True, help="e.g. 0-3 or 1,5,7")
    parser.add_argument("--trunc", type=float, default=1.0, dest="truncation_psi",
                        help="truncation psi (default 1)")
    parser.add_argument("--trunc-cutoff", type=int, default=None, dest="truncation_cutoff",
                        help="truncate only the first K W inputs")
    parser.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    parser.add_argument("--class", type=int, default=None, dest="class_idx",
                        help="class index for a conditional model")
    parser.add_argument("--outdir", required=True, help="where to write seedNNNN.png")
    parser.add_argument("--save-npy", action="store_true",
                        help="also write the raw float32 NCHW output as seedNNNN.npy")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")


def _fail(msg: str) -> int:
    print(f"ganstudio generate: {msg}", file=sys.stderr)
    return 1


def _write_png(path: str, pixels: np.ndarray) -> None:
    from PIL import Image
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def _write_npy(path: str, array: np.ndarray) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:
            np.save(f, array)
    atomic_write(path, write)


def run(args: argparse.Namespace) -> int:
    try:
        device = pick_device(args.device)
    except ValueError as e:
        return _fail(str(e))
    try:
        G, meta = load_generator(args.model, device=device)
    except CheckpointError as e:
        return _fail(str(e))
    c = None
    if G.c_dim > 0:
        if args.class_idx is None:
            return _fail(f"the model is class-conditional ({G.c_dim} classes): pass --class C")
        if not 0 <= args.class_idx < G.c_dim:
            return _fail(f"--class {args.class_idx} is out of range 0..{G.c_dim - 1}")
        c = torch.zeros([1, G.c_dim], device=device)
        c[:, args.class_idx] = 1
    elif args.class_idx is not None:
        print("warning: --class ignored, the model is unconditional", file=sys.stderr)
    print(f"{meta.arch} {meta.img_resolution}×{meta.img_resolution} from {args.model} on {device}")
    for i, seed in enumerate(args.seeds):
        noise_gen = None
        if args.noise_mode == "random":
            noise_gen = torch.Generator(device=device).manual_seed(seed)
        with torch.no_grad():
            if meta.arch == "biggan":
                # BigGAN truncates by drawing z from a normal cut at ±2, scaled by T (< 1).
                z = z_from_seed_biggan(seed, G.z_dim, args.truncation_psi).to(device)
                img = G.synthesis(G.mapping(z), c=c)
            else:
                z = z_from_seed_nvidia(seed, G.z_dim, device)              # [1, z_dim]
                ws = G.mapping(z, c, truncation_psi=args.truncation_psi,
                               truncation_cutoff=args.truncation_cutoff)  # [1, num_ws, w_dim]
                img = G.synthesis(ws, noise_mode=args.noise_mode, noise_generator=noise_gen)
        stem = os.path.join(args.outdir, f"seed{seed:04d}")
        try:
            _write_png(stem + ".png", to_uint8(img)[0])
            if args.save_npy:
                _write_npy(stem + ".npy", img.to(torch.float32).cpu().numpy())  # [1, C, H, W]
        except OSError as e:
            return _fail(f"cannot write {stem} ({e.strerror or e})")
        print(f"seed {seed} ({i + 1}/{len(args.seeds)}) → {stem}.png")
    return 0
