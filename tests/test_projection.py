"""Projection: an image the model made is recovered (PSNR), runs are deterministic, progress,
stop and noise fitting behave, and the `ganstudio project` command writes an NVIDIA-layout file."""
import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio.cli import main as cli_main
from ganstudio.core.checkpoint import save_generator
from ganstudio.core.latent_files import load_latents
from ganstudio.core.latents import z_from_seed
from ganstudio.core.projection import (ProjectionConfig, ProjectionError, project, psnr,
                                       target_tensor, to_uint8)
from tiny_models import tiny_stylegan2


def tiny(res=16, seed=0):
    return tiny_stylegan2(res, seed=seed)


@pytest.fixture(scope="module")
def G():
    return tiny()


@pytest.fixture(scope="module")
def target(G):
    with torch.no_grad():
        return to_uint8(G(z_from_seed(5, G.z_dim)))                 # [16, 16, 3] uint8


def _start_psnr(G, target):
    """PSNR of the starting point (mean W) against the target: what projection must beat."""
    with torch.no_grad():
        w = G.mapping(torch.randn(4096, G.z_dim, generator=torch.Generator().manual_seed(1)))
        img = G.synthesis(w.mean(0, keepdim=True))
    return psnr(img, target_tensor(target, G.img_resolution, "cpu"))


@pytest.mark.parametrize("space,steps,threshold", [("w+", 150, 25.0), ("w", 150, 20.0)])
def test_projection_recovers_a_generated_image(G, target, space, steps, threshold):
    cfg = ProjectionConfig(space=space, num_steps=steps, w_avg_samples=1024, preview_every=0)
    result = project(G, target, cfg)
    start = _start_psnr(G, target)
    print(f"{space}: PSNR {result.psnr:.2f} dB after {steps} steps (start {start:.2f} dB)")
    assert result.psnr > threshold and result.psnr > start + 8
    assert result.ws.shape == (1, G.num_ws, G.w_dim) and result.ws.dtype == np.float32
    if space == "w":
        assert np.allclose(result.ws, result.ws[:, :1])            # one w for every layer
    # the returned image is the render of the returned ws
    with torch.no_grad():
        again = to_uint8(G.synthesis(torch.from_numpy(result.ws)))
    assert np.array_equal(again, result.image)
    assert result.losses[-1] < 0.2 * result.losses[0]


def test_projection_is_deterministic_and_reports_progress(G, target):
    seen = []
    cfg = ProjectionConfig(num_steps=6, seed=3, w_avg_samples=256, preview_every=3)
    a = project(G, target, cfg, on_progress=seen.append)
    b = project(G, target, cfg)
    c = project(G, target, ProjectionConfig(num_steps=6, seed=4, w_avg_samples=256))
    assert np.array_equal(a.ws, b.ws) and not np.array_equal(a.ws, c.ws)
    assert [p.step for p in seen] == [1, 2, 3, 4, 5, 6]
    previews = [p.preview for p in seen if p.preview is not None]
    assert [p.step for p in seen if p.preview is not None] == [3, 6]
    assert all(p.shape == (16, 16, 3) and p.dtype == np.uint8 for p in previews)
    assert all(np.isfinite(p.loss) for p in seen)


def test_projection_stops_when_asked(G, target):
    steps = []
    result = project(G, target, ProjectionConfig(num_steps=50, w_avg_samples=256),
                     on_progress=lambda p: steps.append(p.step), should_stop=lambda: len(steps) >= 4)
    assert result.stopped and result.steps_done == 4 and len(result.losses) == 4


def test_noise_fitting_returns_maps_and_leaves_the_model_unchanged(G, target):
    before = {k: v.clone() for k, v in G.state_dict().items()}
    result = project(G, target, ProjectionConfig(num_steps=20, optimize_noise=True,
                                                 w_avg_samples=256))
    after = G.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in G.parameters())
    names = [k for k in before if k.endswith("noise_const")]
    assert sorted(result.noise) == sorted(k.rsplit(".", 1)[0] for k in names)
    for k, m in result.noise.items():                              # renormalised every step
        assert abs(m.mean()) < 1e-4 and abs(m.std() - 1) < 0.05
        assert not np.array_equal(m, before[k + ".noise_const"].numpy())


def test_bad_requests_are_one_line_errors(G, target):
    with pytest.raises(ProjectionError, match="resize"):
        project(G, np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ProjectionError, match="space"):
        project(G, target, ProjectionConfig(space="z"))
    with pytest.raises(ProjectionError, match="uint8"):
        project(G, np.zeros((16, 16, 3), np.float32))


def test_project_command(G, target, tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    save_generator(model, G)
    Image.fromarray(target).resize((40, 32), Image.Resampling.NEAREST).save(tmp_path / "t.png")
    out = tmp_path / "p.npz"
    assert cli_main(["project", str(model), str(tmp_path / "t.png"), "--space", "w",
                     "--steps", "5", "--every", "1", "--out", str(out),
                     "--save-image", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr().out
    assert "step     5/5" in text and "PSNR" in text
    raw = np.load(out, allow_pickle=False)
    assert raw["w"].shape == (1, G.num_ws, G.w_dim) and raw["w"].dtype == np.float32
    assert load_latents(out).space == "w"
    assert Image.open(tmp_path / "p.png").size == (16, 16)
    assert cli_main(["project", str(model), str(tmp_path / "none.png"), "--out", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err
