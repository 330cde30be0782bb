"""The optional VGG16 perceptual term: it reads torchvision-layout weights from .pth and
.safetensors without running code, is a distance, refuses other files in one line, and projection
(core, command) adds it to the loss. The weights here are random: tests check the wiring and the
maths, not ImageNet features."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ganstudio.cli import main as cli_main
from ganstudio.core.checkpoint import CheckpointError, save_generator
from ganstudio.core.latents import z_from_seed
from ganstudio.core.perceptual import STAGES, load_vgg16_distance
from ganstudio.core.projection import ProjectionConfig, ProjectionError, project, to_uint8
from tiny_models import tiny_stylegan2


def vgg16_state(seed=0):
    """A VGG16 state dict in torchvision's layout (features + classifier keys), random weights."""
    g = torch.Generator().manual_seed(seed)
    sd, cin = {}, 3
    for stage in STAGES:
        for index, cout in stage:
            he = (2 / (9 * cin)) ** 0.5
            sd[f"features.{index}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * he
            sd[f"features.{index}.bias"] = torch.randn(cout, generator=g) * 0.01
            cin = cout
    sd["classifier.0.weight"] = torch.zeros(4, 4)                     # ignored
    return sd


@pytest.fixture(scope="module")
def vgg_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("vgg")
    sd = vgg16_state()
    torch.save(sd, d / "vgg16.pth")
    save_file(sd, str(d / "vgg16.safetensors"))
    return d / "vgg16.pth", d / "vgg16.safetensors"


def images(seed, n=2, res=32):
    return torch.rand(n, 3, res, res, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_the_feature_distance_is_a_distance_and_both_files_agree(vgg_files):
    a, b = images(1), images(2)
    pth, st = (load_vgg16_distance(p) for p in vgg_files)
    d = pth.distance(a, b)
    assert d.shape == (2,) and torch.all(d > 0)
    assert torch.all(pth.distance(a, a) == 0)
    assert torch.allclose(d, pth.distance(b, a)) and torch.equal(d, st.distance(a, b))
    closer = pth.distance(a, (a + 0.05 * b).clamp(-1, 1))                # a small change is near
    assert torch.all(closer < d)
    x = a.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(pth(x, b), x)
    assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_other_files_are_refused_in_one_line(tmp_path, vgg_files):
    sd = vgg16_state()
    del sd["features.14.weight"]
    torch.save(sd, tmp_path / "partial.pth")
    sd = vgg16_state()
    sd["features.0.weight"] = sd["features.0.weight"][:32]
    torch.save(sd, tmp_path / "wrong.pth")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    for name, words in (("partial.pth", "no features.14.weight"), ("wrong.pth", "features.0.weight"),
                        ("junk.safetensors", "not a readable safetensors"),
                        ("list.pth", "not a state dict"), ("missing.pth", "no such file")):
        with pytest.raises(CheckpointError) as e:
            load_vgg16_distance(tmp_path / name)
        msg = str(e.value)
        assert words in msg and "\n" not in msg and str(tmp_path / name) in msg, msg


def test_a_pickle_that_runs_code_is_refused_before_running(tmp_path):
    import pickle

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"features.0.weight": Evil()}, f, protocol=2)
    with pytest.raises(CheckpointError):
        load_vgg16_distance(path)
    assert not marker.exists()


@pytest.fixture(scope="module")
def G():
    return tiny_stylegan2(16, seed=0)


def test_projection_adds_the_weighted_perceptual_term(G, vgg_files):
    """Step 1 renders the same start in every run (same seed), so its loss is the pixel loss plus
    weight × one fixed VGG distance: linear in the weight, and 0 weight is the pixel-only run."""
    with torch.no_grad():
        target = to_uint8(G(z_from_seed(5, G.z_dim)))
    base = dict(num_steps=1, preview_every=0, w_avg_samples=512)
    plain = project(G, target, ProjectionConfig(**base)).losses[0]
    first = {wt: project(G, target, ProjectionConfig(**base, vgg16_weights=str(vgg_files[0]),
                                                     perceptual_weight=wt)).losses[0]
             for wt in (0.0, 0.5, 1.0)}
    assert abs(first[0.0] - plain) < 1e-6
    assert first[0.5] - plain > 1e-3
    assert abs((first[1.0] - plain) / (first[0.5] - plain) - 2) < 1e-3


def test_projection_and_command_say_why_a_weights_file_is_unusable(G, tmp_path, capsys):
    (tmp_path / "bad.pth").write_bytes(b"garbage")
    with torch.no_grad():
        target = to_uint8(G(z_from_seed(5, G.z_dim)))
    with pytest.raises(ProjectionError) as e:
        project(G, target, ProjectionConfig(num_steps=1, vgg16_weights=str(tmp_path / "bad.pth")))
    assert str(e.value).startswith("perceptual loss: ")
    save_generator(tmp_path / "g.safetensors", G)
    from PIL import Image
    Image.fromarray(np.asarray(target)).save(tmp_path / "t.png")
    rc = cli_main(["project", str(tmp_path / "g.safetensors"), str(tmp_path / "t.png"),
                   "--steps", "1", "--vgg16", str(tmp_path / "bad.pth"),
                   "--out", str(tmp_path / "w.npz")])
    assert rc == 1 and "perceptual loss" in capsys.readouterr().err
    assert not (tmp_path / "w.npz").exists()
