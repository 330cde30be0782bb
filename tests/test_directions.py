"""Directions: PCA and SeFa (unit, sorted, reproducible, the right layers), labelled directions,
direction files and the `ganstudio directions` command, on tiny random-init StyleGAN2 models."""
import numpy as np
import pytest
import torch

from ganstudio.cli import main as cli_main
from ganstudio.core.checkpoint import save_generator
from ganstudio.core.directions import (Direction, DirectionError, direction_score,
                                       labelled_direction, load_direction, pca_directions,
                                       sample_w, save_direction, sefa_directions, style_affines)
from ganstudio.core.pggan import PGGANConfig, PGGANGenerator
from ganstudio.core.stylegan1 import StyleGANConfig, StyleGANGenerator
from tiny_models import tiny_stylegan2


def tiny(res=16, mapping_layers=2, seed=0):
    return tiny_stylegan2(res, mapping_layers=mapping_layers, seed=seed)


@pytest.fixture(scope="module")
def G():
    return tiny()


def _orthonormal(v):
    return np.allclose(v @ v.T, np.eye(len(v)), atol=1e-5)


def test_pca_unit_sorted_reproducible_and_matches_svd(G):
    a = pca_directions(G, k=5, num_samples=2000, seed=3)
    b = pca_directions(G, k=5, num_samples=2000, seed=3)
    c = pca_directions(G, k=5, num_samples=2000, seed=4)
    assert np.array_equal(a.vectors, b.vectors) and a.vectors.shape == (5, G.w_dim)
    assert not np.array_equal(a.vectors, c.vectors)
    assert _orthonormal(a.vectors)
    assert np.all(np.diff(a.values) <= 0) and 0 < a.values.sum() <= 1
    # independent check: SVD of the same centred samples gives the same axes (up to sign)
    w = sample_w(G, 2000, 3).numpy()
    _, s, vt = np.linalg.svd(w - w.mean(0), full_matrices=False)
    assert np.allclose(np.abs((a.vectors * vt[:5]).sum(1)), 1, atol=1e-4)
    assert np.allclose(a.arrays["std"], s[:5] / np.sqrt(len(w) - 1), rtol=1e-4)
    assert a.layers == (0, G.num_ws - 1)


def test_style_affines_apply_the_runtime_gains(G):
    """The effective weights must be what the network multiplies w by, toRGB gain included."""
    w = torch.randn(3, G.w_dim, generator=torch.Generator().manual_seed(0))
    found = {name: (i, eff) for i, name, eff in style_affines(G)}
    assert len(found) == 3 * len(G.synthesis.blocks()) - 1
    for res, block in zip(G.synthesis.block_resolutions, G.synthesis.blocks()):
        for conv in ("conv0", "conv1", "torgb"):
            if not hasattr(block, conv):
                continue
            layer = getattr(block, conv)
            gain = getattr(layer, "weight_gain", 1.0) if conv == "torgb" else 1.0
            styles = (layer.affine(w) - layer.affine(torch.zeros_like(w))) * gain   # linear part
            assert torch.allclose(w @ found[f"b{res}.{conv}"][1].T, styles, atol=1e-5)
    assert [found[n][0] for n in ("b4.conv1", "b4.torgb", "b8.conv0", "b8.conv1", "b8.torgb")] \
        == [0, 1, 1, 2, 3]


def test_sefa_unit_sorted_reproducible_and_layer_range(G):
    a, b = sefa_directions(G, k=6), sefa_directions(G, k=6)
    assert np.array_equal(a.vectors, b.vectors) and _orthonormal(a.vectors)
    assert np.all(np.diff(a.values) <= 0)
    d = sefa_directions(G, k=4, layers=(0, 1))
    assert d.layers == (0, 1) and d.info["style_layers"] == ["b4.conv1", "b4.torgb", "b8.conv0"]
    # eigenvalue = ‖A v‖² over exactly those layers
    A = torch.cat([e for i, _, e in style_affines(G) if i <= 1]).double().numpy()
    assert np.allclose(np.square(A @ d.vectors.T.astype(np.float64)).sum(0), d.values, rtol=1e-4)
    ws = G.mapping(torch.randn(2, G.z_dim))
    moved = d.apply(ws, 0, 2.0)
    assert torch.equal(moved[:, 2:], ws[:, 2:]) and not torch.equal(moved[:, :2], ws[:, :2])
    with pytest.raises(DirectionError, match="outside"):
        sefa_directions(G, layers=(3, 99))


