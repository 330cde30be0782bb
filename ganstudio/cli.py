"""`ganstudio` command line: no subcommand (or a model path) opens the window.

Subcommands live in `ganstudio.commands.<name>`, each with `add_arguments(parser)` and `run(args)`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "convert": "convert any supported checkpoint to GANStudio's .safetensors",
    "generate": "render images for seeds, like NVIDIA's generate.py",
    "bench": "measure rendering or training speed on this machine",
    "directions": "compute semantic directions (PCA, SeFa, face factors)",
    "project": "project an image into W or W+",
    "video": "render an interpolation or direction-walk video (MP4, GIF)",
    "smoothness": "perceptual-path-length-style smoothness, W versus Z",
    "figures": "the papers' figures for a model: samples, style mixing, per-group edits",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from ganstudio.core.allocator import keep_freed_memory
    keep_freed_memory()                 # every subcommand and the app render/train in-process
    if argv and argv[0] in SUBCOMMANDS:
        name = argv[0]
        try:
            module = importlib.import_module(f"ganstudio.commands.{name}")
        except ModuleNotFoundError:
            print(f"ganstudio {name}: not available yet in this version", file=sys.stderr)
            return 2
        parser = argparse.ArgumentParser(prog=f"ganstudio {name}", description=SUBCOMMANDS[name])
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        return int(module.run(args) or 0)
    parser = argparse.ArgumentParser(
        prog="ganstudio", description="See, steer and train style-based GANs. "
        "Subcommands: " + ", ".join(SUBCOMMANDS) + " (ganstudio SUBCOMMAND -h).")
    parser.add_argument("model", nargs="?", help="checkpoint to open (.safetensors, .pkl, .pt)")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")
    parser.add_argument("--train", nargs="?", const="", default=None, metavar="RUN_FOLDER",
                        help="open the Train tab (with RUN_FOLDER: that run, ready to continue)")
    args = parser.parse_args(argv)
    from ganstudio.ui.app import run_app
    return run_app(model=args.model, device=args.device, train=args.train)


if __name__ == "__main__":
    sys.exit(main())
