"""Drawing one cartoon face from its FaceFactors, anti-aliased, at any resolution.

Every shape is a point list in local face coordinates (fractions of the image, y down, origin at
the head centre), so head tilt is one affine transform; the canvas is SUPERSAMPLE x the target
size and is box-reduced at the end, which anti-aliases every edge.
"""
from __future__ import annotations

import colorsys
import math

import numpy as np
from PIL import Image, ImageDraw

from .face_factors import SKIN_STOPS, HAIR_RGB, HAIR_STYLES, FaceFactors
from .face_texture import (FaceTexture, background_layer, freckle_spots, hair_layer,
                           shirt_layer)

SUPERSAMPLE = 4


def _rgb(c) -> tuple[int, int, int]:
    return tuple(int(round(min(255.0, max(0.0, x)))) for x in c)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    return _rgb(np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0)


def _image(layer: np.ndarray) -> Image.Image:
    """RGB image from a float [H, W, 3] layer (rounded, clipped to 0..255)."""
    return Image.fromarray((np.clip(layer, 0.0, 255.0) + 0.5).astype(np.uint8))


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

    def __init__(self, image: Image.Image, size: int):
        self.image, self.size = image, size
        self.draw = ImageDraw.Draw(image, "RGBA")
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

    def poly_filled_with(self, pts: np.ndarray, layer: np.ndarray | None, fill) -> None:
        """The polygon filled from `layer` ([size, size, 3] RGB), or with `fill` if layer is None."""
        if layer is None:
            return self.poly(pts, fill)
        mask = Image.new("L", self.image.size, 0)
        ImageDraw.Draw(mask).polygon(self._xy(pts), fill=255)
        self.image.paste(_image(layer), (0, 0), mask)

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


def draw_face(f: FaceFactors, resolution: int, supersample: int = SUPERSAMPLE,
              texture: FaceTexture | None = None) -> np.ndarray:
    """Render one face as a uint8 [resolution, resolution, 3] array; `texture` adds fine-scale
    patterns (trainer.data.face_texture), None draws the flat-colour face."""
    size = int(resolution) * supersample
    bg = _hsv(f.background_hue, 0.38, 0.88)
    if texture is None:
        img = Image.new("RGB", (size, size), bg)
    else:
        img = _image(background_layer(texture, bg, size, supersample))
    p = _Painter(img, size)

    k = f.skin_tone * (len(SKIN_STOPS) - 1)
    i0 = min(int(k), len(SKIN_STOPS) - 2)
    skin = SKIN_STOPS[i0] + (k - i0) * (SKIN_STOPS[i0 + 1] - SKIN_STOPS[i0])
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
    shirt = _hsv(f.shirt_hue, 0.5, 0.7)
    p.poly_filled_with(_ellipse(0.0, b + 0.36, 0.36, 0.24),
                       None if texture is None else shirt_layer(texture, shirt, size), shirt)
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
    if texture is not None:
        for x, y in freckle_spots(texture, a, b):
            p.poly(_ellipse(x, y, 0.007, 0.007, 8), _rgb(skin * 0.62) + (170,))

    # Hair in front.
    if style != "none":
        p.poly_filled_with(_hair_cap(a, b, f.parting, bumpy=(style == "curly")),
                           None if texture is None else hair_layer(texture, hair, size),
                           _rgb(hair))
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
