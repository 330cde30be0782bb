"""Rendering BigGAN: z chunks as rows, class (and class interpolation) into synthesis, truncation
by resampling, chunk mixing and per-row offsets — all equal to the core's direct output."""
import numpy as np
import pytest
import torch
from biggan_models import CLASS_NAMES, save_tiny_biggan

from ganstudio.core.biggan import BigGANConfig, BigGANGenerator, one_hot, truncated_z
from ganstudio.core.checkpoint import save_generator
from ganstudio.core.latents import style_mix, z_from_seed
from ganstudio.render.renderer import Renderer, to_uint8_image
from ganstudio.render.request import LatentSource, RenderRequest


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("biggan") / "tiny.safetensors"
    G = save_tiny_biggan(path)
    r = Renderer("cpu", threads=1)
    info = r.load(str(path))
    return r, G, info


def core_image(G, ws, c) -> np.ndarray:
    with torch.no_grad():
        return to_uint8_image(G.synthesis(ws, c))


def seed_ws(G, seed) -> torch.Tensor:
    return G.mapping(z_from_seed(seed, G.z_dim))                               # [1, num_ws, chunk]


def test_model_info_and_capabilities(setup):
    _, G, info = setup
    caps = info.capabilities
    assert (info.arch, info.num_ws, info.w_dim, info.c_dim) == ("biggan", 4, 5, 4)
    assert not caps.has_w_space and not caps.has_noise and caps.truncation == "resample"
    assert [L.role for L in caps.layers] == ["linear", "blocks.0", "blocks.1", "blocks.2"]
    assert info.class_names == CLASS_NAMES


def test_render_equals_core_for_seed_and_class(setup):
    r, G, _ = setup
    for seed, cls in ((3, 0), (3, 2), (11, 1)):
        res = r.render(RenderRequest(latent_a=LatentSource(seed), class_index=cls))
        assert res.error is None
        ws = seed_ws(G, seed)
        assert np.array_equal(res.ws, ws[0].numpy())
        assert np.array_equal(res.image, core_image(G, ws, torch.tensor([cls])))
    a = r.render(RenderRequest(latent_a=LatentSource(3), class_index=0)).image
    b = r.render(RenderRequest(latent_a=LatentSource(3), class_index=2)).image
    assert np.abs(a.astype(int) - b.astype(int)).max() > 10          # the class matters


def test_truncation_threshold_resamples_z(setup):
    r, G, _ = setup
    req = RenderRequest(latent_a=LatentSource(4), class_index=1, truncation_threshold=0.5)
    z = truncated_z(4, G.z_dim, 0.5)
    assert float(z.abs().max()) < 0.5
    got = r.mapped_ws(req)
    assert np.array_equal(got, z.reshape(G.num_ws, G.w_dim).numpy())
    assert np.array_equal(r.render(req).image, core_image(G, z.reshape(1, 4, 5), one_hot([1], 4)))
    # a threshold no entry reaches leaves the seed's z as it is
    wide = r.mapped_ws(req.replace(truncation_threshold=50.0))
    assert np.array_equal(wide, seed_ws(G, 4)[0].numpy())
    assert "truncation threshold" in r.render(req.replace(truncation_threshold=0.0)).error


def test_crossover_and_blend_mix_chunks_between_seeds(setup):
    r, G, _ = setup
    wa, wb = seed_ws(G, 1), seed_ws(G, 2)
    req = RenderRequest(latent_a=LatentSource(1), latent_b=LatentSource(2), class_index=3)
    mixed = r.render(req.replace(crossover=2))
    expected = style_mix(wa, wb, 2)
    assert np.array_equal(mixed.ws, expected[0].numpy())
    assert np.array_equal(mixed.image, core_image(G, expected, torch.tensor([3])))
    blend = r.mapped_ws(req.replace(blend=(0.0, 1.0, 0.0, 0.25)))
    assert np.array_equal(blend[[0, 2]], wa[0, [0, 2]].numpy())
    assert np.array_equal(blend[1], wb[0, 1].numpy())
    assert np.allclose(blend[3], (wa[0, 3] + 0.25 * (wb[0, 3] - wa[0, 3])).numpy(), atol=1e-6)


