"""Loading third-party checkpoints: NVIDIA pickles and rosinality files reproduce the official
numbers (the safety tests are in test_importers_safety.py)."""
from __future__ import annotations

import functools
import io
import pickle
import pickletools
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from checkpoint_writers import (EasyDict, tiny_generator, _Pickler, dump_pickle, init_kwargs, record,
                                reference_generator, rosinality_state, save_rosinality, snapshot,
                                stand_in_modules)

from ganstudio.core.checkpoint import CheckpointError, save_generator
from ganstudio.core.importers import UnsafePickleError, load_generator
from ganstudio.core.importers import safe_unpickle as su
from ganstudio.core.importers.nvidia_pkl import fit_channels
from ganstudio.core.importers.rosinality import rosinality_channel_multiplier
from ganstudio.core.importers.torch_serialization import LEGACY_MAGIC
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator

TOL = {64: 1e-4, 1024: 5e-4}   # max |Δ| allowed by the issue; mean |Δ| ≤ 1e-5 everywhere


@functools.lru_cache(maxsize=2)
def _reference(ref_dir: Path):
    return reference_generator(ref_dir), dict(np.load(ref_dir / "reference.npz"))


def assert_matches(ours: torch.Tensor, ref: np.ndarray, res: int) -> None:
    d = np.abs(ours.detach().numpy() - ref)
    assert ours.shape == ref.shape
    assert d.max() <= TOL[res], d.max()
    assert d.mean() <= 1e-5, d.mean()


def check_against_reference(G, ref: dict, res: int) -> None:
    """Mapping ψ = 1 and 0.7, synthesis noise const / none, batch-1 renders, style mixing."""
    z = torch.from_numpy(ref["z"])
    with torch.no_grad():
        assert_matches(G.mapping(z), ref["w_psi1"], res)
        assert_matches(G.mapping(z, truncation_psi=0.7), ref["w_psi07"], res)
        assert torch.equal(G.mapping.w_avg, torch.from_numpy(ref["w_avg"]))
        assert_matches(G.synthesis(torch.from_numpy(ref["ws_mix"])), ref["img_mix"], res)
        ws = torch.from_numpy(ref["w_psi1"])
        if res == 64:
            assert_matches(G.synthesis(ws), ref["img_psi1"], res)
            assert_matches(G.synthesis(torch.from_numpy(ref["w_psi07"])), ref["img_psi07"], res)
            assert_matches(G.synthesis(ws, noise_mode="none"), ref["img_psi1_noise_none"], res)
            for i in range(4):
                assert_matches(G.synthesis(ws[i:i + 1]), ref["img_psi1_batch1"][i:i + 1], res)
        else:
            assert_matches(G.synthesis(ws[:1]), ref["img_psi1_seed0"], res)


def opcode_names(data: bytes) -> set[str]:
    return {op.name for op, _, _ in pickletools.genops(data)}


# ---------------------------------------------------------------------------------------------
# NVIDIA network pickles
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol,numpy_v1,dict_type,layout", [
    (3, True, OrderedDict, "ada"),     # torch 1.x / numpy < 2 / Python ≤ 3.7 release pickles
    (4, False, dict, "ada"),           # stylegan2-ada written today
    (4, True, dict, "sg3"),            # stylegan3 --cfg=stylegan2, flat synthesis kwargs
    (3, False, OrderedDict, "sg3"),
])
def test_nvidia_pickle_reproduces_reference_64(reference_dir, tmp_path, protocol, numpy_v1,
                                               dict_type, layout):
    G_ref, ref = _reference(reference_dir / "stylegan2_res64")
    marker = tmp_path / "module_src_ran"
    data = dump_pickle(snapshot(G_ref, marker, dict_type=dict_type, layout=layout), protocol,
                       numpy_v1)
    # the file really is the variant under test
    assert ("STACK_GLOBAL" if protocol == 4 else "GLOBAL") in opcode_names(data)
    assert (b"numpy.core.multiarray" in data) == numpy_v1
    assert (b"numpy._core.multiarray" in data) == (not numpy_v1)
    path = tmp_path / "network-snapshot-000000.pkl"
    path.write_bytes(data)

    G, meta = load_generator(path)

    assert not marker.exists(), "module_src was executed"
    assert (meta.source_format, meta.arch, meta.img_resolution, meta.num_ws, meta.c_dim) == \
        ("nvidia-pkl", "stylegan2", 64, 10, 0)
    assert (meta.config["channel_base"], meta.config["channel_max"]) == (4096, 128)
    assert meta.extra["network"] == "G_ema"
    assert meta.extra["writer"] == ("stylegan2-ada-pytorch" if layout == "ada"
                                    else "stylegan3 networks_stylegan2")
    check_against_reference(G, ref, 64)


