"""Building blocks shared by PGGAN, StyleGAN and StyleGAN2.

Parameter names and stored values follow NVIDIA's official networks: weights are kept with unit
variance (divided by the learning-rate multiplier) and scaled at run time (equalized learning rate).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# Activations and normalisations
# ---------------------------------------------------------------------------------------------

def bias_act(x: torch.Tensor, b: torch.Tensor | None, act: str = "linear",
             gain: float | None = None, clamp: float | None = None, dim: int = 1) -> torch.Tensor:
    """Add a bias along `dim`, apply `act` ('linear' or 'lrelu'), multiply by gain, clamp.

    The default gain is the activation's own: √2 for leaky ReLU (He init), 1 for linear.
    """
    if gain is None:
        gain = LRELU_GAIN if act == "lrelu" else 1.0
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.reshape(shape)
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Pixel norm: x / sqrt(mean(x^2) + eps) along `dim` (the mapping network's z normalisation)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return normalize_2nd_moment(x, dim=1)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, num_channels: int = 1) -> torch.Tensor:
    """Append the standard deviation over groups of samples as extra feature maps (PGGAN §3)."""
    n, c, h, w = x.shape  # [N, C, H, W]
    g = min(group_size, n)
    while n % g:
        g -= 1
    f = num_channels
    y = x.reshape(g, -1, f, c // f, h, w)            # [G, M, F, c, H, W]
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4])                        # [M, F]
    y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)    # [N, F, H, W]
    return torch.cat([x, y], dim=1)


class MinibatchStd(nn.Module):
    def __init__(self, group_size: int = 4, num_channels: int = 1):
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return minibatch_stddev(x, self.group_size, self.num_channels)


# ---------------------------------------------------------------------------------------------
# Equalized learning rate layers
# ---------------------------------------------------------------------------------------------

class FullyConnectedLayer(nn.Module):
    """Dense layer with equalized learning rate: weight stored as N(0, 1/lr_mul²), scaled at run time."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True,
                 activation: str = "linear", lr_multiplier: float = 1.0, bias_init: float = 0.0,
                 gain: float = 1.0):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = gain * lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, act={self.activation}"


