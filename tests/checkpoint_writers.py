"""Test helpers that write third-party checkpoint layouts from our own modules and weights.

- NVIDIA network pickles (NVIDIA_PKL_FORMAT.md): every module becomes a call of
  `torch_utils.persistence._reconstruct_persistent_obj(meta)`; the stand-in modules that give
  pickle those names exist in `sys.modules` only while writing. Tensors and Parameters are pickled
  by torch itself, so the stream holds the real `_rebuild_tensor_v2` / `_rebuild_parameter` /
  `_load_from_bytes` calls. The embedded `module_src` creates a marker file if anything ever
  executes it.
- rosinality stylegan2-pytorch `.pt` files (ROSINALITY_FORMAT.md) by the inverse key map.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from ganstudio.core.layers import setup_filter
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator


# ---------------------------------------------------------------------------------------------
# stand-ins for the names NVIDIA's pickles use
# ---------------------------------------------------------------------------------------------

def _reconstruct_persistent_obj(meta):  # only its name is written; never called
    raise AssertionError("stand-in must not be called")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class EasyDict(dict):
    pass


EasyDict.__module__ = "dnnlib.util"


def _numpy1_scalar(dtype, data):  # written as numpy.core.multiarray.scalar (numpy < 2 name)
    raise AssertionError("stand-in must not be called")


_numpy1_scalar.__module__ = "numpy.core.multiarray"
_numpy1_scalar.__qualname__ = _numpy1_scalar.__name__ = "scalar"


@contextlib.contextmanager
def stand_in_modules(numpy_v1: bool = False):
    names = {"torch_utils": {}, "torch_utils.persistence":
             {"_reconstruct_persistent_obj": _reconstruct_persistent_obj},
             "dnnlib": {}, "dnnlib.util": {"EasyDict": EasyDict}}
    if numpy_v1:
        names["numpy.core.multiarray"] = {"scalar": _numpy1_scalar}
    saved = {n: sys.modules.get(n) for n in names}
    try:
        for n, attrs in names.items():
            m = types.ModuleType(n)
            m.__dict__.update(attrs)
            sys.modules[n] = m
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old


class Persistent:
    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,)


class _Pickler(pickle.Pickler):
    """numpy scalars under their numpy < 2 name on request; storage blobs replaceable."""

    def __init__(self, f, protocol: int, numpy_v1: bool, storage_blob=None):
        super().__init__(f, protocol=protocol)
        self.numpy_v1 = numpy_v1
        self.storage_blob = storage_blob

    def reducer_override(self, obj):
        if self.numpy_v1 and isinstance(obj, np.generic):
            return _numpy1_scalar, (obj.dtype, obj.tobytes())
        if self.storage_blob is not None and isinstance(obj, torch.storage.TypedStorage):
            return torch.storage._load_from_bytes, (self.storage_blob(obj),)
        return NotImplemented


def dump_pickle(obj, protocol: int = 4, numpy_v1: bool = False, storage_blob=None) -> bytes:
    """Pickle as NVIDIA's code would; `storage_blob(storage) -> bytes` replaces storage blobs."""
    with stand_in_modules(numpy_v1):
        f = io.BytesIO()
        _Pickler(f, protocol, numpy_v1, storage_blob).dump(obj)
        return f.getvalue()


# ---------------------------------------------------------------------------------------------
# NVIDIA records from our modules
# ---------------------------------------------------------------------------------------------

def module_source(marker: Path) -> str:
    """A module_src that would create `marker` if anyone executed it."""
    return (f"open({str(marker)!r}, 'w').write('module_src was executed')\n"
            "class Generator: pass\n" + "# padding\n" * 50)


_CLASS_NAMES = {"StyleGAN2Generator": "Generator"}
_HOOKS = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_pre_hooks",
          "_state_dict_hooks", "_load_state_dict_pre_hooks")


