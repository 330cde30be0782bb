"""`synthetic:faces`: procedural cartoon faces with known factors, drawn at any resolution.

Each image is drawn with Pillow at SUPERSAMPLE x the target size from polygons (every shape is a
point list, so head tilt is one affine transform, not an image rotation) and then reduced with a
box filter, which anti-aliases every edge. Image i depends only on (dataset seed, i): its factors
come from ``np.random.default_rng([seed, i])``.

Factors (``FACTORS``; ``labels_array()`` columns in this order):

============== =========== =============================================================
name           kind        values
============== =========== =============================================================
face_aspect    continuous  head width / height, 0.65 (long) .. 1.05 (round); area kept
tilt           continuous  head rotation in degrees, -20 .. 20 (positive = clockwise)
offset_x       continuous  face shift as a fraction of the image width, -0.08 .. 0.08
offset_y       continuous  face shift as a fraction of the image height, -0.06 .. 0.06
eye_size       continuous  relative eye size, 0.7 .. 1.4
eye_spacing    continuous  relative distance between the eyes, 0.7 .. 1.4
mouth_curve    continuous  -1 (frown) .. 1 (smile)
hair_colour    categorical index into HAIR_COLOURS (5 classes; the default class label)
hair_style     categorical index into HAIR_STYLES (5 classes)
skin_tone      continuous  0 (light) .. 1 (dark)
background_hue continuous  HSV hue 0 .. 1 (circular)
glasses        bool        0 or 1
============== =========== =============================================================

Nuisance variation that is not a label: shirt colour, blush, hair parting side, hair shade.

``texture=True`` adds fine-scale patterns from a separate random stream (background grain, stripes
or dots; patterned shirts; freckles; hair strands: see trainer.data.face_texture); the factors,
and so the labels, stay those of the plain dataset.
"""
from __future__ import annotations

from dataclasses import astuple

import numpy as np

from .face_drawing import SUPERSAMPLE, draw_face
from .face_texture import FaceTexture, texture_for
from .face_factors import (FACTOR_NAMES, FACTORS, HAIR_COLOURS, HAIR_STYLES, FaceFactors,
                           factors_for, sample_factors)

__all__ = ["SyntheticFaces", "FaceFactors", "FACTORS", "FACTOR_NAMES", "HAIR_COLOURS",
           "HAIR_STYLES", "SUPERSAMPLE", "draw_face", "factors_for", "sample_factors",
           "sample_grid", "CACHE_BYTES"]

#: SyntheticFaces keeps drawn images in memory when all N would fit in this many bytes;
#: above it every request redraws (about 1 GiB: 10000 faces at 128x128 take 0.5 GiB).
CACHE_BYTES = 1 << 30


