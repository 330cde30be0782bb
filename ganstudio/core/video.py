"""Latent paths for videos: interpolation between saved latents (lerp in W, slerp in Z) and walks
along a direction, with an exact frame count; rendering them to uint8 frames.

File writing (MP4, GIF) lives in `ganstudio.render.video_writer`, which needs no torch.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch

from .directions import Direction
from .interface import GeneratorBase
from .latents import slerp


class VideoError(ValueError):
    """A video request that cannot be made: the message says why, in one line."""


def _positions(num_frames: int, num_keys: int, loop: bool) -> np.ndarray:
    """Frame i's position along the keys, in key units: 0 … K-1 (or 0 … K, excluded, when looping)."""
    if num_frames < 1:
        raise VideoError("a video needs at least 1 frame")
    if num_keys < 1:
        raise VideoError("need at least one latent")
    if loop:
        return np.arange(num_frames) * num_keys / num_frames
    if num_frames == 1:
        return np.zeros(1)
    return np.linspace(0.0, num_keys - 1, num_frames)


def _piecewise(keys: torch.Tensor, num_frames: int, loop: bool, interp) -> torch.Tensor:
    k = keys.shape[0]
    out = []
    for pos in _positions(num_frames, k, loop):
        i = min(int(np.floor(pos)), k - 1)
        t = float(pos - i)
        a, b = keys[i], keys[(i + 1) % k]
        out.append(a if t == 0 else interp(a, b, t))
    return torch.stack(out)


def interpolate_ws(keys: torch.Tensor, num_frames: int, loop: bool = False) -> torch.Tensor:
    """keys `[K, num_ws, w_dim]` → `[num_frames, num_ws, w_dim]`, linear between neighbours.

    The first frame is key 0; without `loop` the last frame is key K-1, with it the path returns
    towards key 0 (the frame after the last would be key 0 again, so the video repeats smoothly).
    """
    if keys.ndim != 3:
        raise VideoError(f"W keys must be [K, num_ws, w_dim], got {tuple(keys.shape)}")
    return _piecewise(keys, num_frames, loop, lambda a, b, t: a + (b - a) * t)


def interpolate_z(G: GeneratorBase, zs: torch.Tensor, num_frames: int, loop: bool = False,
                  truncation_psi: float = 1.0) -> torch.Tensor:
    """zs `[K, z_dim]`: slerp in Z between neighbours, then mapped → `[num_frames, num_ws, w_dim]`."""
    if zs.ndim != 2 or zs.shape[1] != G.z_dim:
        raise VideoError(f"z keys must be [K, {G.z_dim}], got {tuple(zs.shape)}")
    z = _piecewise(zs, num_frames, loop, lambda a, b, t: slerp(a, b, t))           # [F, z_dim]
    with torch.no_grad():
        return G.mapping(z.to(next(G.parameters()).device), None,
                         truncation_psi=truncation_psi).cpu()


def direction_amounts(num_frames: int, amount: float, loop: bool = False) -> np.ndarray:
    """Step sizes along a direction: −amount … +amount, or a sine loop 0 → +a → 0 → −a → 0."""
    if num_frames < 1:
        raise VideoError("a video needs at least 1 frame")
    if loop:
        return amount * np.sin(2 * np.pi * np.arange(num_frames) / num_frames)
    if num_frames == 1:
        return np.zeros(1)
    return np.linspace(-amount, amount, num_frames)


def direction_walk(ws: torch.Tensor, direction: Direction, index: int, num_frames: int,
                   amount: float = 3.0, loop: bool = False) -> torch.Tensor:
    """ws `[1, num_ws, w_dim]` moved along vector `index` of `direction` → `[num_frames, num_ws, w_dim]`.

    `amount` is in W units (the vectors are unit length); for PCA directions multiply by
    `direction.arrays["std"][index]` to step in standard deviations.
    """
    if ws.ndim != 3 or ws.shape[0] != 1:
        raise VideoError(f"start latent must be [1, num_ws, w_dim], got {tuple(ws.shape)}")
    return torch.cat([direction.apply(ws, index, float(a))
                      for a in direction_amounts(num_frames, amount, loop)])


def frame_to_uint8(img: torch.Tensor) -> np.ndarray:
    """`[3, H, W]` in [-1, 1] → `[H, W, 3]` uint8 (NVIDIA generate.py rounding)."""
    return (img.permute(1, 2, 0) * 127.5 + 128).clamp(0, 255).to(torch.uint8).cpu().numpy()


def render_frames(G: GeneratorBase, ws_frames: torch.Tensor, *, batch: int = 4,
                  noise_mode: str = "const",
                  on_progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> Iterator[np.ndarray]:
    """Yield one uint8 `[H, W, 3]` frame per row of `ws_frames` `[F, num_ws, w_dim]`.

    `on_progress(done, total)` after each batch; `should_stop()` ends the iteration early
    (the caller sees fewer frames and decides what to do with a partial video).
    """
    if ws_frames.ndim != 3 or tuple(ws_frames.shape[1:]) != (G.num_ws, G.w_dim):
        raise VideoError(f"frame latents must be [F, {G.num_ws}, {G.w_dim}], got {tuple(ws_frames.shape)}")
    device = next(G.parameters()).device
    total = ws_frames.shape[0]
    for start in range(0, total, batch):
        if should_stop is not None and should_stop():
            return
        with torch.no_grad():
            imgs = G.synthesis(ws_frames[start: start + batch].to(device), noise_mode=noise_mode)
        for img in imgs:                                                         # [3, H, W]
            yield frame_to_uint8(img)
        if on_progress is not None:
            on_progress(min(start + batch, total), total)
