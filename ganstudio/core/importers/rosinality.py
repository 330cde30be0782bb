"""rosinality stylegan2-pytorch `.pt` checkpoints → our StyleGAN2 generator (official naming).

Layout: ../shared/reference/ROSINALITY_FORMAT.md. The maths is the same as NVIDIA's; only names and a
few shapes differ (leading 1-dims, `noise.weight [1]`, `to_rgb bias [1, 3, 1, 1]`, noise maps in a
separate `noises` module, `latent_avg` beside the state dict). Conventions checked against ours:
- equalized-LR linear: weight·lr_mul/√in, bias·lr_mul, fused leaky ReLU (√2 gain) — identical.
- modulated conv: rosinality scales the weight by 1/√(in·k²) before demodulation; NVIDIA does not.
  Demodulation cancels that scale except inside its ε: in NVIDIA's terms rosinality adds
  ε·in·k² instead of ε = 1e-8 to Σ(s·w)², a relative change of ~ε·in·k²/(2Σ(s·w)²) ≈ 5e-9 for 512
  channels and unit styles. The raw weights are kept, so equalized LR stays right for training.
- toRGB: weight/√in, no demodulation — identical to NVIDIA's `affine(w)·weight_gain`.
- up-conv: transposed conv then the [1,3,3,1] blur ×4 with pad (1, 1) — NVIDIA's conv2d_resample
  path for up=2 without weight flip, identical; skip upsampling pads (2, 1) as NVIDIA's upsample2d.
- w index: conv1 w0, to_rgb1 w1, convs[2k] w(2k+1), convs[2k+1] w(2k+2), to_rgbs[k] w(2k+3) — same.
"""
from __future__ import annotations

import re
from typing import Mapping

import torch

from ..checkpoint import CheckpointError
from ..layers import setup_filter
from ..stylegan2 import StyleGAN2Config, StyleGAN2Generator
from .nvidia_pkl import build_stylegan2, fit_channels

W_AVG_SAMPLES = 4096


def is_rosinality_state(sd) -> bool:
    return isinstance(sd, Mapping) and "input.input" in sd and "style.1.weight" in sd


def pick_generator(obj) -> tuple[Mapping[str, torch.Tensor], torch.Tensor | None, str]:
    """(state dict, latent_avg or None, which) from a loaded rosinality file."""
    if is_rosinality_state(obj):
        return obj, None, "state dict"
    if isinstance(obj, Mapping):
        for key in ("g_ema", "g"):
            if is_rosinality_state(obj.get(key)):
                avg = obj.get("latent_avg")
                return obj[key], (avg if isinstance(avg, torch.Tensor) else None), key
    raise CheckpointError("not a rosinality stylegan2 checkpoint (no g_ema/g generator)")


def rosinality_channel_multiplier(table: Mapping[int, int]) -> int | None:
    """The channel_multiplier whose fixed rosinality table equals `table`, if any."""
    for cm in (1, 2, 4, 8):
        ros = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm, 256: 64 * cm,
               512: 32 * cm, 1024: 16 * cm}
        if all(ros.get(r) == c for r, c in table.items()):
            return cm
    return None


def _shape(sd, key: str):
    try:
        return tuple(sd[key].shape)
    except KeyError:
        raise CheckpointError(f"rosinality checkpoint without {key!r}") from None


def infer_config(sd: Mapping[str, torch.Tensor]) -> tuple[StyleGAN2Config, dict]:
    n_mlp = sum(1 for k in sd if re.fullmatch(r"style\.\d+\.weight", k))
    if [k for k in sd if re.fullmatch(r"style\.\d+\.weight", k)] and \
            any(f"style.{i}.weight" not in sd for i in range(1, n_mlp + 1)):
        raise CheckpointError("rosinality checkpoint with gaps in its style.N layers")
    n_rgb = sum(1 for k in sd if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k))
    size = 2 ** (n_rgb + 2)
    w_dim, z_dim = _shape(sd, "style.1.weight")
    const = _shape(sd, "input.input")
    if len(const) != 4 or const[2:] != (4, 4):
        raise CheckpointError(f"rosinality variant whose constant input is {const}: only the "
                              "standard 4×4 start is supported")
    table = {4: _shape(sd, "conv1.conv.weight")[1]}
    for k in range(n_rgb):
        table[8 * 2 ** k] = _shape(sd, f"convs.{2 * k}.conv.weight")[1]
    img_channels = _shape(sd, "to_rgb1.conv.weight")[1]
    cfg = StyleGAN2Config(img_resolution=size, z_dim=z_dim, w_dim=w_dim, c_dim=0,
                          img_channels=img_channels, mapping_layers=n_mlp,
                          mapping_lr_multiplier=0.01, **fit_channels(table))
    notes = {"n_mlp": n_mlp, "channel_multiplier": rosinality_channel_multiplier(table),
             "mapping lr_mul": "0.01 assumed (not stored in the file)"}
    return cfg, notes


def _check_blur(kernel: torch.Tensor, key: str) -> torch.Tensor:
    k = kernel.detach().to(torch.float32)
    ref = setup_filter()
    if k.shape != ref.shape or not torch.allclose(k / k.sum(), ref, atol=1e-6):
        raise CheckpointError(f"rosinality checkpoint with a non-standard blur kernel ({key})")
    return ref


