"""Tiny random-init generators shared by the tests."""
import torch

from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator


def tiny_stylegan2(res: int = 16, dim: int = 32, channel_max: int = 16, mapping_layers: int = 2,
                   seed: int = 0, rgb_scale: float = 0.3) -> StyleGAN2Generator:
    """A tiny StyleGAN2 in eval mode. toRGB weights are scaled by `rgb_scale` so images lie mostly
    in [-1, 1], as a trained model's do, and uint8 conversions are not clipped."""
    torch.manual_seed(seed)
    cfg = StyleGAN2Config(img_resolution=res, z_dim=dim, w_dim=dim, channel_base=8 * channel_max * res,
                          channel_max=channel_max, mapping_layers=mapping_layers)
    G = StyleGAN2Generator(cfg).eval().requires_grad_(False)
    for block in G.synthesis.blocks():
        block.torgb.weight.mul_(rgb_scale)
    return G
