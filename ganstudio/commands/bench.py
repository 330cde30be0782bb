"""`ganstudio bench render|train|data`: measured speed on this machine, as a table (and JSON)."""
from __future__ import annotations

import argparse
import importlib

TARGETS = {  # name → (module, help)
    "render": ("ganstudio.render.benchmark", "benchmark rendering"),
    "train": ("trainer.benchmark", "benchmark training"),
    "data": ("trainer.data.benchmark",
             "benchmark the data pipeline (drawing synthetic faces, decoding, sampling)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", required=True)
    for name, (module_name, help_text) in TARGETS.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
        p.add_argument("--device", default=None, help="auto | cpu | cuda | mps")
        try:
            importlib.import_module(module_name).add_arguments(p)
        except ModuleNotFoundError:
            pass


def run(args: argparse.Namespace) -> int:
    try:
        module = importlib.import_module(TARGETS[args.target][0])
    except ModuleNotFoundError:
        print(f"ganstudio bench {args.target}: not available yet")
        return 2
    return int(module.run(args) or 0)
