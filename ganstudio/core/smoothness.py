"""Perceptual-path-length-style smoothness of a generator's latent space, W versus Z.

As in the StyleGAN paper's PPL: pick two random latents, a point t on the path between them
(slerp in Z, lerp in W; t ~ U(0, 1) for "full" paths, t = 0 for "end"), render the images at t
and t + ε with the same per-pixel noise (`noise_mode="const"`), and take distance / ε².
Lower means a smoother space. Values outside the 1st–99th percentile are dropped from the mean.

The distance is NOT the paper's LPIPS/VGG distance (that needs downloaded weights); it is one of
- "pixel": mean squared difference of the two images over channels and pixels, images in [-1, 1];
- "random-features": squared difference of channel-normalised features of a fixed, randomly
  initialised 3-layer conv net (seeded, so the same everywhere), averaged over positions and
  summed over layers, the LPIPS recipe without learned weights. It weighs local structure more
  than single pixels but has no notion of what people perceive.
Absolute numbers are therefore not comparable with published PPL values; W-versus-Z on the same
model with the same distance is the comparison this measures.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .interface import GeneratorBase

DISTANCES = ("pixel", "random-features")
EPSILON = 1e-4


class SmoothnessError(ValueError):
    """A smoothness request that cannot run: the message says why, in one line."""


@dataclass(frozen=True, eq=False)
class SmoothnessResult:
    space: str                  # "w" | "z"
    distance: str
    epsilon: float
    sampling: str               # "full" | "end"
    num_samples: int
    mean: float                 # mean of the values within the 1st–99th percentile (as PPL)
    median: float
    p10: float
    p90: float
    values: np.ndarray          # [num_samples] distance / ε² per sample

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("space", "distance", "epsilon", "sampling",
                                               "num_samples", "mean", "median", "p10", "p90")}


class RandomFeatures(torch.nn.Module):
    """A fixed random conv net (3 → 16 → 32 → 64 channels, 3×3, stride 2, leaky ReLU)."""

    def __init__(self, seed: int = 1234, channels=(3, 16, 32, 64)):
        super().__init__()
        g = torch.Generator().manual_seed(int(seed))
        for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
            w = torch.randn([cout, cin, 3, 3], generator=g) / np.sqrt(cin * 9)
            self.register_buffer(f"w{i}", w)
        self.num_layers = len(channels) - 1

    def forward(self, img: torch.Tensor) -> list[torch.Tensor]:
        feats, x = [], img
        for i in range(self.num_layers):
            x = F.leaky_relu(F.conv2d(x, getattr(self, f"w{i}"), stride=2, padding=1), 0.2)
            feats.append(x / (x.square().sum(dim=1, keepdim=True) + 1e-10).sqrt())  # [N, C, h, w]
        return feats


def image_distance(a: torch.Tensor, b: torch.Tensor, distance: str = "pixel",
                   features: RandomFeatures | None = None) -> torch.Tensor:
    """Per-sample distance `[N]` between image batches `[N, 3, H, W]` in [-1, 1]."""
    if distance == "pixel":
        return (a.double() - b.double()).square().flatten(1).mean(dim=1)
    if distance == "random-features":
        features = features or RandomFeatures().to(a.device)
        total = a.new_zeros(a.shape[0], dtype=torch.float64)
        for fa, fb in zip(features(a), features(b)):
            total = total + (fa.double() - fb.double()).square().sum(dim=1).flatten(1).mean(dim=1)
        return total
    raise SmoothnessError(f"unknown distance {distance!r}; use one of {', '.join(DISTANCES)}")


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Slerp between the unit vectors of a and b `[N, D]`, per-sample t `[N, 1]`."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True).clamp(-1, 1)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    return a * torch.cos(p) + c * torch.sin(p)


def path_length(G: GeneratorBase, space: str = "w", *, num_samples: int = 1000,
                epsilon: float = EPSILON, sampling: str = "full", distance: str = "pixel",
                seed: int = 0, batch: int = 16) -> SmoothnessResult:
    """Mean distance/ε² between images ε apart on random latent paths (see module docstring)."""
    if space not in ("w", "z"):
        raise SmoothnessError(f"space must be 'w' or 'z', got {space!r}")
    if sampling not in ("full", "end"):
        raise SmoothnessError(f"sampling must be 'full' or 'end', got {sampling!r}")
    if distance not in DISTANCES:
        raise SmoothnessError(f"unknown distance {distance!r}; use one of {', '.join(DISTANCES)}")
    if num_samples < 1 or not epsilon > 0:
        raise SmoothnessError("need num_samples ≥ 1 and epsilon > 0")
    if G.c_dim:
        raise SmoothnessError("class-conditional generators are not supported yet")
    device = next(G.parameters()).device
    g = torch.Generator().manual_seed(int(seed))
    features = RandomFeatures().to(device) if distance == "random-features" else None
    values = []
    with torch.no_grad():
        for start in range(0, num_samples, batch):
            n = min(batch, num_samples - start)
            z = torch.randn([2 * n, G.z_dim], generator=g).to(device)              # [2n, z_dim]
            t = torch.rand([n, 1], generator=g).to(device)                          # [n, 1]
            if sampling == "end":
                t = torch.zeros_like(t)
            z0, z1 = z[:n], z[n:]
            if space == "z":
                zt = torch.cat([_slerp(z0, z1, t), _slerp(z0, z1, t + epsilon)])
                ws = G.mapping(zt, None)                                            # [2n, num_ws, w_dim]
            else:
                w = G.mapping(z, None)[:, 0]                                        # [2n, w_dim]
                w0, w1 = w[:n], w[n:]
                wt = torch.cat([w0.lerp(w1, t), w0.lerp(w1, t + epsilon)])
                ws = wt.unsqueeze(1).repeat(1, G.num_ws, 1)
            img = G.synthesis(ws, noise_mode="const")                               # [2n, 3, H, W]
            d = image_distance(img[:n], img[n:], distance, features) / epsilon ** 2
            values.append(d.cpu().numpy())
    v = np.concatenate(values)
    lo, hi = np.percentile(v, 1, method="lower"), np.percentile(v, 99, method="higher")
    kept = v[(v >= lo) & (v <= hi)]
    return SmoothnessResult(space=space, distance=distance, epsilon=float(epsilon),
                            sampling=sampling, num_samples=int(num_samples),
                            mean=float(kept.mean()), median=float(np.median(v)),
                            p10=float(np.percentile(v, 10)), p90=float(np.percentile(v, 90)),
                            values=v)