def _attributes(m) -> dict:
    name = type(m).__name__
    if name == "FullyConnectedLayer":
        return {"activation": m.activation, "weight_gain": np.float64(m.weight_gain),
                "bias_gain": m.bias_gain}
    if name == "SynthesisLayer":
        return {"resolution": m.resolution, "up": m.up, "use_noise": True, "activation": "lrelu",
                "conv_clamp": m.conv_clamp, "padding": m.padding, "act_gain": np.float64(m.act_gain)}
    if name == "ToRGBLayer":
        return {"conv_clamp": m.conv_clamp, "weight_gain": np.float64(m.weight_gain)}
    if name == "SynthesisBlock":
        return {"in_channels": m.in_channels, "w_dim": 512, "resolution": m.resolution,
                "img_channels": 3, "is_last": False, "architecture": "skip", "use_fp16": False,
                "channels_last": False, "num_conv": m.num_conv, "num_torgb": m.num_torgb}
    if name == "StyleGAN2Generator":
        return {"z_dim": m.z_dim, "c_dim": m.c_dim, "w_dim": m.w_dim,
                "img_resolution": m.img_resolution, "img_channels": m.img_channels,
                "num_ws": m.num_ws}
    return {}


def record(m: torch.nn.Module, src: str, dict_type=dict, init_kwargs: dict | None = None,
           extra_state: dict | None = None) -> Persistent:
    """The persistent-object record of a module and, recursively, its children."""
    params = dict_type((n, None if p is None else torch.nn.Parameter(p.detach().clone(), False))
                       for n, p in m._parameters.items())
    buffers = dict_type((n, b.detach().clone()) for n, b in m._buffers.items())
    state = {"training": False, "_parameters": params, "_buffers": buffers,
             "_non_persistent_buffers_set": set()}
    state.update({h: OrderedDict() for h in _HOOKS})
    state["_modules"] = dict_type((n, record(c, src, dict_type)) for n, c in m._modules.items())
    state.update(_attributes(m))
    state["_init_args"] = ()
    state["_init_kwargs"] = init_kwargs if init_kwargs is not None else {}
    state.update(extra_state or {})
    name = type(m).__name__
    return Persistent({"type": "class", "version": 6, "module_src": src,
                       "class_name": _CLASS_NAMES.get(name, name), "state": state})


def init_kwargs(cfg: StyleGAN2Config, layout: str = "ada", num_fp16_res: int = 0) -> dict:
    """The Generator's `_init_kwargs` as stylegan2-ada (nested) or stylegan3 (flat) write them."""
    mapping = EasyDict(num_layers=cfg.mapping_layers)
    synthesis = {"channel_base": cfg.channel_base, "channel_max": cfg.channel_max,
                 "num_fp16_res": num_fp16_res, "conv_clamp": cfg.conv_clamp}
    top = {"z_dim": cfg.z_dim, "w_dim": cfg.w_dim}
    tail = {"c_dim": cfg.c_dim, "img_resolution": cfg.img_resolution,
            "img_channels": cfg.img_channels}
    if layout == "ada":
        return {**top, "mapping_kwargs": mapping, "synthesis_kwargs": EasyDict(synthesis), **tail}
    return {**top, "mapping_kwargs": mapping, **synthesis,
            "fused_modconv_default": "inference_only", **tail}


def snapshot(G_ema: torch.nn.Module, marker: Path, *, dict_type=dict, layout: str = "ada",
             G: torch.nn.Module | None = None, kwargs: dict | None = None) -> dict:
    """A network snapshot dict: training_set_kwargs, G, D, G_ema, augment_pipe."""
    src = module_source(marker)
    kw = kwargs if kwargs is not None else init_kwargs(G_ema.config, layout)
    D = torch.nn.Module()
    D.register_parameter("weight", torch.nn.Parameter(torch.randn(4, 4)))
    return {"training_set_kwargs": {"class_name": "training.dataset.ImageFolderDataset",
                                    "path": "/data/ffhq.zip", "use_labels": False,
                                    "max_size": 70000, "xflip": True, "resolution": 64},
            "G": record(G if G is not None else G_ema, src, dict_type, kw),
            "D": record(D, src, dict_type),
            "G_ema": record(G_ema, src, dict_type, kw),
            "augment_pipe": None}


# ---------------------------------------------------------------------------------------------
# reference generators
# ---------------------------------------------------------------------------------------------

