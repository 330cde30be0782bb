"""Fast batch-1 kernels for StyleGAN2's synthesis stages (same maths as the reference, reordered).

What differs from `stages.ReferenceKernels` (numbers in docs/render_perf_notes.md):
- Activations are channels-last: oneDNN's direct convolution reads NHWC without reordering it.
- Modulation goes where it is cheaper, per layer: into the weights (O·I·k² multiplies; the
  demodulation, the leaky-ReLU gain √2 and the up-FIR gain 4 are folded in as well) or onto the
  activations (I·H·W multiplies before, O·H·W after), with the demodulation coefficients computed
  from precomputed Σ_k w² as rsqrt(Σ_i w²_oi · s_i² + 1e-8). At batch 1 the grouped convolution is a
  plain convolution.
- Bias goes into the convolution (fused by oneDNN); noise and leaky ReLU are applied in place.
- The [1,3,3,1] up-FIR after the transposed convolution is one channels-last depthwise conv with
  the bias fused, instead of upfirdn2d's pad/reshape/grouped-conv sequence. (Three 2×2 box
  filters — the binomial filter factorises as (1+z)³ — as `avg_pool2d` passes were measured too.)
- The skip image's 2× FIR upsampling is one depthwise transposed convolution.
- Rows of the large activations are padded by R/32 zero columns so that their byte stride is not
  a power of two (see `pad_cols`): up to 3× faster transposed convolutions at 256² and beyond.

Results match the reference to float32 rounding, not bit for bit (tested: max |Δ| ≤ 1e-4 at 64²).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganstudio.core.layers import LRELU_SLOPE, setup_filter
from ganstudio.core.stylegan2 import StyleGAN2Generator

from .stages import Stage

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class FastOptions:
    channels_last: bool = True
    modulation: str = "auto"        # auto | weight | act
    fir: str = "depthwise"          # depthwise (one oneDNN pass, bias fused) | avgpool
    pad_rows: bool = True           # pad activation rows (width) off power-of-two byte strides
    pad_from: int = 64              # first resolution whose rows are padded …
    pad_divisor: int = 32           # … by R / pad_divisor zero columns


class _ConvPlan:
    """Precomputed tensors of one modulated conv layer."""

    def __init__(self, layer, stage: Stage, mem, modulation: str):
        self.up = layer.up
        self.clamp = layer.conv_clamp
        aff = layer.affine
        self.aff_w = (aff.weight * aff.weight_gain).detach()                     # [I, w_dim]
        self.aff_b = (aff.bias * aff.bias_gain).detach().unsqueeze(0)            # [1, I]
        w = layer.weight.detach()                                                # [O, I, 3, 3]
        self.out_c, self.in_c = w.shape[:2]
        self.wsq = w.square().sum(dim=[2, 3])                                    # [O, I]
        self.bias_g = (layer.bias.detach() * SQRT2)                              # [O]
        self.noise_strength = layer.noise_strength.detach()
        res_in = stage.resolution // self.up
        # Cost of the two ways to modulate (multiplies per frame).
        act_cost = self.in_c * res_in ** 2 + self.out_c * stage.resolution ** 2
        weight_cost = 2 * w.numel()
        if modulation == "auto":
            modulation = "act" if act_cost < weight_cost else "weight"
        self.modulation = modulation
        self.gain = SQRT2 * (4.0 if self.up == 2 else 1.0)   # lrelu gain, up-FIR gain
        if self.up == 1:
            self.weight = w.contiguous(memory_format=mem)                        # [O, I, 3, 3]
        else:
            # Transposed conv weight [I, O, 3, 3]; the official up-conv is a true convolution
            # (flip_weight=False), which conv_transpose2d computes without flipping.
            self.weight = w.transpose(0, 1).contiguous(memory_format=mem)        # [I, O, 3, 3]
        self.mem = mem


class FastKernels:
    """Stage kernels for batch-1 rendering; built once per model (weights precomputed)."""

    name = "fast"

    def __init__(self, G: StyleGAN2Generator, options: FastOptions = FastOptions()):
        self.options = options
        self.mem = torch.channels_last if options.channels_last else torch.contiguous_format
        self.blocks = G.synthesis.blocks()
        self._const = self.blocks[0].const.detach().unsqueeze(0).contiguous(memory_format=self.mem)
        self._plans: dict[tuple[int, str], _ConvPlan] = {}
        self._rgb: dict[int, tuple] = {}
        from .stages import stylegan2_stages
        for s in stylegan2_stages(G):
            block = self.blocks[s.block]
            if s.kind == "conv":
                self._plans[(s.block, s.layer)] = _ConvPlan(getattr(block, s.layer), s, self.mem,
                                                            options.modulation)
            else:
                t = block.torgb
                aw = (t.affine.weight * t.affine.weight_gain).detach()
                ab = (t.affine.bias * t.affine.bias_gain).detach().unsqueeze(0)
                self._rgb[s.block] = (aw, ab, float(t.weight_gain), t.weight.detach(),
                                      t.bias.detach(), t.conv_clamp)
        f = setup_filter().to(self._const.device) * 4.0                            # [4, 4], gain 4
        c = G.img_channels
        self._up_kernel = f[None, None].repeat(c, 1, 1, 1)                          # [C, 1, 4, 4]
        self._fir_kernels: dict = {}
        self._noise_pad: dict = {}

    def noise_const(self, stage: Stage) -> torch.Tensor:
        return getattr(self.blocks[stage.block], stage.layer).noise_const

    def pad_cols(self, res: int) -> int:
        """Zero columns appended to each row of the activations at `res`.

        In StyleGAN2 C·R = channel_base for most blocks, so a channels-last row is exactly
        channel_base·4 bytes (128 KiB at 1024²): a power of two, which makes the rows that a 3×3
        kernel reads map onto the same cache sets. oneDNN's transposed convolution then runs at a
        third of its speed (measured: 128→256 px, 256→128 ch: 26 → 76 GFLOP/s). R/32 extra
        columns (3% more work) break the alias. The padding doubles with each up-conv, and the
        padded columns are kept at zero so that they act as the convolutions' zero padding.
        """
        if not self.options.pad_rows or res < self.options.pad_from:
            return 0
        return res // self.options.pad_divisor

    def _padded_noise(self, stage: Stage, noise: torch.Tensor, width: int) -> torch.Tensor:
        if noise.shape[-1] == width:
            return noise
        hit = self._noise_pad.get(stage.index)
        if hit is not None and hit[0] is noise:
            return hit[1]
        padded = F.pad(noise, (0, width - noise.shape[-1]))
        self._noise_pad[stage.index] = (noise, padded)
        return padded

    def const(self, batch: int = 1) -> torch.Tensor:
        assert batch == 1, "the fast kernels render one image at a time"
        return self._const

    # --- modulated convolutions ---------------------------------------------------------------
    def conv(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
             noise: torch.Tensor | None, noise_scale: float) -> torch.Tensor:
        """x [1, I, R_in, R_in + pad] (pad columns zero) → [1, O, R, R + pad(R)]."""
        p = self._plans[(stage.block, stage.layer)]
        res = stage.resolution
        if p.up == 2:
            want = res + self.pad_cols(res)                     # output width we need
            if 2 * x.shape[-1] < want:                          # first padded resolution
                x = F.pad(x, (0, want // 2 - x.shape[-1]))
        styles = torch.addmm(p.aff_b, w, p.aff_w.t())[0]                         # [I]
        dcoef = (p.wsq @ styles.square() + 1e-8).rsqrt()                         # [O]
        scale = dcoef * p.gain                                                   # [O]
        if p.modulation == "weight":
            if p.up == 1:
                wm = p.weight * (scale[:, None] * styles[None, :])[:, :, None, None]
                y = F.conv2d(x, wm, p.bias_g, padding=1)                          # [1, O, R, W]
            else:
                wm = p.weight * (styles[:, None] * scale[None, :])[:, :, None, None]
                y = F.conv_transpose2d(x, wm, stride=2)                          # [1, O, 2H+1, 2W+1]
                y = self._fir(y, p.bias_g)                                        # [1, O, 2H, 2W]
        else:
            xs = x * styles.view(1, -1, 1, 1)
            if p.up == 1:
                y = F.conv2d(xs, p.weight, p.bias_g / scale, padding=1)
            else:
                y = self._fir(F.conv_transpose2d(xs, p.weight, stride=2), p.bias_g / scale)
            y.mul_(scale.view(1, -1, 1, 1))
        if noise is not None and noise_scale != 0:
            noise = self._padded_noise(stage, noise, y.shape[-1])
            y.add_(noise * (p.noise_strength * (noise_scale * SQRT2)))
        F.leaky_relu_(y, LRELU_SLOPE)
        if p.clamp is not None and p.clamp >= 0:
            y.clamp_(-p.clamp, p.clamp)
        if y.shape[-1] > res:
            y[..., res:].zero_()                                # padding columns stay zero
        return y

    def _fir(self, y: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The [1,3,3,1]⊗[1,3,3,1]/64 filter with 1 px zero padding, plus bias: 2H+1 → 2H."""
        c = y.shape[1]
        if self.options.fir == "avgpool":
            y = F.avg_pool2d(y, 2, stride=1, padding=1)     # box 2×2, count_include_pad: zeros
            y = F.avg_pool2d(y, 2, stride=1)
            return F.avg_pool2d(y, 2, stride=1).add_(bias.view(1, -1, 1, 1))
        k = self._fir_kernels.get((c, y.dtype))
        if k is None:
            k = setup_filter().to(y.device, y.dtype)[None, None].repeat(c, 1, 1, 1)
            k = self._fir_kernels[(c, y.dtype)] = k.contiguous(memory_format=self.mem)
        return F.conv2d(y, k, bias.to(y.dtype), padding=1, groups=c)           # one pass

    # --- toRGB and the skip path ------------------------------------------------------------
    def torgb(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
              img: torch.Tensor | None) -> torch.Tensor:
        aw, ab, gain, weight, bias, clamp = self._rgb[stage.block]
        styles = torch.addmm(ab, w, aw.t()) * gain                               # [1, I]
        wm = weight * styles.view(1, -1, 1, 1)                                   # [3, I, 1, 1]
        y = F.conv2d(x, wm.contiguous(memory_format=self.mem), bias)             # [1, 3, R, W]
        if clamp is not None and clamp >= 0:
            y = y.clamp(-clamp, clamp)
        if img is not None:
            up = self.upsample_img(img)                                          # [1, 3, R, 2W']
            if up.shape[-1] < y.shape[-1]:
                up = F.pad(up, (0, y.shape[-1] - up.shape[-1]))
            y = y.add_(up)
        res = stage.resolution
        if y.shape[-1] > res:
            y[..., res:].zero_()                                # the next upsampling's zero padding
        return y

    def upsample_img(self, img: torch.Tensor) -> torch.Tensor:
        """2× FIR upsampling of the skip image (upfirdn2d up=2, pad (2, 1), gain 4)."""
        return F.conv_transpose2d(img, self._up_kernel.to(img.dtype), stride=2, padding=1,
                                  groups=img.shape[1])
