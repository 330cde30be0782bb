"""`ganstudio project MODEL IMAGE --space w|w+ --out FILE.npz [--steps N]`: image → latent."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ganstudio.core.latent_files import LatentFileError, file_hash, save_latents
from ganstudio.core.projection import ProjectionConfig, ProjectionError, project

from ._model import CommandError, load_model, pick_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="generator checkpoint")
    parser.add_argument("image", help="target image (PNG, JPEG …); centre-cropped to a square "
                                      "and resized to the model's resolution")
    parser.add_argument("--space", choices=("w", "w+"), default="w+")
    parser.add_argument("--out", required=True, help="output .npz (key w: [1, num_ws, w_dim])")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--l1", type=float, default=0.0, help="weight of the L1 pixel term")
    parser.add_argument("--optimize-noise", action="store_true",
                        help="also fit the noise maps (regularised); they are not saved in --out")
    parser.add_argument("--save-image", default=None, metavar="PNG",
                        help="also write the render of the result")
    parser.add_argument("--every", type=int, default=25, help="print progress every N steps")
    parser.add_argument("--vgg16", default="", metavar="FILE",
                        help="VGG16 weights you have (torchvision's vgg16-397923af.pth or a "
                             ".safetensors of it): adds a perceptual term; none ships")
    parser.add_argument("--perceptual-weight", type=float, default=1.0)
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps")


def load_image(path: str, resolution: int) -> np.ndarray:
    """uint8 [res, res, 3]: centre square crop, Lanczos resize (the explorer's loader)."""
    from ganstudio.render.tools import load_square_image
    try:
        return load_square_image(path, resolution)
    except ValueError as e:
        raise CommandError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    try:
        G = load_model(args.model, pick_device(args.device))
        target = load_image(args.image, G.img_resolution)
        cfg = ProjectionConfig(space=args.space, num_steps=args.steps, lr=args.lr, seed=args.seed,
                               l1_weight=args.l1, optimize_noise=args.optimize_noise,
                               vgg16_weights=args.vgg16, perceptual_weight=args.perceptual_weight,
                               preview_every=0)

        def progress(p):
            if p.step % max(1, args.every) == 0 or p.step == p.num_steps:
                print(f"step {p.step:>5}/{p.num_steps}  loss {p.loss:.5f}", flush=True)
        result = project(G, target, cfg, on_progress=progress)
        save_latents(args.out, w=result.ws, model_hash=file_hash(args.model), space=result.space)
        if args.save_image:
            from PIL import Image
            from ganstudio.core.checkpoint import atomic_write
            atomic_write(args.save_image,
                         lambda tmp: Image.fromarray(result.image).save(tmp, format="PNG"))
    except (CommandError, ProjectionError, LatentFileError, OSError) as e:
        print(f"ganstudio project: {e}", file=sys.stderr)
        return 1
    loss = "pixels + VGG16 features" if args.vgg16 else "pixels"
    print(f"PSNR {result.psnr:.2f} dB ({result.space}, {loss}, {result.steps_done} steps) "
          f"→ {args.out}")
    return 0
