"""A latent kept in the explorer state instead of a seed: projected or loaded ws, or a loaded z.

Values are plain tuples (so states compare and hash as values); JSON holds them as base64 of
little-endian float32, which round-trips exactly. No Qt, no torch.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from ganstudio.render.request import LatentSource

SPACES = ("w", "z")


@dataclass(frozen=True)
class StoredLatent:
    space: str                       # "w": ws rows [num_ws | 1][w_dim]; "z": one z [z_dim]
    values: tuple
    label: str = ""                  # what the user sees, e.g. "projected cat.png"

    @staticmethod
    def from_array(values: np.ndarray, space: str = "w", label: str = "") -> "StoredLatent":
        v = np.asarray(values, dtype=np.float32)
        if space == "w":
            v = v.reshape(-1, v.shape[-1])                          # [num_ws, w_dim]
            vals = tuple(tuple(float(x) for x in row) for row in v)
        elif space == "z":
            vals = tuple(float(x) for x in v.reshape(-1))           # [z_dim]
        else:
            raise ValueError(f"stored latent space must be w or z, got {space!r}")
        return StoredLatent(space, vals, label)

    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float32)

    @property
    def rows(self) -> int:
        return len(self.values) if self.space == "w" else 1

    def source(self) -> LatentSource:
        return LatentSource(ws=self.values) if self.space == "w" else LatentSource(z=self.values)

    def to_dict(self) -> dict:
        a = self.array()
        return {"space": self.space, "label": self.label, "shape": list(a.shape),
                "float32": base64.b64encode(a.astype("<f4").tobytes()).decode("ascii")}

    @staticmethod
    def from_dict(d) -> "StoredLatent":
        try:
            shape = tuple(int(s) for s in d["shape"])
            raw = base64.b64decode(d["float32"], validate=True)
            a = np.frombuffer(raw, dtype="<f4").reshape(shape)
            return StoredLatent.from_array(a, str(d["space"]), str(d.get("label", "")))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"stored latent is invalid ({e})") from None
