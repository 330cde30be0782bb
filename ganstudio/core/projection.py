"""Image → W or W+ by optimisation.

Adam on one w (space "w", repeated over all W inputs) or on every W input separately ("w+"),
starting from the mean W of seeded samples. The loss is a pixel loss at several scales: mean
squared error plus `l1_weight` × mean absolute error between the render and the target, each
average-pooled by the factors in `scales` (1 = full resolution). Like NVIDIA's projector, a
little Gaussian noise is added to w early on (ramping to zero) and the learning rate ramps up
and down; all randomness comes from a `torch.Generator` seeded by `seed`, so a run is
deterministic on a given device.

Optional:
- `optimize_noise=True` also fits the per-pixel noise maps (start: the model's stored maps),
  with StyleGAN2's multi-scale autocorrelation penalty (`noise_reg_weight`) and per-map
  renormalisation after each step. Noise can then absorb detail that W cannot express, so PSNR
  is higher but the latent alone reproduces less; the fitted maps come back in the result and
  the model's own buffers are left unchanged.
- `vgg16_weights`: a VGG16 weights file the user has (torchvision's layout, see
  `core.perceptual`) adds `perceptual_weight` × its feature distance to the loss. None ships with
  GANStudio and nothing is downloaded, so by default the loss is pixels only.
- `perceptual`: any callable `(img, target) -> scalar loss` on `[N, 3, H, W]` images in [-1, 1],
  used instead of the VGG16 file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError
from .interface import GeneratorBase
from .perceptual import load_vgg16_distance


class ProjectionError(ValueError):
    """A projection request that cannot run: the message says why, in one line."""


@dataclass(frozen=True)
class ProjectionConfig:
    space: str = "w+"                        # "w" | "w+"
    num_steps: int = 300
    lr: float = 0.1
    seed: int = 0
    scales: tuple[int, ...] = (1, 2, 4)      # average-pool factors of the pixel loss
    l1_weight: float = 0.0
    w_avg_samples: int = 4096
    initial_noise_factor: float = 0.05       # × std of W, added to w at the start
    noise_ramp_length: float = 0.75          # fraction of steps over which that noise fades
    lr_rampdown_length: float = 0.25
    lr_rampup_length: float = 0.05
    optimize_noise: bool = False
    noise_reg_weight: float = 1e5
    noise_mode: str = "const"                # how the result is rendered when noise is not fitted
    vgg16_weights: str = ""                  # VGG16 state dict on disk → perceptual term
    perceptual_weight: float = 1.0
    preview_every: int = 10                  # 0 = no preview images in the progress callback


@dataclass(frozen=True)
class ProjectionProgress:
    step: int                                # 1-based
    num_steps: int
    loss: float
    preview: np.ndarray | None = None        # [H, W, 3] uint8 of the current render


@dataclass(frozen=True, eq=False)
class ProjectionResult:
    ws: np.ndarray                           # [1, num_ws, w_dim] float32 (NVIDIA layout)
    space: str
    image: np.ndarray                        # [H, W, 3] uint8 render of ws
    psnr: float                              # dB, against the target, on the [-1, 1] range
    losses: list[float]
    steps_done: int
    stopped: bool
    noise: dict = field(default_factory=dict)   # buffer name -> fitted noise map (optimize_noise)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """`[1, 3, H, W]` in [-1, 1] → `[H, W, 3]` uint8, rounding as NVIDIA's generate.py does."""
    x = (img[0].detach().permute(1, 2, 0) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return x.cpu().numpy()


def target_tensor(target, resolution: int, device) -> torch.Tensor:
    """uint8 `[H, W, 3]` or float `[1, 3, H, W]` in [-1, 1] → float `[1, 3, res, res]`."""
    if isinstance(target, np.ndarray):
        if target.dtype != np.uint8 or target.ndim != 3 or target.shape[2] != 3:
            raise ProjectionError(f"target image must be uint8 [H, W, 3], got {target.dtype} {target.shape}")
        t = torch.from_numpy(np.array(target)).permute(2, 0, 1)[None].to(torch.float32) / 127.5 - 1
    else:
        t = torch.as_tensor(target, dtype=torch.float32)
        if t.ndim != 4 or t.shape[:2] != (1, 3):
            raise ProjectionError(f"target tensor must be [1, 3, H, W], got {tuple(t.shape)}")
    if t.shape[-2:] != (resolution, resolution):
        raise ProjectionError(f"target is {t.shape[-1]}×{t.shape[-2]}, the model makes "
                              f"{resolution}×{resolution}: resize it first")
    return t.to(device)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2)."""
    mse = float((a.double() - b.double()).square().mean())
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


def pixel_loss(img: torch.Tensor, target: torch.Tensor, scales=(1, 2, 4), l1_weight: float = 0.0
               ) -> torch.Tensor:
    loss = img.new_zeros([])
    for s in scales:
        a = img if s == 1 else F.avg_pool2d(img, s)
        b = target if s == 1 else F.avg_pool2d(target, s)
        loss = loss + F.mse_loss(a, b)
        if l1_weight:
            loss = loss + l1_weight * F.l1_loss(a, b)
    return loss


def noise_regularization(maps: list[torch.Tensor]) -> torch.Tensor:
    """StyleGAN2's penalty on the spatial autocorrelation of noise maps, at every scale ≥ 8²."""
    reg = maps[0].new_zeros([])
    for n in maps:
        n = n.reshape(1, 1, *n.shape[-2:])
        while True:
            reg = reg + (n * torch.roll(n, 1, dims=3)).mean().square()
            reg = reg + (n * torch.roll(n, 1, dims=2)).mean().square()
            if n.shape[-1] <= 8:
                break
            n = F.avg_pool2d(n, 2)
    return reg


