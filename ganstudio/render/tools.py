"""Tools the explorer runs on the loaded model: directions (PCA, SeFa), direction and latent
files, projection, preview strips and videos.

Plain functions (no Qt): `ganstudio.render.qt_jobs.Job` runs them off the GUI thread. Long ones
take `should_stop()` (polled between steps/frames) and progress callbacks; only numpy arrays and
plain values go in and out. A cancelled job raises `JobCancelled`.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from ganstudio.core.directions import (Direction, DirectionError, load_direction,
                                       pca_directions, sefa_directions)
from ganstudio.core.latent_files import Latents, load_latents, save_latents
from ganstudio.core.projection import ProjectionConfig, ProjectionResult, project
from ganstudio.core.video import direction_amounts, interpolate_ws

from .renderer import Renderer
from .request import RenderRequest, RenderResult
from .video_writer import write_video

METHODS = ("pca", "sefa")


class JobCancelled(Exception):
    """Raised inside a job when `should_stop()` said so and the work must leave nothing behind."""


def _threads(renderer: Renderer) -> None:
    """Job threads use the renderer's CPU thread count (torch's count is per OS thread)."""
    if renderer.device.type == "cpu":
        torch.set_num_threads(renderer.threads)


# --- directions ----------------------------------------------------------------------------------

def compute_directions(renderer: Renderer, model_id: str, method: str, *, k: int,
                       layers: tuple[int, int] | None, seed: int = 0,
                       num_samples: int = 10_000) -> Direction:
    """PCA or SeFa directions of a loaded model (numpy vectors; raises DirectionError)."""
    if method not in METHODS:
        raise DirectionError(f"unknown direction method {method!r} (use pca or sefa)")
    _threads(renderer)
    G = renderer.model(model_id)
    if not G.has_w_space:
        raise DirectionError(f"{G.arch} has no W space (a single z drives every layer): "
                             "no W directions")
    with torch.no_grad():
        if method == "pca":
            return pca_directions(G, k=k, num_samples=num_samples, seed=seed, layers=layers)
        try:
            return sefa_directions(G, k=k, layers=layers)
        except AttributeError:          # a family whose style affines core.directions cannot find
            raise DirectionError(f"SeFa does not support {G.arch} models yet (their style "
                                 "layers are not where it looks); try PCA") from None


def read_direction_file(path: str, num_ws: int, w_dim: int, labelled: bool = False) -> Direction:
    """A directions .npz checked against a model's shape; DirectionError says what does not fit."""
    d = load_direction(path)
    name = Path(path).name
    if d.w_dim != w_dim:
        raise DirectionError(f"{name}: the directions have w_dim {d.w_dim}, the model {w_dim}")
    if d.per_layer and d.vectors.shape[1] != num_ws:
        raise DirectionError(f"{name}: per-layer directions for {d.vectors.shape[1]} W inputs, "
                             f"the model has {num_ws}")
    if d.layers[0] >= num_ws:
        raise DirectionError(f"{name}: the directions start at W index {d.layers[0]}, the model "
                             f"has {num_ws} W inputs")
    if labelled and "weight" not in d.arrays:
        raise DirectionError(f"{name}: not a labelled direction (it carries no classifier; "
                             f"method {d.method!r})")
    return d


# --- rendering many requests ---------------------------------------------------------------------

def render_requests(renderer: Renderer, requests: Iterable[RenderRequest],
                    on_result: Callable[[int, RenderResult], None],
                    should_stop: Callable[[], bool] = lambda: False) -> int:
    """Render each request afresh (the live frame's stored activations are left alone)."""
    _threads(renderer)
    n = 0
    for i, request in enumerate(requests):
        if should_stop():
            raise JobCancelled()
        on_result(i, renderer.render(request.replace(preview=False), use_cache=False))
        n += 1
    return n


def write_video_file(renderer: Renderer, requests: Iterable[RenderRequest], total: int, path: str,
                     *, fps: float, scale: int = 1,
                     on_progress: Callable[[int, int], None] = lambda done, total: None,
                     should_stop: Callable[[], bool] = lambda: False) -> int:
    """Render one frame per request into an MP4/GIF, atomically: a cancel or an error leaves no
    file (JobCancelled / ValueError). Returns the number of frames written."""
    _threads(renderer)

    def frames():
        for i, request in enumerate(requests):
            if should_stop():
                raise JobCancelled()
            result = renderer.render(request.replace(preview=False), use_cache=False)
            if result.error or result.image is None:
                raise ValueError(f"frame {i}: {result.error or 'no image'}")
            yield result.image
            on_progress(i + 1, total)
        if should_stop():
            raise JobCancelled()
    return write_video(path, frames(), fps=fps, scale=scale)


def interpolation_ws(keys: np.ndarray, num_frames: int, loop: bool = False) -> np.ndarray:
    """Key ws `[K, num_ws, w_dim]` → `[num_frames, num_ws, w_dim]`, linear between neighbours."""
    keys = torch.from_numpy(np.asarray(keys, dtype=np.float32))
    return interpolate_ws(keys, int(num_frames), loop).numpy()


def walk_amounts(num_frames: int, amount: float, loop: bool = False) -> np.ndarray:
    """Steps along a direction: −amount … +amount, or the loop 0 → +a → 0 → −a."""
    return direction_amounts(int(num_frames), float(amount), loop)


# --- projection ----------------------------------------------------------------------------------

def load_square_image(path: str, resolution: int) -> np.ndarray:
    """uint8 `[res, res, 3]`: centre square crop, Lanczos resize; ValueError if unreadable."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{Path(path).name}: not a readable image ({e})") from None
    w, h = im.size
    s = min(w, h)
    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if s != resolution:
        im = im.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def project_image(renderer: Renderer, model_id: str, image: np.ndarray, *, space: str = "w+",
                  steps: int = 300, seed: int = 0, preview_every: int = 10,
                  vgg16_weights: str = "", on_progress=None, should_stop=None
                  ) -> ProjectionResult:
    """Fit ws to `image` (uint8 `[res, res, 3]`) on a private copy of the model.

    The renderer's model holds inference-mode tensors (no autograd), and the live renderer keeps
    using it meanwhile, so projection runs on a deep copy (normal tensors, same device).
    """
    _threads(renderer)
    with renderer.lock:
        G = copy.deepcopy(renderer.model(model_id)).requires_grad_(False)
    config = ProjectionConfig(space=space, num_steps=int(steps), seed=int(seed),
                              preview_every=int(preview_every), vgg16_weights=str(vgg16_weights))
    return project(G, image, config, on_progress=on_progress, should_stop=should_stop)


# --- latent files --------------------------------------------------------------------------------

def save_latent_file(path: str, ws: np.ndarray, *, seed: int | None = None, model_hash: str = "",
                     truncation_psi: float | None = None) -> None:
    """One latent `[num_ws, w_dim]` as `w` `[1, num_ws, w_dim]` (NVIDIA's --projected-w layout)."""
    ws = np.asarray(ws, dtype=np.float32).reshape(1, -1, np.shape(ws)[-1])
    space = "w" if np.array_equal(ws, np.broadcast_to(ws[:, :1], ws.shape)) else "w+"
    save_latents(path, w=ws, seeds=None if seed is None else [int(seed)],
                 model_hash=model_hash[:16], space=space, truncation_psi=truncation_psi)


def read_latent_file(path: str) -> Latents:
    """A latent .npz (ours or NVIDIA's projector output); LatentFileError if unusable."""
    return load_latents(path)
