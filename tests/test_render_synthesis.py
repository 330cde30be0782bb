"""Staged synthesis: reference stages = G.synthesis, fast kernels ≈ reference, incremental = full."""
import numpy as np
import pytest
import torch
from render_models import tiny_stylegan2

from ganstudio.render.fast_synthesis import FastKernels, FastOptions
from ganstudio.render.incremental import IncrementalSynthesis, NoiseSpec
from ganstudio.render.stages import ReferenceKernels, stage_flops, stylegan2_stages


def ws_for(G, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        ws = G.mapping(torch.randn([1, G.z_dim], generator=g))
    return ws + 0.5 * torch.randn(ws.shape, generator=g)        # distinct per layer


def spec(G, mode="const", seed=0, off=()):
    return NoiseSpec(mode, seed, tuple(0.0 if i in off else 1.0 for i in range(G.num_ws)))


def test_stage_layout_matches_the_official_w_assignment():
    G = tiny_stylegan2(32)
    names = [(s.name, s.w_index) for s in stylegan2_stages(G)]
    assert names == [("b4.conv1", 0), ("b4.torgb", 1), ("b8.conv0", 1), ("b8.conv1", 2),
                     ("b8.torgb", 3), ("b16.conv0", 3), ("b16.conv1", 4), ("b16.torgb", 5),
                     ("b32.conv0", 5), ("b32.conv1", 6), ("b32.torgb", 7)]
    assert len(stage_flops(G, stylegan2_stages(G))) == len(names)


@pytest.mark.parametrize("mode", ["const", "none"])
def test_reference_stages_equal_core_synthesis_bit_for_bit(mode):
    G = tiny_stylegan2(32)
    ws = ws_for(G, 1)
    run = IncrementalSynthesis(ReferenceKernels(G), stylegan2_stages(G))
    with torch.inference_mode():
        img, stats = run.run(ws, spec(G, mode, off=(2,)))
        scale = [0.0 if i == 2 else 1.0 for i in range(G.num_ws)]
        ref = G.synthesis(ws, noise_mode=mode, noise_scale=scale)
    assert stats.stages_run == len(run.stages)
    assert torch.equal(img, ref)


@pytest.mark.parametrize("options", [FastOptions(), FastOptions(modulation="weight"),
                                     FastOptions(modulation="act"), FastOptions(fir="depthwise"),
                                     FastOptions(channels_last=False),
                                     FastOptions(pad_up_input="always"),
                                     FastOptions(pad_up_input="always", fused="never"),
                                     FastOptions(winograd="always"),
                                     FastOptions(gemm_up="always", modulation="weight"),
                                     FastOptions(pad_up_input="never", fir="avgpool")])
def test_fast_kernels_match_reference_at_64(options):
    G = tiny_stylegan2(64, channel_max=32)
    stages = stylegan2_stages(G)
    ref = IncrementalSynthesis(ReferenceKernels(G), stages)
    fast = IncrementalSynthesis(FastKernels(G, options), stages)
    with torch.inference_mode():
        for seed, noise in ((1, spec(G)), (2, spec(G, "random", 3, off=(4,))), (3, spec(G, "none"))):
            ws = ws_for(G, seed)
            a, _ = ref.run(ws, noise, keep=False)
            b, _ = fast.run(ws, noise, keep=False)
            assert a.abs().max() > 1                       # not a trivially small image
            assert (a - b).abs().max().item() <= 1e-4


@pytest.mark.parametrize("kernels", ["fast", "fast-padded", "fast-winograd", "reference"])
def test_incremental_is_bit_identical_to_full(kernels):
    G = tiny_stylegan2(32)
    stages = stylegan2_stages(G)
    opts = {"fast-padded": FastOptions(pad_up_input="always"),
            "fast-winograd": FastOptions(winograd="always")}.get(kernels, FastOptions())
    make = (lambda: ReferenceKernels(G)) if kernels == "reference" else (lambda: FastKernels(G, opts))
    inc = IncrementalSynthesis(make(), stages)
    full = IncrementalSynthesis(make(), stages)
    base = ws_for(G, 1)
    other = ws_for(G, 2)
    edits = []                              # each relative to the frame before it
    prev = base
    for k in (6, 5, 1, 0):                  # a style edit of one W input
        ws = prev.clone()
        ws[:, k] = other[:, k] + k
        edits.append((ws, spec(G), k, "torgb" if k % 2 else "conv"))
        prev = ws
    ws = prev.clone()
    ws[:, 4:] = other[:, 4:]                # a crossover at 4
    edits.append((ws, spec(G), 4, "conv"))
    edits.append((ws, spec(G, off=(3,)), 3, "conv"))            # a noise mask
    edits.append((ws, spec(G, "random", 7, off=(3,)), 0, "conv"))  # noise mode: all layers
    edits.append((ws, spec(G, "random", 7, off=(3, 6)), 6, "conv"))
    with torch.inference_mode():
        inc.run(base, spec(G))
        for ws, noise, k, kind in edits:
            img, stats = inc.run(ws, noise)
            ref, _ = full.run(ws, noise, keep=False)
            assert torch.equal(img, ref), k
            first = stages[stats.start_stage]
            assert first.w_index == k
            # a style edit of an odd w_k restarts at the toRGB of its block (it feeds that toRGB
            # and the next block's conv0); noise only lives in convs
            assert first.kind == kind, k
        again, stats = inc.run(ws, edits[-1][1])
        assert stats.stages_run == 0 and torch.equal(again, img)


def test_preview_stop_then_resume_is_bit_identical():
    G = tiny_stylegan2(32)
    stages = stylegan2_stages(G)
    inc = IncrementalSynthesis(FastKernels(G), stages)
    full = IncrementalSynthesis(FastKernels(G), stages)
    ws = ws_for(G, 3)
    b16 = next(s.index for s in stages if s.name == "b16.torgb")
    with torch.inference_mode():
        small, _ = inc.run(ws, spec(G), stop_stage=b16)
        assert small.shape[-1] == 16
        img, stats = inc.run(ws, spec(G))
        ref, _ = full.run(ws, spec(G), keep=False)
    assert stats.start_stage == b16 + 1
    assert torch.equal(img, ref)


def test_fast_path_reproduces_nvidia_reference(reference_dir):
    """The fast kernels on official weights stay within the core's own tolerance of NVIDIA."""
    import json
    from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator
    d = reference_dir / "stylegan2_res64"
    kw = json.loads((d / "config.json").read_text())["g_ema_init_kwargs"]["synthesis_kwargs"]
    G = StyleGAN2Generator(StyleGAN2Config(img_resolution=64, channel_base=kw["channel_base"],
                                           channel_max=kw["channel_max"])).eval()
    G.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(d / "g_ema_state.npz").items()})
    ref = np.load(d / "reference.npz")
    run = IncrementalSynthesis(FastKernels(G), stylegan2_stages(G))
    with torch.inference_mode():
        img, _ = run.run(torch.from_numpy(ref["ws_mix"]), spec(G), keep=False)
    assert np.abs(img.numpy() - ref["img_mix"]).max() <= 1e-4


@pytest.mark.parametrize("shape", [(1, 3, 4, 4, 5), (1, 16, 8, 8, 24), (1, 32, 6, 10, 8)])
def test_winograd_conv_equals_direct_conv(shape):
    from ganstudio.render import winograd
    _, c, h, w, o = shape
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, c, h, w, generator=g).contiguous(memory_format=torch.channels_last)
    k = torch.randn(o, c, 3, 3, generator=g)
    ref = torch.nn.functional.conv2d(x, k, padding=1)
    got = winograd.conv3x3(x, winograd.transform_weight(k))
    assert got.shape == ref.shape and got.is_contiguous(memory_format=torch.channels_last)
    assert (got - ref).abs().max() <= 1e-5 * ref.abs().max()
