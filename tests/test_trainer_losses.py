"""Losses and regularisers against closed forms; EMA half-life; style mixing; seeded builds."""
import math

import pytest
import torch
import torch.nn.functional as F

from ganstudio.core.discriminators import ProgressiveDiscriminator
from ganstudio.core.growth import downsample_box
from ganstudio.core.stylegan1 import StyleGANConfig
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from trainer import losses as L
from trainer.seeding import seeded_build


class LinearD(torch.nn.Module):
    """D(x) = <w, x> + b: ∇_x D = w for every sample, so penalties have closed forms."""

    def __init__(self, shape, scale):
        super().__init__()
        self.w = torch.nn.Parameter(torch.full(shape, scale))
        self.b = torch.nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return (x * self.w).sum(dim=[1, 2, 3]).unsqueeze(1) + self.b


def _images(seed, n=4):
    return torch.randn([n, 3, 4, 4], generator=torch.Generator().manual_seed(seed))


def test_wgan_gp_matches_closed_form():
    D = LinearD([3, 4, 4], 0.1)
    real, fake = _images(0), _images(1)
    loss, stats = L.d_loss_wgan_gp(D, real, fake, None, gp_lambda=10, gp_target=1,
                                   drift_epsilon=0.001, gen=torch.Generator().manual_seed(2))
    norm = 0.1 * math.sqrt(48)
    d_real, d_fake = D(real).reshape(-1), D(fake).reshape(-1)
    expected = (d_fake - d_real + 10 * (norm - 1) ** 2 + 0.001 * d_real ** 2).mean()
    assert stats["grad_norm"].item() == pytest.approx(norm, rel=1e-5)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_logistic_loss_with_lazy_r1_matches_closed_form():
    D = LinearD([3, 4, 4], 0.2)
    real, fake = _images(3), _images(4)
    plain, _ = L.d_loss_logistic(D, real, fake, None, r1_gamma=10, r1_weight=0)
    lazy, stats = L.d_loss_logistic(D, real, fake, None, r1_gamma=10, r1_weight=16)
    base = (F.softplus(D(fake)) + F.softplus(-D(real))).mean()
    assert plain.item() == pytest.approx(base.item(), rel=1e-6)
    r1 = 0.2 ** 2 * 48                                       # ‖∇D‖² = ‖w‖²
    assert stats["r1_penalty"].item() == pytest.approx(r1, rel=1e-5)
    assert lazy.item() == pytest.approx(base.item() + 10 / 2 * r1 * 16, rel=1e-5)
    g, _ = L.g_loss("logistic", D, fake, None)
    assert g.item() == pytest.approx(F.softplus(-D(fake)).mean().item(), rel=1e-6)


def test_ema_half_life_and_rampup():
    beta = L.ema_beta(batch=16, ema_kimg=10, cur_nimg=10 ** 6)
    assert beta ** (10_000 / 16) == pytest.approx(0.5)
    ramped = L.ema_beta(batch=16, ema_kimg=10, cur_nimg=1000, rampup=0.05)   # half-life 50 images
    assert ramped ** (50 / 16) == pytest.approx(0.5)


def _tiny_g():
    cfg = StyleGAN2Config(img_resolution=8, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64,
                          channel_max=8)
    return seeded_build(lambda: StyleGAN2Generator(cfg), 0)


def test_style_mixing_splits_layers_at_a_cutoff():
    G = _tiny_g()
    z = torch.randn([2, 8], generator=torch.Generator().manual_seed(0))
    ws = G.mapping(z, None)
    mixed = L.mix_styles(G, ws, None, prob=1.0, gen=torch.Generator().manual_seed(5))
    same = [bool(torch.equal(mixed[:, i], ws[:, i])) for i in range(G.num_ws)]
    cutoff = same.index(False)
    assert 1 <= cutoff < G.num_ws and same == [True] * cutoff + [False] * (G.num_ws - cutoff)
    assert torch.equal(L.mix_styles(G, ws, None, prob=0.0, gen=torch.Generator()), ws)


