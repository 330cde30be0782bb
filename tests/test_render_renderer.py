"""Renderer: request semantics (crossover, blend, offsets, noise), sizes, previews, errors as data."""
import numpy as np
import pytest
import torch
from render_models import save_tiny, tiny_stylegan2

from ganstudio.core.latents import style_mix, z_from_seed
from ganstudio.render import models
from ganstudio.render.models import ModelLoadError, build_builtin_default
from ganstudio.render.recipe import SIGMA_SAMPLES, SIGMA_SEED
from ganstudio.render.renderer import Renderer, to_uint8_image
from ganstudio.render.request import LatentSource, RenderRequest


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_tiny(path)
    return path


@pytest.fixture
def renderer(model_path):
    r = Renderer("cpu", threads=1, fast=False)
    r.load(str(model_path))
    return r


def test_load_reports_model_info(renderer, model_path):
    info = renderer.current
    G = tiny_stylegan2()
    assert info.arch == "stylegan2" and info.source_format == "ganstudio"
    assert (info.num_ws, info.w_dim, info.img_resolution) == (G.num_ws, 32, 32)
    assert len(info.content_hash) == 64 and info.path == str(model_path)
    assert info.capabilities.has_noise and len(info.capabilities.layers) == G.num_ws


def test_crossover_reproduces_style_mix_exactly(renderer):
    G = renderer.model()
    req = RenderRequest(latent_a=LatentSource(3), latent_b=LatentSource(4), crossover=5,
                        truncation_psi=0.7)
    with torch.no_grad():
        wa = G.mapping(z_from_seed(3, G.z_dim), truncation_psi=0.7)
        wb = G.mapping(z_from_seed(4, G.z_dim), truncation_psi=0.7)
        expected = style_mix(wa, wb, 5)
        img = G.synthesis(expected)
    got = renderer.mapped_ws(req)
    assert np.array_equal(got, expected[0].numpy())
    res = renderer.render(req)
    assert res.error is None
    assert np.array_equal(res.image, to_uint8_image(img))
    assert np.array_equal(res.ws, got)


def test_blend_lerps_towards_b_per_layer(renderer):
    a = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(1)))
    b = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(2)))
    n = a.shape[0]
    t = [0.0] * n
    t[2], t[5] = 1.0, 0.25
    got = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(1), latent_b=LatentSource(2),
                                           blend=tuple(t)))
    assert np.array_equal(got[2], b[2])
    assert np.allclose(got[5], a[5] + 0.25 * (b[5] - a[5]), atol=1e-6)
    untouched = [i for i in range(n) if i not in (2, 5)]
    assert np.array_equal(got[untouched], a[untouched])


def test_offsets_move_only_their_layers_in_sigma_units(renderer):
    G = renderer.model()
    n = G.num_ws
    d = np.random.RandomState(0).randn(G.w_dim).astype(np.float32) * 3
    offsets = [0.0] * n
    offsets[4] = 2.0
    base = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(7)))
    moved = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(7), direction=(tuple(d),),
                                             offsets=tuple(offsets)))
    others = [i for i in range(n) if i != 4]
    assert np.array_equal(moved[others], base[others])
    unit = d / np.linalg.norm(d)
    delta = moved[4] - base[4]
    # σ of mapped W along d, from 1,000 z of the fixed seed (ψ = 1)
    g = torch.Generator().manual_seed(SIGMA_SEED)
    with torch.no_grad():
        w = G.mapping(torch.randn([SIGMA_SAMPLES, G.z_dim], generator=g))[:, 0].numpy()
    sigma = (w @ unit).std(ddof=1)
    assert sigma > 0
    assert np.allclose(delta, 2.0 * sigma * unit, atol=1e-4 * sigma)


def test_noise_mask_switches_off_one_layer_and_none_ignores_it(renderer):
    G = renderer.model()
    n = G.num_ws
    mask = [True] * n
    mask[2] = False
    req = RenderRequest(latent_a=LatentSource(1))
    full = renderer.render(req)
    masked = renderer.render(req.replace(noise_mask=tuple(mask)))
    assert masked.details["start_w"] == 2          # only layers from w2 on re-ran
    scale = [1.0] * n
    scale[2] = 0.0
    with torch.no_grad():
        ws = torch.from_numpy(full.ws)[None]
        ref = to_uint8_image(G.synthesis(ws, noise_scale=scale))
    assert np.array_equal(masked.image, ref)
    assert not np.array_equal(masked.image, full.image)
    none = renderer.render(req.replace(noise_mode="none"))
    none_masked = renderer.render(req.replace(noise_mode="none", noise_mask=tuple(mask)))
    assert np.array_equal(none.image, none_masked.image)
    weak = renderer.render(req.replace(noise_strength=0.0))
    assert np.array_equal(weak.image, none.image)


def test_random_noise_follows_its_seed(renderer):
    req = RenderRequest(latent_a=LatentSource(1), noise_mode="random", noise_seed=5)
    a = renderer.render(req).image
    b = renderer.render(req.replace(noise_seed=6)).image
    c = Renderer("cpu", threads=1, fast=False)
    c.load(renderer.current.path)
    assert np.array_equal(c.render(req).image, a)
    assert not np.array_equal(a, b)


