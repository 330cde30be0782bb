"""GANStudio's native checkpoint: one `.safetensors` file, self-describing, loaded without code.

Tensors are stored under group prefixes (`G.`, `G_ema.`, `D.`, and any extra groups a trainer adds,
e.g. `opt_G.`); the safetensors metadata holds one JSON document under the key `ganstudio`:
`{"format": "ganstudio", "format_version": 1, "arch": ..., "config": {...}, "meta": {...}}`.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .interface import GeneratorBase
from .registry import build_generator

FORMAT_NAME = "ganstudio"
FORMAT_VERSION = 1
META_KEY = "ganstudio"
_UMASK = os.umask(0)  # read once at import (changing it later from threads would race)
os.umask(_UMASK)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: the message says why, in one line."""


@dataclass
class NativeCheckpoint:
    arch: str
    config: dict
    tensors: dict[str, dict[str, torch.Tensor]]
    meta: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def group(self, name: str) -> dict[str, torch.Tensor]:
        return self.tensors.get(name, {})

    def build(self, which: str = "G_ema") -> GeneratorBase:
        """The generator of group `which` (falls back to G when there is no G_ema)."""
        if which == "G_ema" and not self.group("G_ema"):
            which = "G"
        state = self.group(which)
        if not state:
            raise CheckpointError(f"the checkpoint has no generator weights (group {which!r})")
        G = build_generator(self.arch, self.config)
        _load_state(G, state, which)
        return G.eval().requires_grad_(False)


def _load_state(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        miss, extra = result.missing_keys[:3], result.unexpected_keys[:3]
        raise CheckpointError(f"{what} weights do not fit the architecture "
                              f"(missing {miss}, unexpected {extra})")


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call write(tmp_path), then move the finished file into place; never leaves a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 (and some writers recreate the file)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_checkpoint(path: str | os.PathLike, *, arch: str, config: dict,
                    groups: dict[str, dict[str, torch.Tensor] | torch.nn.Module],
                    meta: dict | None = None) -> None:
    """Write groups of tensors (modules are turned into their state dicts) atomically."""
    flat: dict[str, torch.Tensor] = {}
    for gname, tensors in groups.items():
        if tensors is None:
            continue
        if isinstance(tensors, torch.nn.Module):
            tensors = tensors.state_dict()
        for k, v in tensors.items():
            flat[f"{gname}.{k}"] = v.detach().to("cpu").clone().contiguous()  # no shared storage
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "arch": arch,
              "config": config, "meta": meta or {}}
    atomic_write(path, lambda tmp: save_file(flat, tmp, metadata={META_KEY: json.dumps(header)}))


def save_generator(path: str | os.PathLike, G: GeneratorBase, *, G_ema: GeneratorBase | None = None,
                   D: torch.nn.Module | None = None, meta: dict | None = None) -> None:
    groups = {"G": G, "G_ema": G_ema, "D": D}
    save_checkpoint(path, arch=G.arch, config=G.config_dict(), groups=groups, meta=meta)


def is_native(path: str | os.PathLike) -> bool:
    try:
        return read_header(path) is not None
    except CheckpointError:
        return False


def read_header(path: str | os.PathLike) -> dict | None:
    """The JSON header of a safetensors file, or None when it is a safetensors file without ours."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path}: file is too short to be a checkpoint")
            n = int.from_bytes(head, "little")
            if n <= 0 or n > 100_000_000:
                raise CheckpointError(f"{path}: not a safetensors file")
            raw = f.read(n)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: not a safetensors file (header is not JSON)") from None
    meta = header.get("__metadata__") or {}
    if META_KEY not in meta:
        return None
    try:
        doc = json.loads(meta[META_KEY])
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: GANStudio header is damaged") from None
    if doc.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path}: unknown checkpoint format {doc.get('format')!r}")
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer GANStudio (format version "
                              f"{doc.get('format_version')}); this one reads up to {FORMAT_VERSION}")
    return doc


def read_checkpoint(path: str | os.PathLike) -> NativeCheckpoint:
    doc = read_header(path)
    if doc is None:
        raise CheckpointError(f"{path}: a safetensors file, but not a GANStudio checkpoint "
                              "(no 'ganstudio' metadata)")
    try:
        flat = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: damaged tensor data ({e})") from None
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, t in flat.items():
        g, _, name = key.partition(".")
        groups.setdefault(g, {})[name] = t
    return NativeCheckpoint(arch=doc["arch"], config=doc.get("config", {}), tensors=groups,
                            meta=doc.get("meta", {}), format_version=int(doc["format_version"]))


def load_native_generator(path: str | os.PathLike, which: str = "G_ema") -> GeneratorBase:
    return read_checkpoint(path).build(which)
