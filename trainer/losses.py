"""GAN losses and regularisers, G EMA, and generation with style mixing.

- PGGAN: WGAN-GP  L_D = D(G(z)) − D(x) + λ (‖∇D(x̂)‖ − t)²/t² + ε D(x)²,  L_G = −D(G(z)),
  x̂ = x + u (G(z) − x), u ~ U(0, 1) per sample; λ = 10, t = 1, ε = 0.001.
- StyleGAN / StyleGAN2: non-saturating logistic  L_D = softplus(D(G(z))) + softplus(−D(x)),
  L_G = softplus(−D(G(z))), with lazy R1 (γ/2 ‖∇_x D(x)‖², evaluated every `r1_interval` D steps
  and multiplied by the interval so its expected strength is unchanged). We add the lazy term to
  that step's main loss (one backward, one optimizer step) rather than taking a separate step.
  While growing, the R1 and WGAN-GP gradients are scaled by resolution / target (`size_ratio`):
  NVIDIA's code feeds D full-size upscaled images, whose gradient is that much smaller.
- StyleGAN2: lazy path-length regularisation every `pl_interval` G steps, on a minibatch shrunk by
  `pl_batch_shrink`: a = mean EMA (decay 0.01) of ‖J_wᵀ y‖, penalty (‖J_wᵀ y‖ − a)², y ~ N(0, I)/√(HW).
- Style mixing: with probability `mixing_prob` a second z drives layers ≥ a random crossover.
- BigGAN: hinge loss (G's is −D(G(z)) as for WGAN) and orthogonal regularisation, see
  biggan_losses.py.

Every random draw comes from the `torch.Generator` passed in.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

def draw_z(n: int, z_dim: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn([n, z_dim], generator=gen, device=gen.device)           # [N, z_dim]


def map_z(G, z: torch.Tensor, c: torch.Tensor | None, *, update_emas: bool = False) -> torch.Tensor:
    """ws [N, num_ws, w_dim]; updates G.mapping.w_avg when asked and the model has a W space."""
    if G.has_w_space:
        return G.mapping(z, c, update_emas=update_emas)
    return G.mapping(z, c)


def mix_styles(G, ws: torch.Tensor, c: torch.Tensor | None, prob: float,
               gen: torch.Generator) -> torch.Tensor:
    """Style-mixing regularisation: layers ≥ a random cutoff take the styles of a second z.

    The cutoff is drawn among the layers the generator uses now: while a StyleGAN v1 grows, only
    the ws up to the current resolution (`active_num_ws`), as in the official code; a cutoff among
    unused layers would leave the mixing probability at low resolutions far below `prob`.
    """
    if prob <= 0 or not G.has_w_space or G.active_num_ws < 2:
        return ws
    n = G.active_num_ws
    u = torch.rand([2], generator=gen, device=gen.device).tolist()
    if u[0] >= prob:
        return ws
    cutoff = 1 + min(int(u[1] * (n - 1)), n - 2)                                 # 1 … n-1
    ws2 = map_z(G, draw_z(ws.shape[0], G.z_dim, gen), c)
    keep = torch.arange(G.num_ws, device=ws.device).reshape(1, -1, 1) < cutoff
    return torch.where(keep, ws, ws2)


def synthesize(G, ws: torch.Tensor, c: torch.Tensor | None, **noise) -> torch.Tensor:
    """G.synthesis(ws); generators whose synthesis takes the class too (BigGAN) get c."""
    if G.class_in_synthesis:
        return G.synthesis(ws, c, **noise)
    return G.synthesis(ws, **noise)


def generate(G, z: torch.Tensor, c: torch.Tensor | None, *, mixing_prob: float,
             gen: torch.Generator, update_emas: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(images [N, 3, r, r], ws [N, num_ws, w_dim]) with random noise drawn from `gen`."""
    ws = map_z(G, z, c, update_emas=update_emas)
    ws = mix_styles(G, ws, c, mixing_prob, gen)
    img = synthesize(G, ws, c, noise_mode="random", noise_generator=gen)
    return img, ws


