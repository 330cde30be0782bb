"""The factors of a synthetic face: their names, ranges and classes, and how they are drawn
from a seed (see trainer.data.synthetic_faces for the table)."""
from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np

HAIR_COLOURS = ("black", "brown", "blonde", "red", "grey")
HAIR_RGB = np.array([(38, 30, 28), (112, 68, 38), (226, 188, 104), (186, 72, 30), (168, 168, 172)],
                    dtype=np.float64)
HAIR_STYLES = ("none", "short", "long", "bun", "curly")
# Skin tone 0..1 interpolates these stops (light -> dark).
SKIN_STOPS = np.array([(255, 226, 200), (236, 188, 150), (196, 140, 98), (140, 92, 62),
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
    """Draw one face's factors: continuous ones uniform over their FACTORS range, classes uniform,
    glasses with probability 0.35. (The call order fixes every image: do not reorder.)"""
    def u(name: str) -> float:
        return float(rng.uniform(*FACTORS[name][1:]))
    return FaceFactors(
        face_aspect=u("face_aspect"), tilt=u("tilt"), offset_x=u("offset_x"),
        offset_y=u("offset_y"), eye_size=u("eye_size"), eye_spacing=u("eye_spacing"),
        mouth_curve=u("mouth_curve"), hair_colour=int(rng.integers(len(HAIR_COLOURS))),
        hair_style=int(rng.integers(len(HAIR_STYLES))), skin_tone=u("skin_tone"),
        background_hue=u("background_hue"), glasses=bool(rng.random() < 0.35),
        shirt_hue=float(rng.uniform(0.0, 1.0)), blush=float(rng.uniform(0.0, 0.6)),
        parting=float(rng.choice([-1.0, 1.0])), hair_shade=float(rng.uniform(0.85, 1.15)))


def factors_for(seed: int, index: int) -> FaceFactors:
    """The factors of image `index` of a dataset with this seed."""
    return sample_factors(np.random.default_rng([int(seed), int(index)]))