def test_nvidia_pickle_reproduces_reference_1024(reference_dir, tmp_path):
    G_ref, ref = _reference(reference_dir / "stylegan2_res1024")
    path = tmp_path / "ffhq.pkl"
    path.write_bytes(dump_pickle(snapshot(G_ref, tmp_path / "ran"), 4))
    G, meta = load_generator(path)
    assert (meta.img_resolution, meta.num_ws) == (1024, 18)
    assert (meta.config["channel_base"], meta.config["channel_max"]) == (2048, 64)
    check_against_reference(G, ref, 1024)


def test_g_ema_is_used_not_g(reference_dir, tmp_path):
    G_ref, ref = _reference(reference_dir / "stylegan2_res64")
    G_train = reference_generator(reference_dir / "stylegan2_res64")
    with torch.no_grad():
        for p in G_train.parameters():
            p.add_(0.5)
    path = tmp_path / "snap.pkl"
    path.write_bytes(dump_pickle(snapshot(G_ref, tmp_path / "ran", G=G_train)))
    G, meta = load_generator(path)
    with torch.no_grad():
        assert_matches(G.synthesis(torch.from_numpy(ref["ws_mix"])), ref["img_mix"], 64)


def test_class_conditional_pickle_loads_with_embedding(tmp_path):
    G0 = tiny_generator(c_dim=5)
    path = tmp_path / "cond.pkl"
    path.write_bytes(dump_pickle(snapshot(G0, tmp_path / "ran")))
    G, meta = load_generator(path)
    assert meta.c_dim == 5 and "mapping.embed.weight" in G.state_dict()
    z = torch.randn(3, 16)
    c = torch.nn.functional.one_hot(torch.tensor([0, 2, 4]), 5).float()
    with torch.no_grad():
        assert torch.equal(G(z, c, truncation_psi=0.7), G0(z, c, truncation_psi=0.7))
        assert not torch.equal(G(z, c), G(z, c.roll(1, dims=1)))


def test_fp16_settings_are_ignored_and_conv_clamp_kept(tmp_path):
    G0 = tiny_generator(conv_clamp=256.0)
    kw = init_kwargs(G0.config, "ada", num_fp16_res=4)
    path = tmp_path / "fp16.pkl"
    path.write_bytes(dump_pickle(snapshot(G0, tmp_path / "ran", kwargs=kw)))
    G, meta = load_generator(path)
    assert meta.config["conv_clamp"] == 256.0
    assert meta.extra["ignored (speed only)"] == {"num_fp16_res": 4}


def test_stylegan3_generator_is_refused(tmp_path):
    def module(**children):
        m = torch.nn.Module()
        m.register_parameter("weight", torch.nn.Parameter(torch.randn(2, 2)))
        for n, c in children.items():
            m.add_module(n, c)
        return m
    G3 = module(synthesis=module(input=module(), L0_36_512=module(), L1_36_512=module()),
                mapping=module(fc0=module()))
    kw = {"z_dim": 512, "c_dim": 0, "w_dim": 512, "img_resolution": 1024, "img_channels": 3,
          "mapping_kwargs": EasyDict(num_layers=2), "channel_base": 32768}
    path = tmp_path / "stylegan3-t.pkl"
    path.write_bytes(dump_pickle({"G_ema": record(G3, "src", init_kwargs=kw)}))
    with pytest.raises(CheckpointError, match="StyleGAN3.*not supported"):
        load_generator(path)


def test_wrong_init_kwargs_give_a_clear_error(reference_dir, tmp_path):
    G_ref, _ = _reference(reference_dir / "stylegan2_res64")
    kw = init_kwargs(G_ref.config)
    kw["synthesis_kwargs"]["channel_max"] = 256
    path = tmp_path / "odd.pkl"
    path.write_bytes(dump_pickle(snapshot(G_ref, tmp_path / "ran", kwargs=kw)))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_generator(path)


def test_nvidia_named_torch_state_dict(reference_dir, tmp_path):
    G_ref, ref = _reference(reference_dir / "stylegan2_res64")
    path = tmp_path / "g_ema.pt"
    torch.save(G_ref.state_dict(), path)
    G, meta = load_generator(path)
    assert meta.source_format == "torch-state-dict"
    assert (meta.config["channel_base"], meta.config["channel_max"]) == (4096, 128)
    with torch.no_grad():
        assert_matches(G.synthesis(torch.from_numpy(ref["ws_mix"])), ref["img_mix"], 64)


