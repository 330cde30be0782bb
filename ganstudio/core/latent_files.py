"""Latent files (.npz): W in NVIDIA's `--projected-w` layout, plus optional z, seeds and model hash.

Keys: `w` float32 `[N, num_ws, w_dim]` (a single latent is `[1, num_ws, w_dim]`, exactly what
NVIDIA's projector writes and `generate.py --projected-w` reads); optional `z` float32
`[N, z_dim]`, `seeds` int64 `[N]`, `model_hash` (a string), `space` ("w" | "w+" | "z"), and
`truncation_psi`. Nothing is pickled: load with `np.load(allow_pickle=False)`.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch

from .checkpoint import atomic_write


class LatentFileError(ValueError):
    """A latent file that cannot be used: the message says why, in one line."""


@dataclass(frozen=True, eq=False)
class Latents:
    w: np.ndarray | None = None          # [N, num_ws, w_dim] float32
    z: np.ndarray | None = None          # [N, z_dim] float32
    seeds: np.ndarray | None = None      # [N] int64
    model_hash: str = ""
    space: str = ""                      # "w" (all rows equal), "w+" or "z"
    truncation_psi: float | None = None

    def __len__(self) -> int:
        for a in (self.w, self.z, self.seeds):
            if a is not None:
                return len(a)
        return 0

    def ws_for(self, G, index: int = 0, device: str | torch.device = "cpu") -> torch.Tensor:
        """Latent `index` as ws `[1, num_ws, w_dim]` for G: stored W if any, else z mapped by G."""
        if not 0 <= index < len(self):
            raise LatentFileError(f"latent index {index} out of range 0..{len(self) - 1}")
        if self.w is not None:
            w = torch.from_numpy(self.w[index: index + 1]).to(device)
            if tuple(w.shape[1:]) != (G.num_ws, G.w_dim):
                raise LatentFileError(f"latent W is {tuple(w.shape[1:])}, the model needs "
                                      f"({G.num_ws}, {G.w_dim})")
            return w
        if self.z is not None:
            if self.z.shape[1] != G.z_dim:
                raise LatentFileError(f"latent z has {self.z.shape[1]} dims, the model {G.z_dim}")
            z = torch.from_numpy(self.z[index: index + 1]).to(device)
            psi = 1.0 if self.truncation_psi is None else float(self.truncation_psi)
            with torch.no_grad():
                return G.mapping(z, None, truncation_psi=psi)
        raise LatentFileError("the latent file holds neither w nor z")


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def save_latents(path: str | os.PathLike, *, w=None, z=None, seeds=None, model_hash: str = "",
                 space: str = "", truncation_psi: float | None = None) -> None:
    """Write latents atomically. `w` may be `[num_ws, w_dim]` (one latent) or `[N, num_ws, w_dim]`."""
    data: dict[str, np.ndarray] = {}
    n = None
    if w is not None:
        w = _as_numpy(w).astype(np.float32)
        if w.ndim == 2:
            w = w[None]
        if w.ndim != 3:
            raise LatentFileError(f"w must be [N, num_ws, w_dim], got {w.shape}")
        data["w"], n = w, len(w)
    if z is not None:
        z = _as_numpy(z).astype(np.float32).reshape(-1, _as_numpy(z).shape[-1])
        if n is not None and len(z) != n:
            raise LatentFileError(f"{len(z)} z for {n} w")
        data["z"], n = z, len(z)
    if seeds is not None:
        seeds = _as_numpy(seeds).astype(np.int64).reshape(-1)
        if n is not None and len(seeds) != n:
            raise LatentFileError(f"{len(seeds)} seeds for {n} latents")
        data["seeds"] = seeds
    if not data:
        raise LatentFileError("nothing to save: give w, z or seeds")
    if model_hash:
        data["model_hash"] = np.array(str(model_hash))
    if space:
        data["space"] = np.array(str(space))
    if truncation_psi is not None:
        data["truncation_psi"] = np.array(float(truncation_psi))

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **data)
    atomic_write(path, write)


def load_latents(path: str | os.PathLike) -> Latents:
    """Read a latent file (ours or NVIDIA's projector output, which holds only `w`)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise LatentFileError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise LatentFileError(f"{path}: not a latent .npz file ({e})") from None
    w, z, seeds = files.get("w"), files.get("z"), files.get("seeds")
    if w is None and z is None and seeds is None:
        raise LatentFileError(f"{path}: holds none of the keys w, z, seeds "
                              f"(it has {', '.join(files) or 'nothing'})")
    if w is not None:
        w = w.astype(np.float32)
        if w.ndim == 2:
            w = w[None]
        if w.ndim != 3:
            raise LatentFileError(f"{path}: w must be [N, num_ws, w_dim], got {w.shape}")
    if z is not None:
        z = z.astype(np.float32).reshape(-1, z.shape[-1])
    psi = files.get("truncation_psi")
    return Latents(w=w, z=z, seeds=None if seeds is None else seeds.astype(np.int64).reshape(-1),
                   model_hash=str(files["model_hash"]) if "model_hash" in files else "",
                   space=str(files["space"]) if "space" in files else "",
                   truncation_psi=None if psi is None else float(psi))


def file_hash(path: str | os.PathLike, length: int = 16) -> str:
    """Short SHA-256 of a model file, to record which model a latent belongs to."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]
