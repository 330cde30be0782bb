"""Incremental synthesis: keep every stage's output of the last frame, re-run only what changed.

A request that differs from the last frame only in W inputs ≥ k (their style, offset, blend or
noise) restarts at the first stage that consumes w_k, from the stored x and skip image before it.
The stored state is the output of each stage (x after a conv, the skip image after a toRGB), so
the result is bit-identical to running all stages: the same kernels see the same inputs.

Random noise is drawn once per noise seed for every noisy layer in stage order (one
`torch.Generator` seeded with the noise seed), so a restart needs no generator state and switching
one layer's noise off leaves the other layers' noise unchanged.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

import torch

from .stages import Stage


class Aborted(Exception):
    """Raised inside `run` when `should_abort()` turned true between two stages."""


@dataclass(frozen=True)
class NoiseSpec:
    mode: str = "const"                 # const | random | none
    seed: int = 0
    scale: tuple = ()                   # per W input: mask × strength


@dataclass
class RunStats:
    start_stage: int = 0                # first stage that ran (len(stages) when nothing ran)
    stop_stage: int = 0                 # last stage included in the image
    stages_run: int = 0
    ms: float = 0.0
    stage_ms: dict = field(default_factory=dict)


class IncrementalSynthesis:
    """Stage runner with a per-stage cache. Not thread-safe: one caller at a time.

    `kernels` provides const(), conv(stage, x, w, noise, noise_scale), torgb(stage, x, w, img) and
    noise_const(stage); `stages` is the ordered stage list. `keep=False` never stores anything
    (every call is a full render, used for exports and benchmarks of the full frame).
    """

    def __init__(self, kernels, stages: list[Stage], device: torch.device | str = "cpu",
                 max_noise_seeds: int = 4):
        self.kernels = kernels
        self.stages = stages
        self.device = torch.device(device)
        self.num_ws = max(s.w_index for s in stages) + 1
        self._noise_cache: OrderedDict[int, dict[int, torch.Tensor]] = OrderedDict()
        self._max_noise_seeds = max_noise_seeds
        self.stage_ms = [0.0] * len(stages)      # last measured time of each stage
        self.clear()

    # --- cache ----------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the stored frame (e.g. after a model or precision change)."""
        self._ws: torch.Tensor | None = None
        self._noise: NoiseSpec | None = None
        self._x: list[torch.Tensor | None] = [None] * len(self.stages)
        self._img: list[torch.Tensor | None] = [None] * len(self.stages)
        self._valid = 0                          # stages 0.._valid-1 hold the stored frame

    @property
    def valid_stages(self) -> int:
        return self._valid

    def first_changed_stage(self, ws: torch.Tensor, noise: NoiseSpec) -> int:
        """Index of the first stage whose inputs differ from the stored frame."""
        if self._ws is None or self._valid == 0:
            return 0
        changed = (ws != self._ws).any(dim=-1).tolist()                         # per W input
        old = self._noise
        for s in self.stages[: self._valid]:
            if changed[s.w_index]:
                return s.index
            if s.kind == "conv" and self._noise_key(old, s) != self._noise_key(noise, s):
                return s.index
        return self._valid

    @staticmethod
    def _noise_key(spec: NoiseSpec | None, s: Stage):
        if spec is None or spec.mode == "none":
            return ("none",)
        scale = spec.scale[s.w_index] if spec.scale else 1.0
        if scale == 0:
            return ("none",)
        return (spec.mode, spec.seed if spec.mode == "random" else 0, scale)

    # --- noise ----------------------------------------------------------------------------
    def _noise_map(self, spec: NoiseSpec, s: Stage) -> torch.Tensor | None:
        if spec.mode == "none":
            return None
        if spec.mode == "const":
            c = self.kernels.noise_const(s)
            return c.reshape(1, 1, *c.shape[-2:])
        if spec.mode != "random":
            raise ValueError(f"noise mode must be const, random or none, got {spec.mode!r}")
        maps = self._noise_cache.get(spec.seed)
        if maps is None:
            g = torch.Generator(device="cpu").manual_seed(int(spec.seed))
            maps = {}
            for t in self.stages:
                if t.kind == "conv":
                    h, w = self.kernels.noise_const(t).shape[-2:]
                    maps[t.index] = torch.randn([1, 1, h, w], generator=g).to(self.device)
            self._noise_cache[spec.seed] = maps
            while len(self._noise_cache) > self._max_noise_seeds:
                self._noise_cache.popitem(last=False)
        else:
            self._noise_cache.move_to_end(spec.seed)
        return maps[s.index]

    # --- running --------------------------------------------------------------------------
    def torgb_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == "torgb"]

    def run(self, ws: torch.Tensor, noise: NoiseSpec, stop_stage: int | None = None,
            keep: bool = True, should_abort=None, start_stage: int | None = None
            ) -> tuple[torch.Tensor, RunStats]:
        """ws [1, num_ws, w_dim] → the skip image after `stop_stage` (a toRGB; default: the last).

        With keep=True the stored frame is reused from the first changed stage on and updated.
        `start_stage` forces an earlier restart (0 = full render).
        """
        assert ws.ndim == 3 and ws.shape[1] == self.num_ws, (tuple(ws.shape), self.num_ws)
        last = len(self.stages) - 1 if stop_stage is None else stop_stage
        assert self.stages[last].kind == "torgb", "a frame ends at a toRGB stage"
        t0 = time.perf_counter()
        if keep:
            start = self.first_changed_stage(ws[0], noise)
            if start_stage is not None:
                start = min(start, start_stage)
        else:
            start = 0 if start_stage is None else start_stage
        x = img = None
        if start > 0:
            x, img = self._x[start - 1], self._img[start - 1]
        if keep:
            self._valid = min(self._valid, start)
            self._ws = ws[0].clone()
            self._noise = noise
        stats = RunStats(start_stage=start, stop_stage=last)
        if start > last:        # everything up to the requested image is stored
            stats.start_stage = len(self.stages)
            stats.ms = (time.perf_counter() - t0) * 1000
            return self._img[last], stats
        for s in self.stages[start: last + 1]:
            if should_abort is not None and should_abort():
                raise Aborted()
            ts = time.perf_counter()
            w = ws[:, s.w_index]                                                # [1, w_dim]
            if s.kind == "conv":
                if x is None:
                    x = self.kernels.const(ws.shape[0])
                scale = noise.scale[s.w_index] if noise.scale else 1.0
                n = self._noise_map(noise, s) if scale != 0 else None
                x = self.kernels.conv(s, x, w, n, scale)
            else:
                img = self.kernels.torgb(s, x, w, img)
            ms = (time.perf_counter() - ts) * 1000
            self.stage_ms[s.index] = ms
            stats.stage_ms[s.name] = ms
            stats.stages_run += 1
            if keep:
                self._x[s.index], self._img[s.index] = x, img
                self._valid = s.index + 1
        stats.ms = (time.perf_counter() - t0) * 1000
        return img, stats

    def estimate_ms(self, start: int, stop: int) -> float:
        """Time of stages start..stop from the last measurements (0 for never-run stages)."""
        return sum(self.stage_ms[start: stop + 1])
