"""The PGGAN / StyleGAN discriminators downsample as the papers' code does, centred like the box."""
import torch
import torch.nn.functional as F

from ganstudio.core.discriminators import ProgressiveDiscriminator
from ganstudio.core.growth import blur, downsample_box
from ganstudio.core.layers import bias_act, setup_filter
from ganstudio.core.pggan import PGGANConfig
from ganstudio.core.stylegan1 import StyleGANConfig


def _conv_same(block, x):
    conv = block.conv1
    return F.conv2d(x, conv.weight * conv.weight_gain, padding=1)              # [N, O, R, R]


def _finish(block, x):
    """The downsampling conv's bias and leaky ReLU, applied to a reference pre-activation."""
    return bias_act(x, block.conv1.bias * block.conv1.bias_gain, act="lrelu")


def test_stylegan_d_downsamples_as_blur_then_conv_then_average():
    """NVIDIA's StyleGAN D: [1, 2, 1] blur → 3×3 conv → 2×2 average. Away from the border the
    port's single strided conv must give the same numbers (a half-pixel shift would not)."""
    D = ProgressiveDiscriminator(StyleGANConfig(img_resolution=32, channel_base=256, channel_max=16))
    block = D.b32
    x = torch.randn(2, block.conv1.weight.shape[1], 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = _finish(block, downsample_box(_conv_same(block, blur(x, setup_filter([1, 2, 1])))))
        got = block.conv1(x)
    assert got.shape == ref.shape == (2, block.conv1.weight.shape[0], 16, 16)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(got[inner], ref[inner], atol=1e-5)


def test_pggan_d_downsamples_as_conv_then_average():
    D = ProgressiveDiscriminator(PGGANConfig(img_resolution=32, channel_base=256, channel_max=16))
    block = D.b32
    x = torch.randn(2, block.conv1.weight.shape[1], 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = _finish(block, downsample_box(_conv_same(block, x)))
        got = block.conv1(x)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    assert torch.allclose(got[inner], ref[inner], atol=1e-5)
