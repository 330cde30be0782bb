"""The synchronous renderer (no Qt): load models, turn requests into images, never raise.

`Renderer.render(request)` returns a RenderResult whose `error` carries any failure. StyleGAN2
models run stage by stage through `IncrementalSynthesis` (fast kernels by default), so an edit of
the fine layers re-runs only the last stages, and a request marked `preview` may stop at an
intermediate resolution of the skip path when the full frame would take longer than
`preview_threshold_ms`. Other generators (PGGAN, StyleGAN v1, BigGAN, …) render whole frames
through their own `synthesis` (BigGAN's also takes the request's class, see recipe.class_vector).
"""
from __future__ import annotations

import contextlib
import inspect
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.core.interface import GeneratorBase

from .device import choose_device, choose_threads, tune_allocator
from .fast_synthesis import FastKernels
from .incremental import Aborted, IncrementalSynthesis, NoiseSpec
from .models import BUILTIN_DEFAULT, ModelLoadError, load_source
from .recipe import LatentRecipe
from .request import Capabilities, ModelInfo, RenderRequest, RenderResult
from .stages import ReferenceKernels, stylegan2_stages, supports_stages

PREVIEW_POLICIES = ("auto", "always", "never")


@dataclass
class _Model:
    info: ModelInfo
    G: GeneratorBase
    recipe: LatentRecipe
    synth: IncrementalSynthesis | None          # None: whole-frame rendering via G.synthesis
    synthesis_kwargs: frozenset = field(default_factory=frozenset)


