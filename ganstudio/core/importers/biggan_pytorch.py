"""Import BigGAN-PyTorch generator state dicts (`G.pth`, `G_ema.pth`, TFHub-ported weights).

The files are bare `torch.save(G.state_dict())` dicts of tensors, either in the zip format
(torch ≥ 1.6) or the older pickle-stream format of the 2019 releases; both are read with
`torch.load(weights_only=True)`, which never runs code from the file. The files carry no config:
it is inferred from tensor shapes (resolution from the block count, G_ch, dim_z, shared_dim,
n_classes, skip-z, attention resolutions, number of singular vectors).

Eps choices (not stored in the files, and BN eps moves the output by ~1e-4):
- files without any `sv0` key are TFHub ports (their converter loads with `strict=False`, so the
  sigma logs are absent): BN eps = SN eps = 1e-4, the values of the TF models;
- otherwise they were trained with BigGAN-PyTorch: BN eps 1e-5, SN eps 1e-6 (its ImageNet launch
  scripts; SN eps only matters for near-zero vectors).
Both can be overridden with `bn_eps=` / `sn_eps=`; `meta["eps_reason"]` says which rule applied.
"""
from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from ..biggan import G_CHANNELS, BigGANConfig, BigGANGenerator
from ..biggan_layers import sn_layers
from ..checkpoint import CheckpointError

TFHUB_EPS = 1e-4
PYTORCH_BN_EPS, PYTORCH_SN_EPS = 1e-5, 1e-6
_SIGNATURE = ("shared.weight", "linear.weight", "blocks.0.0.conv1.weight",
              "blocks.0.0.bn1.gain.weight", "output_layer.2.weight")


def _strip_prefix(sd: Mapping) -> dict:
    """Drop a DataParallel `module.` prefix when every key has it."""
    keys = list(sd)
    if keys and all(isinstance(k, str) and k.startswith("module.") for k in keys):
        return {k[len("module."):]: v for k, v in sd.items()}
    return dict(sd)


def looks_like_biggan_state_dict(sd) -> bool:
    """True for a BigGAN-PyTorch generator state dict (shared embedding, skip-z linear, ccbn)."""
    if not isinstance(sd, Mapping):
        return False
    sd = _strip_prefix(sd)
    return all(isinstance(sd.get(k), torch.Tensor) for k in _SIGNATURE)


def _shape(sd: dict, key: str) -> tuple:
    if key not in sd:
        raise CheckpointError(f"BigGAN state dict lacks {key!r}")
    return tuple(sd[key].shape)


def infer_config(sd: Mapping, bn_eps: float | None = None, sn_eps: float | None = None
                 ) -> tuple[BigGANConfig, dict]:
    """The generator config a BigGAN-PyTorch state dict was built with, and notes on the guesses."""
    sd = _strip_prefix(sd)
    n_blocks = 0
    while f"blocks.{n_blocks}.0.conv1.weight" in sd:
        n_blocks += 1
    linear_out, linear_in = _shape(sd, "linear.weight")
    if n_blocks == 0:
        raise CheckpointError("BigGAN state dict has no generator blocks")
    c0 = _shape(sd, "blocks.0.0.conv1.weight")[1]
    bottom_width = round((linear_out / c0) ** 0.5)
    resolution = bottom_width * 2 ** n_blocks
    if bottom_width != 4 or resolution not in G_CHANNELS:
        raise CheckpointError(f"unsupported BigGAN layout: {n_blocks} blocks from a "
                              f"{bottom_width}×{bottom_width} start (supported: "
                              f"{', '.join(str(r) for r in sorted(G_CHANNELS))} px)")
    ch = c0 // G_CHANNELS[resolution][0][0]
    for i, (a, b) in enumerate(G_CHANNELS[resolution]):
        got = _shape(sd, f"blocks.{i}.0.conv1.weight")[:2]
        if got != (b * ch, a * ch):
            raise CheckpointError(f"blocks.{i}.0.conv1 has shape {got}; the {resolution} px "
                                  f"BigGAN layout with G_ch {ch} expects {(b * ch, a * ch)}")
    n_classes, shared_dim = _shape(sd, "shared.weight")
    cond_dim = _shape(sd, "blocks.0.0.bn1.gain.weight")[1]
    if cond_dim == shared_dim + linear_in:
        hier, z_dim = True, linear_in * (n_blocks + 1)
    elif cond_dim == shared_dim:
        hier, z_dim = False, linear_in
    else:
        raise CheckpointError(f"cannot tell the z layout: ccbn input {cond_dim}, embedding "
                              f"{shared_dim}, linear input {linear_in}")
    block_res = [bottom_width * 2 ** (i + 1) for i in range(n_blocks)]
    attn = tuple(r for i, r in enumerate(block_res) if f"blocks.{i}.1.gamma" in sd)
    num_svs = len([k for k in sd if re.fullmatch(r"linear\.u\d+", k)])
    if num_svs == 0:
        raise CheckpointError("BigGAN state dict has no spectral-norm vectors (u0): only "
                              "spectrally normalised generators are supported")
    tfhub = not any(k.endswith(".sv0") for k in sd)
    if tfhub:
        reason = "no sv0 keys: TFHub-ported weights, eps 1e-4"
        default_bn, default_sn = TFHUB_EPS, TFHUB_EPS
    else:
        reason = "sv0 keys present: BigGAN-PyTorch-trained weights, BN eps 1e-5, SN eps 1e-6"
        default_bn, default_sn = PYTORCH_BN_EPS, PYTORCH_SN_EPS
    if bn_eps is not None or sn_eps is not None:
        reason += " (overridden by the caller)"
    config = BigGANConfig(img_resolution=resolution, ch=ch, z_dim=z_dim, shared_dim=shared_dim,
                          n_classes=n_classes, hier=hier, attn_resolutions=attn,
                          bn_eps=default_bn if bn_eps is None else float(bn_eps),
                          sn_eps=default_sn if sn_eps is None else float(sn_eps),
                          num_svs=num_svs, bottom_width=bottom_width, d_ch=ch,
                          d_attn_resolutions=attn)
    return config, {"tfhub_port": tfhub, "eps_reason": reason}


