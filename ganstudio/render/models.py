"""Model sources for the renderer: native checkpoints, other formats via core.importers, built-ins.

Nothing here executes code from a file: native checkpoints are safetensors; other formats go
through `ganstudio.core.importers.load_generator`, whose loaders are written to be safe.
"""
from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

import torch

from ganstudio.core.checkpoint import CheckpointError, load_native_generator, read_header
from ganstudio.core.interface import GeneratorBase
from ganstudio.core.layers import FullyConnectedLayer
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator

BUILTIN_DEFAULT = "builtin:default"
BUILTIN_SEED = 20240229
PACKAGE_ROOT = Path(__file__).resolve().parents[1]                # .../ganstudio
RESOURCE_DIRS = (PACKAGE_ROOT.parent / "resources", PACKAGE_ROOT / "resources")


class ModelLoadError(ValueError):
    """A model that cannot be loaded; the message is one line and says why."""


@dataclass
class LoadedSource:
    generator: GeneratorBase
    path: str
    source_format: str
    content_hash: str
    class_names: tuple = ()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def default_model_file() -> Path | None:
    for d in RESOURCE_DIRS:
        p = d / "default_model.safetensors"
        if p.is_file():
            return p
    return None


def default_face_reader_file() -> str:
    """The face-factor reader that ships in resources/ ("" when absent)."""
    for d in RESOURCE_DIRS:
        p = d / "face_reader.safetensors"
        if p.is_file():
            return str(p)
    return ""


def companion_directions(model_path: str | Path) -> str:
    """`NAME.directions.npz` beside model file `NAME.EXT`, if there is one ("" otherwise): the
    directions that ship with a model (the demo model's face factors), offered when it opens."""
    if not model_path or str(model_path).startswith("builtin:"):
        return ""
    p = Path(model_path)
    f = p.with_name(p.name.split(".")[0] + ".directions.npz")
    return str(f) if f.is_file() else ""


def builtin_default_config() -> StyleGAN2Config:
    """256², light channels (≈1.9 GFLOP a frame): live on a laptop CPU."""
    return StyleGAN2Config(img_resolution=256, z_dim=512, w_dim=512, channel_base=4096,
                           channel_max=256, mapping_layers=8)


def build_builtin_default(config: StyleGAN2Config | None = None,
                          seed: int = BUILTIN_SEED) -> StyleGAN2Generator:
    """A StyleGAN2 whose every parameter is drawn from a `torch.Generator(seed)`.

    The global RNG is left untouched (the constructor's own draws run inside fork_rng and are
    overwritten). w_avg is the mean W of 1,000 z from the same generator, so ψ works.
    """
    config = config or builtin_default_config()
    with torch.random.fork_rng(devices=[]):
        G = StyleGAN2Generator(config)
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, module in G.named_modules():
            if isinstance(module, FullyConnectedLayer):
                module.weight.copy_(torch.randn(module.weight.shape, generator=g)
                                    / module.bias_gain)
            for pname, p in module.named_parameters(recurse=False):
                if pname == "weight" and isinstance(module, FullyConnectedLayer):
                    continue
                if pname in ("weight", "const"):
                    p.copy_(torch.randn(p.shape, generator=g))
                elif pname == "noise_strength":
                    p.fill_(0.1)
            for bname, b in module.named_buffers(recurse=False):
                if bname == "noise_const":
                    b.copy_(torch.randn(b.shape, generator=g))
        z = torch.randn([1000, config.z_dim], generator=g)
        G.mapping.w_avg.copy_(G.mapping(z)[:, 0].mean(dim=0))
    return G.eval().requires_grad_(False)


def load_source(source: str) -> LoadedSource:
    """File path or "builtin:default" → generator on the CPU (raises ModelLoadError)."""
    if source == BUILTIN_DEFAULT:
        f = default_model_file()
        if f is None:
            return LoadedSource(build_builtin_default(), BUILTIN_DEFAULT, "builtin", "")
        source = str(f)
    elif source.startswith("builtin:"):
        raise ModelLoadError(f"unknown built-in model {source!r} (there is {BUILTIN_DEFAULT!r})")
    path = Path(source).expanduser()
    if not path.exists():
        raise ModelLoadError(f"{source}: no such file")
    if not path.is_file():
        raise ModelLoadError(f"{source}: not a file")
    try:
        header = read_header(path)
    except CheckpointError:
        header = None           # not safetensors at all: maybe another format
    native = header is not None
    try:
        if native:
            G = load_native_generator(path)
            fmt = "ganstudio"
        else:
            G, fmt = _import_other(path)
        digest = sha256_file(path)
    except ModelLoadError:
        raise
    except CheckpointError as e:
        raise ModelLoadError(str(e)) from None
    except OSError as e:
        raise ModelLoadError(f"{source}: cannot read ({e.strerror or e})") from None
    except Exception as e:  # noqa: BLE001 — any loader failure becomes one clear line
        raise ModelLoadError(f"{source}: cannot load ({type(e).__name__}: {e})") from None
    if not isinstance(G, GeneratorBase):
        raise ModelLoadError(f"{source}: the loader returned {type(G).__name__}, not a generator")
    return LoadedSource(G.eval().requires_grad_(False), str(path), fmt, digest,
                        _class_names(header, int(getattr(G, "c_dim", 0))))


def _class_names(header: dict | None, c_dim: int) -> tuple:
    """The checkpoint meta's `class_names` when it names every class, else ()."""
    names = ((header or {}).get("meta") or {}).get("class_names")
    if not isinstance(names, (list, tuple)) or len(names) != c_dim or c_dim == 0:
        return ()
    return tuple(str(n) for n in names)


def _import_other(path: Path) -> tuple[GeneratorBase, str]:
    """Formats other than ours, through core.importers when that module is present."""
    try:
        importers = importlib.import_module("ganstudio.core.importers")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("ganstudio.core.importers"):
            importers = None
        else:
            raise
    loader = getattr(importers, "load_generator", None) if importers is not None else None
    if loader is None:
        raise ModelLoadError(f"{path}: format not supported yet (this version reads GANStudio "
                             ".safetensors checkpoints only)")
    out = loader(str(path))
    fmt = ""
    if isinstance(out, tuple):
        out, extra = out[0], out[1:]
        for e in extra:           # e.g. (G, ModelMeta(source_format=…)) from core.importers
            if isinstance(e, str):
                fmt = e
            elif isinstance(e, dict):
                fmt = str(e.get("source_format") or e.get("format") or fmt)
            elif getattr(e, "source_format", None):
                fmt = str(e.source_format)
    fmt = fmt or str(getattr(out, "source_format", "")) or path.suffix.lstrip(".") or "unknown"
    return out, fmt
