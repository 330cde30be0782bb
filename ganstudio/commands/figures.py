"""`ganstudio figures MODEL --out DIR`: samples.png, style_mixing.png and group_edits.png.

Seeds draw z as the explorer does (`torch.Generator(seed)`), so every tile can be opened there.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

from ganstudio.core.checkpoint import atomic_write
from ganstudio.core.directions import DirectionError
from ganstudio.core.face_reader import load_face_reader
from ganstudio.core.figures import (group_edit_strip, group_factor_changes, group_indices,
                                   group_influence, sample_grid, skip_path_shares,
                                   style_mixing_grid)
from ganstudio.render.models import default_face_reader_file

from ._model import CommandError, load_model, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint (needs a W space)")
    parser.add_argument("--out", required=True, help="folder for the PNGs")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--cols", type=int, default=8, help="sample grid columns (default 8)")
    parser.add_argument("--rows", type=int, default=4, help="sample grid rows (default 4)")
    parser.add_argument("--trunc", type=float, default=1.0, help="truncation ψ (default 1)")
    parser.add_argument("--scale", type=int, default=1, help="enlarge tiles N× (nearest)")
    parser.add_argument("--pairs", type=int, default=100,
                        help="seed pairs for the per-group influence figure (0: skip)")
    parser.add_argument("--factors", action="store_true",
                        help="also print which synthetic:faces factors each group moves, as the "
                             "shipped face reader reads them (for models trained on synthetic:faces)")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")


def save_png(path: Path, image, scale: int) -> None:
    img = Image.fromarray(image)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG", optimize=True))


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    s = args.seed
    try:
        G = load_model(args.model, pick_device(args.device))
        if not G.has_w_space:
            raise CommandError(f"{G.arch} has no W space: no style mixing or style groups")
        out.mkdir(parents=True, exist_ok=True)
        save_png(out / "samples.png", sample_grid(G, range(s, s + args.rows * args.cols), args.cols,
                                                  args.trunc), args.scale)
        groups = list(group_indices(G))
        row_groups = [g for g in groups for _ in range(2)]            # two source rows per group
        mixing = style_mixing_grid(G, range(s + 100, s + 106),
                                   range(s + 200, s + 200 + len(row_groups)), row_groups, args.trunc)
        save_png(out / "style_mixing.png", mixing, args.scale)
        strip, labels = group_edit_strip(G, s, truncation_psi=args.trunc)
        save_png(out / "group_edits.png", strip, args.scale)
        influence = group_influence(G, args.pairs) if args.pairs > 0 else {}
        shares = skip_path_shares(G, 2 * args.pairs) if args.pairs > 0 else {}
        factors = {}
        if args.factors:
            reader = load_face_reader(default_face_reader_file())       # reads on the CPU
            factors = group_factor_changes(G, reader, max(args.pairs, 1))
    except (CommandError, DirectionError, OSError, ValueError) as e:
        print(f"ganstudio figures: {e}", file=sys.stderr)
        return 1
    print(f"samples.png: seeds {s}-{s + args.rows * args.cols - 1}, ψ={args.trunc:g}")
    print(f"style_mixing.png: destinations (top) seeds {s + 100}-{s + 105}; sources (left) seeds "
          f"{s + 200}-{s + 199 + len(row_groups)}, rows copying " + ", ".join(row_groups))
    print(f"group_edits.png: seed {s}, rows " + "; ".join(labels)
          + ", top SeFa direction of each, -3σ … +3σ")
    if influence:
        print(f"what each group carries (mean |Δ| 0–255 when its ws come from another seed, "
              f"{args.pairs} pairs): " + ", ".join(f"{g} {v:.1f}" for g, v in influence.items()))
    if shares:
        print(f"how much of the images' variation is painted by each resolution's toRGB and those "
              f"below it (R² of the image so far, pixels / mean colour, {2 * args.pairs} samples): "
              + ", ".join(f"{r}² {p:.2f}/{c:.2f}" for r, (p, c) in shares.items()))
    if factors:
        print_factor_table(factors)
    return 0


def print_factor_table(factors: dict[str, dict[str, float]]) -> None:
    """One row per group, one column per factor: 0 = never moves, 1 = across its whole range."""
    names = list(next(iter(factors.values())))
    print("factors each group moves (0 never … 1 whole range / always switched):")
    print("| group | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for group, row in factors.items():
        print(f"| {group} | " + " | ".join(f"{row[n]:.2f}" for n in names) + " |")
