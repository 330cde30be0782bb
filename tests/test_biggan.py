"""BigGAN: chunk layout, BigGAN-PyTorch reference match, SN semantics, truncation, importers, D."""
import dataclasses
import functools
import json
import pickle

import numpy as np
import pytest
import torch

from ganstudio.core.biggan import (BigGANConfig, BigGANGenerator, one_hot, truncated_z,
                                   z_from_seed_biggan)
from ganstudio.core.biggan_layers import sn_layers
from ganstudio.core.checkpoint import CheckpointError, load_native_generator, save_generator
from ganstudio.core.importers.biggan_pytorch import (infer_config, load_biggan,
                                                     looks_like_biggan_state_dict)
from ganstudio.core.registry import build_discriminator, build_generator

REF_CONFIG = dict(img_resolution=128, ch=16, z_dim=120, shared_dim=128, n_classes=10,
                  attn_resolutions=(64,), bn_eps=1e-5, sn_eps=1e-6)


def tiny_config(**kw):
    base = dict(img_resolution=32, ch=2, z_dim=20, shared_dim=8, n_classes=3,
                attn_resolutions=(16,), d_ch=2, d_attn_resolutions=(16,))
    return BigGANConfig(**{**base, **kw})


def tiny(**kw):
    torch.manual_seed(0)
    return BigGANGenerator(tiny_config(**kw)).eval()


@functools.lru_cache(maxsize=None)
def _reference(folder: str):
    state = {k: torch.from_numpy(v) for k, v in np.load(f"{folder}/g_state.npz").items()}
    ref = dict(np.load(f"{folder}/reference.npz"))
    G = BigGANGenerator(BigGANConfig(**REF_CONFIG)).eval().requires_grad_(False)
    G.load_state_dict(state)
    return G, state, ref


@pytest.fixture
def ref(reference_dir):
    return _reference(str(reference_dir / "biggan_res128"))


def _max_err(a, b) -> float:
    return float((torch.as_tensor(a) - torch.as_tensor(b)).abs().max())


# --- layout ------------------------------------------------------------------------------------

def test_chunks_shapes_and_layer_table():
    G = tiny()
    assert (G.num_ws, G.w_dim, G.z_dim, G.c_dim) == (4, 5, 20, 3)
    z = torch.randn(2, 20)
    ws = G.mapping(z)
    assert ws.shape == (2, 4, 5)
    for k in range(4):
        assert torch.equal(ws[:, k], z[:, 5 * k: 5 * k + 5])
    with torch.no_grad():
        assert G(z, torch.tensor([0, 2])).shape == (2, 3, 32, 32)
    table = G.layer_table()
    assert [r.resolution for r in table] == [4, 8, 16, 32]
    assert [r.group for r in table] == ["coarse", "coarse", "middle", "middle"]
    assert [r.role for r in table] == ["linear", "blocks.0", "blocks.1", "blocks.2"]
    assert not any(r.has_noise for r in table) and not G.has_w_space
    big = BigGANConfig(img_resolution=128, ch=1, n_classes=2)
    assert (big.num_ws, big.chunk_size, big.cond_dim) == (6, 20, 148)
    # psi scales the chunks below the cutoff towards 0 (the mean z)
    wt = G.mapping(z, truncation_psi=0.5, truncation_cutoff=2)
    assert torch.equal(wt[:, :2], ws[:, :2] * 0.5) and torch.equal(wt[:, 2:], ws[:, 2:])


def test_non_hierarchical_model_has_one_row():
    G = tiny(hier=False)
    assert (G.num_ws, G.w_dim) == (1, 20) and len(G.layer_table()) == 1
    with torch.no_grad():
        assert G(torch.randn(2, 20), torch.tensor([1, 1])).shape == (2, 3, 32, 32)


def test_bad_inputs_give_clear_errors():
    G = tiny()
    ws = G.mapping(torch.randn(1, 20))
    with pytest.raises(ValueError, match="class-conditional"):
        G.synthesis(ws)
    with pytest.raises(ValueError, match="out of range"):
        G.synthesis(ws, torch.tensor([3]))
    with pytest.raises(ValueError, match=r"z must be \[N, 20\]"):
        G.mapping(torch.randn(1, 21))
    with pytest.raises(ValueError, match="multiple"):
        BigGANConfig(img_resolution=32, z_dim=21)