def biggan_from_state_dict(sd: Mapping, bn_eps: float | None = None, sn_eps: float | None = None
                           ) -> tuple[BigGANGenerator, dict]:
    """Build the generator for a state dict and load it; missing `sv*` logs get the eval sigma."""
    if not looks_like_biggan_state_dict(sd):
        raise CheckpointError("not a BigGAN-PyTorch generator state dict")
    sd = _strip_prefix(sd)
    config, notes = infer_config(sd, bn_eps, sn_eps)
    with torch.device("meta"):  # skip the (slow, orthogonal) random init: every value is loaded
        G = BigGANGenerator(config)
    G = G.to_empty(device="cpu")
    try:
        result = G.load_state_dict(sd, strict=False)
    except (RuntimeError, TypeError, AttributeError) as e:
        first = str(e).strip().splitlines()[-1].strip() if str(e).strip() else type(e).__name__
        raise CheckpointError(f"BigGAN weights do not fit the inferred layout ({first})") from None
    missing = [k for k in result.missing_keys if not re.search(r"\.sv\d+$", k)]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"BigGAN weights do not fit the inferred layout (missing "
                              f"{missing[:3]}, unexpected {result.unexpected_keys[:3]})")
    G.eval().requires_grad_(False)
    absent = set(result.missing_keys)
    for name, layer in sn_layers(G).items():
        for i in range(layer.num_svs):
            if f"{name}.sv{i}" in absent:
                getattr(layer, f"sv{i}").fill_(float(layer.sigma()))
    return G, {**notes, "config": dataclasses.asdict(config)}


def _read_state_dict(path: Path) -> tuple[Mapping, str]:
    try:
        serialization = "zip" if zipfile.is_zipfile(path) else "legacy"
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    except Exception as e:  # noqa: BLE001  (any unreadable or unsafe pickle → one-line error)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a loadable torch state dict ({first})") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    return obj, serialization


def load_biggan(path: str | os.PathLike, bn_eps: float | None = None,
                sn_eps: float | None = None) -> tuple[BigGANGenerator, dict]:
    """Load a BigGAN-PyTorch `G.pth` / `G_ema.pth` → (generator in eval mode, meta dict).

    meta: `format` ("biggan-pytorch"), `serialization` ("zip" | "legacy"), `tfhub_port`,
    `eps_reason`, `config` (the inferred `BigGANConfig` as a dict), `which` ("G_ema" when the
    file name says so, else "G").
    """
    path = Path(path)
    sd, serialization = _read_state_dict(path)
    if not looks_like_biggan_state_dict(sd):
        raise CheckpointError(f"{path}: not a BigGAN-PyTorch generator state dict")
    G, meta = biggan_from_state_dict(sd, bn_eps, sn_eps)
    which = "G_ema" if "ema" in path.name.lower() else "G"
    return G, {"format": "biggan-pytorch", "serialization": serialization, "which": which, **meta}
