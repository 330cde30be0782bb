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
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import astuple, dataclass, fields

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4
#: SyntheticFaces keeps drawn images in memory when all N would fit in this many bytes;
#: above it every request redraws (about 1 GiB: 10000 faces at 128x128 take 0.5 GiB).
CACHE_BYTES = 1 << 30

HAIR_COLOURS = ("black", "brown", "blonde", "red", "grey")
HAIR_RGB = np.array([(38, 30, 28), (112, 68, 38), (226, 188, 104), (186, 72, 30), (168, 168, 172)],
                    dtype=np.float64)
HAIR_STYLES = ("none", "short", "long", "bun", "curly")
# Skin tone 0..1 interpolates these stops (light -> dark).
_SKIN_STOPS = np.array([(255, 226, 200), (236, 188, 150), (196, 140, 98), (140, 92, 62),
                        (92, 60, 42)], dtype=np.float64)

# name -> (kind, low, high) for continuous/bool, (kind, class names) for categoricals.
FACTORS: dict[str, tuple] = {
    "face_aspect": ("continuous", 0.65, 1.05),
    "tilt": ("continuous", -20.0, 20.0),
    "offset_x": ("continuous", -0.08, 0.08),
    "offset_y": ("continuous", -0.06, 0.06),
    "eye_size": ("continuous", 0.7, 1.4),
    "eye_spacing": ("continuous", 0.7, 1.4),
    "mouth_curve": ("continuous", -1.0, 1.0),
    "hair_colour": ("categorical", HAIR_COLOURS),
    "hair_style": ("categorical", HAIR_STYLES),
    "skin_tone": ("continuous", 0.0, 1.0),
    "background_hue": ("continuous", 0.0, 1.0),
    "glasses": ("bool", 0, 1),
}
FACTOR_NAMES = tuple(FACTORS)


@dataclass(frozen=True)
class FaceFactors:
    """Everything that decides one face. The first fields (FACTOR_NAMES) are its labels."""

    face_aspect: float = 0.85
    tilt: float = 0.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    eye_size: float = 1.0
    eye_spacing: float = 1.0
    mouth_curve: float = 0.5
    hair_colour: int = 1
    hair_style: int = 1
    skin_tone: float = 0.3
    background_hue: float = 0.6
    glasses: bool = False
    # nuisance (not labels)
    shirt_hue: float = 0.0
    blush: float = 0.3
    parting: float = 1.0          # -1 or 1: which side the fringe sweeps to
    hair_shade: float = 1.0       # multiplies the hair colour, 0.85 .. 1.15

    def labels(self) -> dict[str, float | int]:
        return {name: (int(v) if FACTORS[name][0] != "continuous" else float(v))
                for name, v in zip(FACTOR_NAMES, astuple(self))}


assert tuple(f.name for f in fields(FaceFactors))[:len(FACTOR_NAMES)] == FACTOR_NAMES


def sample_factors(rng: np.random.Generator) -> FaceFactors:
    """Draw one face's factors (uniform continuous factors, uniform classes, glasses 35%)."""
    u = rng.uniform
    return FaceFactors(
        face_aspect=u(0.65, 1.05), tilt=u(-20.0, 20.0), offset_x=u(-0.08, 0.08),
        offset_y=u(-0.06, 0.06), eye_size=u(0.7, 1.4), eye_spacing=u(0.7, 1.4),
        mouth_curve=u(-1.0, 1.0), hair_colour=int(rng.integers(len(HAIR_COLOURS))),
        hair_style=int(rng.integers(len(HAIR_STYLES))), skin_tone=u(0.0, 1.0),
        background_hue=u(0.0, 1.0), glasses=bool(rng.random() < 0.35),
        shirt_hue=u(0.0, 1.0), blush=u(0.0, 0.6), parting=float(rng.choice([-1.0, 1.0])),
        hair_shade=u(0.85, 1.15))


def factors_for(seed: int, index: int) -> FaceFactors:
    return sample_factors(np.random.default_rng([int(seed), int(index)]))


# ----------------------------------------------------------------------------------------------
# Drawing. Local face coordinates are fractions of the image, y down, origin at the head centre.

