"""PGGAN, StyleGAN (v1), StyleGAN2 generators and their discriminators: the papers' behaviour."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganstudio.core.checkpoint import load_native_generator, read_checkpoint, save_generator
from ganstudio.core.growth import downsample_box
from ganstudio.core.latents import style_mix, z_from_seed
from ganstudio.core.layers import Conv2dLayer, FullyConnectedLayer
from ganstudio.core.registry import build_discriminator, build_generator

ARCHS = ["pggan", "stylegan", "stylegan2"]
GROWING = ["pggan", "stylegan"]


def make(arch, res=16, *, c_dim=0, base=None, cmax=16, seed=0):
    """A tiny generator and discriminator; noise strengths set non-zero so noise shows."""
    torch.manual_seed(seed)
    cfg = dict(img_resolution=res, z_dim=16, w_dim=16, channel_base=base or 16 * res,
               channel_max=cmax, mapping_layers=2, c_dim=c_dim)
    G, D = build_generator(arch, cfg), build_discriminator(arch, cfg)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.uniform_(0.3, 0.8)
    return G, D


def ws_of(G, seed=0, n=1):
    z = torch.cat([z_from_seed(seed + i, G.z_dim) for i in range(n)])
    with torch.no_grad():
        return G.mapping(z, None)


# --------------------------------------------------------------------------------------------
# Shapes, num_ws, layer tables
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("res", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_shapes_and_num_ws(arch, res):
    torch.manual_seed(0)
    cfg = dict(img_resolution=res, z_dim=8, w_dim=8, channel_base=4 * res, channel_max=4,
               mapping_layers=1)
    G = build_generator(arch, cfg).eval()
    assert G.num_ws == (1 if arch == "pggan" else 2 * int(math.log2(res)) - 2)
    table = G.layer_table()
    assert [l.index for l in table] == list(range(G.num_ws))
    assert G.current_resolution == res and G.alpha == 1.0
    if res == 1024 and arch != "pggan":
        assert G.num_ws == 18
        assert [l.group for l in table] == ["coarse"] * 4 + ["middle"] * 4 + ["fine"] * 10
    if arch == "pggan":
        assert not G.has_w_space and table[0].role == "z" and not table[0].has_noise
        assert G.w_dim == G.z_dim
    if res <= 64:
        D = build_discriminator(arch, cfg)
        with torch.no_grad():
            img = G(torch.randn(2, 8))
            assert img.shape == (2, 3, res, res)
            assert D(img).shape == (2, 1)


def test_stylegan_v1_has_four_layers_at_8_squared():
    """4² has the constant layer and a conv, 8² two convs; each layer has its own w and noise."""
    G, _ = make("stylegan", 8)
    assert G.num_ws == 4
    assert [l.role for l in G.layer_table()] == ["b4.conv0", "b4.conv1", "b8.conv0", "b8.conv1"]
    assert all(l.has_noise for l in G.layer_table())


# --------------------------------------------------------------------------------------------
# Determinism, truncation, mixing, noise
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
def test_const_noise_is_deterministic(arch):
    G, _ = make(arch)
    z = z_from_seed(3, G.z_dim)
    with torch.no_grad():
        a, b = G(z), G(z)
        r1 = G(z, noise_mode="random", noise_generator=torch.Generator().manual_seed(1))
        r2 = G(z, noise_mode="random", noise_generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    if arch == "pggan":  # no noise inputs at all
        assert torch.equal(r1, a) and torch.equal(r2, a)
    else:
        assert not torch.equal(r1, r2)


@pytest.mark.parametrize("arch", ["stylegan", "pggan"])
def test_psi_zero_gives_w_avg_and_cutoff_leaves_later_layers(arch):
    G, _ = make(arch)
    if arch == "stylegan":
        G.mapping.w_avg.normal_()
    z = torch.randn(3, G.z_dim)
    with torch.no_grad():
        ws0 = G.mapping(z, None, truncation_psi=0.0)
        ws1 = G.mapping(z, None)
        wsc = G.mapping(z, None, truncation_psi=0.0, truncation_cutoff=1)
    assert torch.allclose(ws0, G.mapping.w_avg.expand_as(ws0))
    assert torch.allclose(wsc[:, :1], G.mapping.w_avg.expand(3, 1, -1))
    assert torch.equal(wsc[:, 1:], ws1[:, 1:])
    if arch == "pggan":
        assert torch.equal(ws1[:, 0], z) and not G.mapping.w_avg.any()


def test_stylegan_mixing_keeps_layers_below_k():
    G, _ = make("stylegan")
    wa, wb = ws_of(G, 0), ws_of(G, 1)
    for k in range(1, G.num_ws):
        mixed = style_mix(wa, wb, k)
        assert torch.equal(mixed[:, :k], wa[:, :k]) and torch.equal(mixed[:, k:], wb[:, k:])
    with torch.no_grad():
        img_a, img_b, img_m = G.synthesis(wa), G.synthesis(wb), G.synthesis(style_mix(wa, wb, 4))
        img_none = G.synthesis(style_mix(wa, wb, G.num_ws))
    assert torch.equal(img_none, img_a)
    assert not torch.equal(img_m, img_a) and not torch.equal(img_m, img_b)


def test_stylegan_noise_mask_and_none():
    G, _ = make("stylegan")
    ws = ws_of(G)
    for i in [0, 3, G.num_ws - 1]:
        off = [1.0] * G.num_ws
        off[i] = 0.0
        with torch.no_grad():
            full, one_off = G.synthesis(ws), G.synthesis(ws, noise_scale=off)
            none = G.synthesis(ws, noise_mode="none")
            none_masked = G.synthesis(ws, noise_mode="none", noise_scale=off)
            all_off = G.synthesis(ws, noise_scale=[0.0] * G.num_ws)
        assert not torch.equal(full, one_off), i
        assert torch.equal(none, none_masked) and torch.equal(none, all_off)
    with torch.no_grad():
        g = torch.Generator().manual_seed(5)
        assert torch.equal(G.synthesis(ws, noise_mode="random", noise_generator=g,
                                       noise_scale=[0.0] * G.num_ws), none)
    with pytest.raises(ValueError):
        G.synthesis(ws, noise_scale=[1.0] * (G.num_ws - 1))
    with pytest.raises(ValueError):
        G.synthesis(ws, noise_mode="loud")


def test_stylegan_synthesis_resumes_at_a_block():
    G, _ = make("stylegan", 16)
    ws = ws_of(G)
    seen = {}
    with torch.no_grad():
        full = G.synthesis(ws, on_block=lambda i, x, img: seen.update({i: (x, img)}))
        resumed = G.synthesis(ws, start_block=2, x=seen[1][0])
    assert sorted(seen) == [0, 1, 2] and seen[0][1] is None and torch.equal(seen[2][1], full)
    assert torch.equal(resumed, full)


# --------------------------------------------------------------------------------------------
# Progressive growing
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", GROWING)
def test_generator_fade_in(arch):
    G, _ = make(arch, 16)
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        G.set_growth(8, 1.0)
        prev = G(z)                                                     # [2, 3, 8, 8]
        G.set_growth(16, 0.0)
        at0 = G(z)
        G.set_growth(16, 1.0)
        feats = {}
        at1 = G(z)
        G.synthesis(G.mapping(z, None), on_block=lambda i, x, img: feats.update({i: x}))
        new = G.synthesis.b16.torgb(feats[2])                           # the 16² toRGB alone
        G.set_growth(16, 0.25)
        at_q = G(z)
    assert prev.shape == (2, 3, 8, 8) and at0.shape == at1.shape == (2, 3, 16, 16)
    up = prev.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)   # nearest 2×
    assert torch.equal(at0, up)
    assert torch.equal(at1, new)
    assert torch.allclose(at_q, up + 0.25 * (new - up), atol=1e-6)
    assert not torch.equal(at_q, up) and not torch.equal(at_q, new)


@pytest.mark.parametrize("arch", GROWING)
def test_discriminator_fade_in(arch):
    _, D = make(arch, 16)
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        D.set_growth(8, 1.0)
        prev = D(downsample_box(img))
        D.set_growth(16, 0.0)
        at0 = D(img)
        D.set_growth(16, 1.0)
        at1 = D(img)
        D.set_growth(16, 0.5)
        mid = D(img)
        D.set_growth(4)
        low = D(F.avg_pool2d(img, 4))
    assert torch.allclose(at0, prev, atol=1e-6)  # α = 0: only the downsampled path counts
    assert not torch.allclose(at1, prev) and mid.shape == low.shape == (4, 1)
    assert torch.isfinite(mid).all() and torch.isfinite(low).all()
    with pytest.raises(ValueError, match="expects images"):
        D.set_growth(16, 0.5)
        D(torch.randn(4, 3, 8, 8))


@pytest.mark.parametrize("arch", GROWING)
def test_growth_state_is_validated(arch):
    G, D = make(arch, 16)
    for bad in [(2, 1.0), (12, 1.0), (32, 1.0), (8, 1.5), (8, -0.1)]:
        with pytest.raises(ValueError):
            G.set_growth(*bad)
        with pytest.raises(ValueError):
            D.set_growth(*bad)
    G.set_growth(4, 0.0)
    assert (G.current_resolution, G.alpha) == (4, 1.0)  # nothing to fade from at 4²


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
def test_save_load_bit_identical(arch, tmp_path):
    G, D = make(arch, 16)
    if arch in GROWING:  # growth state travels with the weights
        G.set_growth(16, 0.3)
        D.set_growth(8, 0.7)
    path = tmp_path / f"{arch}.safetensors"
    save_generator(path, G, G_ema=G, D=D, meta={"kimg": 1.5})
    H = load_native_generator(path)
    assert H.config == G.config and H.arch == arch
    assert (H.current_resolution, H.alpha) == (G.current_resolution, G.alpha)
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        assert torch.equal(G(z), H(z))
        assert torch.equal(G(z, noise_mode="none"), H(z, noise_mode="none"))
    ckpt = read_checkpoint(path)
    E = build_discriminator(arch, ckpt.config)
    E.load_state_dict(ckpt.group("D"))
    img = torch.randn(2, 3, D.current_resolution if arch in GROWING else 16,
                      D.current_resolution if arch in GROWING else 16)
    if arch in GROWING:
        assert (E.current_resolution, E.alpha) == (8, D.alpha)
    with torch.no_grad():
        assert torch.equal(D(img), E(img))


# --------------------------------------------------------------------------------------------
# Equalized learning rate
# --------------------------------------------------------------------------------------------

def test_fully_connected_runtime_scale():
    torch.manual_seed(0)
    fc = FullyConnectedLayer(256, 64, lr_multiplier=0.01)
    with torch.no_grad():
        fc.bias.normal_()
    assert abs(float((fc.weight.detach() * 0.01).std()) - 1.0) < 0.02   # stored N(0, 1/lr²)
    x = torch.randn(5, 256)
    expected = x @ (fc.weight * 0.01 / math.sqrt(256)).t() + fc.bias * 0.01
    with torch.no_grad():
        assert torch.allclose(fc(x), expected, atol=1e-6)


def test_conv_runtime_scale():
    torch.manual_seed(0)
    conv = Conv2dLayer(32, 64, 3)
    fan_in = 32 * 9
    assert abs(float(conv.weight.detach().std()) - 1.0) < 0.02          # stored unit variance
    eff = conv.weight.detach() * conv.weight_gain
    assert abs(float(eff.std()) * math.sqrt(fan_in) - 1.0) < 0.02
    with torch.no_grad():
        conv.bias.normal_()
        x = torch.randn(2, 32, 8, 8)
        ref = F.conv2d(x, conv.weight / math.sqrt(fan_in), conv.bias, padding=1)
        assert torch.allclose(conv(x), ref, atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_conv_and_dense_weight_is_stored_unit_variance(arch):
    G, D = make(arch, 32, cmax=64)
    for module in [*G.modules(), *D.modules()]:
        if isinstance(module, (Conv2dLayer, FullyConnectedLayer)) and module.weight.numel() >= 1000:
            lr = module.bias_gain
            assert abs(float(module.weight.detach().std()) * lr - 1.0) < 0.1, module


# --------------------------------------------------------------------------------------------
# Training step
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
def test_one_gd_step_reaches_every_parameter(arch):
    c_dim = 0 if arch == "pggan" else 3
    G, D = make(arch, 8, c_dim=c_dim)
    if arch in GROWING:  # both toRGBs / fromRGBs take part during a fade-in
        G.set_growth(8, 0.5)
        D.set_growth(8, 0.5)
    z = torch.randn(4, G.z_dim)
    c = F.one_hot(torch.arange(4) % 3, 3).float() if c_dim else None
    real = torch.rand(4, 3, 8, 8) * 2 - 1
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    before = {k: v.detach().clone() for k, v in [*G.named_parameters(), *D.named_parameters()]}

    fake = G(z, c, noise_mode="random", noise_generator=torch.Generator().manual_seed(0))
    loss_d = F.softplus(D(fake.detach(), c)).mean() + F.softplus(-D(real, c)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    for name, p in D.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"D.{name}"
    opt_d.step()

    loss_g = F.softplus(-D(fake, c)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    for name, p in G.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"G.{name}"
        assert p.grad.abs().sum() > 0, f"G.{name} got an all-zero gradient"
    opt_g.step()
    assert torch.isfinite(loss_d) and torch.isfinite(loss_g)
    for k, v in [*G.named_parameters(), *D.named_parameters()]:
        assert torch.isfinite(v).all() and not torch.equal(v, before[k]), k
    assert any(n.endswith("w_avg") for n, _ in G.named_buffers())  # a buffer, not a parameter


def test_stylegan2_discriminator_uses_official_names_and_projects_labels():
    _, D = make("stylegan2", 16, c_dim=3)
    keys = set(D.state_dict())
    for k in ["b16.fromrgb.weight", "b16.conv0.weight", "b16.conv1.weight", "b16.skip.weight",
              "b8.conv0.weight", "b4.conv.weight", "b4.fc.weight", "b4.out.weight",
              "mapping.embed.weight", "mapping.fc7.weight"]:
        assert k in keys, k
    assert "b8.fromrgb.weight" not in keys and "b16.skip.bias" not in keys
    assert "mapping.w_avg" not in keys
    img = torch.randn(2, 3, 16, 16)
    c0, c1 = torch.eye(3)[[0, 0]], torch.eye(3)[[1, 1]]
    with torch.no_grad():
        assert not torch.equal(D(img, c0), D(img, c1))
    with pytest.raises(ValueError, match="class-conditional"):
        D(img)


def test_minibatch_stddev_reaches_the_logits():
    """Two batches with the same first sample but different companions give different logits."""
    _, D = make("stylegan2", 8)
    a = torch.randn(4, 3, 8, 8)
    b = a.clone()
    b[1:] *= 3.0
    with torch.no_grad():
        assert not np.isclose(float(D(a)[0]), float(D(b)[0]))