def test_soft_class_blends_embeddings():
    G = tiny()
    c = 0.25 * one_hot([0], 3) + 0.75 * one_hot([2], 3)
    emb = G.class_embedding(c, 1)
    expected = 0.25 * G.shared.weight[0] + 0.75 * G.shared.weight[2]
    assert torch.allclose(emb[0], expected, atol=1e-6)
    assert torch.equal(G.class_embedding(one_hot([1], 3)), G.class_embedding(torch.tensor([1])))


# --- reference match ---------------------------------------------------------------------------

@pytest.mark.parametrize("zkey, imgkey", [("z", "images"), ("z_trunc", "images_trunc"),
                                          ("z_mix", "images_mix")])
def test_matches_biggan_pytorch_reference(ref, zkey, imgkey):
    G, _, r = ref
    with torch.no_grad():
        img = G(torch.from_numpy(r[zkey]), torch.from_numpy(r["y"]))
    assert _max_err(img, r[imgkey]) <= 1e-5


def test_intermediate_activations_match(ref):
    G, _, r = ref
    seen = {}
    h1 = G.linear.register_forward_hook(lambda m, i, o: seen.__setitem__("linear", o))
    h2 = G.output_layer.register_forward_hook(lambda m, i, o: seen.__setitem__("pre_tanh", o))
    try:
        with torch.no_grad():
            ws = G.mapping(torch.from_numpy(r["z"][:1]))
            G.synthesis(ws, torch.from_numpy(r["y"][:1]),
                        on_block=lambda i, x, _: seen.__setitem__(i, x[0]))
    finally:
        h1.remove(), h2.remove()
    assert _max_err(seen["linear"][0], r["act_linear"]) <= 1e-5
    for i in range(5):
        key = f"act_blocks.{i}.1" if f"act_blocks.{i}.1" in r else f"act_blocks.{i}.0"
        assert _max_err(seen[i], r[key]) <= 1e-5, key
    assert _max_err(seen["pre_tanh"][0], r["act_output_pre_tanh"]) <= 1e-5
    assert _max_err(G.class_embedding(torch.from_numpy(r["y"])), r["emb"]) == 0


def test_sn_sigma_is_one_step_from_u0_without_write_back(ref):
    G, state, r = ref
    layers = sn_layers(G)
    assert len(layers) == len([k for k in r if k.startswith("sigma_eval_")]) == 41
    for name, layer in layers.items():
        want = float(r[f"sigma_eval_{name}"])
        assert abs(float(layer.sigma()) - want) <= 1e-6 * want, name
        # sv0 (last training sigma) is not what eval uses in this deliberately unconverged model
        assert float(layer.sv0) != pytest.approx(want, rel=1e-4)
    with torch.no_grad():
        G(torch.from_numpy(r["z"][:1]), torch.tensor([0]))
    assert torch.equal(G.linear.u0, state["linear.u0"])  # eval never writes u0


def test_train_mode_power_iteration_updates_u_and_sv():
    G = tiny().train()
    u_before, sv_before = G.linear.u0.clone(), G.linear.sv0.clone()
    G(torch.randn(2, 20), torch.tensor([0, 1]))
    assert not torch.equal(G.linear.u0, u_before) and not torch.equal(G.linear.sv0, sv_before)
    assert float(G.linear.u0.norm()) == pytest.approx(1.0, abs=1e-5)


# --- latents -----------------------------------------------------------------------------------

def test_truncation_resampling_keeps_z_below_threshold(ref):
    for threshold in (0.1, 0.5, 1.0, 2.0):
        z = truncated_z(3, 2000, threshold)
        assert z.shape == (1, 2000) and float(z.abs().max()) < threshold
        assert float(z.abs().max()) > 0.9 * threshold  # fills the range, not squashed
    assert torch.equal(truncated_z(5, 50, 0.7), truncated_z(5, 50, 0.7))
    assert not torch.equal(truncated_z(5, 50, 0.7), truncated_z(6, 50, 0.7))
    g = torch.Generator().manual_seed(5)
    assert torch.equal(truncated_z(g, 50, 0.7), truncated_z(5, 50, 0.7))
    with pytest.raises(ValueError):
        truncated_z(0, 10, 0.0)
    zt = z_from_seed_biggan(7, 5000, truncation=0.4)
    assert float(zt.abs().max()) <= 0.8 and float(zt.abs().max()) > 0.7
    _, _, r = ref  # truncation 1 is the plain RandomState draw the reference used
    for seed in range(4):
        assert torch.equal(z_from_seed_biggan(seed, 120), torch.from_numpy(r["z"][seed:seed + 1]))


