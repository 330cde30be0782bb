"""A VGG16 feature distance for projection, from weights the user already has on disk.

GANStudio ships no perceptual network and downloads none. Whoever has the ImageNet VGG16 weights in
torchvision's layout (`vgg16-397923af.pth`, or the same state dict as `.safetensors`: keys
`features.N.weight` / `features.N.bias` for the 13 convolutions, any `classifier.*` keys ignored)
can point projection at that file. It is read as plain tensors (safetensors, or torch files through
`torch.load(weights_only=True)` / our restricted unpickler), never run.

The distance follows the structure of LPIPS without its learned per-channel weights (those are a
separate download): images in [-1, 1] are mapped to ImageNet's normalisation and resized to
224² (bilinear, antialiased when shrinking); at each stage's last ReLU (relu1_2, relu2_2, relu3_3,
relu4_3, relu5_3) the features are unit-normalised along channels, and the stages' mean squared
differences are summed. Identical images are at distance 0.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError

# VGG16's convolutions (torchvision `features` indices → out channels), stages split by max-pools
STAGES = (((0, 64), (2, 64)), ((5, 128), (7, 128)), ((10, 256), (12, 256), (14, 256)),
          ((17, 512), (19, 512), (21, 512)), ((24, 512), (26, 512), (28, 512)))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SIZE = 224


class VGG16Distance(torch.nn.Module):
    """`distance(a, b)` → `[N]` for images `[N, 3, H, W]` in [-1, 1]; call it for the mean."""

    def __init__(self, state: Mapping[str, torch.Tensor]):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        cin = 3
        for stage in STAGES:
            for index, cout in stage:
                conv = torch.nn.Conv2d(cin, cout, 3, padding=1)
                for part in ("weight", "bias"):
                    key = f"features.{index}.{part}"
                    if key not in state:
                        raise CheckpointError(f"not a VGG16 state dict in torchvision's layout: "
                                              f"no {key}")
                    value = torch.as_tensor(state[key])
                    if tuple(value.shape) != tuple(getattr(conv, part).shape):
                        raise CheckpointError(f"not VGG16: {key} is {tuple(value.shape)}, expected "
                                              f"{tuple(getattr(conv, part).shape)}")
                    getattr(conv, part).data.copy_(value.float())
                self.convs.append(conv)
                cin = cout
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    def features(self, img: torch.Tensor) -> list[torch.Tensor]:
        x = F.interpolate((img + 1) / 2, size=(SIZE, SIZE), mode="bilinear", align_corners=False,
                          antialias=img.shape[-1] > SIZE)
        x = (x - self.mean) / self.std                                      # [N, 3, 224, 224]
        out, convs = [], iter(self.convs)
        for s, stage in enumerate(STAGES):
            if s:
                x = F.max_pool2d(x, 2)
            for _ in stage:
                x = F.relu(next(convs)(x))
            out.append(x / x.square().sum(1, keepdim=True).add(1e-10).sqrt())   # unit channels
        return out

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fa, fb = self.features(a), self.features(b)
        return sum((x - y).square().sum(1).mean((1, 2)) for x, y in zip(fa, fb))    # [N]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance(a, b).mean()


def read_vgg16_state(path: str | os.PathLike) -> Mapping[str, torch.Tensor]:
    """The tensors of a VGG16 weights file (.safetensors or a torch state dict), CheckpointError
    with a one-line reason otherwise."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such file")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file
        try:
            return load_file(str(p))
        except Exception as e:  # noqa: BLE001 — any damage → one line
            raise CheckpointError(f"{p}: not a readable safetensors file ({e})") from None
    from .importers import read_torch_state_dict
    return read_torch_state_dict(p)


def load_vgg16_distance(path: str | os.PathLike, device: str | torch.device = "cpu"
                        ) -> VGG16Distance:
    state = read_vgg16_state(path)                       # its errors name the file already
    try:
        return VGG16Distance(state).to(device)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