def reference_generator(ref_dir: Path) -> StyleGAN2Generator:
    """Our generator holding the official reference weights (config from config.json)."""
    kw = json.loads((ref_dir / "config.json").read_text())["g_ema_init_kwargs"]
    syn = kw["synthesis_kwargs"]
    cfg = StyleGAN2Config(img_resolution=kw["img_resolution"], z_dim=kw["z_dim"], w_dim=kw["w_dim"],
                          channel_base=syn["channel_base"], channel_max=syn["channel_max"],
                          mapping_layers=kw["mapping_kwargs"]["num_layers"])
    G = StyleGAN2Generator(cfg).eval().requires_grad_(False)
    G.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(ref_dir / "g_ema_state.npz").items()})
    return G


# ---------------------------------------------------------------------------------------------
# rosinality layout
# ---------------------------------------------------------------------------------------------

def rosinality_state(G: StyleGAN2Generator) -> tuple[dict, torch.Tensor]:
    """(rosinality g_ema state dict, latent_avg) holding G's weights."""
    sd = G.state_dict()
    out = {}
    for i in range(G.mapping.num_layers):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.fc{i}.bias"]
    blur = setup_filter() * 4

    def conv(dst, src, up=False):
        out[f"{dst}.conv.weight"] = sd[f"{src}.weight"][None]
        if up:
            out[f"{dst}.conv.blur.kernel"] = blur.clone()
        out[f"{dst}.conv.modulation.weight"] = sd[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = sd[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = sd[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = sd[f"{src}.bias"]

    def rgb(dst, src, up=False):
        out[f"{dst}.bias"] = sd[f"{src}.bias"].reshape(1, -1, 1, 1)
        if up:
            out[f"{dst}.upsample.kernel"] = blur.clone()
        out[f"{dst}.conv.weight"] = sd[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = sd[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = sd[f"{src}.affine.bias"]

    out["input.input"] = sd["synthesis.b4.const"][None]
    conv("conv1", "synthesis.b4.conv1")
    rgb("to_rgb1", "synthesis.b4.torgb")
    noises = [sd["synthesis.b4.conv1.noise_const"]]
    for k, res in enumerate(G.synthesis.block_resolutions[1:]):
        conv(f"convs.{2 * k}", f"synthesis.b{res}.conv0", up=True)
        conv(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1")
        rgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb", up=True)
        noises += [sd[f"synthesis.b{res}.conv0.noise_const"], sd[f"synthesis.b{res}.conv1.noise_const"]]
    for i, n in enumerate(noises):
        out[f"noises.noise_{i}"] = n[None, None]
    return {k: v.clone() for k, v in out.items()}, sd["mapping.w_avg"].clone()


def save_rosinality(path: Path, G: StyleGAN2Generator, *, training: bool = False,
                    legacy: bool = False) -> None:
    """Converted layout {'g_ema', 'latent_avg'}, or a training checkpoint with pickled args."""
    g_ema, latent_avg = rosinality_state(G)
    if training:
        obj = {"g": {k: v + 0.5 for k, v in g_ema.items()}, "d": {"x": torch.ones(3)},
               "g_ema": g_ema, "g_optim": {"state": {}, "param_groups": [{"lr": 0.002}]},
               "d_optim": {"state": {}, "param_groups": [{"lr": 0.002}]},
               "args": argparse.Namespace(size=G.img_resolution, n_mlp=8, channel_multiplier=2,
                                          path="/data/lmdb", lr=0.002, augment=False),
               "ada_aug_p": 0.0}
    else:
        obj = {"g_ema": g_ema, "latent_avg": latent_avg}
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)


def tiny_generator(res=16, seed=0, **kw) -> StyleGAN2Generator:
    torch.manual_seed(seed)
    cfg = StyleGAN2Config(img_resolution=res, z_dim=16, w_dim=16, channel_base=8 * res,
                          channel_max=8, mapping_layers=2, **kw)
    G = StyleGAN2Generator(cfg).eval().requires_grad_(False)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith(("noise_strength", "bias")):
                p.normal_()
        G.mapping.w_avg.normal_()
    return G