def to_nvidia_names(sd: Mapping[str, torch.Tensor], cfg: StyleGAN2Config,
                    latent_avg: torch.Tensor | None) -> tuple[dict[str, torch.Tensor], set[str]]:
    """Rename to official keys (and shapes). Returns (state, rosinality keys that were used)."""
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(src: str, dst: str, shape=None):
        if src not in sd:
            raise CheckpointError(f"rosinality checkpoint without {src!r}")
        used.add(src)
        t = sd[src]
        out[dst] = t.reshape(shape) if shape is not None else t

    for i in range(cfg.mapping_layers):
        take(f"style.{i + 1}.weight", f"mapping.fc{i}.weight")
        take(f"style.{i + 1}.bias", f"mapping.fc{i}.bias")

    def styled_conv(src: str, dst: str):
        w = sd.get(f"{src}.conv.weight")
        take(f"{src}.conv.weight", f"{dst}.weight", None if w is None else tuple(w.shape[1:]))
        take(f"{src}.conv.modulation.weight", f"{dst}.affine.weight")
        take(f"{src}.conv.modulation.bias", f"{dst}.affine.bias")
        take(f"{src}.noise.weight", f"{dst}.noise_strength", ())
        take(f"{src}.activate.bias", f"{dst}.bias")

    def to_rgb(src: str, dst: str):
        w = sd.get(f"{src}.conv.weight")
        take(f"{src}.conv.weight", f"{dst}.weight", None if w is None else tuple(w.shape[1:]))
        take(f"{src}.conv.modulation.weight", f"{dst}.affine.weight")
        take(f"{src}.conv.modulation.bias", f"{dst}.affine.bias")
        take(f"{src}.bias", f"{dst}.bias", (-1,))

    c4 = _shape(sd, "input.input")
    take("input.input", "synthesis.b4.const", c4[1:])
    styled_conv("conv1", "synthesis.b4.conv1")
    to_rgb("to_rgb1", "synthesis.b4.torgb")
    noise_targets = ["synthesis.b4.conv1"]
    res = 8
    for k in range(2 * (cfg.img_resolution.bit_length() - 1) - 4):
        if k % 2 == 0:
            styled_conv(f"convs.{k}", f"synthesis.b{res}.conv0")
            blur_key = f"convs.{k}.conv.blur.kernel"
            if blur_key in sd:
                out[f"synthesis.b{res}.conv0.resample_filter"] = _check_blur(sd[blur_key], blur_key)
                used.add(blur_key)
            noise_targets.append(f"synthesis.b{res}.conv0")
        else:
            styled_conv(f"convs.{k}", f"synthesis.b{res}.conv1")
            noise_targets.append(f"synthesis.b{res}.conv1")
            to_rgb(f"to_rgbs.{k // 2}", f"synthesis.b{res}.torgb")
            kernel_key = f"to_rgbs.{k // 2}.upsample.kernel"
            if kernel_key in sd:
                out[f"synthesis.b{res}.resample_filter"] = _check_blur(sd[kernel_key], kernel_key)
                used.add(kernel_key)
            res *= 2
    for i, dst in enumerate(noise_targets):
        key = f"noises.noise_{i}"
        if key in sd:
            r = int(dst.split(".")[1][1:])
            take(key, f"{dst}.noise_const", (r, r))
    if latent_avg is not None:
        out["mapping.w_avg"] = latent_avg.reshape(-1)
    return out, used


def estimate_w_avg(G: StyleGAN2Generator, samples: int = W_AVG_SAMPLES, seed: int = 0) -> None:
    """w_avg = mean mapping output of `samples` z drawn from a seeded generator (deterministic)."""
    g = torch.Generator().manual_seed(seed)
    total = torch.zeros(G.w_dim)
    with torch.no_grad():
        for start in range(0, samples, 1024):
            n = min(1024, samples - start)
            z = torch.randn([n, G.z_dim], generator=g)
            total += G.mapping(z)[:, 0].sum(dim=0)
    G.mapping.w_avg.copy_(total / samples)


def load_rosinality(obj) -> tuple[StyleGAN2Generator, dict]:
    """(generator, notes) from the object a rosinality `.pt` file holds."""
    sd, latent_avg, which = pick_generator(obj)
    cfg, notes = infer_config(sd)
    mapped, used = to_nvidia_names(sd, cfg, latent_avg)
    extra = sorted(set(sd) - used)
    if extra:
        raise CheckpointError(f"rosinality checkpoint with unrecognised tensors "
                              f"({', '.join(extra[:3])}{'…' if len(extra) > 3 else ''})")
    defaults = {"mapping.w_avg": torch.zeros(cfg.w_dim)}  # for what the file lacks
    gen = torch.Generator().manual_seed(0)
    noise_missing = []
    for block_res in [2 ** i for i in range(2, cfg.img_resolution.bit_length())]:
        for conv in ("conv0", "conv1"):
            if block_res == 4 and conv == "conv0":
                continue
            key = f"synthesis.b{block_res}.{conv}.noise_const"
            if key not in mapped:
                noise_missing.append(key)
                defaults[key] = torch.randn([block_res, block_res], generator=gen)
            defaults[f"synthesis.b{block_res}.{conv}.resample_filter"] = setup_filter()
        defaults[f"synthesis.b{block_res}.resample_filter"] = setup_filter()
    G = build_stylegan2(cfg, {**defaults, **mapped}, f"rosinality {which}")
    notes = {"network": which, **notes}
    if noise_missing:
        notes["noise maps"] = f"{len(noise_missing)} missing: const noise drawn from seed 0"
    if latent_avg is None:
        estimate_w_avg(G)
        notes["w_avg"] = f"not stored: estimated from {W_AVG_SAMPLES} z (seed 0)"
    return G, notes
