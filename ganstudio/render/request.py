"""Immutable render requests and results: the only values that cross the render thread boundary.

Plain Python values and numpy arrays only (no tensors), so the UI can build requests and read
results without importing torch.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LatentSource:
    """Where one latent comes from: a seed (z drawn with `torch.Generator`), a stored z, or stored ws.

    `z` is a tuple of z_dim floats; `ws` a tuple of num_ws tuples of w_dim floats. Exactly one of
    seed / z / ws is used, in the order ws, z, seed.
    """
    seed: int = 0
    z: tuple | None = None
    ws: tuple | None = None

    @staticmethod
    def from_ws(ws: np.ndarray) -> "LatentSource":
        ws = np.asarray(ws, dtype=np.float32).reshape(-1, ws.shape[-1])
        return LatentSource(ws=tuple(tuple(float(v) for v in row) for row in ws))


@dataclass(frozen=True)
class RenderRequest:
    """Everything needed to render one frame; an edit makes a new request (`dataclasses.replace`)."""
    model_id: str = ""                         # key of a model registered with the renderer
    latent_a: LatentSource = LatentSource(0)
    latent_b: LatentSource = LatentSource(1)
    class_index: int | None = None             # class for conditional models (c_dim > 0)
    class_b: int | None = None                 # second class of a class interpolation
    class_mix: float = 0.0                     # 0 = class_index, 1 = class_b (a soft one-hot between)
    truncation_psi: float = 1.0
    truncation_cutoff: int | None = None
    truncation_threshold: float | None = None  # seeds draw z from N(0, I) resampled inside ±threshold
    crossover: int | None = None               # layers ≥ crossover take their style from B
    blend: tuple | None = None                 # per-layer A↔B blend weights (0 = A, 1 = B)
    direction: tuple | None = None             # per-layer direction vectors: num_ws × w_dim, or 1 × w_dim
    offsets: tuple | None = None               # per-layer offsets along `direction` (num_ws floats)
    noise_mode: str = "const"                  # const | random | none
    noise_seed: int = 0
    noise_mask: tuple | None = None            # per-layer noise on/off (num_ws bools)
    noise_strength: float = 1.0                # global multiplier on every layer's noise
    size: int | None = None                    # output size in pixels (None = native)
    preview: bool = False                      # allow a lower-resolution preview frame
    stamp: int = 0                             # set by the engine; results carry it back

    def replace(self, **changes) -> "RenderRequest":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Capabilities:
    num_ws: int = 0
    w_dim: int = 0
    z_dim: int = 0
    c_dim: int = 0
    img_resolution: int = 0
    has_noise: bool = False
    has_w_space: bool = True
    arch: str = ""
    layers: tuple = ()                         # core.interface.LayerInfo per W input
    device: str = "cpu"
    truncation: str = "psi"                    # "psi" (scale towards w_avg) | "resample" (BigGAN's z)


@dataclass(frozen=True)
class RenderResult:
    image: np.ndarray | None = None            # H×W×3 uint8
    stamp: int = 0
    timings: dict = field(default_factory=dict)  # stage → milliseconds
    capabilities: Capabilities = Capabilities()
    is_preview: bool = False
    error: str | None = None
    ws: np.ndarray | None = None               # the final [num_ws, w_dim] ws of latent A (after edits)
    details: dict = field(default_factory=dict)  # e.g. start_w, stages_run, path, aborted


@dataclass(frozen=True)
class ModelInfo:
    """What the renderer knows about a loaded model (plain values, safe to hand to the UI)."""
    model_id: str = ""
    path: str = ""
    arch: str = ""
    source_format: str = ""                    # "ganstudio" | "builtin" | an importer's format name
    img_resolution: int = 0
    num_ws: int = 0
    w_dim: int = 0
    z_dim: int = 0
    c_dim: int = 0
    num_params: int = 0
    device: str = "cpu"
    content_hash: str = ""                     # sha256 hex of the file; "" for built-ins
    capabilities: Capabilities = Capabilities()
    class_names: tuple = ()                    # one name per class when the file carries them
