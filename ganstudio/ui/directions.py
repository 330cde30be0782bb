"""What the style-row sliders move along: the recipe of a direction set (kept in the state) and the
one direction in use (numpy vectors, handed to the render request). No Qt, no torch.

Sources: "random" (one random unit vector per W input, drawn with numpy's PCG64 from the
direction seed, the same on every machine), "pca" (GANSpace), "sefa" (closed form), "file" (a
directions .npz) and "labelled" (a directions .npz carrying a classifier). The renderer scales each
vector by W's standard deviation along it, so a slider at +1 moves that layer's w by one σ.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SOURCES = ("random", "pca", "sefa", "file", "labelled")
COMPUTED = ("pca", "sefa")
FILES = ("file", "labelled")


@dataclass(frozen=True)
class DirectionSpec:
    """How to get the direction set: serialisable (parameters and file paths, never vectors)."""
    source: str = "random"
    k: int = 8                       # pca / sefa: number of directions
    first: int = 0                   # pca / sefa: W indices they apply to (inclusive)
    last: int = -1                   # -1: to the last W input
    seed: int = 0                    # pca: seed of the W samples
    samples: int = 10_000            # pca: number of W samples
    path: str = ""                   # file / labelled

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d) -> "DirectionSpec":
        if not isinstance(d, dict):
            raise ValueError("direction must be a JSON object")
        kw = {}
        for f in dataclasses.fields(DirectionSpec):
            if f.name in d:
                kw[f.name] = str(d[f.name]) if f.name in ("source", "path") else int(d[f.name])
        spec = DirectionSpec(**kw)
        if spec.source not in SOURCES:
            raise ValueError(f"unknown direction source {spec.source!r}")
        return spec

    def layer_range(self, num_ws: int) -> tuple[int, int]:
        """(first, last) clipped to the model's W inputs."""
        last = num_ws - 1 if self.last < 0 else min(self.last, num_ws - 1)
        first = min(max(self.first, 0), last)
        return first, last


@dataclass(frozen=True, eq=False)
class ActiveDirection:
    """The direction the rows move along: `rows` num_ws × w_dim (or 1 × w_dim) unit vectors."""
    rows: tuple                      # tuple of tuples of floats, as RenderRequest.direction wants
    first: int                       # W indices it applies to (inclusive)
    last: int
    name: str = ""

    @staticmethod
    def from_array(vectors: np.ndarray, first: int, last: int, name: str = "") -> "ActiveDirection":
        v = np.asarray(vectors, dtype=np.float32)
        v = v[None] if v.ndim == 1 else v                                   # [1 | num_ws, w_dim]
        return ActiveDirection(tuple(tuple(float(x) for x in row) for row in v), int(first),
                               int(last), name)

    def covers(self, i: int) -> bool:
        return self.first <= i <= self.last


@lru_cache(maxsize=16)
def _directions(seed: int, num_ws: int, w_dim: int) -> np.ndarray:
    rng = np.random.default_rng(int(seed))
    d = rng.standard_normal((num_ws, w_dim))                       # [num_ws, w_dim]
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    d = d.astype(np.float32)
    d.setflags(write=False)
    return d


def random_directions(seed: int, num_ws: int, w_dim: int) -> np.ndarray:
    """Unit vectors `[num_ws, w_dim]` (float32, read-only), one per W input."""
    return _directions(int(seed), int(num_ws), int(w_dim))


@lru_cache(maxsize=16)
def random_active(seed: int, num_ws: int, w_dim: int) -> ActiveDirection:
    return ActiveDirection.from_array(random_directions(seed, num_ws, w_dim), 0, num_ws - 1,
                                      f"random (seed {seed})")
