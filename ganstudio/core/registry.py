"""Architecture name → (config dataclass, generator class, discriminator class)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from .interface import GeneratorBase


@dataclass(frozen=True)
class Architecture:
    name: str
    config_cls: type
    make_generator: Callable[[object], GeneratorBase]
    make_discriminator: Callable[[object], object] | None = None


_ARCHS: dict[str, Architecture] = {}


def register(arch: Architecture) -> None:
    _ARCHS[arch.name] = arch


def get_architecture(name: str) -> Architecture:
    _load_builtin()
    try:
        return _ARCHS[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(sorted(_ARCHS))}") from None


def architectures() -> list[str]:
    _load_builtin()
    return sorted(_ARCHS)


def config_from_dict(arch: str, values: dict):
    """Build the architecture's config dataclass, ignoring keys it does not know."""
    cls = get_architecture(arch).config_cls
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


def build_generator(arch: str, config) -> GeneratorBase:
    a = get_architecture(arch)
    if isinstance(config, dict):
        config = config_from_dict(arch, config)
    return a.make_generator(config)


def build_discriminator(arch: str, config):
    a = get_architecture(arch)
    if a.make_discriminator is None:
        raise ValueError(f"architecture {arch!r} has no discriminator")
    if isinstance(config, dict):
        config = config_from_dict(arch, config)
    return a.make_discriminator(config)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import architectures as _  # noqa: F401  (registers the built-in families)