def tiny_stylegan1(seed=0):
    torch.manual_seed(seed)
    cfg = StyleGANConfig(img_resolution=16, z_dim=32, w_dim=32, channel_base=256, channel_max=16,
                         mapping_layers=2)
    return StyleGANGenerator(cfg).eval().requires_grad_(False)


def test_style_affines_of_stylegan_v1_are_its_adain_affines():
    """StyleGAN v1: one affine per AdaIN layer, both halves (ys, yb), no toRGB style."""
    G = tiny_stylegan1()
    found = style_affines(G)
    assert [i for i, _, _ in found] == list(range(G.num_ws))
    assert [n for _, n, _ in found][:3] == ["b4.conv0", "b4.conv1", "b8.conv0"]
    w = torch.randn(3, G.w_dim)
    for i, name, eff in found:
        block, conv = name.split(".")
        layer = getattr(getattr(G.synthesis, block), conv)
        assert eff.shape == (2 * layer.bias.numel(), G.w_dim)
        assert torch.allclose(w @ eff.T + layer.affine.bias * layer.affine.bias_gain,
                              layer.affine(w), atol=1e-5)
    d = sefa_directions(G, k=4, layers=(2, 5))
    assert _orthonormal(d.vectors) and d.info["style_layers"][0] == "b8.conv0"


def test_sefa_on_pggan_says_there_is_no_w_space():
    G = PGGANGenerator(PGGANConfig(img_resolution=16, z_dim=16, channel_base=64, channel_max=16))
    with pytest.raises(DirectionError, match="no W space"):
        sefa_directions(G)


@pytest.mark.parametrize("family", ["stylegan2", "stylegan"])
def test_sefa_directions_change_the_image_more_than_random_ones(family):
    """The point of SeFa: its top directions move the styles (hence the image) most.

    At random init AᵀA is not isotropic (a Gaussian A has spread singular values), so the effect
    is already measurable: averaged over 8 latents, 2 models, the top-3 directions change the
    image ~1.6× more than random unit directions and the bottom-3 ~0.5× as much (measured).
    """
    top, bottom, rand = [], [], []
    for seed in (0, 1):
        G = tiny(seed=seed) if family == "stylegan2" else tiny_stylegan1(seed=seed)
        d = sefa_directions(G, k=G.w_dim)
        g = torch.Generator().manual_seed(10 + seed)
        ws = G.mapping(torch.randn(8, G.z_dim, generator=g))
        base = G.synthesis(ws)

        def change(v):
            v = torch.as_tensor(v, dtype=torch.float32)
            return float((G.synthesis(ws + 2.0 * v / v.norm()) - base).square().mean())
        top += [change(d.vectors[i]) for i in range(3)]
        bottom += [change(d.vectors[-1 - i]) for i in range(3)]
        rand += [change(torch.randn(G.w_dim, generator=g)) for _ in range(8)]
    assert np.mean(top) > 1.25 * np.mean(rand)
    assert np.mean(bottom) < 0.8 * np.mean(rand)


def test_labelled_direction_recovers_a_linear_rule_in_w(G):
    """Labels from a known hyperplane in W: the fitted normal must be that hyperplane's normal."""
    w = sample_w(G, 600, seed=1).numpy()
    u = np.random.RandomState(0).randn(G.w_dim)
    u /= np.linalg.norm(u)
    proj = w @ u
    labels = proj > np.median(proj)
    d = labelled_direction(w, labels, "rule")
    assert d.method == "logistic" and d.k == 1 and d.layers == (0, -1)
    assert float(d.vectors[0] @ u) > 0.9
    assert d.values[0] > 0.95                                      # training accuracy
    s0 = direction_score(d, w[:50])
    s1 = direction_score(d, w[:50] + 1.0 * d.vectors[0])
    assert np.all(s1 > s0)


