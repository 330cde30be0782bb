"""What the style-row sliders move along, until semantic directions (PCA/SeFa) land.

For now: one random unit direction per W input, drawn with numpy's PCG64 generator from the
direction seed (`np.random.default_rng(seed)`), so the same seed gives the same directions on every
machine. The renderer scales each by W's standard deviation along it, so a slider at +1 moves that
layer's w by one standard deviation.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


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