def discriminate(D, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    return (D(img) if c is None else D(img, c)).reshape(-1)                     # [N]


# ---------------------------------------------------------------------------------------------
# Discriminator losses
# ---------------------------------------------------------------------------------------------

def d_loss_logistic(D, real: torch.Tensor, fake: torch.Tensor, c, *, r1_gamma: float,
                    r1_weight: float, size_ratio: float = 1.0) -> tuple[torch.Tensor, dict]:
    """Logistic D loss; `r1_weight` = interval on lazy-R1 steps, 0 otherwise. `size_ratio`: as
    for `d_loss_wgan_gp`, the R1 gradient is taken as on full-size upscaled reals."""
    do_r1 = r1_gamma > 0 and r1_weight > 0
    real = real.detach().requires_grad_(do_r1)
    fake_logits = discriminate(D, fake.detach(), c)
    real_logits = discriminate(D, real, c)
    loss = F.softplus(fake_logits) + F.softplus(-real_logits)                    # [N]
    stats = {"loss_D": loss.mean().detach(), "D_real": real_logits.mean().detach(),
             "D_fake": fake_logits.mean().detach()}
    if do_r1:
        grad, = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
        penalty = (grad * size_ratio).square().sum(dim=[1, 2, 3])                # [N]
        loss = loss + penalty * (r1_gamma / 2) * r1_weight
        stats["r1_penalty"] = penalty.mean().detach()
    return loss.mean(), stats


def d_loss_wgan_gp(D, real: torch.Tensor, fake: torch.Tensor, c, *, gp_lambda: float,
                   gp_target: float, drift_epsilon: float, gen: torch.Generator,
                   size_ratio: float = 1.0) -> tuple[torch.Tensor, dict]:
    """WGAN-GP with drift. `size_ratio` = resolution / target while growing: NVIDIA's code takes
    the gradient on full-size (nearest-upscaled) images, whose norm is that ratio times ours."""
    real, fake = real.detach(), fake.detach()
    fake_scores = discriminate(D, fake, c)
    real_scores = discriminate(D, real, c)
    u = torch.rand([real.shape[0], 1, 1, 1], generator=gen, device=gen.device).to(real.dtype)
    mixed = torch.lerp(real, fake, u.to(real.device)).requires_grad_(True)       # [N, 3, r, r]
    mixed_scores = discriminate(D, mixed, c)
    grad, = torch.autograd.grad(mixed_scores.sum(), mixed, create_graph=True)
    norm = grad.square().sum(dim=[1, 2, 3]).add(1e-12).sqrt() * size_ratio       # [N]
    gp = (norm - gp_target).square() * (gp_lambda / gp_target ** 2)
    drift = real_scores.square() * drift_epsilon
    loss = fake_scores - real_scores + gp + drift
    stats = {"loss_D": loss.mean().detach(), "D_real": real_scores.mean().detach(),
             "D_fake": fake_scores.mean().detach(), "gp": gp.mean().detach(),
             "grad_norm": norm.mean().detach()}
    return loss.mean(), stats


# ---------------------------------------------------------------------------------------------
# Generator losses
# ---------------------------------------------------------------------------------------------

def g_loss(kind: str, D, fake: torch.Tensor, c) -> tuple[torch.Tensor, dict]:
    logits = discriminate(D, fake, c)
    loss = -logits if kind in ("wgan-gp", "hinge") else F.softplus(-logits)      # [N]
    return loss.mean(), {"loss_G": loss.mean().detach()}


def path_length_penalty(G, z: torch.Tensor, c, *, pl_mean: torch.Tensor, pl_decay: float,
                        mixing_prob: float, gen: torch.Generator, reduce_mean=None
                        ) -> tuple[torch.Tensor, dict]:
    """Per-sample (‖J_wᵀ y‖ − a)²; updates `pl_mean` (a) in place. `reduce_mean` averages a
    scalar over processes so every rank keeps the same a."""
    img, ws = generate(G, z, c, mixing_prob=mixing_prob, gen=gen)
    h, w = img.shape[2], img.shape[3]
    y = torch.randn(img.shape, generator=gen, device=gen.device).to(img) / math.sqrt(h * w)
    grad, = torch.autograd.grad((img * y).sum(), ws, create_graph=True)         # [N, num_ws, w_dim]
    lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()                        # [N]
    batch_mean = lengths.mean().detach()
    if reduce_mean is not None:
        batch_mean = reduce_mean(batch_mean)
    new_mean = pl_mean.lerp(batch_mean, pl_decay)
    pl_mean.copy_(new_mean)
    penalty = (lengths - new_mean).square()
    return penalty.mean(), {"pl_penalty": penalty.mean().detach(), "pl_mean": new_mean.clone()}


# ---------------------------------------------------------------------------------------------
# EMA of the generator
# ---------------------------------------------------------------------------------------------

def ema_beta(batch: int, ema_kimg: float, cur_nimg: int, rampup: float | None = None) -> float:
    """β so that the EMA's half-life is `ema_kimg` thousand images: β = 0.5^(batch / ema_nimg)."""
    ema_nimg = ema_kimg * 1000
    if rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * rampup)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(G_ema, G, beta: float) -> None:
    """Parameters: G_ema ← lerp(G, G_ema, β); buffers (w_avg, noise_const, filters) are copied.

    BigGAN: its buffers — spectral norm's u vectors and BatchNorm's running statistics — are
    copied too (BigGAN-PyTorch averages them with the weights): G's latest statistics are the best
    cheap estimate for the averaged weights, and eval-mode SN does one power step from u anyway.
    """
    for p_ema, p in zip(G_ema.parameters(), G.parameters()):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
        b_ema.copy_(b)


# ---------------------------------------------------------------------------------------------
# Progressive growing helpers
# ---------------------------------------------------------------------------------------------

def fade_reals(real: torch.Tensor, alpha: float) -> torch.Tensor:
    """During a fade-in show D reals blended like G's output: lerp(up(down(x)), x, α)."""
    if alpha >= 1:
        return real
    low = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")  # [N, 3, r, r]
    return torch.lerp(low, real, alpha)