def test_labelled_direction_raises_an_image_factor_on_generated_images(G):
    """Factor = "brighter than the median" measured on the rendered images (a stand-in for the
    synthetic:faces factors, which live in the trainer's data module). A direction fitted on
    W→label pairs must make held-out renders brighter when walked along."""
    w = sample_w(G, 500, seed=2).float()                           # [N, w_dim]
    ws = w.unsqueeze(1).repeat(1, G.num_ws, 1)
    brightness = G.synthesis(ws).mean(dim=(1, 2, 3)).numpy()      # [N]
    train, test = slice(0, 400), slice(400, 500)
    d = labelled_direction(w[train].numpy(), brightness[train] > np.median(brightness[train]),
                           "bright")
    moved = d.apply(ws[test], 0, 1.5)
    after = G.synthesis(moved).mean(dim=(1, 2, 3)).numpy()
    assert np.mean(after > brightness[test]) > 0.9
    # the linear score also predicts the held-out labels better than chance
    truth = brightness[test] > np.median(brightness[train])
    acc = np.mean((direction_score(d, w[test].numpy()) > 0) == truth)
    assert acc > 0.75
    # continuous labels → ridge regression, same sign of effect
    r = labelled_direction(w[train].numpy(), brightness[train], "brightness")
    assert r.method == "ridge" and float(r.vectors[0] @ d.vectors[0]) > 0.5


def test_labelled_direction_rejects_bad_input():
    with pytest.raises(DirectionError, match="two different labels"):
        labelled_direction(np.zeros((10, 4)), np.ones(10), "x")
    with pytest.raises(DirectionError, match=r"\[N, w_dim\]"):
        labelled_direction(np.zeros((10, 4)), np.ones(9), "x")


def test_direction_file_round_trip_and_bad_files(G, tmp_path):
    d = pca_directions(G, k=3, num_samples=500, layers=(2, 5))
    save_direction(tmp_path / "d.npz", d)
    e = load_direction(tmp_path / "d.npz")
    assert (e.name, e.method, e.layers, e.component_names) == (d.name, d.method, (2, 5), d.component_names)
    assert np.array_equal(e.vectors, d.vectors) and np.array_equal(e.values, d.values)
    assert np.array_equal(e.arrays["std"], d.arrays["std"]) and e.info == d.info
    per_layer = Direction("pl", "manual", np.ones((1, G.num_ws, G.w_dim)), (0, -1), [1.0])
    save_direction(tmp_path / "pl.npz", per_layer)
    assert load_direction(tmp_path / "pl.npz").per_layer
    np.savez(tmp_path / "evil.npz", header=np.array([{"a": 1}], dtype=object), vectors=np.ones((1, 2)))
    with pytest.raises(DirectionError):
        load_direction(tmp_path / "evil.npz")                     # object arrays never unpickled
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DirectionError):
        load_direction(tmp_path / "junk.npz")
    with pytest.raises(DirectionError, match="no such file"):
        load_direction(tmp_path / "missing.npz")


def test_directions_command(G, tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    save_generator(model, G)
    out = tmp_path / "sefa.npz"
    assert cli_main(["directions", str(model), "--method", "sefa", "--layers", "0-3", "-k", "4",
                     "--out", str(out)]) == 0
    d = load_direction(out)
    ref = sefa_directions(G, k=4, layers=(0, 3))
    assert np.allclose(d.vectors, ref.vectors, atol=1e-6) and d.layers == (0, 3)
    assert "eigenvalue" in capsys.readouterr().out
    assert cli_main(["directions", str(model), "--method", "pca", "-k", "2", "--samples", "300",
                     "--out", str(tmp_path / "pca.npz")]) == 0
    assert load_direction(tmp_path / "pca.npz").k == 2
    assert cli_main(["directions", str(model), "--method", "sefa", "--layers", "2-99",
                     "--out", str(tmp_path / "bad.npz")]) == 1
    assert "W indices 0-5" in capsys.readouterr().err
    assert not (tmp_path / "bad.npz").exists()
