"""Fast batch-1 kernels for StyleGAN2's synthesis stages (same maths as the reference, reordered).

What differs from `stages.ReferenceKernels` (numbers in docs/render_perf_notes.md):
- Activations are channels-last: oneDNN's direct convolution reads NHWC without reordering it.
- Modulation goes where it is cheaper, per layer: into the weights (O·I·k² multiplies; the
  demodulation, the leaky-ReLU gain √2 and the up-FIR gain 4 are folded in as well) or onto the
  activations (I·H·W multiplies before, O·H·W after), with the demodulation coefficients computed
  from precomputed Σ_k w² as rsqrt(Σ_i w²_oi · s_i² + 1e-8). At batch 1 the grouped convolution is a
  plain convolution.
- Bias goes into the convolution (fused by oneDNN); noise and leaky ReLU are applied in place.
- The [1,3,3,1] up-FIR after the transposed convolution is three 2×2 box filters (the binomial
  filter factorises as (1+z)³), each one `avg_pool2d` pass, instead of a depthwise 4×4 conv.
- The skip image's 2× FIR upsampling is one depthwise transposed convolution.

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
    fir: str = "avgpool"            # avgpool | depthwise


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
        self._fir_dw = None

    def noise_const(self, stage: Stage) -> torch.Tensor:
        return getattr(self.blocks[stage.block], stage.layer).noise_const

    def const(self, batch: int = 1) -> torch.Tensor:
        assert batch == 1, "the fast kernels render one image at a time"
        return self._const

    # --- modulated convolutions ---------------------------------------------------------------
    def conv(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
             noise: torch.Tensor | None, noise_scale: float) -> torch.Tensor:
        p = self._plans[(stage.block, stage.layer)]
        styles = torch.addmm(p.aff_b, w, p.aff_w.t())[0]                         # [I]
        dcoef = (p.wsq @ styles.square() + 1e-8).rsqrt()                         # [O]
        if p.modulation == "weight":
            scale = dcoef * p.gain                                               # [O]
            if p.up == 1:
                wm = p.weight * (scale[:, None] * styles[None, :])[:, :, None, None]
                y = F.conv2d(x, wm, p.bias_g, padding=1)                          # [1, O, H, W]
            else:
                wm = p.weight * (styles[:, None] * scale[None, :])[:, :, None, None]
                y = F.conv_transpose2d(x, wm, stride=2)                          # [1, O, 2H+1, 2W+1]
                y = self._fir(y)                                                  # [1, O, 2H, 2W]
                y.add_(p.bias_g.view(1, -1, 1, 1))
        else:
            xs = x * styles.view(1, -1, 1, 1)
            if p.up == 1:
                y = F.conv2d(xs, p.weight, p.bias_g / (dcoef * p.gain), padding=1)
            else:
                y = self._fir(F.conv_transpose2d(xs, p.weight, stride=2))
                y.add_((p.bias_g / (dcoef * p.gain)).view(1, -1, 1, 1))
            y.mul_((dcoef * p.gain).view(1, -1, 1, 1))
        if noise is not None and noise_scale != 0:
            y.add_(noise * (p.noise_strength * (noise_scale * SQRT2)))
        F.leaky_relu_(y, LRELU_SLOPE)
        if p.clamp is not None and p.clamp >= 0:
            y.clamp_(-p.clamp, p.clamp)
        return y

    def _fir(self, y: torch.Tensor) -> torch.Tensor:
        """The [1,3,3,1]⊗[1,3,3,1]/64 filter with 1 px zero padding: [.., 2H+1] → [.., 2H]."""
        if self.options.fir == "avgpool":
            y = F.avg_pool2d(y, 2, stride=1, padding=1)     # box 2×2, count_include_pad: zeros
            y = F.avg_pool2d(y, 2, stride=1)
            return F.avg_pool2d(y, 2, stride=1)
        c = y.shape[1]
        if self._fir_dw is None or self._fir_dw.shape[0] != c:
            k = setup_filter().to(y.device, y.dtype)[None, None].repeat(c, 1, 1, 1)
            self._fir_dw = k.contiguous(memory_format=self.mem)
        return F.conv2d(y, self._fir_dw, padding=1, groups=c)

    # --- toRGB and the skip path ------------------------------------------------------------
    def torgb(self, stage: Stage, x: torch.Tensor, w: torch.Tensor,
              img: torch.Tensor | None) -> torch.Tensor:
        aw, ab, gain, weight, bias, clamp = self._rgb[stage.block]
        styles = torch.addmm(ab, w, aw.t()) * gain                               # [1, I]
        wm = weight * styles.view(1, -1, 1, 1)                                   # [3, I, 1, 1]
        y = F.conv2d(x, wm.contiguous(memory_format=self.mem), bias)             # [1, 3, H, W]
        if clamp is not None and clamp >= 0:
            y = y.clamp(-clamp, clamp)
        if img is not None:
            y = y.add_(self.upsample_img(img))
        return y

    def upsample_img(self, img: torch.Tensor) -> torch.Tensor:
        """2× FIR upsampling of the skip image (upfirdn2d up=2, pad (2, 1), gain 4)."""
        return F.conv_transpose2d(img, self._up_kernel.to(img.dtype), stride=2, padding=1,
                                  groups=img.shape[1])