def test_changing_one_chunk_changes_image_but_not_class(ref):
    G, _, r = ref
    c = torch.from_numpy(r["y"][:1])
    ws = G.mapping(torch.from_numpy(r["z"][:1]))
    ws2 = ws.clone()
    ws2[:, 3] = torch.from_numpy(r["z"][1:2, 60:80])        # chunk 3 feeds blocks.2
    acts = [{}, {}]
    with torch.no_grad():
        imgs = [G.synthesis(w, c, on_block=lambda i, x, _, a=a: a.__setitem__(i, x))
                for w, a in zip((ws, ws2), acts)]
    assert _max_err(imgs[0], imgs[1]) > 1e-2
    assert torch.equal(acts[0][1], acts[1][1])              # blocks before blocks.2 untouched
    assert not torch.equal(acts[0][2], acts[1][2])
    assert torch.equal(G.class_embedding(c), torch.from_numpy(r["emb"][:1]))
    # resuming at block 2 from the stored block-1 output gives the same image
    with torch.no_grad():
        resumed = G.synthesis(ws2, c, start_block=2, x=acts[1][1])
    assert torch.equal(resumed, imgs[1])


# --- importers and native checkpoints ----------------------------------------------------------

def test_legacy_format_file_loads_and_matches(ref, tmp_path):
    _, state, r = ref
    path = tmp_path / "G_ema.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    G, meta = load_biggan(path)
    assert meta["serialization"] == "legacy" and meta["which"] == "G_ema"
    assert not meta["tfhub_port"] and meta["config"]["bn_eps"] == 1e-5
    cfg = meta["config"]
    assert (cfg["img_resolution"], cfg["ch"], cfg["z_dim"], cfg["shared_dim"], cfg["n_classes"],
            cfg["hier"], cfg["attn_resolutions"]) == (128, 16, 120, 128, 10, True, (64,))
    with torch.no_grad():
        img = G(torch.from_numpy(r["z"]), torch.from_numpy(r["y"]))
    assert _max_err(img, r["images"]) <= 1e-5


def test_tfhub_style_file_without_sv0_loads_with_eps_1e4(ref, tmp_path):
    _, state, r = ref
    path = tmp_path / "G.pth"
    torch.save({k: v for k, v in state.items() if not k.endswith(".sv0")}, path)
    G, meta = load_biggan(path)
    assert meta["serialization"] == "zip" and meta["tfhub_port"] and meta["which"] == "G"
    assert G.config.bn_eps == 1e-4 and G.config.sn_eps == 1e-4
    assert float(G.linear.sv0) == pytest.approx(float(G.linear.sigma()))  # filled, not garbage
    z, y = torch.from_numpy(r["z"]), torch.from_numpy(r["y"])
    with torch.no_grad():
        err = _max_err(G(z, y), r["images"])
        G2, meta2 = load_biggan(path, bn_eps=1e-5, sn_eps=1e-6)
        err2 = _max_err(G2(z, y), r["images"])
    assert 1e-5 < err < 1e-3           # eps 1e-4 moves the output, but only slightly
    assert err2 <= 1e-5 and "overridden" in meta2["eps_reason"]