def test_style_mixing_cutoff_stays_within_the_layers_a_growing_stylegan_uses():
    from ganstudio.core.stylegan1 import StyleGANConfig, StyleGANGenerator
    cfg = StyleGANConfig(img_resolution=32, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64,
                         channel_max=8)
    G = seeded_build(lambda: StyleGANGenerator(cfg), 0)
    ws = G.mapping(torch.randn([2, 8], generator=torch.Generator().manual_seed(0)), None)
    for res, active in ((4, 2), (8, 4), (16, 6)):
        G.set_growth(res, 0.5 if res > 4 else 1.0)
        assert G.active_num_ws == active
        cutoffs = set()
        for seed in range(40):
            mixed = L.mix_styles(G, ws, None, prob=1.0, gen=torch.Generator().manual_seed(seed))
            cutoffs.add([bool(torch.equal(mixed[:, i], ws[:, i])) for i in range(G.num_ws)]
                        .index(False))
        assert cutoffs == set(range(1, active)), (res, cutoffs)   # every used cut, no other


def test_path_length_penalty_tracks_the_mean():
    G = _tiny_g()
    pl_mean = torch.zeros([])
    z = torch.randn([4, 8], generator=torch.Generator().manual_seed(1))
    pen, stats = L.path_length_penalty(G, z, None, pl_mean=pl_mean, pl_decay=0.01, mixing_prob=0,
                                       gen=torch.Generator().manual_seed(2))
    assert pl_mean.item() > 0 and stats["pl_mean"].item() == pl_mean.item()
    pen.backward()
    assert G.mapping.fc0.weight.grad is not None and torch.isfinite(pen)


def test_seeded_build_is_deterministic_and_leaves_global_rng_alone():
    before = torch.random.get_rng_state()
    a, b = _tiny_g(), _tiny_g()
    other = seeded_build(lambda: StyleGAN2Generator(a.config), 1)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.synthesis.b4.const, other.synthesis.b4.const)


def test_r1_while_growing_equals_r1_on_the_full_size_upscaled_reals():
    """NVIDIA's growing StyleGAN takes R1 on reals upscaled to full size, which D box-downsamples
    again; `size_ratio` must give the same penalty on the small reals."""
    D = seeded_build(lambda: ProgressiveDiscriminator(
        StyleGANConfig(img_resolution=32, channel_base=128, channel_max=16)), 0)
    D.set_growth(8, 1.0)
    small = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    big = F.interpolate(small, scale_factor=4, mode="nearest").requires_grad_(True)
    grad, = torch.autograd.grad(D(downsample_box(downsample_box(big))).sum(), big)
    on_big = float(grad.square().sum(dim=[1, 2, 3]).mean())          # D sees exactly `small`

    def r1(size_ratio):
        _, stats = L.d_loss_logistic(D, small, small, None, r1_gamma=10.0, r1_weight=1,
                                     size_ratio=size_ratio)
        return float(stats["r1_penalty"])

    assert r1(8 / 32) == pytest.approx(on_big, rel=1e-5)
    assert r1(1.0) == pytest.approx(16 * on_big, rel=1e-5)


def test_wgan_gp_while_growing_equals_the_penalty_on_full_size_upscaled_images():
    """NVIDIA's PGGAN feeds D full-size images while growing; `size_ratio` must reproduce that."""
    small_D = LinearD([3, 4, 4], 0.1)

    def full_size_D(x):                                              # [N, 3, 16, 16] → D on 4²
        return small_D(downsample_box(downsample_box(x)))

    real, fake = _images(0), _images(1)
    up = lambda x: F.interpolate(x, scale_factor=4, mode="nearest")  # noqa: E731
    kw = dict(gp_lambda=10, gp_target=1, drift_epsilon=0.001)
    big, big_stats = L.d_loss_wgan_gp(full_size_D, up(real), up(fake), None,
                                      gen=torch.Generator().manual_seed(2), **kw)
    small, small_stats = L.d_loss_wgan_gp(small_D, real, fake, None, size_ratio=4 / 16,
                                          gen=torch.Generator().manual_seed(2), **kw)
    assert small_stats["grad_norm"].item() == pytest.approx(big_stats["grad_norm"].item(), rel=1e-5)
    assert small.item() == pytest.approx(big.item(), rel=1e-5)
    assert small_stats["grad_norm"].item() == pytest.approx(0.1 * math.sqrt(48) / 4, rel=1e-5)
