"""Winograd F(2×2, 3×3) convolution for batch 1, channels-last, stride 1, 'same' padding.

Each 2×2 output tile is computed from a 4×4 input tile with 16 multiplies per (input, output)
channel pair instead of 36: the 16 element-wise products become 16 matrix products
[tiles, I] @ [I, O], done as one batched matmul, which runs near the machine's matmul peak. The
transforms use only 0, ±1 and ±½, so the result equals direct convolution to float32 rounding.

    input  V = Bᵀ d B,  Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    weight U = G g Gᵀ,  G  = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]
    output Y = Aᵀ M A,  Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]

It pays where the convolution is dominated by the matmul (mid resolutions with many channels);
the transforms are memory passes over 4× the activations, so large images use direct conv.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_G = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def transform_weight(w: torch.Tensor) -> torch.Tensor:
    """[O, I, 3, 3] → U [16, I, O] (tile position major)."""
    g = _G.to(w.device, w.dtype)
    u = torch.einsum("ak,oikl,bl->abio", g, w, g)                               # [4, 4, I, O]
    return u.reshape(16, w.shape[1], w.shape[0]).contiguous()


def input_tiles(x: torch.Tensor) -> torch.Tensor:
    """x [1, C, H, W] (H, W even) → V [16, T, C], T = H·W/4 tiles of 4×4 (1 px zero padding)."""
    _, c, h, w = x.shape
    th, tw = h // 2, w // 2
    a = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)[0]                          # [H+2, W+2, C]
    d = [a[j: j + 2 * th: 2] for j in range(4)]                                 # rows, [th, W+2, C]
    rows = (d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3])
    v = torch.empty(4, 4, th, tw, c, dtype=x.dtype, device=x.device)
    for i, r in enumerate(rows):
        e = [r[:, j: j + 2 * tw: 2] for j in range(4)]                          # [th, tw, C]
        torch.sub(e[0], e[2], out=v[i, 0])
        torch.add(e[1], e[2], out=v[i, 1])
        torch.sub(e[2], e[1], out=v[i, 2])
        torch.sub(e[1], e[3], out=v[i, 3])
    return v.view(16, th * tw, c)


def output_tiles(m: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """M [16, T, O] → y [1, O, H, W] channels-last (Aᵀ M A per tile)."""
    o = m.shape[-1]
    th, tw = h // 2, w // 2
    m = m.view(4, 4, th, tw, o)
    t0 = m[0] + m[1] + m[2]                                                     # [4, th, tw, O]
    t1 = m[1] - m[2] - m[3]
    y = torch.empty(1, h, w, o, dtype=m.dtype, device=m.device)
    yv = y[0].view(th, 2, tw, 2, o)
    for a, t in ((0, t0), (1, t1)):
        torch.add(t[0] + t[1], t[2], out=yv[:, a, :, 0])
        torch.sub(t[1] - t[2], t[3], out=yv[:, a, :, 1])
    return y.permute(0, 3, 1, 2)                                                # [1, O, H, W]


def conv3x3(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """x [1, I, H, W], U [16, I, O] from transform_weight → [1, O, H, W] channels-last."""
    h, w = x.shape[-2:]
    m = torch.bmm(input_tiles(x), u)                                            # [16, T, O]
    return output_tiles(m, h, w)