def _rgb(c) -> tuple[int, int, int]:
    return tuple(int(round(min(255.0, max(0.0, x)))) for x in c)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    return _rgb(np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0)


_UNIT_CIRCLES: dict[int, np.ndarray] = {}


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 32) -> np.ndarray:
    unit = _UNIT_CIRCLES.get(n)
    if unit is None:
        t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
        unit = _UNIT_CIRCLES[n] = np.stack([np.cos(t), np.sin(t)], axis=1)
    return unit * (rx, ry) + (cx, cy)                                       # [n, 2]


def _arc(cx, cy, rx, ry, t0, t1, n=24) -> np.ndarray:
    t = np.linspace(t0, t1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


class _Painter:
    """Draws point lists in local face coordinates onto a supersampled canvas."""

    def __init__(self, draw: ImageDraw.ImageDraw, size: int):
        self.draw, self.size = draw, size
        self.set_frame(0.5, 0.5, 0.0, 0.0, 0.0)

    def set_frame(self, cx: float, cy: float, angle_deg: float, px: float, py: float) -> None:
        """Local (x, y) -> rotate by angle about local pivot (px, py) -> shift to (cx, cy)."""
        a = math.radians(angle_deg)
        self.rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        self.pivot = np.array([px, py])
        self.centre = np.array([cx, cy])

    def _xy(self, pts: np.ndarray) -> list[float]:
        p = (pts - self.pivot) @ self.rot.T + self.pivot + self.centre
        return (p * self.size).ravel().tolist()

    def poly(self, pts: np.ndarray, fill) -> None:
        self.draw.polygon(self._xy(pts), fill=fill)

    def line(self, pts: np.ndarray, fill, width: float) -> None:
        # No rounded joints: on these gently bending curves the joint gaps are far below one
        # output pixel after the supersampled reduction, and joint="curve" costs 4x more.
        self.draw.line(self._xy(pts), fill=fill, width=max(1, int(round(width * self.size))))

    def outline(self, pts: np.ndarray, fill, width: float) -> None:
        self.line(np.concatenate([pts, pts[:1]]), fill, width)


def _head_outline(a: float, b: float, n: int = 44) -> np.ndarray:
    """Egg-shaped head: semi-axes a (half width) and b (half height), narrower at the chin."""
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    s = np.sin(t)
    x = a * np.cos(t) * (1.0 - 0.14 * np.clip(s, 0.0, None) ** 2)
    return np.stack([x, b * s], axis=1)


def _hair_cap(a: float, b: float, parting: float, bumpy: bool) -> np.ndarray:
    """Hair over the top of the head, ending in a fringe across the forehead."""
    t = np.linspace(math.pi - 0.35, 2.0 * math.pi + 0.35, 40)
    r = 1.0 + (0.05 * np.abs(np.sin(9.0 * t)) if bumpy else 0.0)
    outer = np.stack([(a + 0.018) * r * np.cos(t), (b + 0.03) * r * np.sin(t) - 0.005], axis=1)
    # Fringe from the right temple back to the left one; higher on the parting side.
    fx = np.linspace(1.0, -1.0, 17)
    fy = -0.42 * b + 0.10 * b * parting * fx - 0.05 * b * np.abs(np.sin(fx * 6.0))
    fringe = np.stack([0.96 * a * fx, fy], axis=1)
    side_r = np.array([[1.02 * a, 0.05 * b]])
    side_l = np.array([[-1.02 * a, 0.05 * b]])
    return np.concatenate([outer, side_r, fringe, side_l])


def draw_face(f: FaceFactors, resolution: int, supersample: int = SUPERSAMPLE) -> np.ndarray:
    """Render one face as a uint8 [resolution, resolution, 3] array."""
    size = int(resolution) * supersample
    bg = _hsv(f.background_hue, 0.38, 0.88)
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img, "RGBA")
    p = _Painter(draw, size)

    k = f.skin_tone * (len(_SKIN_STOPS) - 1)
    i0 = min(int(k), len(_SKIN_STOPS) - 2)
    skin = _SKIN_STOPS[i0] + (k - i0) * (_SKIN_STOPS[i0 + 1] - _SKIN_STOPS[i0])
    skin_shadow = skin * 0.82
    hair = HAIR_RGB[f.hair_colour] * f.hair_shade
    hair_dark = hair * 0.75
    brow = HAIR_RGB[f.hair_colour] * (0.6 if f.hair_colour != 0 else 1.0)

    b = 0.235 / math.sqrt(f.face_aspect)  # head half height
    a = b * f.face_aspect                 # head half width (a * b is the same for every face)
    cx, cy = 0.5 + f.offset_x, 0.46 + f.offset_y
    style = HAIR_STYLES[f.hair_style]

    # Head parts tilt about the neck; the body (shoulders, neck) does not tilt.
    p.set_frame(cx, cy, f.tilt, 0.0, 0.8 * b)
    if style == "long":   # hangs behind the shoulders, which hide its lower edge
        back = np.concatenate([_arc(0.0, -0.05, a + 0.05, b + 0.01, math.pi, 2 * math.pi),
                               [[a + 0.08, b + 0.3], [-a - 0.08, b + 0.3]]])
        p.poly(back, _rgb(hair_dark))
    p.set_frame(cx, cy, 0.0, 0.0, 0.0)
    p.poly(_ellipse(0.0, b + 0.36, 0.36, 0.24), _hsv(f.shirt_hue, 0.5, 0.7))
    p.set_frame(cx, cy, f.tilt, 0.0, 0.8 * b)
    if style == "curly":
        t = np.linspace(0.0, 2.0 * math.pi, 72, endpoint=False)
        r = 1.0 + 0.06 * np.abs(np.sin(8.0 * t))
        blob = np.stack([(a + 0.075) * r * np.cos(t), -0.08 + (b * 0.86) * r * np.sin(t)], axis=1)
        p.poly(blob, _rgb(hair_dark))
    elif style == "bun":
        p.poly(_ellipse(0.0, -b - 0.035, 0.075, 0.065), _rgb(hair_dark))
    p.set_frame(cx, cy, 0.0, 0.0, 0.0)
    p.poly(np.array([[-0.055, 0.5 * b], [0.055, 0.5 * b], [0.06, b + 0.14], [-0.06, b + 0.14]]),
           _rgb(skin_shadow))
    p.set_frame(cx, cy, f.tilt, 0.0, 0.8 * b)
    for side in (-1.0, 1.0):
        p.poly(_ellipse(side * a * 0.97, 0.03, 0.03, 0.045, 20), _rgb(skin_shadow))
    head = _head_outline(a, b)
    p.poly(head, _rgb(skin_shadow))
    p.poly(head * 0.93 + np.array([-0.012, -0.014]), _rgb(skin))
    if f.blush > 0.05:
        for side in (-1.0, 1.0):
            p.poly(_ellipse(side * 0.55 * a, 0.09, 0.035, 0.022, 20),
                   (230, 90, 100, int(120 * f.blush)))

    # Hair in front.
    if style != "none":
        p.poly(_hair_cap(a, b, f.parting, bumpy=(style == "curly")), _rgb(hair))
        if style == "long":
            for side in (-1.0, 1.0):
                lock = np.array([[side * (a + 0.02), -0.05], [side * (a - 0.02), 0.02],
                                 [side * (a - 0.005), b + 0.12], [side * (a + 0.03), b + 0.16],
                                 [side * (a + 0.07), b + 0.14]])
                p.poly(lock, _rgb(hair))
        if style == "bun":
            p.poly(_ellipse(0.0, -b - 0.035, 0.065, 0.055), _rgb(hair))
    else:
        p.poly(_ellipse(-0.35 * a, -0.65 * b, 0.05, 0.028), (255, 255, 255, 70))

    # Eyes, eyebrows.
    ex, ey = 0.078 * f.eye_spacing, -0.01
    rx, ry = 0.036 * f.eye_size, 0.028 * f.eye_size
    for side in (-1.0, 1.0):
        x = side * ex
        p.poly(_ellipse(x, ey, rx, ry, 28), (250, 250, 250))
        pr = 0.62 * ry
        p.poly(_ellipse(x + 0.1 * rx, ey + 0.1 * ry, pr, pr, 20), (35, 28, 30))
        p.poly(_ellipse(x + 0.1 * rx - 0.35 * pr, ey - 0.2 * pr, 0.3 * pr, 0.3 * pr, 12),
               (255, 255, 255))
        by = ey - ry - 0.028
        p.line(_arc(x, by + 0.02, rx * 1.15, 0.022, 1.2 * math.pi, 1.8 * math.pi, 12),
               _rgb(brow), 0.014)

    # Nose hint and mouth.
    p.poly(_ellipse(0.0, 0.075, 0.018, 0.012, 16), _rgb(skin_shadow * 0.92))
    mw, my, depth = 0.08, 0.14, 0.045
    lip_dark = 1.0 - 0.55 * f.skin_tone   # keeps the mouth visible on dark skin
    u = np.linspace(-1.0, 1.0, 21)
    curve = np.stack([mw * u, my + depth * f.mouth_curve * (1.0 - u ** 2)], axis=1)
    if f.mouth_curve > 0.35:   # open grin: fill between the lip line and a deeper lower curve
        lower = np.stack([mw * u, my + (depth * f.mouth_curve + 0.035 * (f.mouth_curve - 0.35))
                          * (1.0 - u ** 2)], axis=1)
        p.poly(np.concatenate([curve, lower[::-1]]), _rgb(np.array((120, 30, 40)) * lip_dark))
    p.line(curve, _rgb(np.array((150, 42, 52)) * lip_dark), 0.018)

    # Glasses.
    if f.glasses:
        lr = max(0.05, 1.3 * rx)
        frame = (25, 25, 30)
        for side in (-1.0, 1.0):
            lens = _ellipse(side * ex, ey, lr, lr * 0.85, 32)
            p.poly(lens, (255, 255, 255, 60))
            p.outline(lens, frame, 0.014)
            p.line(np.array([[side * (ex + lr), ey - 0.01], [side * a * 0.98, ey - 0.02]]),
                   frame, 0.012)
        p.line(np.array([[-ex + lr, ey - 0.005], [ex - lr, ey - 0.005]]), frame, 0.012)

    if supersample > 1:
        img = img.reduce(supersample)
    return np.asarray(img, dtype=np.uint8)


