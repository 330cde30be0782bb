"""One entry point for every generator checkpoint GANStudio reads, without running code from it.

`load_generator(path)` detects the format from the file's content (not its name):
- zip (`PK\\x03\\x04`) or legacy torch.save stream → a PyTorch file: rosinality stylegan2-pytorch
  checkpoints, or a state dict in NVIDIA's naming;
- any other pickle (`\\x80`) → an NVIDIA StyleGAN2-ADA / StyleGAN3 network pickle;
- a safetensors header → GANStudio's native checkpoint (or a plain NVIDIA-named state dict).

Pickles go through `safe_unpickle.RestrictedUnpickler`; torch files through
`torch.load(weights_only=True)` (torch ≥ 2.6) and, when that refuses (e.g. rosinality's pickled
`args`), through the same restricted reader. Every failure is a `CheckpointError` with a one-line
reason.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..checkpoint import CheckpointError, read_checkpoint, read_header
from ..interface import GeneratorBase
from .biggan_pytorch import biggan_from_state_dict, looks_like_biggan_state_dict
from .nvidia_pkl import generator_from_nvidia_state, load_nvidia_pickle
from .rosinality import is_rosinality_state, load_rosinality
from .safe_unpickle import TORCH_FILE_GLOBALS, UnsafePickleError
from .torch_serialization import ZIP_MAGIC, is_legacy_torch, read_torch_file

__all__ = ["CheckpointError", "UnsafePickleError", "ModelMeta", "detect_format", "load_generator",
           "FORMAT_LABELS"]

FORMAT_LABELS = {
    "nvidia-pkl": "NVIDIA StyleGAN2-ADA / StyleGAN3 network pickle",
    "rosinality-pt": "rosinality stylegan2-pytorch checkpoint",
    "torch-state-dict": "PyTorch file holding an NVIDIA-named StyleGAN2 state dict",
    "safetensors-state-dict": "safetensors file holding an NVIDIA-named StyleGAN2 state dict",
    "ganstudio": "GANStudio checkpoint",
    "biggan-pytorch": "BigGAN-PyTorch generator state dict (G.pth / G_ema.pth)",
}


@dataclass(frozen=True)
class ModelMeta:
    """What was loaded, from where."""
    source_format: str      # a key of FORMAT_LABELS
    arch: str               # registry name, e.g. "stylegan2"
    img_resolution: int
    num_ws: int
    c_dim: int
    config: dict            # the generator's config as a plain dict
    path: str
    extra: dict = field(default_factory=dict)  # notes: network used, ignored arguments, …

    def describe(self) -> str:
        """A short human-readable summary (the `convert` command prints it)."""
        c = self.config
        parts = [f"{self.arch} {self.img_resolution}×{self.img_resolution}", f"{self.num_ws} ws"]
        dims = [f"{k[0]} {c[k]}" for k in ("z_dim", "w_dim", "c_dim") if k in c]
        if dims:
            parts.append(", ".join(dims))
        if c.get("channel_table"):
            parts.append(f"channels {c['channel_table']}")
        elif "channel_base" in c:
            parts.append(f"channel_base {c['channel_base']}, channel_max {c['channel_max']}")
        if "mapping_layers" in c:
            parts.append(f"mapping {c['mapping_layers']} layers")
        lines = [f"{FORMAT_LABELS.get(self.source_format, self.source_format)}: " + "; ".join(parts)]
        lines += [f"  {k}: {v}" for k, v in self.extra.items()]
        return "\n".join(lines)


def _one_line(msg: str) -> str:
    return " ".join(str(msg).split())


def detect_format(path: str | os.PathLike) -> str:
    """'torch' | 'pickle' | 'safetensors' from the first bytes, else CheckpointError."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{path}: no such file")
    if not p.is_file():
        raise CheckpointError(f"{path}: not a file")
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    if not head:
        raise CheckpointError(f"{path}: empty file")
    if head[:4] == ZIP_MAGIC or is_legacy_torch(head):
        return "torch"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    raise CheckpointError(f"{path}: not a checkpoint GANStudio can read (expected an NVIDIA .pkl, "
                          "a PyTorch .pt or a .safetensors file)")


