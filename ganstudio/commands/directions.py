"""`ganstudio directions MODEL --method pca|sefa [--layers A-B] [-k K] --out FILE.npz`."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from ganstudio.core.directions import (DirectionError, pca_directions, save_direction,
                                       sefa_directions)
from ganstudio.core.latent_files import file_hash

from ._model import CommandError, load_model, parse_layers, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint (.safetensors, or .pkl/.pt when supported)")
    parser.add_argument("--method", choices=("pca", "sefa"), required=True)
    parser.add_argument("--layers", default=None, metavar="A-B",
                        help="W indices the directions apply to (SeFa: also the layers it factorises); "
                             "default all")
    parser.add_argument("-k", type=int, default=10, help="number of directions (default 10)")
    parser.add_argument("--samples", type=int, default=10_000, help="PCA: W samples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="PCA: seed of the z samples")
    parser.add_argument("--no-torgb", action="store_true", help="SeFa: leave toRGB styles out")
    parser.add_argument("--name", default=None, help="name stored in the file (default: the method)")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")
    parser.add_argument("--out", required=True, help="output .npz")


def run(args: argparse.Namespace) -> int:
    try:
        G = load_model(args.model, pick_device(args.device))
        layers = parse_layers(args.layers, G.num_ws)
        t0 = time.perf_counter()
        if args.method == "pca":
            d = pca_directions(G, k=args.k, num_samples=args.samples, seed=args.seed,
                               layers=layers, name=args.name or "pca")
        else:
            d = sefa_directions(G, k=args.k, layers=layers, include_torgb=not args.no_torgb,
                                name=args.name or "sefa")
        seconds = time.perf_counter() - t0
        d = dataclasses.replace(d, info={**d.info, "model_hash": file_hash(args.model)})
        save_direction(args.out, d)
    except (CommandError, DirectionError, OSError) as e:
        print(f"ganstudio directions: {e}", file=sys.stderr)
        return 1
    print(f"{d.k} {d.method} directions, W layers {d.layers[0]}-{d.layers[1]}, "
          f"computed in {seconds:.3f} s → {args.out}")
    print(f"{'#':>3}  {d.values_label}")
    for i, v in enumerate(d.values):
        print(f"{i:>3}  {v:.6g}")
    return 0
