"""BigGAN generator (Brock et al. 2019, BigGAN-PyTorch layout): skip-z chunks + class embedding.

How BigGAN maps onto `GeneratorBase`:
- `ws` are the z chunks: `num_ws` = number of chunks (one for the input linear layer, one per
  residual block), `w_dim` = chunk size; `mapping(z)` just cuts z into `[N, num_ws, w_dim]`.
  There is no W space (`has_w_space` is False). `truncation_psi` in `mapping` scales the chunks
  (the "average z" is 0, so it is StyleGAN's `w_avg + ψ(w − w_avg)` with `w_avg = 0`); BigGAN's
  own truncation trick draws z differently instead — see `truncated_z` / `z_from_seed_biggan`.
- `c` is the class and must reach `synthesis`, so `synthesis(ws, c, ...)` takes it (and
  `forward(z, c)` passes it on). `c` is either class indices `[N]` (int) or a one-hot / soft
  `[N, n_classes]` float tensor; a soft c blends the class embeddings linearly, which is BigGAN's
  class interpolation. Every block's conditional BatchNorm sees `concat(embedding, chunk)`.
- Noise arguments are accepted for interface compatibility and ignored (`has_noise` is False).

Names and stored values are BigGAN-PyTorch's, so their state dicts load as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .biggan_layers import BatchNorm, GBlock, SelfAttention, SNConv2d, SNLinear
from .interface import GeneratorBase, LayerInfo, check_noise_scale, resolution_group

# Channel multipliers (× ch) of the generator blocks per output resolution: (in, out) per block.
G_CHANNELS = {
    32: ((4, 4), (4, 4), (4, 4)),
    64: ((16, 16), (16, 8), (8, 4), (4, 2)),
    128: ((16, 16), (16, 8), (8, 4), (4, 2), (2, 1)),
    256: ((16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1)),
    512: ((16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1), (1, 1)),
}


@dataclass
class BigGANConfig:
    img_resolution: int = 128
    ch: int = 96                        # G_ch: channel width multiplier
    z_dim: int = 120                    # dim_z; a multiple of the number of chunks when hier
    shared_dim: int = 128               # class embedding size
    n_classes: int = 1000
    hier: bool = True                   # skip-z: z split into chunks
    attn_resolutions: tuple = (64,)     # G_attn: block output resolutions followed by attention
    bn_eps: float = 1e-5                # 1e-4 for the TFHub-ported models
    sn_eps: float = 1e-6
    num_svs: int = 1
    num_sv_itrs: int = 1
    bottom_width: int = 4
    img_channels: int = 3
    d_ch: int = 96                      # discriminator width (D_ch)
    d_attn_resolutions: tuple = (64,)

    def __post_init__(self):
        self.attn_resolutions = tuple(int(r) for r in self.attn_resolutions)
        self.d_attn_resolutions = tuple(int(r) for r in self.d_attn_resolutions)
        if self.img_resolution not in G_CHANNELS:
            raise ValueError(f"BigGAN img_resolution must be one of {sorted(G_CHANNELS)}, "
                             f"got {self.img_resolution}")
        if self.hier and self.z_dim % self.num_ws:
            raise ValueError(f"BigGAN z_dim {self.z_dim} is not a multiple of its {self.num_ws} "
                             f"z chunks")

    @property
    def block_channels(self) -> list[tuple[int, int]]:
        return [(a * self.ch, b * self.ch) for a, b in G_CHANNELS[self.img_resolution]]

    @property
    def block_resolutions(self) -> list[int]:
        return [self.bottom_width * 2 ** (i + 1) for i in range(len(G_CHANNELS[self.img_resolution]))]

    @property
    def num_ws(self) -> int:
        return len(G_CHANNELS[self.img_resolution]) + 1 if self.hier else 1

    @property
    def chunk_size(self) -> int:
        return self.z_dim // self.num_ws

    @property
    def cond_dim(self) -> int:
        return self.shared_dim + (self.chunk_size if self.hier else 0)

    def sn_kwargs(self) -> dict:
        return {"num_svs": self.num_svs, "num_itrs": self.num_sv_itrs, "eps": self.sn_eps}


class BigGANGenerator(GeneratorBase):
    arch = "biggan"
    class_in_synthesis = True

    def __init__(self, config: BigGANConfig):
        super().__init__()
        self.config = config
        self.z_dim, self.c_dim = config.z_dim, config.n_classes
        self.num_ws, self.w_dim = config.num_ws, config.chunk_size
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        sn, bw = config.sn_kwargs(), config.bottom_width
        chans = config.block_channels
        self.shared = nn.Embedding(config.n_classes, config.shared_dim)
        nn.init.orthogonal_(self.shared.weight)
        self.linear = SNLinear(self.w_dim, chans[0][0] * bw * bw, **sn)
        self.blocks = nn.ModuleList()
        for (cin, cout), res in zip(chans, config.block_resolutions):
            stage = nn.ModuleList([GBlock(cin, cout, config.cond_dim, bn_eps=config.bn_eps, sn=sn)])
            if res in config.attn_resolutions:
                stage.append(SelfAttention(cout, sn))
            self.blocks.append(stage)
        c_last = chans[-1][1]
        self.output_layer = nn.Sequential(BatchNorm(c_last, eps=config.bn_eps), nn.ReLU(),
                                          SNConv2d(c_last, config.img_channels, 3, **sn))

    @property
    def has_w_space(self) -> bool:
        return False

    def layer_table(self) -> list[LayerInfo]:
        cfg = self.config
        if not cfg.hier:
            return [LayerInfo(0, cfg.bottom_width, "linear+all blocks", "coarse", False)]
        rows = [LayerInfo(0, cfg.bottom_width, "linear", resolution_group(cfg.bottom_width), False)]
        for i, res in enumerate(cfg.block_resolutions):
            rows.append(LayerInfo(i + 1, res, f"blocks.{i}", resolution_group(res), False))
        return rows

    # --- class and latent inputs -------------------------------------------------------------
    def class_embedding(self, c, n: int | None = None) -> torch.Tensor:
        """Class indices `[N]` (or one int) or one-hot / soft `[N, n_classes]` → embedding `[N, shared_dim]`."""
        if c is None:
            raise ValueError("BigGAN is class-conditional: pass c (class index or one-hot "
                             f"[N, {self.c_dim}])")
        weight = self.shared.weight
        c = torch.as_tensor(c, device=weight.device)
        if c.is_floating_point() and c.ndim == 2:
            if c.shape[1] != self.c_dim:
                raise ValueError(f"one-hot c has {c.shape[1]} columns, the model has {self.c_dim} classes")
            emb = c.to(weight.dtype) @ weight
        elif not c.is_floating_point() and c.ndim <= 1:
            c = c.reshape(-1).long()
            if c.numel() and (c.min() < 0 or c.max() >= self.c_dim):
                raise ValueError(f"class index out of range 0…{self.c_dim - 1}: {c.tolist()}")
            emb = self.shared(c)
        else:
            raise ValueError(f"c must be class indices [N] or one-hot [N, {self.c_dim}], "
                             f"got {c.dtype} {tuple(c.shape)}")
        if n is not None and emb.shape[0] == 1 and n > 1:
            emb = emb.expand(n, -1)
        if n is not None and emb.shape[0] != n:
            raise ValueError(f"{emb.shape[0]} classes for {n} latents")
        return emb                                                             # [N, shared_dim]

    def mapping(self, z: torch.Tensor, c=None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        """z `[N, z_dim]` → ws `[N, num_ws, chunk]`; c and update_emas are unused (no W space)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {tuple(z.shape)}")
        ws = z.to(torch.float32).reshape(z.shape[0], self.num_ws, self.w_dim)
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else int(truncation_cutoff)
            ws = ws.clone()
            ws[:, :cutoff] *= truncation_psi
        return ws

    def synthesis(self, ws: torch.Tensor, c=None, noise_mode: str = "const", noise_scale=None,
                  noise_generator: torch.Generator | None = None, start_block: int = 0,
                  x: torch.Tensor | None = None, on_block=None) -> torch.Tensor:
        """ws `[N, num_ws, chunk]` and class c → images `[N, 3, H, W]` in [-1, 1].

        `start_block` with `x` (the output of block start_block − 1) resumes a render; `on_block(i,
        x, None)` sees each block's output. Noise arguments are ignored (BigGAN has no noise).
        """
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        check_noise_scale(noise_scale, self.num_ws)
        ws = ws.to(device=self.shared.weight.device, dtype=torch.float32)
        n = ws.shape[0]
        emb = self.class_embedding(c, n)                                        # [N, shared_dim]
        if start_block == 0:
            bw = self.config.bottom_width
            x = self.linear(ws[:, 0]).view(n, -1, bw, bw)                      # [N, 16ch, 4, 4]
        elif x is None:
            raise ValueError("resuming at a later block needs that block's input x")
        for i in range(start_block, len(self.blocks)):
            cond = torch.cat([emb, ws[:, i + 1]], dim=1) if self.config.hier else emb
            x = self.blocks[i][0](x, cond)
            for extra in self.blocks[i][1:]:
                x = extra(x)
            if on_block is not None:
                on_block(i, x, None)
        return torch.tanh(self.output_layer(x))                                # [N, 3, H, W]

    def forward(self, z: torch.Tensor, c=None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const",
                noise_generator: torch.Generator | None = None) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, c, noise_mode=noise_mode, noise_generator=noise_generator)