def test_stored_z_and_ws_sources(renderer):
    G = renderer.model()
    z = z_from_seed(9, G.z_dim)[0].tolist()
    by_seed = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(9)))
    by_z = renderer.mapped_ws(RenderRequest(latent_a=LatentSource(z=tuple(z))))
    assert np.array_equal(by_seed, by_z)
    by_ws = renderer.mapped_ws(RenderRequest(latent_a=LatentSource.from_ws(by_seed)))
    assert np.array_equal(by_ws, by_seed)


def test_output_size_and_uint8(renderer):
    res = renderer.render(RenderRequest(size=20))
    assert res.error is None and res.image.shape == (20, 20, 3) and res.image.dtype == np.uint8
    res = renderer.render(RenderRequest(size=64))
    assert res.image.shape == (64, 64, 3)


def test_preview_is_smaller_and_full_frame_resumes_from_it(model_path):
    r = Renderer("cpu", threads=1, preview="always")
    r.load(str(model_path))
    r.render(RenderRequest(latent_a=LatentSource(1)))
    req = RenderRequest(latent_a=LatentSource(2), preview=True)
    prev = r.render(req)
    assert prev.error is None and prev.is_preview
    assert prev.image.shape[0] < 32 and prev.details["preview_resolution"] == prev.image.shape[0]
    full = r.render(req.replace(preview=False))
    assert not full.is_preview and full.image.shape == (32, 32, 3)
    assert 0 < full.details["stages_run"] < len(r._models[r.current.model_id].synth.stages)
    fresh = Renderer("cpu", threads=1)
    fresh.load(str(model_path))
    assert np.array_equal(full.image, fresh.render(req.replace(preview=False)).image)


def test_preview_auto_only_for_slow_frames(model_path):
    r = Renderer("cpu", threads=1, preview="auto", preview_threshold_ms=1e9)
    r.load(str(model_path))
    r.render(RenderRequest(latent_a=LatentSource(1)))
    assert not r.render(RenderRequest(latent_a=LatentSource(2), preview=True)).is_preview
    r.preview_threshold_ms = 0.0
    assert r.render(RenderRequest(latent_a=LatentSource(3), preview=True)).is_preview


def test_errors_come_back_as_data_and_keep_the_model(renderer, tmp_path):
    before = renderer.current.model_id
    bad = tmp_path / "garbage.pkl"
    bad.write_bytes(b"not a checkpoint at all")
    for source in (str(tmp_path / "missing.safetensors"), str(bad), "builtin:nope"):
        with pytest.raises(ModelLoadError) as e:
            renderer.load(source)
        assert "\n" not in str(e.value) and str(e.value)
    assert renderer.current.model_id == before
    ok = renderer.render(RenderRequest())
    assert ok.error is None and ok.image is not None
    for req, words in ((RenderRequest(model_id="nope"), "not loaded"),
                       (RenderRequest(blend=(0.5,)), "blend"),
                       (RenderRequest(crossover=99), "crossover"),
                       (RenderRequest(offsets=(1.0,) * 8), "direction"),
                       (RenderRequest(noise_mode="loud"), "noise mode"),
                       (RenderRequest(latent_a=LatentSource(z=(1.0, 2.0))), "z")):
        res = renderer.render(req)
        assert res.image is None and words in res.error, (req, res.error)


def test_builtin_default_is_deterministic_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    from ganstudio.core.stylegan2 import StyleGAN2Config
    cfg = StyleGAN2Config(img_resolution=16, z_dim=16, w_dim=16, channel_base=256,
                          channel_max=16, mapping_layers=2)
    a, b = build_builtin_default(cfg), build_builtin_default(cfg)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (na, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), na
    assert float(a.mapping.w_avg.abs().sum()) > 0


def test_builtin_default_is_the_shipped_demo_and_falls_back_without_it(monkeypatch):
    r = Renderer("cpu", threads=1)
    info = r.load("builtin:default")
    assert info.source_format == "ganstudio" and info.path == str(models.default_model_file())
    res = r.render(RenderRequest(size=64))
    assert res.error is None and res.image.shape == (64, 64, 3) and res.image.std() > 0
    # a checkout without resources/ (or a broken install) still opens something
    monkeypatch.setattr(models, "default_model_file", lambda: None)
    info = Renderer("cpu", threads=1).load("builtin:default")
    assert info.source_format == "builtin" and info.model_id == "builtin:default"
    assert info.img_resolution == 256


def test_other_formats_go_through_core_importers(tmp_path, monkeypatch):
    """A non-native file is handed to core.importers.load_generator when that module exists."""
    import sys
    import types
    G = tiny_stylegan2()
    calls = []
    fake = types.ModuleType("ganstudio.core.importers")

    class Meta:
        source_format = "nvidia-pkl"

    def load_generator(path):
        calls.append(path)
        return G, Meta()

    fake.load_generator = load_generator
    monkeypatch.setitem(sys.modules, "ganstudio.core.importers", fake)
    path = tmp_path / "network.pkl"
    path.write_bytes(b"whatever the importer reads")
    r = Renderer("cpu", threads=1)
    info = r.load(str(path))
    assert calls == [str(path)] and info.source_format == "nvidia-pkl"
    assert r.render(RenderRequest()).error is None
