"""StyleGAN2 synthesis cut into stages, one per W input consumer, with the reference kernels.

Stage order for blocks b4, b8, …: `b4.conv1 (w0)`, `b4.torgb (w1)`, `b8.conv0 (w1)`,
`b8.conv1 (w2)`, `b8.torgb (w3)`, `b16.conv0 (w3)`, … . A conv stage maps x → x, a toRGB stage
maps (x, img) → img (upsampled skip image plus this block's RGB). Note that an odd w_k feeds two
stages: the toRGB of one block and conv0 of the next.

`ReferenceKernels` runs each stage with ganstudio.core.layers' functions (the path that is
bit-faithful to NVIDIA's algorithm); running all stages equals `G.synthesis` bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ganstudio.core.layers import bias_act, modulated_conv2d, upsample2d
from ganstudio.core.stylegan2 import StyleGAN2Generator


@dataclass(frozen=True)
class Stage:
    index: int          # position in the stage list
    block: int          # index of the synthesis block
    kind: str           # "conv" | "torgb"
    layer: str          # "conv0" | "conv1" | "torgb"
    w_index: int        # which W input it consumes
    resolution: int     # output resolution of the stage

    @property
    def name(self) -> str:
        return f"b{self.resolution}.{self.layer}"


def stylegan2_stages(G: StyleGAN2Generator) -> list[Stage]:
    stages: list[Stage] = []
    syn = G.synthesis
    for b, (block, start) in enumerate(zip(syn.blocks(), syn.block_w_start())):
        i = start
        layers = ["conv1"] if block.in_channels == 0 else ["conv0", "conv1"]
        for name in layers:
            stages.append(Stage(len(stages), b, "conv", name, i, block.resolution))
            i += 1
        stages.append(Stage(len(stages), b, "torgb", "torgb", i, block.resolution))
    return stages


def supports_stages(G) -> bool:
    """Whether G's synthesis can be run stage by stage (StyleGAN2 and subclasses)."""
    return isinstance(G, StyleGAN2Generator)


class ReferenceKernels:
    """Each stage exactly as core.stylegan2's modules compute it (grouped modulated conv etc.)."""

    name = "reference"

    def __init__(self, G: StyleGAN2Generator):
        self.blocks = G.synthesis.blocks()

    def noise_const(self, stage: Stage) -> torch.Tensor:
        return getattr(self.blocks[stage.block], stage.layer).noise_const

    def const(self, batch: int = 1) -> torch.Tensor:
        return self.blocks[0].const.unsqueeze(0).repeat(batch, 1, 1, 1)         # [N, C, 4, 4]

    def conv(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
             noise: torch.Tensor | None, noise_scale: float) -> torch.Tensor:
        """x [N, I, H, W], w [N, w_dim], noise the unscaled map [1, 1, H', W'] (or None)."""
        layer = getattr(self.blocks[stage.block], stage.layer)
        styles = layer.affine(w)                                                 # [N, I]
        if noise is not None and noise_scale != 0:
            noise = noise * (layer.noise_strength * noise_scale)
        else:
            noise = None
        x = modulated_conv2d(x, layer.weight, styles, noise=noise, up=layer.up,
                             padding=layer.padding, resample_filter=layer.resample_filter,
                             flip_weight=(layer.up == 1))
        return bias_act(x, layer.bias.to(x.dtype), act="lrelu", gain=layer.act_gain,
                        clamp=layer.conv_clamp)

    def torgb(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
              img: torch.Tensor | None) -> torch.Tensor:
        block = self.blocks[stage.block]
        if img is not None:
            img = upsample2d(img, block.resample_filter)
        y = block.torgb(x, w)
        return y if img is None else img + y


def stage_flops(G: StyleGAN2Generator, stages: list[Stage]) -> list[float]:
    """Multiply-adds × 2 of each stage's convolutions (the official algorithm's count).

    An up-conv is counted as the transposed convolution it is (input pixels × 9 × I × O × 2);
    FIR filters, modulation and activations are left out (they are a few percent).
    """
    blocks = G.synthesis.blocks()
    out = []
    for s in stages:
        block = blocks[s.block]
        if s.kind == "torgb":
            c_in = block.torgb.weight.shape[1]
            out.append(2.0 * s.resolution ** 2 * c_in * block.torgb.weight.shape[0])
            continue
        layer = getattr(block, s.layer)
        o, i, kh, kw = layer.weight.shape
        pixels = (s.resolution // layer.up) ** 2
        out.append(2.0 * pixels * i * o * kh * kw)
    return out
