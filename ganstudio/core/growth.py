"""Progressive growing state shared by the PGGAN / StyleGAN generators and their discriminator.

The growth state (current resolution, fade-in α) is kept in plain attributes for `forward` and
mirrored in a float32 buffer `growth = [resolution, alpha]`, so it travels with the state dict:
a checkpoint saved mid-growth loads back at the resolution and α it was saved at. α is rounded to
float32 on the way in, so a saved and re-loaded model computes with exactly the same α.

Copying buffers by hand (an EMA loop that does `b_ema.copy_(b)`) does not update the attributes:
call `set_growth` on the copy as well.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .interface import GeneratorBase
from .layers import upfirdn2d


def check_resolution(resolution: int) -> int:
    resolution = int(resolution)
    if resolution < 4 or 2 ** int(math.log2(resolution)) != resolution:
        raise ValueError(f"img_resolution must be a power of two ≥ 4, got {resolution}")
    return resolution


def _sync_after_load(module, incompatible_keys) -> None:
    module._growth_from_buffer()


class GrowthMixin:
    """Adds `set_growth(resolution, alpha)`, `current_resolution`, `alpha` to an nn.Module."""

    def _init_growth(self, target_resolution: int) -> None:
        self._target_resolution = check_resolution(target_resolution)
        self._cur_res, self._alpha = self._target_resolution, 1.0
        self.register_buffer("growth", torch.tensor([float(self._target_resolution), 1.0]))
        self.register_load_state_dict_post_hook(_sync_after_load)

    @property
    def current_resolution(self) -> int:
        return self._cur_res

    @property
    def alpha(self) -> float:
        return self._alpha

    def set_growth(self, resolution: int, alpha: float = 1.0) -> None:
        """Output (or input) resolution, a power of two from 4 to the target, and fade-in α ∈ [0, 1].

        At 4² there is no previous resolution to fade from, so α is stored as 1.
        """
        resolution = int(resolution)
        if resolution not in self.growth_resolutions():
            raise ValueError(f"growth resolution must be a power of two from 4 to "
                             f"{self._target_resolution}, got {resolution}")
        alpha = float(alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"fade-in alpha must be in [0, 1], got {alpha}")
        if resolution == 4:
            alpha = 1.0
        alpha = float(torch.tensor(alpha, dtype=torch.float32))  # what the buffer can hold
        self._cur_res, self._alpha = resolution, alpha
        with torch.no_grad():
            self.growth.copy_(torch.tensor([float(resolution), alpha]))

    def growth_resolutions(self) -> list[int]:
        return [2 ** i for i in range(2, int(math.log2(self._target_resolution)) + 1)]

    def _growth_from_buffer(self) -> None:
        res, alpha = (float(v) for v in self.growth.detach().cpu())
        if int(res) not in self.growth_resolutions() or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"stored growth state ({res}, {alpha}) does not fit a "
                             f"{self._target_resolution}² model")
        self._cur_res, self._alpha = int(res), alpha


class GrowingGenerator(GeneratorBase):
    """A generator whose `synthesis` grows (GrowthMixin): growth state is delegated to it."""

    @property
    def current_resolution(self) -> int:
        return self.synthesis.current_resolution

    @property
    def alpha(self) -> float:
        return self.synthesis.alpha

    def set_growth(self, resolution: int, alpha: float = 1.0) -> None:
        self.synthesis.set_growth(resolution, alpha)


def upsample_nearest(x: torch.Tensor) -> torch.Tensor:
    """2× nearest-neighbour upsampling (PGGAN / StyleGAN `upscale2d`)."""
    return F.interpolate(x, scale_factor=2.0, mode="nearest")                # [N, C, 2H, 2W]


def downsample_box(x: torch.Tensor) -> torch.Tensor:
    """2× box-filter downsampling (PGGAN / StyleGAN `downscale2d`)."""
    return F.avg_pool2d(x, 2)                                                 # [N, C, H/2, W/2]


def fade_in(img_prev: torch.Tensor, img_cur: torch.Tensor, alpha: float) -> torch.Tensor:
    """lerp(upsample(img_prev), img_cur, α): α = 0 is the upsampled previous image, 1 the new one."""
    if alpha == 1:
        return img_cur
    up = upsample_nearest(img_prev)
    if alpha == 0:
        return up
    return up + (img_cur - up) * alpha


def blur(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Same-size FIR blur with an odd-sized normalised 2-D filter (StyleGAN's [1, 2, 1])."""
    p = f.shape[-1] // 2
    return upfirdn2d(x, f, padding=(p, p, p, p))


def render_progressive(blocks, run_block, resolution: int, alpha: float, start_block: int = 0,
                       x: torch.Tensor | None = None, on_block=None) -> torch.Tensor:
    """Run the blocks up to `resolution` and turn the last one's features into an image.

    `blocks` are the generator's blocks from 4² upwards, each with `.resolution` and `.torgb`;
    `run_block(i, x)` runs block i. With α < 1 the image fades in from the previous block's toRGB
    (see `fade_in`). `start_block`/`x` resume from a stored block output; `on_block(i, x, img)`
    sees every block's features (img is None but for the last block).
    """
    active = [b for b in blocks if b.resolution <= resolution]
    last = len(active) - 1
    if not 0 <= start_block <= last:
        raise ValueError(f"start_block must be in 0..{last}, got {start_block}")
    if start_block > 0 and x is None:
        raise ValueError("resuming at a later block needs that block's input features x")
    img = None
    for i in range(start_block, last + 1):
        x_prev = x
        x = run_block(i, x)                                                   # [N, C, r, r]
        if i == last:
            img = active[i].torgb(x)                                          # [N, 3, r, r]
            if alpha < 1 and i > 0:
                img = fade_in(active[i - 1].torgb(x_prev), img, alpha)
        if on_block is not None:
            on_block(i, x, img)
    return img
