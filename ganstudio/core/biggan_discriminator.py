"""BigGAN's projection discriminator (Miyato & Koyama 2018) with spectral norm everywhere.

Residual DBlocks halve the resolution down to 4² (the last block keeps it), self-attention after
the blocks whose output resolution is in `d_attn_resolutions`, then ReLU, a sum over space, and
`linear(h) + <embed(c), h>`. Module names follow BigGAN-PyTorch's D (`blocks.i.0`, `linear`, `embed`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .biggan import BigGANConfig
from .biggan_layers import DBlock, SelfAttention, SNEmbedding, SNLinear

# Per image resolution: output channel multipliers (× d_ch) and downsampling per block.
D_ARCH = {
    32: ((4, 4, 4, 4), (True, True, False, False)),
    64: ((1, 2, 4, 8, 16), (True, True, True, True, False)),
    128: ((1, 2, 4, 8, 16, 16), (True,) * 5 + (False,)),
    256: ((1, 2, 4, 8, 8, 16, 16), (True,) * 6 + (False,)),
    512: ((1, 1, 2, 4, 8, 8, 16, 16), (True,) * 7 + (False,)),
}


class BigGANDiscriminator(nn.Module):
    def __init__(self, config: BigGANConfig):
        super().__init__()
        self.config = config
        self.c_dim = config.n_classes
        mults, downs = D_ARCH[config.img_resolution]
        sn = config.sn_kwargs()
        self.blocks = nn.ModuleList()
        cin, res = config.img_channels, config.img_resolution
        for i, (m, down) in enumerate(zip(mults, downs)):
            cout = m * config.d_ch
            res = res // 2 if down else res
            stage = nn.ModuleList([DBlock(cin, cout, preactivation=i > 0, downsample=down, sn=sn)])
            if res in config.d_attn_resolutions:
                stage.append(SelfAttention(cout, sn))
            self.blocks.append(stage)
            cin = cout
        self.linear = SNLinear(cin, 1, **sn)
        self.embed = SNEmbedding(config.n_classes, cin, **sn)

    def forward(self, img: torch.Tensor, c) -> torch.Tensor:
        """img `[N, 3, H, W]`, c class indices `[N]` or one-hot `[N, n_classes]` → logits `[N, 1]`."""
        c = torch.as_tensor(c, device=img.device)
        if not c.is_floating_point():
            c = F.one_hot(c.reshape(-1).long(), self.c_dim).to(img.dtype)
        if c.shape != (img.shape[0], self.c_dim):
            raise ValueError(f"c must be [N] indices or [N, {self.c_dim}] one-hot, got {tuple(c.shape)}")
        h = img
        for stage in self.blocks:
            for layer in stage:
                h = layer(h)
        h = F.relu(h).sum(dim=(2, 3))                                          # [N, C]
        return self.linear(h) + (self.embed(c) * h).sum(dim=1, keepdim=True)  # [N, 1]