def test_storage_blob_in_zip_form_is_read(tmp_path):
    """`_load_from_bytes` blobs may hold a zip torch.save stream: read by our own parser too."""
    G0 = tiny_generator()

    def zip_blob(storage):
        buf = io.BytesIO()
        torch.save(storage, buf)
        return buf.getvalue()
    path = tmp_path / "zipblobs.pkl"
    path.write_bytes(dump_pickle(snapshot(G0, tmp_path / "ran"), storage_blob=zip_blob))
    G, _ = load_generator(path)
    for (k, a), b in zip(G0.state_dict().items(), G.state_dict().values()):
        assert torch.equal(a, b), k


# ---------------------------------------------------------------------------------------------
# rosinality stylegan2-pytorch
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("training", [False, True], ids=["converted", "training-with-args"])
def test_rosinality_checkpoint_matches_nvidia(reference_dir, tmp_path, legacy, training):
    G_ref, ref = _reference(reference_dir / "stylegan2_res64")
    path = tmp_path / "550000.pt"
    save_rosinality(path, G_ref, training=training, legacy=legacy)
    if training:  # the pickled argparse args make torch's own safe loader refuse the file
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)
    G, meta = load_generator(path)
    assert (meta.source_format, meta.img_resolution, meta.num_ws) == ("rosinality-pt", 64, 10)
    assert meta.extra["network"] == "g_ema"
    assert meta.extra["reader"] == ("restricted unpickler" if training
                                    else "torch.load(weights_only=True)")
    assert (meta.config["channel_base"], meta.config["channel_max"]) == (4096, 128)
    z, ws = torch.from_numpy(ref["z"]), torch.from_numpy(ref["w_psi1"])
    with torch.no_grad():
        assert_matches(G.mapping(z), ref["w_psi1"], 64)
        assert_matches(G.synthesis(ws), ref["img_psi1"], 64)
        assert_matches(G.synthesis(ws, noise_mode="none"), ref["img_psi1_noise_none"], 64)
        assert_matches(G.synthesis(torch.from_numpy(ref["ws_mix"])), ref["img_mix"], 64)
        if training:  # no latent_avg in training checkpoints: w_avg is estimated from 4096 z
            err = (G.mapping.w_avg - torch.from_numpy(ref["w_avg"])).abs().mean()
            spread = (torch.from_numpy(ref["w_psi1"]) - torch.from_numpy(ref["w_avg"])).abs().mean()
            assert err < 0.05 * spread, (err, spread)  # 0.0095 vs 0.41 here; zeros give 0.67
        else:
            assert_matches(G.mapping(z, truncation_psi=0.7), ref["w_psi07"], 64)


def test_rosinality_channel_tables():
    ros = {1: {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64},
           2: {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128},
           4: {4: 512, 8: 512, 16: 512, 32: 512, 64: 1024, 128: 512, 256: 256}}
    assert fit_channels(ros[1]) == {"channel_base": 16384, "channel_max": 512}
    assert fit_channels(ros[2]) == {"channel_base": 32768, "channel_max": 512}
    assert fit_channels(ros[4]) == {"channel_table": ros[4]}
    assert [rosinality_channel_multiplier(t) for t in ros.values()] == [1, 2, 4]


def test_channel_table_outside_the_formula_loads_and_round_trips(tmp_path):
    """A rosinality file whose channels grow with resolution (like channel_multiplier 4)."""
    table = {4: 8, 8: 8, 16: 16}
    G0 = tiny_generator(channel_table=table)
    path = tmp_path / "cm4.pt"
    save_rosinality(path, G0)
    G, meta = load_generator(path)
    assert meta.config["channel_table"] == table
    z = torch.randn(2, 16)
    with torch.no_grad():
        assert torch.equal(G(z, truncation_psi=0.5), G0(z, truncation_psi=0.5))
    native = tmp_path / "cm4.safetensors"
    save_generator(native, G, G_ema=G)
    H, meta2 = load_generator(native)
    assert meta2.source_format == "ganstudio" and meta2.config["channel_table"] == table
    with torch.no_grad():
        assert torch.equal(H(z), G0(z))


def test_rosinality_keys_round_trip_exactly():
    G0 = tiny_generator(res=32)
    sd, avg = rosinality_state(G0)
    from ganstudio.core.importers.rosinality import load_rosinality
    G, notes = load_rosinality({"g_ema": sd, "latent_avg": avg})
    for (k, a), b in zip(G0.state_dict().items(), G.state_dict().values()):
        assert torch.equal(a, b), k
