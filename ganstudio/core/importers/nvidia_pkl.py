"""NVIDIA StyleGAN2-ADA / StyleGAN3 (`--cfg=stylegan2`) network pickles → our StyleGAN2 generator.

Layout: ../shared/reference/NVIDIA_PKL_FORMAT.md. The pickle is read by the restricted unpickler;
each network object arrives as a `PersistentRecord` whose `state` is the module `__dict__`. We walk
`_parameters`, `_buffers` (minus non-persistent ones) and `_modules` into the official state dict,
which our generator loads by name, and build the config from the Generator's `_init_kwargs`.
"""
from __future__ import annotations

import os
import re
from collections import OrderedDict
from typing import Mapping

import torch

from ..checkpoint import CheckpointError
from ..stylegan2 import StyleGAN2Config, StyleGAN2Generator
from .safe_unpickle import NVIDIA_PKL_GLOBALS, PersistentRecord, RestrictedUnpickler

MAX_DEPTH = 32
_STYLEGAN3_LAYER = re.compile(r"^synthesis\.(input|L\d+_\d+_\d+)\.")


# ---------------------------------------------------------------------------------------------
# records → state dict
# ---------------------------------------------------------------------------------------------

def _dict_like(x, what: str) -> Mapping:
    if x is None:
        return {}
    if not isinstance(x, dict):  # dict, OrderedDict (torch 1.x) and our EasyDict
        raise CheckpointError(f"damaged network record: {what} is not a dict")
    return x


def record_state_dict(record: PersistentRecord, prefix: str = "", depth: int = 0,
                      out: OrderedDict | None = None) -> OrderedDict:
    """The module's state_dict, in the official order: parameters, buffers, then children."""
    out = OrderedDict() if out is None else out
    if depth > MAX_DEPTH:
        raise CheckpointError("damaged network record: modules nested too deeply")
    state = record.state
    params = _dict_like(state.get("_parameters"), "_parameters")
    buffers = _dict_like(state.get("_buffers"), "_buffers")
    non_persistent = state.get("_non_persistent_buffers_set") or set()
    for group in (params, {k: v for k, v in buffers.items() if k not in non_persistent}):
        for name, t in group.items():
            if t is None:
                continue
            if not isinstance(t, torch.Tensor):
                raise CheckpointError(f"damaged network record: {prefix}{name} is not a tensor")
            out[prefix + str(name)] = t
    for name, child in _dict_like(state.get("_modules"), "_modules").items():
        if child is None:
            continue
        if not isinstance(child, PersistentRecord):
            raise CheckpointError(f"damaged network record: submodule {prefix}{name} is "
                                  f"{type(child).__name__}, not a network object")
        record_state_dict(child, f"{prefix}{name}.", depth + 1, out)
    return out


def _records(record: PersistentRecord, depth: int = 0):
    yield record
    if depth < MAX_DEPTH:
        for child in _dict_like(record.state.get("_modules"), "_modules").values():
            if isinstance(child, PersistentRecord):
                yield from _records(child, depth + 1)


# ---------------------------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------------------------