class SyntheticFaces:
    """N cartoon faces at one resolution; image i depends only on (seed, i). Drawn on request."""

    factor_names = FACTOR_NAMES
    class_names = HAIR_COLOURS

    def __init__(self, resolution: int, size: int = 10000, seed: int = 0,
                 class_factor: str = "hair_colour"):
        if not 4 <= int(resolution) <= 4096:
            raise ValueError(f"synthetic:faces resolution must be 4..4096, got {resolution}")
        if int(size) < 1:
            raise ValueError(f"synthetic:faces size must be at least 1, got {size}")
        if FACTORS.get(class_factor, ("",))[0] not in ("categorical", "bool"):
            raise ValueError(f"class_factor must be a categorical factor "
                             f"({', '.join(n for n, v in FACTORS.items() if v[0] != 'continuous')})"
                             f", got {class_factor!r}")
        self.resolution, self.size, self.seed = int(resolution), int(size), int(seed)
        self.class_factor = class_factor
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

    def __getitem__(self, i: int) -> tuple[np.ndarray, dict]:
        f = self.factors(i)
        return self.image(i), f.labels()

    def image(self, i: int) -> np.ndarray:
        return self.images(np.array([self._check(i)]))[0]

    def images(self, idx: np.ndarray) -> np.ndarray:
        """[n, R, R, 3] uint8 for the given indices; drawn on first use, then kept (see CACHE_BYTES)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._cache is None:
            return np.stack([draw_face(self.factors(i), self.resolution) for i in idx.tolist()])
        for i in np.unique(idx[~self._drawn[idx]]).tolist():
            self._cache[i] = draw_face(self.factors(i), self.resolution)
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


def sample_grid(resolution: int = 64, rows: int = 6, cols: int = 10, seed: int = 0) -> np.ndarray:
    """A [rows*res, cols*res, 3] uint8 grid of the first rows*cols faces."""
    ds = SyntheticFaces(resolution, size=rows * cols, seed=seed)
    grid = np.zeros((rows * resolution, cols * resolution, 3), dtype=np.uint8)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        grid[r * resolution:(r + 1) * resolution, c * resolution:(c + 1) * resolution] = ds.image(i)
    return grid