class Conv2dLayer(nn.Module):
    """Convolution with equalized learning rate, optional FIR up/down sampling, bias and activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1,
                 resample_filter=(1, 3, 3, 1), conv_clamp: float | None = None,
                 lr_multiplier: float = 1.0):
        super().__init__()
        self.activation = activation
        self.up, self.down = up, down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = lr_multiplier / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = LRELU_GAIN if activation == "lrelu" else 1.0
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size)
                                   / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias is not None else None
        x = conv2d_resample(x, w.to(x.dtype), self.resample_filter, up=self.up, down=self.down,
                            padding=self.padding, flip_weight=(self.up == 1))
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, b, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


# ---------------------------------------------------------------------------------------------
# FIR resampling (pure PyTorch reference of upfirdn2d)
# ---------------------------------------------------------------------------------------------

def setup_filter(f=(1, 3, 3, 1)) -> torch.Tensor:
    """Separable FIR filter as a normalised 2-D kernel (outer product, sums to 1)."""
    f = torch.as_tensor(f, dtype=torch.float32)
    if f.ndim == 1:
        f = f.ger(f)
    return f / f.sum()


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, down: int = 1,
              padding=(0, 0, 0, 0), gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop), filter with the 2-D FIR `f`, downsample.

    The common cases run as one depthwise (transposed) convolution: a strided conv for
    downsampling and a strided transposed conv for upsampling, so no zero-filled or discarded
    pixels are computed. The general case spells the definition out.
    """
    n, c, h, w = x.shape  # [N, C, H, W]
    px0, px1, py0, py1 = padding
    kh, kw = f.shape[-2:]
    k = (f * gain).to(x.dtype)
    if up == 1 and px0 == px1 == py0 == py1 >= 0:
        return F.conv2d(x, k.flip([0, 1])[None, None].expand(c, 1, kh, kw), stride=down,
                        padding=px0, groups=c)
    if (down == 1 and up > 1 and px0 == py0 and px1 == py1 and px0 - px1 == up - 1
            and 0 <= kw - 1 - px0 and kh == kw):
        # out[j] = Σ_i x[i]·f[j + K − 1 − p0 − up·i]: a transposed conv cropped by K − 1 − p0.
        return F.conv_transpose2d(x, k[None, None].expand(c, 1, kh, kw), stride=up,
                                  padding=kw - 1 - px0, groups=c)
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    x = F.conv2d(x, k.flip([0, 1])[None, None].expand(c, 1, kh, kw), groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    fw = f.shape[-1]
    p0, p1 = (fw + up - 1) // 2, (fw - up) // 2
    return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    fw = f.shape[-1]
    p0, p1 = (fw - down + 1) // 2, (fw - down) // 2
    return upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1))


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, up: int = 1,
                    down: int = 1, padding: int = 0, groups: int = 1,
                    flip_weight: bool = True) -> torch.Tensor:
    """2-D convolution with optional FIR up/down sampling, following the official padding rules.

    `flip_weight=False` means true convolution (the kernel flipped), as the official up-convs use.
    """
    kh, kw = w.shape[-2:]
    fw = f.shape[-1] if f is not None else 1
    px0 = px1 = padding
    if up > 1:
        px0 += (fw + up - 1) // 2
        px1 += (fw - up) // 2
    if down > 1:
        px0 += (fw - down + 1) // 2
        px1 += (fw - down) // 2

    if kw == 1 and kh == 1 and (down > 1 and up == 1):
        x = upfirdn2d(x, f, down=down, padding=(px0, px1, px0, px1))
        return F.conv2d(x, w, groups=groups)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=(px0, px1, px0, px1))
        if not flip_weight and kw > 1:
            w = w.flip([2, 3])
        return F.conv2d(x, w, stride=down, groups=groups)
    if up > 1:
        # Transposed strided convolution, then the FIR filter (the official fast path).
        out_c, in_c_per_group = w.shape[:2]
        if groups == 1:
            wt = w.transpose(0, 1)
        else:
            wt = w.reshape(groups, out_c // groups, in_c_per_group, kh, kw).transpose(1, 2)
            wt = wt.reshape(groups * in_c_per_group, out_c // groups, kh, kw)
        px0 -= kw - 1
        px1 -= kw - up
        pt = max(min(-px0, -px1), 0)
        if flip_weight and kw > 1:  # conv_transpose2d flips implicitly; undo when correlation was asked
            wt = wt.flip([2, 3])
        x = F.conv_transpose2d(x, wt, stride=up, padding=pt, groups=groups)
        x = upfirdn2d(x, f, padding=(px0 + pt, px1 + pt, px0 + pt, px1 + pt), gain=up * up)
        if down > 1:
            x = upfirdn2d(x, f, down=down)
        return x
    if px0 >= 0:
        if not flip_weight and kw > 1:
            w = w.flip([2, 3])
        return F.conv2d(x, w, padding=px0, groups=groups)
    raise ValueError("unsupported conv2d_resample configuration")


# ---------------------------------------------------------------------------------------------
# Modulated convolution (StyleGAN2)
# ---------------------------------------------------------------------------------------------

def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                     noise: torch.Tensor | None = None, up: int = 1, padding: int = 0,
                     resample_filter: torch.Tensor | None = None, demodulate: bool = True,
                     flip_weight: bool = True) -> torch.Tensor:
    """Weight modulation/demodulation for the whole batch at once through one grouped convolution."""
    n = x.shape[0]
    out_c, in_c, kh, kw = weight.shape      # [O, I, k, k]
    assert styles.shape == (n, in_c), (styles.shape, (n, in_c))
    w = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)          # [N, O, I, k, k]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()        # [N, O]
        w = w * dcoefs.reshape(n, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])                                  # [1, N*I, H, W]
    w = w.reshape(-1, in_c, kh, kw)                                     # [N*O, I, k, k]
    x = conv2d_resample(x, w.to(x.dtype), resample_filter, up=up, padding=padding, groups=n,
                        flip_weight=flip_weight)
    x = x.reshape(n, -1, *x.shape[2:])                                  # [N, O, H', W']
    if noise is not None:
        x = x + noise
    return x


# ---------------------------------------------------------------------------------------------
# Noise, AdaIN
# ---------------------------------------------------------------------------------------------

NOISE_MODES = ("const", "random", "none")


def make_noise(mode: str, const: torch.Tensor, n: int, generator: torch.Generator | None = None
               ) -> torch.Tensor | None:
    """Per-pixel noise for one layer: the stored buffer, fresh Gaussian noise, or none."""
    if mode == "none":
        return None
    if mode == "const":
        return const.reshape(1, 1, *const.shape[-2:])
    if mode == "random":
        h, w = const.shape[-2:]
        z = torch.randn([n, 1, h, w], generator=generator, device=const.device if generator is None
                        else generator.device)
        return z.to(const.device, const.dtype)
    raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {mode!r}")


def adaptive_instance_norm(x: torch.Tensor, style: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """AdaIN: normalise each feature map, then scale by (1 + ys) and shift by yb (StyleGAN v1)."""
    c = x.shape[1]
    x = x - x.mean(dim=[2, 3], keepdim=True)
    x = x * (x.square().mean(dim=[2, 3], keepdim=True) + eps).rsqrt()
    ys, yb = style[:, :c], style[:, c:]
    return x * (ys.reshape(-1, c, 1, 1) + 1) + yb.reshape(-1, c, 1, 1)


def as_float(x) -> float:
    """Plain float from numpy scalars etc. (official pickles store some gains as np.float64)."""
    return float(np.asarray(x))
