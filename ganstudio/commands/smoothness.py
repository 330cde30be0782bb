"""`ganstudio smoothness MODEL`: perceptual-path-length-style smoothness, W versus Z, as a table."""
from __future__ import annotations

import argparse
import json
import platform
import sys

import torch

from ganstudio.core.checkpoint import atomic_write
from ganstudio.core.smoothness import DISTANCES, EPSILON, SmoothnessError, path_length

from ._model import CommandError, load_model, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--distance", choices=DISTANCES, default="pixel",
                        help="pixel: mean squared pixel difference; random-features: a fixed "
                             "random conv net (no downloaded perceptual network is used)")
    parser.add_argument("--sampling", choices=("full", "end"), default="full")
    parser.add_argument("--epsilon", type=float, default=EPSILON)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")


def run(args: argparse.Namespace) -> int:
    try:
        device = pick_device(args.device)
        G = load_model(args.model, device)
        rows = [path_length(G, space, num_samples=args.samples, epsilon=args.epsilon,
                            sampling=args.sampling, distance=args.distance, seed=args.seed,
                            batch=args.batch) for space in ("w", "z")]
    except (CommandError, SmoothnessError, OSError) as e:
        print(f"ganstudio smoothness: {e}", file=sys.stderr)
        return 1
    print(f"path-length smoothness of {args.model} ({args.distance} distance / ε², ε={args.epsilon:g}, "
          f"{args.sampling} paths, {args.samples} samples; lower = smoother)")
    print(f"{'space':<6}{'mean':>12}{'median':>12}{'p10':>12}{'p90':>12}")
    for r in rows:
        print(f"{r.space:<6}{r.mean:>12.4g}{r.median:>12.4g}{r.p10:>12.4g}{r.p90:>12.4g}")
    w, z = rows
    print(f"W/Z ratio of means: {w.mean / z.mean:.3f}" if z.mean > 0 else "Z mean is 0")
    if args.json:
        doc = {"model": args.model, "machine": platform.platform(), "device": str(device),
               "threads": torch.get_num_threads(), "results": [r.as_dict() for r in rows]}

        def write(tmp):
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=2)
        atomic_write(args.json, write)
    return 0
