"""Save a screenshot for the README: RGB PNG, palette-reduced when over ~400 KB.

    python tools/shrink_png.py RAW.png OUT.png
"""
import os
import sys

from PIL import Image


def main(src: str, dst: str) -> None:
    img = Image.open(src).convert("RGB")
    img.save(dst, optimize=True)
    if os.path.getsize(dst) > 400_000:           # too big for the README: a 256-colour palette
        img.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            dst, optimize=True)
    print(f"{dst}: {img.width}x{img.height}, {os.path.getsize(dst) // 1000} KB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
