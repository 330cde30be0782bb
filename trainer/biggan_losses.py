"""BigGAN's losses (Brock et al. 2019): hinge loss and orthogonal regularisation of G.

- Hinge (Lim & Ye 2017; Miyato et al. 2018): L_D = E[max(0, 1 − D(x, y))] + E[max(0, 1 + D(G(z, c), c))],
  L_G = −E[D(G(z, c), c)] (`losses.g_loss("hinge", …)`).
- Orthogonal regularisation, BigGAN's variant without the diagonal: R_β(W) = β ‖W Wᵀ ⊙ (1 − I)‖²_F
  for every weight W of G reshaped to [out, fan_in], summed; β = 1e-4. Skipped: 0-/1-d parameters
  (biases, BatchNorm gains and biases, the attention gain γ) and the shared class embedding
  (`nn.Embedding`), as in BigGAN-PyTorch, which also keeps the conditional-BatchNorm gain/bias
  projections in. It is a term of G's loss here (autograd); BigGAN-PyTorch adds
  β · 2 (W Wᵀ ⊙ (1 − I)) W to the gradients instead, i.e. half the gradient of the formula above.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .losses import discriminate


def d_loss_hinge(D, real: torch.Tensor, fake: torch.Tensor, c) -> tuple[torch.Tensor, dict]:
    fake_logits = discriminate(D, fake.detach(), c)                             # [N]
    real_logits = discriminate(D, real.detach(), c)
    loss_real, loss_fake = F.relu(1 - real_logits).mean(), F.relu(1 + fake_logits).mean()
    loss = loss_real + loss_fake
    return loss, {"loss_D": loss.detach(), "D_real": real_logits.mean().detach(),
                  "D_fake": fake_logits.mean().detach()}


def ortho_weights(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The parameters orthogonal regularisation applies to (see the module docstring)."""
    skip = {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
    return [(name, p) for name, p in module.named_parameters()
            if p.ndim >= 2 and p.requires_grad and id(p) not in skip]


def ortho_penalty(module: nn.Module) -> torch.Tensor:
    """Σ_W ‖W Wᵀ ⊙ (1 − I)‖²_F over `ortho_weights(module)` (a 0-d tensor, differentiable)."""
    total = None
    for _, p in ortho_weights(module):
        w = p.reshape(p.shape[0], -1)                                           # [out, fan_in]
        gram = w @ w.t()                                                        # [out, out]
        off = gram - torch.diag_embed(torch.diagonal(gram))
        term = off.square().sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros([], device=next(module.parameters()).device)
    return total
