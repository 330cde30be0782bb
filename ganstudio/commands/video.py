"""`ganstudio video MODEL (--latents A.npz B.npz … | --direction FILE.npz --index i) --frames N
--out FILE.mp4|.gif`: an interpolation or a walk along a direction."""
from __future__ import annotations

import argparse
import sys

import torch

from ganstudio.core.directions import DirectionError, load_direction
from ganstudio.core.latent_files import LatentFileError, load_latents
from ganstudio.core.latents import z_from_seed
from ganstudio.core.video import (VideoError, direction_walk, interpolate_ws, interpolate_z,
                                  render_frames)
from ganstudio.render.video_writer import VideoWriteError, write_video

from ._model import CommandError, load_model, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--latents", nargs="+", metavar="NPZ", help="latent files, visited in order")
    src.add_argument("--direction", metavar="NPZ", help="directions file to walk along")
    parser.add_argument("--index", type=int, default=0, help="which vector of --direction")
    parser.add_argument("--start", metavar="NPZ", help="--direction: start latent (default: --seed)")
    parser.add_argument("--seed", type=int, default=0, help="--direction: start at this seed's w")
    parser.add_argument("--truncation-psi", type=float, default=1.0)
    parser.add_argument("--amount", type=float, default=3.0,
                        help="--direction: walk from -amount to +amount, in σ for PCA directions "
                             "(they carry their spread), otherwise in W units")
    parser.add_argument("--space", choices=("w", "z"), default="w",
                        help="--latents: lerp in W, or slerp in Z (needs z in every file)")
    parser.add_argument("--loop", action="store_true", help="a path that returns to its start")
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--scale", type=int, default=1, help="enlarge frames by pixel repetition")
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")
    parser.add_argument("--out", required=True, help="output .mp4 or .gif")


def _path(G, args, device) -> torch.Tensor:
    if args.latents:
        files = [load_latents(p) for p in args.latents]
        if args.space == "z":
            if any(f.z is None for f in files):
                raise CommandError("--space z needs z in every latent file")
            zs = torch.cat([torch.from_numpy(f.z) for f in files])
            return interpolate_z(G, zs, args.frames, args.loop, args.truncation_psi)
        keys = torch.cat([f.ws_for(G, i) for f in files for i in range(len(f))])
        return interpolate_ws(keys, args.frames, args.loop)
    d = load_direction(args.direction)
    if d.w_dim != G.w_dim:
        raise CommandError(f"the direction has w_dim {d.w_dim}, the model {G.w_dim}")
    if args.start:
        ws = load_latents(args.start).ws_for(G, 0)
    else:
        with torch.no_grad():
            ws = G.mapping(z_from_seed(args.seed, G.z_dim, device), None,
                           truncation_psi=args.truncation_psi).cpu()
    amount = args.amount
    if "std" in d.arrays and 0 <= args.index < d.k:
        amount *= float(d.arrays["std"][args.index])
        print(f"walking ±{args.amount} σ = ±{amount:.4g} in W along {d.component_names[args.index]}")
    return direction_walk(ws, d, args.index, args.frames, amount, args.loop)


def run(args: argparse.Namespace) -> int:
    try:
        device = pick_device(args.device)
        G = load_model(args.model, device)
        ws = _path(G, args, device)

        def progress(done, total):
            print(f"\rframe {done}/{total}", end="", flush=True)
        n = write_video(args.out, render_frames(G, ws, on_progress=progress), fps=args.fps,
                        scale=args.scale)
        print()
    except (CommandError, DirectionError, LatentFileError, VideoError, VideoWriteError,
            OSError) as e:
        print(f"\nganstudio video: {e}", file=sys.stderr)
        return 1
    print(f"{n} frames, {n / args.fps:.2f} s at {args.fps:g} fps → {args.out}")
    return 0
