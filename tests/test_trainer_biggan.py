"""Training BigGAN: classes from the data, hinge loss, orthogonal regularisation, SN and G EMA,
per-class previews, exact resume, and the CLI's checkpoint rendering every class."""
import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio.core.checkpoint import load_native_generator, read_checkpoint
from ganstudio.render.renderer import Renderer
from ganstudio.render.request import LatentSource, RenderRequest
from trainer import biggan_losses as BL
from trainer.cli import main
from trainer.config import preset
from trainer.data.face_factors import HAIR_COLOURS
from trainer.loop import Trainer

TINY_MODEL = dict(ch=2, d_ch=2, z_dim=20, shared_dim=8, attn_resolutions=(16,),
                  d_attn_resolutions=(16,))


def tiny_config(out, **overrides):
    values = dict(model=dict(TINY_MODEL), data="synthetic:faces?n=32", out=str(out),
                  device="cpu", kimg=0.2, batch=4, tick_kimg=0.02, preview_kimg=0.04,
                  snapshot_kimg=1.0, preview_grid=(2, 3), seed=3)
    values.update(overrides)
    return preset("biggan", 32, **values)


# --- losses against closed forms ---------------------------------------------------------------

def test_hinge_d_loss_closed_form():
    logits = {"real": torch.tensor([2.0, 0.5, -1.0]), "fake": torch.tensor([-2.0, 0.0, 0.5])}
    seen = []

    def D(img, c):
        seen.append(c)
        return logits["real" if img.sum() > 0 else "fake"][:, None]

    real, fake, c = torch.ones(3, 3, 4, 4), -torch.ones(3, 3, 4, 4), torch.eye(3)
    loss, stats = BL.d_loss_hinge(D, real, fake, c)
    want = np.mean([0, 0.5, 2.0]) + np.mean([0, 1.0, 1.5])     # relu(1 − r) + relu(1 + f)
    assert float(loss) == pytest.approx(want) and float(stats["D_real"]) == pytest.approx(0.5)
    assert all(s is c for s in seen)                            # the class reaches D


def test_ortho_penalty_closed_form_and_what_it_skips():
    torch.manual_seed(0)
    m = torch.nn.Module()
    m.shared = torch.nn.Embedding(3, 4)
    m.lin = torch.nn.Linear(4, 2)
    m.conv = torch.nn.Conv2d(2, 3, 3)
    assert [n for n, _ in BL.ortho_weights(m)] == ["lin.weight", "conv.weight"]

    def off_diag(w):
        w = w.detach().reshape(w.shape[0], -1)
        g = w @ w.t()
        return float(((g * (1 - torch.eye(len(g)))) ** 2).sum())

    penalty = BL.ortho_penalty(m)
    assert float(penalty.detach()) == pytest.approx(off_diag(m.lin.weight) + off_diag(m.conv.weight),
                                           rel=1e-6)
    penalty.backward()
    w = m.lin.weight.detach()
    gram = w @ w.t() * (1 - torch.eye(2))
    assert torch.allclose(m.lin.weight.grad, 4 * gram @ w, atol=1e-6)
    assert m.shared.weight.grad is None and m.lin.bias.grad is None
    with torch.no_grad():                                       # orthogonal rows: no penalty
        m.lin.weight.copy_(torch.tensor([[0.6, 0.8, 0, 0], [-0.8, 0.6, 0, 0]]) * 3)
    assert off_diag(m.lin.weight) == pytest.approx(0, abs=1e-10)


# --- training ----------------------------------------------------------------------------------

