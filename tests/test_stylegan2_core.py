"""StyleGAN2 generator: shapes, w-index layout, truncation, mixing, noise, native checkpoints."""
import json

import numpy as np
import pytest
import torch

from ganstudio.core.checkpoint import load_native_generator, save_generator
from ganstudio.core.latents import style_mix, z_from_seed
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator


def tiny(res=32, **kw):
    torch.manual_seed(0)
    cfg = StyleGAN2Config(img_resolution=res, z_dim=32, w_dim=32, channel_base=128 * res,
                          channel_max=16, mapping_layers=2, **kw)
    G = StyleGAN2Generator(cfg).eval()
    for layer in G.modules():  # noise strengths start at 0; give noise something to do
        if hasattr(layer, "noise_strength"):
            layer.noise_strength.data.fill_(0.5)
    return G


@pytest.mark.parametrize("res", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_num_ws_and_shapes(res):
    cfg = StyleGAN2Config(img_resolution=res, z_dim=8, w_dim=8, channel_base=4 * res,
                          channel_max=4, mapping_layers=1)
    G = StyleGAN2Generator(cfg).eval()
    assert G.num_ws == 2 * int(np.log2(res)) - 2
    table = G.layer_table()
    assert [l.index for l in table] == list(range(G.num_ws))
    if res == 1024:
        assert G.num_ws == 18
        assert [l.group for l in table].count("coarse") == 4
        assert [l.group for l in table].count("middle") == 4
        assert [l.group for l in table].count("fine") == 10
        assert table[6].label == "w6 · 32² · middle"
        assert not table[-1].has_noise and table[0].has_noise
    if res <= 64:
        with torch.no_grad():
            img = G(torch.randn(2, 8))
        assert img.shape == (2, 3, res, res)


def test_const_noise_is_deterministic_and_random_is_not():
    G = tiny()
    z = z_from_seed(3, G.z_dim)
    with torch.no_grad():
        a, b = G(z), G(z)
        g1 = torch.Generator().manual_seed(1)
        g2 = torch.Generator().manual_seed(2)
        r1, r2 = G(z, noise_mode="random", noise_generator=g1), G(z, noise_mode="random", noise_generator=g2)
    assert torch.equal(a, b)
    assert not torch.equal(r1, r2)


def test_seed_gives_same_z():
    assert torch.equal(z_from_seed(7, 64), z_from_seed(7, 64))
    assert not torch.equal(z_from_seed(7, 64), z_from_seed(8, 64))


def test_psi_zero_gives_w_avg_and_cutoff_leaves_later_layers():
    G = tiny()
    G.mapping.w_avg.normal_()
    z = torch.randn(3, G.z_dim)
    with torch.no_grad():
        ws0 = G.mapping(z, truncation_psi=0.0)
        ws1 = G.mapping(z)
        wsc = G.mapping(z, truncation_psi=0.0, truncation_cutoff=3)
    assert torch.allclose(ws0, G.mapping.w_avg.expand_as(ws0))
    assert torch.allclose(wsc[:, :3], G.mapping.w_avg.expand(3, 3, -1))
    assert torch.equal(wsc[:, 3:], ws1[:, 3:])


def test_mixing_keeps_layers_below_k():
    G = tiny()
    with torch.no_grad():
        wa, wb = G.mapping(z_from_seed(0, G.z_dim)), G.mapping(z_from_seed(1, G.z_dim))
    mixed = style_mix(wa, wb, 4)
    assert torch.equal(mixed[:, :4], wa[:, :4]) and torch.equal(mixed[:, 4:], wb[:, 4:])


def test_one_layer_noise_off_changes_image_and_none_ignores_noise():
    G = tiny()
    ws = G.mapping(z_from_seed(0, G.z_dim)).detach()
    scale = [1.0] * G.num_ws
    off = list(scale)
    off[2] = 0.0
    with torch.no_grad():
        full = G.synthesis(ws)
        one_off = G.synthesis(ws, noise_scale=off)
        none = G.synthesis(ws, noise_mode="none")
        none_masked = G.synthesis(ws, noise_mode="none", noise_scale=off)
        all_off = G.synthesis(ws, noise_scale=[0.0] * G.num_ws)
    assert not torch.equal(full, one_off)
    assert torch.equal(none, none_masked)
    assert torch.equal(none, all_off)


def test_save_load_bit_identical(tmp_path):
    G = tiny()
    path = tmp_path / "g.safetensors"
    save_generator(path, G, G_ema=G, meta={"kimg": 1.5})
    H = load_native_generator(path)
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        assert torch.equal(G(z), H(z))
    assert H.config == G.config


@pytest.mark.parametrize("res", [64, 1024])
def test_official_weights_reproduce_nvidia(reference_dir, res):
    """The official state dict loads by name and reproduces NVIDIA's mapping and synthesis."""
    d = reference_dir / f"stylegan2_res{res}"
    kw = json.loads((d / "config.json").read_text())["g_ema_init_kwargs"]["synthesis_kwargs"]
    G = StyleGAN2Generator(StyleGAN2Config(img_resolution=res, channel_base=kw["channel_base"],
                                           channel_max=kw["channel_max"])).eval()
    G.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(d / "g_ema_state.npz").items()})
    ref = np.load(d / "reference.npz")
    z = torch.from_numpy(ref["z"])
    with torch.no_grad():
        assert np.abs(G.mapping(z).numpy() - ref["w_psi1"]).max() <= 1e-5
        assert np.abs(G.mapping(z, truncation_psi=0.7).numpy() - ref["w_psi07"]).max() <= 1e-5
        mix = G.synthesis(torch.from_numpy(ref["ws_mix"])).numpy()
    tol = 1e-4 if res == 64 else 5e-4
    assert np.abs(mix - ref["img_mix"]).max() <= tol
    assert np.abs(mix - ref["img_mix"]).mean() <= 1e-5