def fit_channels(table: Mapping[int, int]) -> dict:
    """channel_base/channel_max reproducing `table` under min(base // res, max), else the table."""
    table = {int(r): int(c) for r, c in table.items()}
    cmax = max(table.values())
    candidates = [32768, 16384] + [c * r for r, c in sorted(table.items())]
    for base in candidates:
        if all(min(base // r, cmax) == c for r, c in table.items()):
            return {"channel_base": base, "channel_max": cmax}
    return {"channel_table": table}


def _int(d: Mapping, key: str, default=None) -> int:
    v = d.get(key, default)
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise CheckpointError(f"network arguments: {key} is {v!r}, expected an integer")
    return int(v)


_KNOWN_SYNTHESIS = {"channel_base", "channel_max", "conv_clamp", "architecture"}
_SPEED_ONLY = {"num_fp16_res", "fused_modconv_default", "fp16_channels_last", "use_fp16"}
_KNOWN_TOP = {"z_dim", "w_dim", "c_dim", "img_resolution", "img_channels"}
_KNOWN_MAPPING = {"num_layers", "lr_multiplier", "w_avg_beta", "layer_features", "embed_features",
                  "activation"}


def config_from_init_kwargs(init_kwargs: Mapping) -> tuple[StyleGAN2Config, dict]:
    """The Generator's constructor arguments → config, plus notes on what was ignored.

    stylegan2-ada nests `synthesis_kwargs` / `mapping_kwargs`; stylegan3's networks_stylegan2
    passes the synthesis arguments flat beside `mapping_kwargs`.
    """
    kw = dict(init_kwargs)
    syn = dict(kw.pop("synthesis_kwargs", None) or {})
    mapk = dict(kw.pop("mapping_kwargs", None) or {})
    flat = {**kw, **syn}
    notes: dict = {"writer": "stylegan3 networks_stylegan2" if "channel_base" in kw
                   else "stylegan2-ada-pytorch"}
    w_dim = _int(flat, "w_dim")
    arch = flat.get("architecture", "skip")
    if arch != "skip":
        raise CheckpointError(f"StyleGAN2 generator with architecture {arch!r} is not supported "
                              "(only 'skip', config F)")
    for key in ("layer_features", "embed_features"):
        if mapk.get(key) not in (None, w_dim):
            raise CheckpointError(f"mapping network with {key}={mapk[key]} is not supported")
    if mapk.get("activation", "lrelu") != "lrelu":
        raise CheckpointError(f"mapping activation {mapk['activation']!r} is not supported")
    clamp = flat.get("conv_clamp")
    cfg = StyleGAN2Config(
        img_resolution=_int(flat, "img_resolution"), z_dim=_int(flat, "z_dim"), w_dim=w_dim,
        c_dim=_int(flat, "c_dim", 0), img_channels=_int(flat, "img_channels", 3),
        channel_base=_int(flat, "channel_base", 32768), channel_max=_int(flat, "channel_max", 512),
        mapping_layers=_int(mapk, "num_layers", 8),
        mapping_lr_multiplier=float(mapk.get("lr_multiplier", 0.01)),
        conv_clamp=None if clamp is None else float(clamp))
    ignored = {k: flat[k] for k in _SPEED_ONLY if k in flat}
    if ignored:
        notes["ignored (speed only)"] = ignored
    unknown = sorted(set(flat) - _KNOWN_TOP - _KNOWN_SYNTHESIS - _SPEED_ONLY) + \
        sorted(f"mapping.{k}" for k in set(mapk) - _KNOWN_MAPPING)
    if unknown:
        notes["unrecognised arguments"] = unknown
    return cfg, notes


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> tuple[StyleGAN2Config, dict]:
    """Infer the config of an official-named StyleGAN2 state dict from its tensor shapes."""
    res = sorted(int(m.group(1)) for k in sd
                 if (m := re.fullmatch(r"synthesis\.b(\d+)\.conv1\.weight", k)))
    if not res or res != [2 ** i for i in range(2, 2 + len(res))]:
        raise CheckpointError("not a StyleGAN2 generator: no synthesis blocks b4, b8, …")
    try:
        table = {r: int(sd[f"synthesis.b{r}.conv1.weight"].shape[0]) for r in res}
        w_dim = int(sd["synthesis.b4.conv1.affine.weight"].shape[1])
        c_dim = int(sd["mapping.embed.weight"].shape[1]) if "mapping.embed.weight" in sd else 0
        z_dim = int(sd["mapping.fc0.weight"].shape[1]) - (w_dim if c_dim else 0)
        img_channels = int(sd["synthesis.b4.torgb.weight"].shape[0])
    except (KeyError, IndexError) as e:
        raise CheckpointError(f"not a StyleGAN2 generator: tensor {e} missing or misshapen") from None
    layers = sum(1 for k in sd if re.fullmatch(r"mapping\.fc\d+\.weight", k))
    cfg = StyleGAN2Config(img_resolution=res[-1], z_dim=z_dim, w_dim=w_dim, c_dim=c_dim,
                          img_channels=img_channels, mapping_layers=layers, **fit_channels(table))
    return cfg, {"config": "inferred from tensor shapes (conv_clamp unknown: none)"}


# ---------------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------------

def build_stylegan2(config: StyleGAN2Config, sd: Mapping[str, torch.Tensor],
                    what: str = "generator") -> StyleGAN2Generator:
    """Our generator with exactly these official-named weights (every name and shape checked)."""
    G = StyleGAN2Generator(config)
    own = G.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    misshapen = [f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}"
                 for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or misshapen:
        parts = [f"{n} {len(v)} (e.g. {', '.join(v[:2])})" for n, v in
                 (("missing", missing), ("unexpected", unexpected), ("wrong shape", misshapen)) if v]
        raise CheckpointError(f"{what} weights do not fit its StyleGAN2 config: " + "; ".join(parts))
    if not all(t.is_floating_point() for t in sd.values()):
        raise CheckpointError(f"{what} weights include non-float tensors")
    G.load_state_dict(sd)
    return G.eval().requires_grad_(False)


def is_stylegan3(names) -> bool:
    return any(_STYLEGAN3_LAYER.match(k) for k in names)


def generator_from_nvidia_state(sd: Mapping[str, torch.Tensor], init_kwargs=None,
                                what: str = "G_ema") -> tuple[StyleGAN2Generator, dict]:
    if is_stylegan3(sd):
        raise CheckpointError("StyleGAN3 (-T/-R) generators are not supported; StyleGAN2 "
                              "networks (including stylegan3's --cfg=stylegan2) are")
    if "synthesis.b4.const" not in sd or "mapping.fc0.weight" not in sd:
        raise CheckpointError(f"{what} is not a StyleGAN2 generator (tensors: "
                              f"{', '.join(list(sd)[:3])}…)")
    if isinstance(init_kwargs, dict):
        config, notes = config_from_init_kwargs(init_kwargs)
    else:
        config, notes = config_from_state_dict(sd)
    return build_stylegan2(config, sd, what), notes


def read_nvidia_pickle(path: str | os.PathLike):
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, NVIDIA_PKL_GLOBALS).load()


def load_nvidia_pickle(path: str | os.PathLike) -> tuple[StyleGAN2Generator, dict]:
    """(generator, notes) from a network pickle; G_ema is used (G when there is no G_ema)."""
    data = read_nvidia_pickle(path)
    notes: dict = {}
    if isinstance(data, PersistentRecord):
        net, which = data, data.class_name
    elif isinstance(data, dict):
        which = next((k for k in ("G_ema", "G") if isinstance(data.get(k), PersistentRecord)), None)
        if which is None:
            raise CheckpointError(f"a pickle without a generator (keys: {', '.join(map(str, data))})")
        net = data[which]
        tsk = data.get("training_set_kwargs")
        if isinstance(tsk, dict):
            notes["training_set"] = {str(k): v for k, v in tsk.items()
                                     if isinstance(v, (str, int, float, bool, type(None)))}
    else:
        raise CheckpointError(f"a pickle of a {type(data).__name__}, not a network snapshot")
    for rec in _records(net):
        arch = rec.state.get("architecture")
        if rec.class_name == "SynthesisBlock" and arch not in (None, "skip"):
            raise CheckpointError(f"StyleGAN2 generator with architecture {arch!r} is not "
                                  "supported (only 'skip', config F)")
    sd = record_state_dict(net)
    G, cfg_notes = generator_from_nvidia_state(sd, net.state.get("_init_kwargs"), which)
    return G, {"network": which, **cfg_notes, **notes}
