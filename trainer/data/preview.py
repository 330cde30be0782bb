"""Write a grid PNG of the first images of any dataset spec.

``python -m trainer.data.preview OUT.png --data synthetic:faces --res 64 --rows 6 --cols 12``
(docs/synthetic_faces_grid.png is made this way, and docs/synthetic_faces_textured.png with
``--data "synthetic:faces?texture=1"``). Prints the dataset report.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from . import DatasetError, open_dataset


def grid(images: list[np.ndarray], cols: int) -> np.ndarray:
    """[rows*H, cols*W, 3] uint8 from equally sized uint8 images (missing cells stay black)."""
    h, w, _ = images[0].shape
    rows = -(-len(images) // cols)
    out = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.data.preview", description=__doc__)
    p.add_argument("out", help="PNG file to write")
    p.add_argument("--data", default="synthetic:faces", help="folder, .zip or synthetic:faces[?...]")
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--rows", type=int, default=6)
    p.add_argument("--cols", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    try:
        ds = open_dataset(a.data, a.res, seed=a.seed, max_images=a.rows * a.cols)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(ds.report.summary())
    Image.fromarray(grid(ds.thumbnails(a.rows * a.cols), a.cols)).save(a.out, optimize=True)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