def _one_line(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    text = msg[0] if msg else ""
    if isinstance(e, (ModelLoadError, ValueError)) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def to_uint8_image(img: torch.Tensor, size: int | None = None) -> np.ndarray:
    """[1, 3, H, W] float in [-1, 1] → H×W×3 uint8 (resized with antialiasing when asked)."""
    img = img[:1].float()
    if size is not None and int(size) != img.shape[-1]:
        img = F.interpolate(img, size=(int(size), int(size)), mode="bilinear",
                            align_corners=False, antialias=True)
    x = (img * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return np.ascontiguousarray(x[0].permute(1, 2, 0).cpu().numpy())


class Renderer:
    """Values in, values out. Thread-safe (one render at a time); errors come back as data.

    device: None/"auto" (CUDA → MPS → CPU; GANSTUDIO_DEVICE overrides), or a device name.
    threads: intra-op CPU threads (None: GANSTUDIO_THREADS or measured, see device.py).
    fast: the fast batch-1 kernels (False: the reference kernels, NVIDIA-faithful).
    fp16: half precision on CUDA (ignored elsewhere).
    preview: "auto" (preview frames only when the rest of the frame would take longer than
    preview_threshold_ms), "always", or "never"; a request must also ask for it (`preview`).
    A preview is the skip-path image of the largest block that fits preview_budget_ms (default:
    the threshold) from the first changed stage, at least preview_min_resolution pixels.
    """

    def __init__(self, device: str | None = None, *, threads: int | None = None,
                 setting_device: str | None = None, fast: bool = True, fp16: bool = False,
                 preview: str = "auto", preview_threshold_ms: float = 100.0,
                 preview_budget_ms: float | None = None, preview_min_resolution: int = 32,
                 max_models: int = 2,
                 reuse_memory: bool = True):
        choice = choose_device(device, setting_device)
        self.device = torch.device(choice.device)
        self.device_note = choice.note
        self.threads = threads if threads is not None else (
            choose_threads() if self.device.type == "cpu" else torch.get_num_threads())
        # glibc malloc tuning (device.tune_allocator): big activations are reused, not re-faulted
        self.allocator_tuned = reuse_memory and self.device.type == "cpu" and tune_allocator()
        if preview not in PREVIEW_POLICIES:
            raise ValueError(f"preview must be one of {PREVIEW_POLICIES}, got {preview!r}")
        self.fast = fast
        self.fp16 = bool(fp16) and self.device.type == "cuda"
        self.preview = preview
        self.preview_threshold_ms = float(preview_threshold_ms)
        self.preview_budget_ms = (self.preview_threshold_ms if preview_budget_ms is None
                                  else float(preview_budget_ms))
        self.preview_min_resolution = int(preview_min_resolution)
        self.max_models = max_models
        self._models: dict[str, _Model] = {}
        self._current: str | None = None
        self._lock = threading.RLock()
        self._threads_set: set[int] = set()
        self.render_calls = 0          # render() calls that reached a model (for tests/benchmarks)
        self.synthesis_runs = 0        # of those, how many ran at least one synthesis stage

    # --- setup ------------------------------------------------------------------------------
    def _ensure_threads(self) -> None:
        """torch's thread count is per OS thread for OpenMP: set it in each calling thread."""
        if self.device.type != "cpu":
            return
        tid = threading.get_ident()
        if tid not in self._threads_set or torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
            self._threads_set.add(tid)

    @property
    def lock(self) -> threading.RLock:
        """Held while rendering or loading; holding it pauses the renderer (tests, exclusive use)."""
        return self._lock

    @property
    def device_name(self) -> str:
        return str(self.device)

    @property
    def current(self) -> ModelInfo | None:
        m = self._models.get(self._current) if self._current else None
        return m.info if m else None

    def model(self, model_id: str = "") -> GeneratorBase:
        """The loaded generator (for tools and tests)."""
        return self._get(model_id).G

    # --- loading ------------------------------------------------------------------------------
    def load(self, source: str) -> ModelInfo:
        """Load a file or "builtin:default" and make it current. Raises ModelLoadError."""
        with self._lock:
            self._ensure_threads()
            try:
                with torch.inference_mode():
                    loaded = load_source(source)
            except ModelLoadError:
                raise
            except Exception as e:  # noqa: BLE001
                raise ModelLoadError(f"{source}: {_one_line(e)}") from None
            G = loaded.generator.to(self.device).eval().requires_grad_(False)
            model_id = (BUILTIN_DEFAULT if loaded.source_format == "builtin"
                        else f"{loaded.content_hash[:16]}")
            synth = None
            if supports_stages(G):
                kernels = FastKernels(G) if self.fast else ReferenceKernels(G)
                synth = IncrementalSynthesis(kernels, stylegan2_stages(G), self.device)
            params = inspect.signature(getattr(G.synthesis, "forward", G.synthesis)).parameters
            info = ModelInfo(
                model_id=model_id, path=loaded.path, arch=getattr(G, "arch", "?"),
                source_format=loaded.source_format, img_resolution=int(G.img_resolution),
                num_ws=int(G.num_ws), w_dim=int(G.w_dim), z_dim=int(G.z_dim), c_dim=int(G.c_dim),
                num_params=int(G.num_params()), device=str(self.device),
                content_hash=loaded.content_hash, capabilities=self._capabilities(G),
                class_names=tuple(loaded.class_names))
            self._models[model_id] = _Model(info, G, LatentRecipe(G, self.device), synth,
                                            frozenset(params))
            self._current = model_id
            while len(self._models) > self.max_models:
                oldest = next(k for k in self._models if k != self._current)
                del self._models[oldest]
            return info

    def _capabilities(self, G: GeneratorBase) -> Capabilities:
        layers = tuple(G.layer_table())
        return Capabilities(num_ws=int(G.num_ws), w_dim=int(G.w_dim), z_dim=int(G.z_dim),
                            c_dim=int(G.c_dim), img_resolution=int(G.current_resolution),
                            has_noise=any(l.has_noise for l in layers),
                            has_w_space=bool(G.has_w_space), arch=getattr(G, "arch", "?"),
                            layers=layers, device=str(self.device),
                            truncation="resample" if getattr(G, "arch", "") == "biggan" else "psi")

    def _get(self, model_id: str) -> _Model:
        key = model_id or self._current
        if key is None:
            raise ValueError("no model is loaded")
        m = self._models.get(key)
        if m is None:
            raise ValueError(f"model {model_id!r} is not loaded")
        return m

    # --- requests -----------------------------------------------------------------------------
    def mapped_ws(self, request: RenderRequest) -> np.ndarray:
        """The request's final ws [num_ws, w_dim] (float32). Raises ValueError on bad input."""
        with self._lock, torch.inference_mode():
            self._ensure_threads()
            m = self._get(request.model_id)
            return m.recipe.ws(request)[0].float().cpu().numpy()

    def render(self, request: RenderRequest, *, use_cache: bool = True,
               should_abort=None) -> RenderResult:
        """Render one frame. Never raises: failures come back in `error`.

        use_cache=False renders the whole frame without touching the stored activations (exports).
        should_abort() is polled between stages; when true the result has details["aborted"].
        """
        t0 = time.perf_counter()
        with self._lock:
            try:
                self._ensure_threads()
                m = self._get(request.model_id)
            except Exception as e:  # noqa: BLE001
                return RenderResult(stamp=request.stamp, error=_one_line(e))
            self.render_calls += 1
            try:
                with torch.inference_mode():
                    return self._render(m, request, use_cache, should_abort, t0)
            except Aborted:
                return RenderResult(stamp=request.stamp, capabilities=m.info.capabilities,
                                    details={"aborted": True})
            except Exception as e:  # noqa: BLE001 — errors are data
                return RenderResult(stamp=request.stamp, capabilities=m.info.capabilities,
                                    error=_one_line(e))

    def _render(self, m: _Model, r: RenderRequest, use_cache: bool, should_abort,
                t0: float) -> RenderResult:
        timings = {}
        ws = m.recipe.ws(r)                                                     # [1, num_ws, w_dim]
        scale = m.recipe.noise_scale(r)
        if r.size is not None and not 1 <= int(r.size) <= 8192:
            raise ValueError(f"output size {r.size} is outside 1..8192")
        t1 = time.perf_counter()
        timings["mapping"] = (t1 - t0) * 1000
        details: dict = {"path": "whole-frame"}
        is_preview = False
        if m.synth is not None:
            synth = m.synth
            details["path"] = synth.kernels.name
            noise = NoiseSpec(r.noise_mode, int(r.noise_seed), scale)
            stop = None
            if use_cache and r.preview:
                stop = self._preview_stop(synth, ws, noise)
            with self._autocast():
                img, stats = synth.run(ws, noise, stop_stage=stop, keep=use_cache,
                                       should_abort=should_abort)
            if stats.stages_run:
                self.synthesis_runs += 1
            is_preview = stats.stop_stage != len(synth.stages) - 1
            first = synth.stages[stats.start_stage] if stats.start_stage < len(synth.stages) else None
            details.update(start_w=None if first is None else first.w_index,
                           start_stage=None if first is None else first.name,
                           stages_run=stats.stages_run)
            if is_preview:
                details["preview_resolution"] = int(img.shape[-1])
        else:
            kwargs = {}
            if "noise_mode" in m.synthesis_kwargs:
                kwargs["noise_mode"] = r.noise_mode
            if "noise_scale" in m.synthesis_kwargs:
                kwargs["noise_scale"] = list(scale)
            if "noise_generator" in m.synthesis_kwargs and r.noise_mode == "random":
                kwargs["noise_generator"] = torch.Generator(self.device).manual_seed(
                    int(r.noise_seed))
            args = (m.recipe.class_vector(r),) if m.G.class_in_synthesis else ()
            with self._autocast():
                img = m.G.synthesis(ws, *args, **kwargs)
            self.synthesis_runs += 1
        t2 = time.perf_counter()
        timings["synthesis"] = (t2 - t1) * 1000
        size = r.size
        if is_preview and size is not None and int(size) >= img.shape[-1]:
            size = None                       # previews stay small; the view scales them
        image = to_uint8_image(img, size)
        t3 = time.perf_counter()
        timings["convert"] = (t3 - t2) * 1000
        timings["total"] = (t3 - t0) * 1000
        return RenderResult(image=image, stamp=r.stamp, timings=timings,
                            capabilities=m.info.capabilities, is_preview=is_preview,
                            ws=ws[0].float().cpu().numpy(), details=details)

    def _autocast(self):
        if self.fp16:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def _preview_stop(self, synth: IncrementalSynthesis, ws: torch.Tensor,
                      noise: NoiseSpec) -> int | None:
        """The toRGB stage a preview frame stops at, or None for the full frame."""
        if self.preview == "never":
            return None
        last = len(synth.stages) - 1
        start = synth.first_changed_stage(ws[0], noise)
        if start > last:
            return None                                    # nothing to do: the stored frame
        never_timed = any(synth.stage_ms[i] == 0 for i in range(start, last + 1))
        if self.preview == "auto":
            if never_timed or synth.estimate_ms(start, last) <= self.preview_threshold_ms:
                return None
        candidates = [s.index for s in synth.torgb_stages() if start <= s.index < last]
        big = [i for i in candidates if synth.stages[i].resolution >= self.preview_min_resolution]
        candidates = big or candidates[-1:]
        if not candidates:
            return None
        fitting = [i for i in candidates if synth.estimate_ms(start, i) <= self.preview_budget_ms]
        return fitting[-1] if fitting else candidates[0]

    # --- housekeeping ---------------------------------------------------------------------
    def clear_cache(self) -> None:
        with self._lock:
            for m in self._models.values():
                if m.synth is not None:
                    m.synth.clear()

    def unload(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
            if self._current == model_id:
                self._current = next(iter(self._models), None)
