"""Data pipeline speed on this machine: drawing synthetic faces, decoding a folder, sampling.

Run ``ganstudio bench data [--json FILE] [--count N]`` (or ``python -m trainer.data.benchmark``);
prints a table (and JSON).
Follows the ``ganstudio bench`` module protocol (add_arguments(parser), run(args)).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

from .face_texture import texture_for
from .folder import load_images
from .synthetic_faces import SyntheticFaces, draw_face, factors_for


def machine() -> str:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}"


def _timed(fn, n: int) -> dict:
    w, c = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    return {"items": n, "wall_s": round(wall, 4), "per_s_wall": round(n / wall, 1),
            "per_s_cpu": round(n / max(cpu, 1e-9), 1)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=300, help="faces drawn per resolution")
    if not any(a.dest == "json" for a in parser._actions):
        parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    n = int(args.count)
    rows = []
    for res in (64, 128):
        factors = [factors_for(0, i) for i in range(n)]
        r = _timed(lambda: [draw_face(f, res) for f in factors], n)
        rows.append({"task": f"draw synthetic face {res}x{res}", **r})
        textures = [texture_for(0, i) for i in range(n)]
        r = _timed(lambda: [draw_face(f, res, texture=t) for f, t in zip(factors, textures)], n)
        rows.append({"task": f"draw textured face {res}x{res} (texture=1)", **r})
    with tempfile.TemporaryDirectory() as tmp:
        m = max(50, n // 3)
        for i in range(m):
            Image.fromarray(draw_face(factors_for(1, i), 256)).save(os.path.join(tmp, f"{i:05d}.jpg"),
                                                                     quality=90)
        r = _timed(lambda: load_images(tmp, 64), m)
        rows.append({"task": "decode folder 256px JPEG -> 64x64", **r})
    ds_faces = SyntheticFaces(64, size=512, seed=0)
    ds_faces.images(np.arange(512))                     # warm the cache: time the sampler alone
    from .dataset import Dataset
    from .report import DatasetReport
    ds = Dataset(ds_faces, report=DatasetReport("bench", 64, usable=512), xflip=True)
    g = torch.Generator().manual_seed(0)
    batches = 50
    r = _timed(lambda: [ds.sample(32, g) for _ in range(batches)], batches * 32)
    rows.append({"task": "sample() batch 32 at 64x64, xflip (cached)", **r})
    r = _timed(lambda: [ds.sample(32, g, resolution=8) for _ in range(batches)], batches * 32)
    rows.append({"task": "sample() batch 32 at 64 -> 8x8 box", **r})

    print(f"machine: {machine()}")
    print(f"{'task':<46} {'items':>6} {'items/s (wall)':>15} {'items/s (CPU)':>14}")
    for row in rows:
        print(f"{row['task']:<46} {row['items']:>6} {row['per_s_wall']:>15.1f} {row['per_s_cpu']:>14.1f}")
    result = {"machine": machine(), "rows": rows}
    if getattr(args, "json", None):
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m trainer.data.benchmark", description=__doc__)
    add_arguments(p)
    sys.exit(run(p.parse_args()))