def test_importer_rejects_what_it_cannot_load(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a loadable"):
        load_biggan(bad)

    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"x": Evil()}, protocol=2))
    with pytest.raises(CheckpointError):
        load_biggan(evil)
    other = tmp_path / "other.pth"
    torch.save({"mapping.fc0.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(CheckpointError, match="not a BigGAN"):
        load_biggan(other)
    sd = tiny().state_dict()
    assert looks_like_biggan_state_dict(sd) and not looks_like_biggan_state_dict({"a": 1})
    sd["blocks.1.0.conv1.weight"] = torch.zeros(3, 3, 3, 3)
    with pytest.raises(CheckpointError):
        infer_config(sd)


def test_infers_tiny_layouts_including_dataparallel_prefix(tmp_path):
    G = tiny(hier=False, attn_resolutions=(8, 32))
    path = tmp_path / "G.pth"
    torch.save({f"module.{k}": v for k, v in G.state_dict().items()}, path)
    G2, meta = load_biggan(path)
    assert (G2.config.hier, G2.config.attn_resolutions, G2.config.ch) == (False, (8, 32), 2)
    z = torch.randn(2, 20)
    with torch.no_grad():
        assert torch.equal(G(z, torch.tensor([0, 2])), G2(z, torch.tensor([0, 2])))


def test_native_checkpoint_round_trip_is_bit_identical(ref, tmp_path):
    G, _, r = ref
    D = build_discriminator("biggan", tiny_config())
    path = tmp_path / "biggan.safetensors"
    save_generator(path, G, G_ema=G, meta={"class_names": [str(i) for i in range(10)]})
    G2 = load_native_generator(path)
    assert G2.arch == "biggan" and G2.config == G.config
    for k, v in G.state_dict().items():
        assert torch.equal(v, G2.state_dict()[k]), k
    z, y = torch.from_numpy(r["z"][:2]), torch.from_numpy(r["y"][:2])
    with torch.no_grad():
        assert torch.equal(G(z, y), G2(z, y))
    save_generator(tmp_path / "tiny.safetensors", tiny(), D=D)
    assert json.dumps(tiny().config_dict())  # config is plain JSON
    assert load_native_generator(tmp_path / "tiny.safetensors").config == tiny_config()


# --- discriminator -----------------------------------------------------------------------------

def test_discriminator_and_generator_step_gives_finite_grads():
    cfg = tiny_config()
    G = build_generator("biggan", json.loads(json.dumps(dataclasses.asdict(cfg)))).train()
    D = build_discriminator("biggan", cfg).train()
    for m in list(G.modules()) + list(D.modules()):  # let attention contribute to the gradients
        if hasattr(m, "gamma"):
            m.gamma.data.fill_(0.5)
    z, c = torch.randn(2, G.z_dim), torch.tensor([0, 2])
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    fake = G(z, c)
    logits_real, logits_fake = D(real, c), D(fake.detach(), one_hot(c, 3))
    assert logits_real.shape == (2, 1)
    d_loss = torch.relu(1 - logits_real).mean() + torch.relu(1 + logits_fake).mean()
    d_loss.backward()
    for name, p in D.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        # the final bias's hinge gradient is (#active fake − #active real) / N: may cancel
        assert name == "linear.bias" or p.grad.abs().sum() > 0, name
    g_loss = -D(fake, c).mean()
    g_loss.backward()
    for name, p in G.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_load_generator_detects_biggan_files(tmp_path, reference_dir):
    """The one entry point recognises a BigGAN-PyTorch G_ema.pth by its content and matches the reference."""
    from ganstudio.core.importers import load_generator

    d = reference_dir / "biggan_res128"
    sd = {k: torch.from_numpy(v) for k, v in np.load(d / "g_state.npz").items()}
    path = tmp_path / "weights.bin"  # the name says nothing: detection is by content
    torch.save(sd, path)
    G, meta = load_generator(path)
    assert meta.source_format == "biggan-pytorch" and meta.arch == "biggan"
    ref = np.load(d / "reference.npz")
    with torch.no_grad():
        img = G(torch.from_numpy(ref["z"]), torch.from_numpy(ref["y"]).long())
    assert np.abs(img.numpy() - ref["images"]).max() <= 1e-5


def test_generate_command_renders_biggan_class(tmp_path, reference_dir):
    """`ganstudio generate --seeds S --class C` on a BigGAN file: z = RandomState(S).randn, class C."""
    from ganstudio.cli import main

    d = reference_dir / "biggan_res128"
    sd = {k: torch.from_numpy(v) for k, v in np.load(d / "g_state.npz").items()}
    torch.save(sd, tmp_path / "G_ema.pth")
    out = tmp_path / "out"
    assert main(["generate", str(tmp_path / "G_ema.pth"), "--seeds", "5", "--class", "3",
                 "--outdir", str(out), "--save-npy"]) == 0
    G, _ = load_biggan(tmp_path / "G_ema.pth")
    z = torch.from_numpy(np.random.RandomState(5).randn(1, G.z_dim)).float()
    with torch.no_grad():
        expected = G(z, torch.tensor([3])).numpy()
    assert np.abs(np.load(out / "seed0005.npy") - expected).max() <= 1e-6
    assert main(["generate", str(tmp_path / "G_ema.pth"), "--seeds", "5", "--trunc", "0.5",
                 "--class", "3", "--outdir", str(tmp_path / "t"), "--save-npy"]) == 0
    assert not np.array_equal(np.load(tmp_path / "t" / "seed0005.npy"), expected)
