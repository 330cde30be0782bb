"""`ganstudio directions MODEL --method pca|sefa|factors [--layers A-B] [-k K] --out FILE.npz`.

`factors` fits one named direction per face factor that a face reader reads off the model's own
samples (for models trained on `synthetic:faces`, like the demo model)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from ganstudio.core.directions import (DirectionError, pca_directions, save_direction,
                                       sefa_directions)
from ganstudio.core.checkpoint import CheckpointError
from ganstudio.core.face_reader import load_face_reader
from ganstudio.core.factor_directions import FACE_TARGETS, factor_directions, parse_targets
from ganstudio.core.latent_files import file_hash
from ganstudio.render.models import default_face_reader_file

from ._model import CommandError, load_model, parse_layers, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint (.safetensors, or .pkl/.pt when supported)")
    parser.add_argument("--method", choices=("pca", "sefa", "factors"), required=True)
    parser.add_argument("--layers", default=None, metavar="A-B",
                        help="W indices the directions apply to (SeFa: also the layers it factorises); "
                             "default all")
    parser.add_argument("-k", type=int, default=10, help="number of directions (default 10)")
    parser.add_argument("--samples", type=int, default=None,
                        help="PCA: W samples (default 10000); factors: labelled samples (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="PCA, factors: seed of the z samples")
    parser.add_argument("--factors", default=",".join(f"{n}:{t}" for n, t in FACE_TARGETS),
                        help="factors: NAME:FACTOR[=CLASS],… (default: smile, glasses, hair …)")
    parser.add_argument("--reader", default=None,
                        help="factors: face-reader file (default: the one in resources/)")
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
            d = pca_directions(G, k=args.k, num_samples=args.samples or 10_000, seed=args.seed,
                               layers=layers, name=args.name or "pca")
        elif args.method == "factors":
            reader_file = args.reader or default_face_reader_file()
            if not reader_file:
                raise CommandError("no face reader in resources/; pass --reader FILE")
            d = factor_directions(G, load_face_reader(reader_file), parse_targets(args.factors),
                                  num_samples=args.samples or 2000, seed=args.seed,
                                  name=args.name or "face factors", layers=layers or (0, -1))
        else:
            d = sefa_directions(G, k=args.k, layers=layers, include_torgb=not args.no_torgb,
                                name=args.name or "sefa")
        seconds = time.perf_counter() - t0
        d = dataclasses.replace(d, info={**d.info, "model_hash": file_hash(args.model)})
        save_direction(args.out, d)
    except (CommandError, DirectionError, CheckpointError, OSError) as e:
        print(f"ganstudio directions: {e}", file=sys.stderr)
        return 1
    last = G.num_ws - 1 if d.layers[1] == -1 else d.layers[1]
    print(f"{d.k} {d.method} directions, W layers {d.layers[0]}-{last}, "
          f"computed in {seconds:.3f} s → {args.out}")
    print(f"{'#':>3}  {d.values_label:<24}  name")
    for i, (v, name) in enumerate(zip(d.values, d.component_names)):
        fit = d.info.get("fit", {}).get(name, "")
        print(f"{i:>3}  {v:<8.4g}{fit:>16}  {name}")
    return 0
