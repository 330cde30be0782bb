"""Fine-scale texture for synthetic faces (``synthetic:faces?texture=1``).

The plain faces are flat colour: nothing in them lives at the scale of one or two pixels, so a
generator's finest layers have nothing to learn, and an instance-normalised generator (StyleGAN
v1) meets feature maps that are constant over large areas. A FaceTexture adds microstructure that
varies independently of the face's factors: paper grain, stripes or dots on the background, a
striped or checked shirt in a second colour, freckles, and hair strands.

Sizes are fractions of the image (periods of 0.028–0.05 are 1.8–3.2 pixels at 64²), so a texture
looks the same at every resolution; it is drawn on the supersampled canvas and box-reduced with
the rest of the face. A texture comes from its own random stream, ``default_rng([seed, i, 1])``,
so adding texture leaves every face's factors as they were.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

BACKGROUNDS = ("plain", "grain", "stripes", "dots")
SHIRTS = ("plain", "stripes", "checks")


@dataclass(frozen=True)
class FaceTexture:
    background: int = 0           # index into BACKGROUNDS
    background_contrast: float = 0.15
    background_period: float = 0.035
    background_angle: float = 45.0
    shirt: int = 0                # index into SHIRTS
    shirt_ink_hue: float = 0.0
    shirt_period: float = 0.04
    freckles: int = 0             # number of freckles on the cheeks and nose
    hair_strands: float = 0.0     # strand contrast 0 .. 0.4 (0: smooth hair)
    grain_seed: int = 0           # where the grain's pixels and the freckles fall


def sample_texture(rng: np.random.Generator) -> FaceTexture:
    """Draw one texture; every kind equally likely. (The call order fixes every image.)"""
    return FaceTexture(
        background=int(rng.integers(len(BACKGROUNDS))),
        background_contrast=float(rng.uniform(0.08, 0.25)),
        background_period=float(rng.uniform(0.028, 0.05)),
        background_angle=float(rng.uniform(0.0, 180.0)),
        shirt=int(rng.integers(len(SHIRTS))),
        shirt_ink_hue=float(rng.uniform(0.0, 1.0)),
        shirt_period=float(rng.uniform(0.03, 0.05)),
        freckles=int(rng.integers(12, 40)) if rng.random() < 0.4 else 0,
        hair_strands=float(rng.uniform(0.15, 0.4)) if rng.random() < 0.7 else 0.0,
        grain_seed=int(rng.integers(2 ** 31)))


def texture_for(seed: int, index: int) -> FaceTexture:
    """The texture of image `index` of a textured dataset with this seed."""
    return sample_texture(np.random.default_rng([int(seed), int(index), 1]))


def _coords(size: int, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Canvas pixel centres in image fractions, rotated by angle: (u, v), each [size, size]."""
    t = (np.arange(size, dtype=np.float64) + 0.5) / size
    y, x = np.meshgrid(t, t, indexing="ij")
    a = math.radians(angle_deg)
    return x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)


def _stripes(size: int, period: float, angle: float, duty: float = 0.5) -> np.ndarray:
    """[size, size] bool: stripes of the given period (image fraction) and angle."""
    u, _ = _coords(size, angle)
    return np.mod(u / period, 1.0) < duty


def background_layer(tex: FaceTexture, colour, size: int, supersample: int) -> np.ndarray:
    """[size, size, 3] float RGB: the background colour with the texture's pattern on it."""
    base = np.broadcast_to(np.asarray(colour, dtype=np.float64), (size, size, 3))
    kind = BACKGROUNDS[tex.background]
    if kind == "plain":
        return base.copy()
    if kind == "grain":   # one random value per output pixel: the finest structure there is
        out = size // supersample
        g = np.random.default_rng(tex.grain_seed).standard_normal((out, out))
        shade = 1.0 + 0.6 * tex.background_contrast * np.kron(g, np.ones((supersample,) * 2))
    elif kind == "stripes":
        shade = 1.0 - tex.background_contrast * _stripes(size, tex.background_period,
                                                          tex.background_angle, 0.4)
    else:                 # dots on a square lattice
        u, v = _coords(size, tex.background_angle)
        p = tex.background_period
        d = np.hypot(np.mod(u / p, 1.0) - 0.5, np.mod(v / p, 1.0) - 0.5)
        shade = 1.0 - tex.background_contrast * (d < 0.28)
    return base * shade[..., None]


def shirt_layer(tex: FaceTexture, colour, size: int) -> np.ndarray | None:
    """[size, size, 3] float RGB of the patterned shirt, or None for a plain one."""
    kind = SHIRTS[tex.shirt]
    if kind == "plain":
        return None
    ink = np.array(colorsys.hsv_to_rgb(tex.shirt_ink_hue, 0.55, 0.9)) * 255.0
    if kind == "stripes":
        on = _stripes(size, tex.shirt_period, 90.0, 0.45)          # horizontal stripes
    else:
        on = _stripes(size, tex.shirt_period, 0.0, 0.35) | _stripes(size, tex.shirt_period,
                                                                      90.0, 0.35)
    out = np.broadcast_to(np.asarray(colour, dtype=np.float64), (size, size, 3)).copy()
    out[on] = ink
    return out


def hair_layer(tex: FaceTexture, colour, size: int) -> np.ndarray | None:
    """[size, size, 3] float RGB of the hair with darker strands, or None for smooth hair."""
    if tex.hair_strands <= 0:
        return None
    u, v = _coords(size, 0.0)
    # Strands run roughly top to bottom and wave a little, so they are not a perfect grating.
    wave = u + 0.01 * np.sin(v * 40.0)
    on = np.mod(wave / 0.022, 1.0) < 0.4
    shade = 1.0 - tex.hair_strands * on
    return np.asarray(colour, dtype=np.float64) * shade[..., None]


def freckle_spots(tex: FaceTexture, a: float, b: float) -> np.ndarray:
    """[n, 2] freckle centres in local face coordinates: across both cheeks and the nose."""
    if tex.freckles == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng([tex.grain_seed, 7])
    x = rng.uniform(-0.7 * a, 0.7 * a, tex.freckles)
    y = rng.uniform(0.03, 0.12, tex.freckles) - 0.02 * np.cos(x / a * math.pi / 2)
    return np.stack([x, y], axis=1)
