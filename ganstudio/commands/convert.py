"""`ganstudio convert IN OUT.safetensors`: any supported checkpoint → GANStudio's native format.

Prints what it found; a refused or damaged input gives a non-zero exit and a one-line reason.
The native file holds the generator used for inference (NVIDIA's G_ema) as group `G_ema`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ganstudio.core.checkpoint import CheckpointError, save_checkpoint
from ganstudio.core.importers import load_generator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="NVIDIA .pkl, rosinality .pt, or .safetensors checkpoint")
    parser.add_argument("output", help="the .safetensors file to write")


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def run(args: argparse.Namespace) -> int:
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        print("ganstudio convert: input and output are the same file", file=sys.stderr)
        return 2
    try:
        G, meta = load_generator(args.input)
    except CheckpointError as e:
        print(f"ganstudio convert: {e}", file=sys.stderr)
        return 1
    print(f"found {meta.describe()}")
    info = {"source_format": meta.source_format, "source_file": os.path.basename(args.input),
            "notes": _jsonable(meta.extra)}
    try:
        save_checkpoint(args.output, arch=G.arch, config=G.config_dict(), groups={"G_ema": G},
                        meta=info)
    except OSError as e:
        print(f"ganstudio convert: cannot write {args.output} ({e.strerror or e})", file=sys.stderr)
        return 1
    n = len(G.state_dict())
    size = os.path.getsize(args.output) / 2 ** 20
    print(f"wrote {args.output}: {n} tensors, {size:.1f} MiB")
    return 0
