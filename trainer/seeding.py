"""Seeded randomness without touching torch's global RNG.

`seeded_build(make, seed)` constructs a network whose random initial values come from a
`torch.Generator`: while `make()` runs, a TorchFunctionMode hands that generator to every random
factory call that did not name one (the core networks draw their weights with `torch.randn`).
The global RNG state is neither read nor changed, so two builds with one seed are identical and
other threads drawing from the global RNG are unaffected.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import torch
from torch.overrides import TorchFunctionMode

T = TypeVar("T")

_RANDOM_FUNCS = {torch.randn, torch.rand, torch.randint, torch.randperm, torch.normal,
                 torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.random_,
                 torch.Tensor.bernoulli_, torch.Tensor.exponential_, torch.bernoulli,
                 torch.multinomial}
_UNSEEDABLE = {torch.randn_like, torch.rand_like, torch.randint_like}


class _GeneratorMode(TorchFunctionMode):
    def __init__(self, generator: torch.Generator):
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in _RANDOM_FUNCS and kwargs.get("generator") is None:
            kwargs["generator"] = self.generator
        elif func in _UNSEEDABLE:
            raise RuntimeError(f"{func.__name__} cannot take a generator; use torch.randn(shape)")
        return func(*args, **kwargs)


def seeded_build(make: Callable[[], T], seed: int) -> T:
    """Run `make()` with all its random draws taken from `torch.Generator().manual_seed(seed)`."""
    with _GeneratorMode(torch.Generator(device="cpu").manual_seed(int(seed))):
        return make()


def make_generator(device: torch.device | str, seed: int) -> torch.Generator:
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed) % (2 ** 63))


def derive_seed(seed: int, *parts: int) -> int:
    """A distinct 63-bit seed per (run seed, purpose, rank), stable across machines."""
    x = int(seed) & 0xFFFFFFFFFFFFFFFF
    for p in parts:
        # splitmix64 step
        x = (x + 0x9E3779B97F4A7C15 + int(p)) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x & 0x7FFFFFFFFFFFFFFF
