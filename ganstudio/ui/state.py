"""The explorer's editor state: one immutable value per edit, turned into a RenderRequest.

No Qt and no torch here. Per-layer tuples are fitted to the model's `num_ws` when a model loads
(`fit`); every edit returns a new state (`dataclasses.replace`), so undo is a stack of states.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from ganstudio.render.request import LatentSource, RenderRequest

from .directions import ActiveDirection, DirectionSpec, random_active
from .stored_latent import StoredLatent

NOISE_MODES = ("const", "random", "none")
OFFSET_RANGE = (-5.0, 5.0)        # row sliders, in units of W's std along the direction
PSI_RANGE = (-1.0, 2.0)
THRESHOLD_RANGE = (0.1, 2.5)      # BigGAN's truncation: z resampled inside ±threshold
STATE_VERSION = 1


@dataclass(frozen=True)
class ExplorerState:
    seed_a: int = 0
    seed_b: int = 1
    psi: float = 1.0
    cutoff: int | None = None            # truncation on layers < cutoff (None: all)
    crossover: int | None = None         # layers ≥ crossover take B (None: no mixing)
    blend: tuple = ()                    # per-layer A↔B weight, 0 = A, 1 = B
    offsets: tuple = ()                  # per-layer offset along the direction, σ units
    noise_on: tuple = ()                 # per-layer noise switch
    noise_mode: str = "const"
    noise_seed: int = 0
    noise_strength: float = 1.0
    direction_seed: int = 0              # the "random" direction source
    direction: DirectionSpec = DirectionSpec()
    direction_index: int = 0             # which direction of the set the rows move along
    latent_a: StoredLatent | None = None   # replaces seed A (projected / loaded latents)
    latent_b: StoredLatent | None = None   # replaces seed B
    class_index: int | None = None
    class_b: int | None = None           # second class of a class interpolation
    class_mix: float = 0.0               # 0 = class_index, 1 = class_b
    truncation: float | None = None      # z resampling threshold (BigGAN); None = off
    zoom: int = 0                        # 0 = fit to window, n = n× integer zoom

    # --- per-layer reads (missing entries read as defaults) ----------------------------------
    @property
    def num_ws(self) -> int:
        return len(self.offsets)

    def offset(self, i: int) -> float:
        return self.offsets[i] if i < len(self.offsets) else 0.0

    def blend_at(self, i: int) -> float:
        return self.blend[i] if i < len(self.blend) else 0.0

    def noise_enabled(self, i: int) -> bool:
        return self.noise_on[i] if i < len(self.noise_on) else True

    def b_fraction(self, i: int) -> float:
        """How much of layer i's style comes from B: 1 past the crossover, else its blend."""
        if self.crossover is not None and i >= self.crossover:
            return 1.0
        return self.blend_at(i)

    # --- edits -------------------------------------------------------------------------------
    def replace(self, **changes) -> "ExplorerState":
        return dataclasses.replace(self, **changes)

    def fit(self, num_ws: int) -> "ExplorerState":
        """Per-layer tuples resized to num_ws (extra entries dropped, new ones default)."""
        def resize(values, default):
            return tuple(values[:num_ws]) + (default,) * max(0, num_ws - len(values))
        crossover = self.crossover if self.crossover is None or self.crossover < num_ws else None
        cutoff = self.cutoff if self.cutoff is None or self.cutoff < num_ws else None
        latents = {k: v for k, v in (("latent_a", self.latent_a), ("latent_b", self.latent_b))
                   if v is not None and v.space == "w" and v.rows not in (1, num_ws)}
        return self.replace(blend=resize(self.blend, 0.0), offsets=resize(self.offsets, 0.0),
                            noise_on=resize(self.noise_on, True), crossover=crossover,
                            cutoff=cutoff, **{k: None for k in latents})

    def with_layers(self, name: str, indices, value) -> "ExplorerState":
        """Set per-layer field `name` ("offsets" | "blend" | "noise_on") at `indices` to value."""
        values = list(getattr(self, name))
        for i in indices:
            values[i] = value
        return self.replace(**{name: tuple(values)})

    def reset_layers(self) -> "ExplorerState":
        """The same seeds and model, every per-layer edit undone."""
        n = self.num_ws
        return self.replace(offsets=(0.0,) * n, blend=(0.0,) * n, noise_on=(True,) * n,
                            crossover=None)

    # --- rendering ---------------------------------------------------------------------------
    def to_request(self, model_info, direction: ActiveDirection | None = None) -> RenderRequest:
        """The render request for this state on a model (a ModelInfo from the render engine).

        `direction` is the direction the rows move along (see DirectionLibrary.active); without
        one, the "random" source is drawn here and other sources render without offsets (their
        directions are not ready yet). Offsets outside the direction's layer range are dropped.
        """
        caps = model_info.capabilities
        num_ws = int(model_info.num_ws)
        s = self.fit(num_ws)
        mixing = num_ws > 1                  # per-layer ws, or BigGAN's z chunks
        blend = s.blend if mixing and any(b != 0 for b in s.blend) else None
        active = direction
        if active is None and s.direction.source == "random":
            active = random_active(s.direction_seed, num_ws, int(model_info.w_dim))
        offsets = None
        if active is not None:
            offsets = tuple(o if active.covers(i) else 0.0 for i, o in enumerate(s.offsets))
        offsets = offsets if offsets is not None and any(o != 0 for o in offsets) else None
        direction = active.rows if offsets is not None else None
        noise_mask = s.noise_on if caps.has_noise and not all(s.noise_on) else None
        c_dim = int(model_info.c_dim)
        class_index = class_b = None
        class_mix = 0.0
        if c_dim > 0:
            class_index = min(max(s.class_index or 0, 0), c_dim - 1)
            if s.class_b is not None and s.class_mix > 0:
                class_b = min(max(s.class_b, 0), c_dim - 1)
                class_mix = min(max(float(s.class_mix), 0.0), 1.0)
        resample = getattr(caps, "truncation", "psi") == "resample"
        psi, cutoff = (1.0, None) if resample else (float(s.psi), s.cutoff)
        return RenderRequest(
            model_id=model_info.model_id,
            latent_a=s.latent_a.source() if s.latent_a else LatentSource(seed=s.seed_a),
            latent_b=s.latent_b.source() if s.latent_b else LatentSource(seed=s.seed_b),
            class_index=class_index, class_b=class_b, class_mix=class_mix,
            truncation_psi=psi, truncation_cutoff=cutoff,
            truncation_threshold=s.truncation if resample else None,
            crossover=s.crossover if mixing else None, blend=blend,
            direction=direction, offsets=offsets,
            noise_mode=s.noise_mode, noise_seed=int(s.noise_seed), noise_mask=noise_mask,
            noise_strength=float(s.noise_strength))

    # --- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.update(blend=list(self.blend), offsets=list(self.offsets), noise_on=list(self.noise_on),
                 direction=self.direction.to_dict(),
                 latent_a=self.latent_a.to_dict() if self.latent_a else None,
                 latent_b=self.latent_b.to_dict() if self.latent_b else None)
        return {"version": STATE_VERSION, **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(d: dict) -> "ExplorerState":
        """Validated state from a dict (unknown keys ignored); ValueError says what is wrong."""
        if not isinstance(d, dict):
            raise ValueError("explorer state must be a JSON object")
        if int(d.get("version", STATE_VERSION)) > STATE_VERSION:
            raise ValueError(f"state version {d.get('version')} is newer than this GANStudio")
        kw = {}
        try:
            for f in dataclasses.fields(ExplorerState):
                if f.name not in d:
                    continue
                v = d[f.name]
                if f.name in ("blend", "offsets"):
                    v = tuple(float(x) for x in v)
                elif f.name == "noise_on":
                    v = tuple(bool(x) for x in v)
                elif f.name in ("psi", "noise_strength", "class_mix"):
                    v = float(v)
                elif f.name == "truncation":
                    v = None if v is None else float(v)
                elif f.name == "noise_mode":
                    v = str(v)
                elif f.name == "direction":
                    v = DirectionSpec.from_dict(v)
                elif f.name in ("latent_a", "latent_b"):
                    v = None if v is None else StoredLatent.from_dict(v)
                else:                                   # ints, some optional
                    v = None if v is None and f.name in ("cutoff", "crossover", "class_index",
                                                         "class_b") \
                        else int(v)
                kw[f.name] = v
        except (TypeError, ValueError) as e:
            raise ValueError(f"explorer state field {f.name!r} is invalid ({e})") from None
        if kw.get("noise_mode", "const") not in NOISE_MODES:
            raise ValueError(f"unknown noise mode {kw['noise_mode']!r}")
        return ExplorerState(**kw)

    @staticmethod
    def from_json(text: str) -> "ExplorerState":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"explorer state is not valid JSON ({e.msg})") from None
        return ExplorerState.from_dict(d)