class SyntheticFaces:
    """N cartoon faces at one resolution; image i depends only on (seed, i). Drawn on request."""

    factor_names = FACTOR_NAMES
    class_names = HAIR_COLOURS

    def __init__(self, resolution: int, size: int = 10000, seed: int = 0,
                 class_factor: str = "hair_colour", texture: bool = False):
        if not 4 <= int(resolution) <= 4096:
            raise ValueError(f"synthetic:faces resolution must be 4..4096, got {resolution}")
        if int(size) < 1:
            raise ValueError(f"synthetic:faces size must be at least 1, got {size}")
        if FACTORS.get(class_factor, ("",))[0] not in ("categorical", "bool"):
            raise ValueError(f"class_factor must be a categorical factor "
                             f"({', '.join(n for n, v in FACTORS.items() if v[0] != 'continuous')})"
                             f", got {class_factor!r}")
        self.resolution, self.size, self.seed = int(resolution), int(size), int(seed)
        self.class_factor, self.texture = class_factor, bool(texture)
        kind = FACTORS[class_factor]
        self.class_names = tuple(kind[1]) if kind[0] == "categorical" else ("no", "yes")
        self._factors: list[FaceFactors | None] = [None] * self.size
        nbytes = self.size * self.resolution * self.resolution * 3
        self.cached = nbytes <= CACHE_BYTES
        # Pages of a zeros array are only committed when written, so the cache costs what is drawn.
        self._cache = (np.zeros((self.size, self.resolution, self.resolution, 3), np.uint8)
                       if self.cached else None)
        self._drawn = np.zeros(self.size, dtype=bool)

    def __len__(self) -> int:
        return self.size

    def factors(self, i: int) -> FaceFactors:
        i = self._check(i)
        f = self._factors[i]
        if f is None:
            f = self._factors[i] = factors_for(self.seed, i)
        return f

    def texture_of(self, i: int) -> FaceTexture | None:
        """Image i's fine-scale texture, or None for a plain (flat-colour) dataset."""
        return texture_for(self.seed, self._check(i)) if self.texture else None

    def _draw(self, i: int) -> np.ndarray:
        return draw_face(self.factors(i), self.resolution, texture=self.texture_of(i))

    def __getitem__(self, i: int) -> tuple[np.ndarray, dict]:
        f = self.factors(i)
        return self.image(i), f.labels()

    def image(self, i: int) -> np.ndarray:
        return self.images(np.array([self._check(i)]))[0]

    def images(self, idx: np.ndarray) -> np.ndarray:
        """[n, R, R, 3] uint8 for the given indices; drawn on first use, then kept (see CACHE_BYTES)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._cache is None:
            return np.stack([self._draw(i) for i in idx.tolist()])
        for i in np.unique(idx[~self._drawn[idx]]).tolist():
            self._cache[i] = self._draw(i)
            self._drawn[i] = True
        return self._cache[idx]

    def classes(self, idx: np.ndarray) -> np.ndarray:
        """[n] int64 class index (class_factor) per index; factors are sampled only for these."""
        return np.array([self.class_index(i) for i in np.asarray(idx).tolist()], dtype=np.int64)

    def class_index(self, i: int) -> int:
        return int(getattr(self.factors(i), self.class_factor))

    def class_labels(self) -> np.ndarray:
        """[N] int64 class index per image (the class_factor)."""
        return np.array([self.class_index(i) for i in range(self.size)], dtype=np.int64)

    def labels_array(self, one_hot: bool = False) -> np.ndarray:
        """[N, F] float32 in FACTOR_NAMES order; categoricals as their index (or one-hot columns,
        named by label_columns(one_hot=True), when one_hot=True); glasses as 0/1."""
        rows = [astuple(self.factors(i))[:len(FACTOR_NAMES)] for i in range(self.size)]
        arr = np.array(rows, dtype=np.float32)                       # [N, F]
        if not one_hot:
            return arr
        cols = []
        for j, (name, spec) in enumerate(FACTORS.items()):
            if spec[0] == "categorical":
                cols.append(np.eye(len(spec[1]), dtype=np.float32)[arr[:, j].astype(np.int64)])
            else:
                cols.append(arr[:, j:j + 1])
        return np.concatenate(cols, axis=1)

    @staticmethod
    def label_columns(one_hot: bool = False) -> list[str]:
        if not one_hot:
            return list(FACTOR_NAMES)
        out = []
        for name, spec in FACTORS.items():
            out += [f"{name}={c}" for c in spec[1]] if spec[0] == "categorical" else [name]
        return out

    def _check(self, i: int) -> int:
        i = int(i)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(f"face index {i} out of range 0..{self.size - 1}")
        return i


def sample_grid(resolution: int = 64, rows: int = 6, cols: int = 10, seed: int = 0,
                texture: bool = False) -> np.ndarray:
    """A [rows*res, cols*res, 3] uint8 grid of the first rows*cols faces."""
    ds = SyntheticFaces(resolution, size=rows * cols, seed=seed, texture=texture)
    grid = np.zeros((rows * resolution, cols * resolution, 3), dtype=np.uint8)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        grid[r * resolution:(r + 1) * resolution, c * resolution:(c + 1) * resolution] = ds.image(i)
    return grid