def _noise_layers(G: GeneratorBase) -> dict[str, torch.nn.Module]:
    """Modules that hold a `noise_const` buffer (the maps noise_mode='const' adds)."""
    return {name: m for name, m in G.named_modules() if "noise_const" in m._buffers}


def _w_stats(G: GeneratorBase, n: int, seed: int, device) -> tuple[torch.Tensor, float]:
    g = torch.Generator().manual_seed(int(seed) + 1_000_003)
    z = torch.randn([n, G.z_dim], generator=g).to(device)                      # [n, z_dim]
    with torch.no_grad():
        w = G.mapping(z, None)[:, :1]                                           # [n, 1, w_dim]
    w_avg = w.mean(0, keepdim=True)                                             # [1, 1, w_dim]
    w_std = float(((w - w_avg).square().sum() / n) ** 0.5)
    return w_avg, w_std


def project(G: GeneratorBase, target, config: ProjectionConfig = ProjectionConfig(), *,
            on_progress: Callable[[ProjectionProgress], None] | None = None,
            should_stop: Callable[[], bool] | None = None,
            perceptual: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
            ) -> ProjectionResult:
    """Fit ws to `target` (uint8 `[H, W, 3]` at the model's resolution, or `[1, 3, H, W]`)."""
    if config.space not in ("w", "w+"):
        raise ProjectionError(f"space must be 'w' or 'w+', got {config.space!r}")
    if config.num_steps < 1:
        raise ProjectionError("num_steps must be at least 1")
    if not G.has_w_space:
        raise ProjectionError("this generator has no W space to project into")
    if G.c_dim:
        raise ProjectionError("projection of class-conditional generators is not supported yet")
    device = next(G.parameters()).device
    if perceptual is None and config.vgg16_weights:
        try:
            vgg = load_vgg16_distance(config.vgg16_weights, device)
        except CheckpointError as e:
            raise ProjectionError(f"perceptual loss: {e}") from None

        def perceptual(img, target):
            return config.perceptual_weight * vgg(img, target)
    target = target_tensor(target, G.img_resolution, device)                    # [1, 3, H, W]
    gen = torch.Generator().manual_seed(int(config.seed))
    w_avg, w_std = _w_stats(G, config.w_avg_samples, config.seed, device)
    num_ws = G.num_ws
    start = w_avg if config.space == "w" else w_avg.repeat(1, num_ws, 1)         # [1, 1|num_ws, w_dim]
    w_opt = start.clone().requires_grad_(True)
    params = [w_opt]

    layers = _noise_layers(G) if config.optimize_noise else {}
    saved = {k: m.noise_const for k, m in layers.items()}
    noise_params = {k: b.detach().clone().requires_grad_(True) for k, b in saved.items()}
    params += list(noise_params.values())
    opt = torch.optim.Adam(params, lr=config.lr, betas=(0.9, 0.999))

    def render(ws: torch.Tensor) -> torch.Tensor:
        mode = "const" if config.optimize_noise else config.noise_mode
        return G.synthesis(ws, noise_mode=mode)

    def expand(w: torch.Tensor) -> torch.Tensor:
        return w.repeat(1, num_ws, 1) if config.space == "w" else w            # [1, num_ws, w_dim]

    losses: list[float] = []
    stopped = False
    step = 0
    try:
        with torch.enable_grad():
            for step in range(1, config.num_steps + 1):
                if should_stop is not None and should_stop():
                    stopped, step = True, step - 1
                    break
                t = (step - 1) / config.num_steps
                noise_strength = w_std * config.initial_noise_factor * max(
                    0.0, 1.0 - t / config.noise_ramp_length) ** 2
                lr_ramp = min(1.0, (1.0 - t) / config.lr_rampdown_length)
                lr_ramp = 0.5 - 0.5 * np.cos(lr_ramp * np.pi)
                lr_ramp = lr_ramp * min(1.0, t / config.lr_rampup_length)
                for group in opt.param_groups:
                    group["lr"] = config.lr * lr_ramp
                w_noise = torch.randn(w_opt.shape, generator=gen).to(device) * noise_strength
                for k, p in noise_params.items():       # the layers read these as their buffers
                    layers[k].noise_const = p
                img = render(expand(w_opt + w_noise))                            # [1, 3, H, W]
                loss = pixel_loss(img, target, config.scales, config.l1_weight)
                if perceptual is not None:
                    loss = loss + perceptual(img, target)
                if noise_params:
                    loss = loss + config.noise_reg_weight * noise_regularization(
                        list(noise_params.values()))
                grads = torch.autograd.grad(loss, params)       # leaves G's own .grad alone
                for p, g in zip(params, grads):
                    p.grad = g
                opt.step()
                with torch.no_grad():
                    for p in noise_params.values():
                        p.sub_(p.mean()).div_(p.square().mean().sqrt().clamp_min(1e-8))
                losses.append(float(loss.detach()))
                if on_progress is not None:
                    preview = None
                    if config.preview_every and (step % config.preview_every == 0
                                                 or step == config.num_steps):
                        preview = to_uint8(img)
                    on_progress(ProjectionProgress(step, config.num_steps, losses[-1], preview))
        with torch.no_grad():
            ws = expand(w_opt.detach())                                          # [1, num_ws, w_dim]
            img = render(ws)
            fitted = {k: p.detach().cpu().numpy() for k, p in noise_params.items()}
    finally:
        for k, b in saved.items():
            layers[k].noise_const = b
    return ProjectionResult(ws=ws.cpu().numpy().astype(np.float32), space=config.space,
                            image=to_uint8(img), psnr=psnr(img, target), losses=losses,
                            steps_done=step, stopped=stopped, noise=fitted)