# --- BigGAN latents --------------------------------------------------------------------------

def truncated_z(seed_or_generator: int | torch.Generator, dim: int, threshold: float = 2.0,
                n: int = 1) -> torch.Tensor:
    """z `[n, dim]` from a standard normal, entries with |z| ≥ threshold redrawn until none is left.

    The truncation trick by resampling (the explorer's threshold slider). Deterministic for a seed
    (through `torch.Generator`); thresholds below 0.05 are refused (resampling would crawl).
    """
    if not threshold >= 0.05:
        raise ValueError(f"truncation threshold must be ≥ 0.05, got {threshold}")
    g = seed_or_generator
    if not isinstance(g, torch.Generator):
        g = torch.Generator().manual_seed(int(g))
    z = torch.randn([n, dim], generator=g)
    bad = z.abs() >= threshold
    while bad.any():
        z[bad] = torch.randn(int(bad.sum()), generator=g)
        bad = z.abs() >= threshold
    return z


def z_from_seed_biggan(seed: int, dim: int, truncation: float = 1.0) -> torch.Tensor:
    """z `[1, dim]` as `ganstudio generate` draws it for BigGAN.

    truncation 1: `np.random.RandomState(seed).randn(1, dim)` (as NVIDIA's generate.py). Otherwise
    `truncation ·` a standard normal truncated to [−2, 2], drawn from the same RandomState by
    redrawing out-of-range entries. (BigGAN-PyTorch's reference used scipy's truncnorm, whose
    stream differs; the distribution is the same.)
    """
    rs = np.random.RandomState(int(seed))
    z = rs.randn(1, dim)
    if truncation == 1:
        return torch.from_numpy(z).float()
    if not truncation > 0:
        raise ValueError(f"truncation must be > 0, got {truncation}")
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rs.randn(int(bad.sum()))
        bad = np.abs(z) > 2
    return torch.from_numpy(truncation * z).float()


def one_hot(c, n_classes: int) -> torch.Tensor:
    """Class indices `[N]` → one-hot float `[N, n_classes]`."""
    return F.one_hot(torch.as_tensor(c).reshape(-1).long(), n_classes).float()