def test_a_few_class_conditional_steps(tmp_path):
    t = Trainer(tiny_config(tmp_path / "run"))
    assert t.config.model["n_classes"] == t.G.c_dim == len(HAIR_COLOURS)
    assert t.config.loss == "hinge" and t.config.ortho_beta == 1e-4
    labels = t.open_data().sample(64, torch.Generator().manual_seed(0))[1]
    assert set(labels.tolist()) == set(range(len(HAIR_COLOURS)))     # hair colour is the class
    g0 = {k: v.clone() for k, v in t.G.state_dict().items()}
    for _ in range(3):
        out = t.step()
        for key in ("loss_D", "loss_G", "D_real", "D_fake", "ortho"):
            assert np.isfinite(out[key]), key
    g1 = t.G.state_dict()
    assert not torch.equal(g0["blocks.0.0.conv1.weight"], g1["blocks.0.0.conv1.weight"])
    assert not torch.equal(g0["linear.u0"], g1["linear.u0"])          # SN wrote back u
    assert not torch.equal(g0["blocks.0.0.bn1.stored_mean"], g1["blocks.0.0.bn1.stored_mean"])
    # G EMA: parameters averaged, buffers (SN u, BN statistics) copied from G
    ema = t.G_ema.state_dict()
    assert torch.equal(ema["linear.u0"], g1["linear.u0"])
    assert torch.equal(ema["blocks.0.0.bn1.stored_var"], g1["blocks.0.0.bn1.stored_var"])
    assert not torch.equal(ema["blocks.0.0.conv1.weight"], g1["blocks.0.0.conv1.weight"])
    # preview: one row per class, the same z along each column
    grid = t.preview()
    assert t.grid_shape == (len(HAIR_COLOURS), 3) and grid.shape == (5 * 32, 3 * 32, 3)
    rows = grid.reshape(5, 32, 3 * 32, 3)
    assert not np.array_equal(rows[0], rows[1])
    assert read_checkpoint(t.save()).meta["class_names"] == list(HAIR_COLOURS)


def _state(trainer) -> dict:
    out = {}
    for name, m in (("G", trainer.G), ("G_ema", trainer.G_ema), ("D", trainer.D)):
        out.update({f"{name}.{k}": v.detach().clone() for k, v in m.state_dict().items()})
    for name, opt in (("opt_G", trainer.nets.opt_G), ("opt_D", trainer.nets.opt_D)):
        for i, st in opt.state_dict()["state"].items():
            out.update({f"{name}.{i}.{k}": v.clone() for k, v in st.items()})
    return out


def test_resume_is_bit_identical(tmp_path):
    n = 3
    straight = Trainer(tiny_config(tmp_path / "a"))
    for _ in range(2 * n):
        straight.step()
    first = Trainer(tiny_config(tmp_path / "b"))
    for _ in range(n):
        first.step()
    path = first.save()
    del first
    resumed = Trainer(tiny_config(tmp_path / "b", resume="latest"))
    assert resumed.step_count == n and resumed.G.c_dim == len(HAIR_COLOURS)
    for _ in range(n):
        resumed.step()
    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    saved = read_checkpoint(path).group("G")
    assert not torch.equal(a["G.linear.weight"], saved["linear.weight"])
    assert not torch.equal(a["G.linear.u0"], saved["linear.u0"])


def test_unlabelled_data_is_a_clear_error(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32), (i * 100, 50, 50)).save(folder / f"{i}.png")
    with pytest.raises(ValueError, match="outside class folders") as err:   # labels: subfolders
        Trainer(tiny_config(tmp_path / "run", data=str(folder)))
    assert "\n" not in str(err.value)


def test_cli_trains_biggan_and_the_checkpoint_renders_every_class(tmp_path, capsys):
    out = tmp_path / "bg"
    rc = main(["--arch", "biggan", "--data", "synthetic:faces", "--res", "32", "--kimg", "0.008",
               "--out", str(out), "--batch", "4", "--no-progress",
               "--set", "preview_grid=[2,2]", "--set", "device=\"cpu\""])
    assert rc == 0, capsys.readouterr().err
    path = out / "latest.safetensors"
    G = load_native_generator(path)
    assert G.arch == "biggan" and G.c_dim == len(HAIR_COLOURS) and G.img_resolution == 32
    z = torch.randn([1, G.z_dim], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        images = [G(z, torch.tensor([k])) for k in range(G.c_dim)]
    for img in images:
        assert img.shape == (1, 3, 32, 32) and torch.isfinite(img).all()
    assert all(not torch.equal(images[0], img) for img in images[1:])
    r = Renderer("cpu", threads=1)
    info = r.load(str(path))
    assert info.class_names == HAIR_COLOURS
    res = r.render(RenderRequest(latent_a=LatentSource(1), class_index=G.c_dim - 1))
    assert res.error is None and res.image.shape == (32, 32, 3)