def _torch_load_is_safe() -> bool:
    """weights_only=True had a code-execution hole before torch 2.6 (CVE-2025-32434)."""
    major, minor = (int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
    return (major, minor) >= (2, 6)


def _read_torch_object(path) -> tuple[object, str]:
    if _torch_load_is_safe():
        try:
            return torch.load(path, map_location="cpu", weights_only=True), "torch.load(weights_only=True)"
        except Exception:  # noqa: BLE001 — e.g. a pickled argparse.Namespace; our reader says why
            pass
    return read_torch_file(path, TORCH_FILE_GLOBALS), "restricted unpickler"


def read_torch_state_dict(path) -> dict:
    """A torch file holding a flat state dict (name → tensor), read without running code."""
    try:
        obj, _ = _read_torch_object(path)
    except CheckpointError:
        raise
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    except Exception as e:  # noqa: BLE001 — damaged or not a torch file → one line
        why = _one_line(str(e)) or type(e).__name__
        raise CheckpointError(f"{path}: not a readable torch file ({why})") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def _official_state(obj):
    """An NVIDIA-named generator state dict inside a loaded object, or None."""
    if isinstance(obj, dict) and "synthesis.b4.const" in obj:
        return obj, "state dict"
    if isinstance(obj, dict):
        for key in ("G_ema", "g_ema", "G", "g"):
            sd = obj.get(key)
            if isinstance(sd, dict) and "synthesis.b4.const" in sd:
                return sd, key
    return None, None


def _load(path: str, kind: str) -> tuple[GeneratorBase, str, dict]:
    if kind == "pickle":
        G, notes = load_nvidia_pickle(path)
        return G, "nvidia-pkl", notes
    if kind == "torch":
        obj, reader = _read_torch_object(path)
        sd, which = _official_state(obj)
        if sd is not None:
            G, notes = generator_from_nvidia_state(sd, None, which)
            return G, "torch-state-dict", {"network": which, **notes, "reader": reader}
        if looks_like_biggan_state_dict(obj):
            G, notes = biggan_from_state_dict(obj)
            notes.pop("config", None)
            return G, "biggan-pytorch", {**notes, "reader": reader}
        if is_rosinality_state(obj) or (isinstance(obj, dict) and any(
                is_rosinality_state(obj.get(k)) for k in ("g_ema", "g"))):
            G, notes = load_rosinality(obj)
            return G, "rosinality-pt", {**notes, "reader": reader}
        keys = ", ".join(map(str, list(obj)[:5])) if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"a PyTorch file, but not a generator GANStudio recognises ({keys})")
    # safetensors
    if read_header(path) is not None:
        ckpt = read_checkpoint(path)
        try:
            G = ckpt.build()
        except ValueError as e:  # unknown architecture, bad config
            raise CheckpointError(str(e)) from None
        return G, "ganstudio", {"meta": ckpt.meta} if ckpt.meta else {}
    from safetensors.torch import load_file
    G, notes = generator_from_nvidia_state(load_file(path), None, "state dict")
    return G, "safetensors-state-dict", notes


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu"
                   ) -> tuple[GeneratorBase, ModelMeta]:
    """(generator in eval mode on `device`, ModelMeta); CheckpointError with a one-line reason."""
    path = str(path)
    kind = detect_format(path)
    try:
        G, fmt, notes = _load(path, kind)
    except CheckpointError as e:
        msg = _one_line(str(e))
        e.args = (msg if msg.startswith(path) else f"{path}: {msg}",)
        raise
    except Exception as e:  # noqa: BLE001 — damaged data surfaces as many exception types
        reason = _one_line(f"{type(e).__name__}: {e}")[:300]
        raise CheckpointError(f"{path}: damaged or truncated file ({reason})") from None
    meta = ModelMeta(source_format=fmt, arch=G.arch, img_resolution=int(G.img_resolution),
                     num_ws=int(G.num_ws), c_dim=int(G.c_dim), config=G.config_dict(), path=path,
                     extra=notes)
    return G.to(device), meta