def test_one_row_offset_moves_its_chunk_changes_image_keeps_class(setup):
    r, G, _ = setup
    d = np.random.RandomState(0).randn(G.w_dim).astype(np.float32)
    base_req = RenderRequest(latent_a=LatentSource(7), class_index=2)
    moved_req = base_req.replace(direction=(tuple(d),), offsets=(0.0, 0.0, 3.0, 0.0))
    base, moved = r.render(base_req), r.render(moved_req)
    assert np.array_equal(moved.ws[[0, 1, 3]], base.ws[[0, 1, 3]])
    delta = moved.ws[2] - base.ws[2]
    unit = d / np.linalg.norm(d)
    assert np.allclose(delta / np.linalg.norm(delta), unit, atol=1e-5)
    assert 3 * 0.9 < np.linalg.norm(delta) < 3 * 1.1          # σ of z along any direction ≈ 1
    assert np.abs(moved.image.astype(int) - base.image.astype(int)).max() > 5
    ws = torch.from_numpy(moved.ws)[None]
    assert np.array_equal(moved.image, core_image(G, ws, torch.tensor([2])))     # class 2 kept
    assert not np.array_equal(moved.image, core_image(G, ws, torch.tensor([1])))


def test_class_interpolation_ends_equal_the_two_classes(setup):
    r, G, _ = setup
    req = RenderRequest(latent_a=LatentSource(5), class_index=0, class_b=3)
    img = {t: r.render(req.replace(class_mix=t)).image for t in (0.0, 0.5, 1.0)}
    class_a = r.render(RenderRequest(latent_a=LatentSource(5), class_index=0)).image
    class_b = r.render(RenderRequest(latent_a=LatentSource(5), class_index=3)).image
    assert np.array_equal(img[0.0], class_a) and np.array_equal(img[1.0], class_b)
    soft = 0.5 * one_hot([0], 4) + 0.5 * one_hot([3], 4)
    with torch.no_grad():
        want = G.synthesis(seed_ws(G, 5), soft)
    got = torch.from_numpy(img[0.5]).permute(2, 0, 1).float()
    assert (got - (want[0] * 127.5 + 128).clamp(0, 255)).abs().max() <= 1
    assert not np.array_equal(img[0.5], class_a) and not np.array_equal(img[0.5], class_b)
    assert "outside 0..1" in r.render(req.replace(class_mix=1.5)).error
    assert "out of range" in r.render(req.replace(class_b=9, class_mix=0.5)).error


def test_reference_weights_render_the_reference_images(reference_dir, tmp_path):
    """BigGAN-PyTorch's reference outputs, through a native checkpoint and the renderer."""
    folder = reference_dir / "biggan_res128"
    state = {k: torch.from_numpy(v) for k, v in np.load(folder / "g_state.npz").items()}
    ref = np.load(folder / "reference.npz")
    G = BigGANGenerator(BigGANConfig(img_resolution=128, ch=16, z_dim=120, shared_dim=128,
                                     n_classes=10, attn_resolutions=(64,)))
    G.load_state_dict(state)
    save_generator(tmp_path / "ref.safetensors", G.eval(), G_ema=G)
    r = Renderer("cpu", threads=1)
    r.load(str(tmp_path / "ref.safetensors"))
    for i in (0, 3):
        req = RenderRequest(latent_a=LatentSource(z=tuple(ref["z"][i].tolist())),
                            class_index=int(ref["y"][i]))
        res = r.render(req)
        want = to_uint8_image(torch.from_numpy(ref["images"][i:i + 1]))
        assert np.abs(res.image.astype(int) - want.astype(int)).max() <= 1
