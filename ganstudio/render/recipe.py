"""A request's latent recipe → the ws to render: mapping (cached), crossover, blend, offsets.

Order (CONTRACTS.md): ws_A and ws_B from their sources (seed → z via core.latents.z_from_seed,
or with `truncation_threshold` the same stream resampled inside ±threshold (core.biggan.truncated_z)
→ mapping with class, ψ, cutoff; a stored z goes through the mapping too; stored ws are used as
they are, ψ does not apply to them); layers ≥ crossover take B (core.latents.style_mix); then the
per-layer blend lerps towards B (torch.lerp: 0 keeps, 1 = B exactly); then layer i moves by offsets[i]·σ_i·d_i, d_i
the unit direction and σ_i the standard deviation of mapped W (ψ = 1) projected on d_i, estimated
from 1,000 z of a fixed seed (cached per model and direction).

For BigGAN the ws are z's chunks (no W space): crossover, blend and offsets act on chunks exactly
as on ws, and σ_i is the std of z along d_i (≈ 1). The class — a one-hot, or a soft one between
class_index and class_b at class_mix — reaches `mapping` (StyleGAN2's embed) and, for generators
with `class_in_synthesis`, the synthesis (`class_vector`).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import torch

from ganstudio.core.biggan import truncated_z
from ganstudio.core.interface import GeneratorBase
from ganstudio.core.latents import style_mix, z_from_seed

from .request import LatentSource, RenderRequest

SIGMA_SAMPLES = 1000
SIGMA_SEED = 0
NOISE_MODES = ("const", "random", "none")


class RecipeError(ValueError):
    """A request that does not fit the model (wrong lengths, unknown class…), in one line."""


def _digest(values) -> str:
    arr = np.asarray(values, dtype=np.float32)
    return hashlib.sha1(arr.tobytes() + str(arr.shape).encode()).hexdigest()


class LatentRecipe:
    """Turns requests into ws for one model; caches mappings and direction σ."""

    def __init__(self, G: GeneratorBase, device: torch.device, max_cached: int = 512):
        self.G = G
        self.device = device
        self.num_ws, self.w_dim, self.z_dim, self.c_dim = G.num_ws, G.w_dim, G.z_dim, G.c_dim
        self._mapped: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._max_cached = max_cached
        self._w_samples: torch.Tensor | None = None
        self._sigmas: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.mapping_calls = 0

    # --- sources ----------------------------------------------------------------------------
    def _class_index(self, value, what: str) -> int:
        idx = 0 if value is None else int(value)
        if not 0 <= idx < self.c_dim:
            raise RecipeError(f"{what} {idx} is out of range: the model has {self.c_dim} classes")
        return idx

    def class_vector(self, r: RenderRequest) -> torch.Tensor | None:
        """The request's class as a one-hot [1, c_dim] — soft between class_index and class_b
        when class_mix is in (0, 1) (a linear blend of their embeddings) — or None (c_dim 0)."""
        if self.c_dim == 0:
            return None
        a = self._class_index(r.class_index, "class")
        mix = float(r.class_mix)
        if not 0.0 <= mix <= 1.0:
            raise RecipeError(f"class interpolation {mix} is outside 0..1")
        c = torch.zeros([1, self.c_dim], device=self.device)
        if r.class_b is None or mix == 0.0:
            c[0, a] = 1
            return c
        b = self._class_index(r.class_b, "second class")
        if b == a or mix == 1.0:
            c[0, b] = 1                                     # exactly the one-hot of b
            return c
        c[0, a], c[0, b] = 1.0 - mix, mix
        return c

    def _class_key(self, r: RenderRequest) -> tuple:
        if self.c_dim == 0:
            return ()
        mix = float(r.class_mix) if r.class_b is not None else 0.0
        return (r.class_index, r.class_b if mix else None, mix)

    def _seed_z(self, seed: int, threshold) -> torch.Tensor:
        """z [1, z_dim] of a seed: z_from_seed, or with a threshold the same stream with every
        entry |z| ≥ threshold redrawn (BigGAN's truncation trick; identical when none is)."""
        if threshold is None:
            return z_from_seed(int(seed), self.z_dim, self.device)
        return truncated_z(int(seed), self.z_dim, float(threshold)).to(self.device)

    def source_ws(self, src: LatentSource, r: RenderRequest) -> torch.Tensor:
        """[1, num_ws, w_dim] for one latent source of a request (cached)."""
        psi, cutoff, threshold = r.truncation_psi, r.truncation_cutoff, r.truncation_threshold
        if src.ws is not None:
            ws = torch.as_tensor(np.asarray(src.ws, dtype=np.float32), device=self.device)
            if ws.ndim == 1:
                ws = ws[None]
            if ws.shape[-1] != self.w_dim or ws.shape[0] not in (1, self.num_ws):
                raise RecipeError(f"stored ws have shape {tuple(ws.shape)}; the model needs "
                                  f"({self.num_ws}, {self.w_dim}) or (1, {self.w_dim})")
            return ws.expand(self.num_ws, -1).unsqueeze(0).contiguous()
        common = (self._class_key(r), float(psi), cutoff)
        if src.z is not None:
            key = ("z", _digest(src.z)) + common
        else:
            key = ("seed", int(src.seed), threshold) + common
        ws = self._mapped.get(key)
        if ws is not None:
            self._mapped.move_to_end(key)
            return ws
        if src.z is not None:
            z = torch.as_tensor(np.asarray(src.z, dtype=np.float32), device=self.device)
            z = z.reshape(1, -1)
            if z.shape[1] != self.z_dim:
                raise RecipeError(f"stored z has {z.shape[1]} values; the model needs {self.z_dim}")
        else:
            z = self._seed_z(src.seed, threshold)
        if cutoff is not None and not 0 <= int(cutoff) <= self.num_ws:
            raise RecipeError(f"truncation cutoff {cutoff} is outside 0..{self.num_ws}")
        c = self.class_vector(r)
        ws = self.G.mapping(z, c, truncation_psi=float(psi), truncation_cutoff=cutoff)
        self.mapping_calls += 1
        ws = ws.to(torch.float32).contiguous()                                  # [1, num_ws, w_dim]
        self._mapped[key] = ws
        while len(self._mapped) > self._max_cached:
            self._mapped.popitem(last=False)
        return ws

    # --- σ along a direction ------------------------------------------------------------------
    def w_samples(self) -> torch.Tensor:
        """Mapped W (ψ = 1) of SIGMA_SAMPLES z drawn from a fixed seed: [S, w_dim]."""
        if self._w_samples is None:
            g = torch.Generator().manual_seed(SIGMA_SEED)
            z = torch.randn([SIGMA_SAMPLES, self.z_dim], generator=g).to(self.device)
            c = None
            if self.c_dim > 0:
                idx = torch.randint(0, self.c_dim, [SIGMA_SAMPLES], generator=g)
                c = torch.nn.functional.one_hot(idx, self.c_dim).to(self.device, torch.float32)
            ws = self.G.mapping(z, c, truncation_psi=1.0)
            self._w_samples = ws[:, 0].to(torch.float32)
        return self._w_samples

    def directions(self, direction) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit directions [num_ws, w_dim] and σ per layer [num_ws] (cached per direction)."""
        d = torch.as_tensor(np.asarray(direction, dtype=np.float32), device=self.device)
        if d.ndim == 1:
            d = d[None]
        if d.ndim != 2 or d.shape[1] != self.w_dim or d.shape[0] not in (1, self.num_ws):
            raise RecipeError(f"direction has shape {tuple(d.shape)}; the model needs "
                              f"({self.num_ws}, {self.w_dim}) or (1, {self.w_dim})")
        norm = d.norm(dim=1, keepdim=True)
        if bool((norm == 0).any()):
            raise RecipeError("a direction vector is zero")
        d = (d / norm).expand(self.num_ws, -1)
        key = _digest(direction)
        sigma = self._sigmas.get(key)
        if sigma is None:
            proj = self.w_samples() @ d.t()                                      # [S, num_ws]
            sigma = proj.std(dim=0)
            self._sigmas[key] = sigma
            while len(self._sigmas) > 32:
                self._sigmas.popitem(last=False)
        return d, sigma

    # --- the whole recipe ---------------------------------------------------------------------
    def ws(self, r: RenderRequest) -> torch.Tensor:
        """The request's final ws [1, num_ws, w_dim]."""
        ws = self.source_ws(r.latent_a, r)
        need_b = r.crossover is not None or (r.blend is not None and any(r.blend))
        if need_b:
            ws_b = self.source_ws(r.latent_b, r)
            if r.crossover is not None:
                k = int(r.crossover)
                if not 0 <= k <= self.num_ws:
                    raise RecipeError(f"crossover {k} is outside 0..{self.num_ws}")
                ws = style_mix(ws, ws_b, k)
            if r.blend is not None:
                if len(r.blend) != self.num_ws:
                    raise RecipeError(f"{len(r.blend)} blend weights for {self.num_ws} W inputs")
                t = torch.tensor([float(v) for v in r.blend], device=self.device)
                ws = torch.lerp(ws, ws_b, t[None, :, None])   # exact at 0 (A) and at 1 (B)
        if r.offsets is not None and any(float(o) != 0 for o in r.offsets):
            if len(r.offsets) != self.num_ws:
                raise RecipeError(f"{len(r.offsets)} offsets for {self.num_ws} W inputs")
            if r.direction is None:
                raise RecipeError("offsets were given without a direction")
            d, sigma = self.directions(r.direction)
            off = torch.tensor([float(o) for o in r.offsets], device=self.device)
            ws = ws + (off * sigma)[None, :, None] * d[None]
        return ws

    def noise_scale(self, r: RenderRequest) -> tuple:
        """Per-W-input noise multiplier: mask × strength."""
        if r.noise_mode not in NOISE_MODES:
            raise RecipeError(f"noise mode must be one of {', '.join(NOISE_MODES)}, "
                              f"got {r.noise_mode!r}")
        mask = r.noise_mask
        if mask is not None and len(mask) != self.num_ws:
            raise RecipeError(f"{len(mask)} noise mask entries for {self.num_ws} W inputs")
        s = float(r.noise_strength)
        return tuple((s if (mask is None or mask[i]) else 0.0) for i in range(self.num_ws))
