"""A pickle reader that admits only the globals a checkpoint format needs, and runs none of its code.

Plain `pickle.load` imports and calls whatever the stream names (`os.system`, `builtins.eval`…), and
NVIDIA's own loader `exec`s the module source stored in its pickles. `RestrictedUnpickler` answers
every GLOBAL / STACK_GLOBAL / INST / EXT lookup from a fixed table of *our* replacements; any other
name raises `UnsafePickleError` at the moment the opcode is read, before the stream can call it.

The replacements only build data: tensors from storages we parsed ourselves, plain dicts, Python
numbers, and inert records for NVIDIA's persistent classes and argparse namespaces. None of them
imports a module named in the file or evaluates a string from it.
"""
from __future__ import annotations

import io
import math
import pickle
from collections import OrderedDict
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..checkpoint import CheckpointError

# Prefixes of refused globals that mean "a format we know but do not read", to say so plainly.
_HINTS = {
    "dnnlib.tflib": "a TensorFlow-era NVIDIA pickle (StyleGAN / StyleGAN2-TF); only the PyTorch "
                    "releases (stylegan2-ada-pytorch, stylegan3) are supported",
}


class UnsafePickleError(CheckpointError):
    """The pickle names a global outside the allowlist; nothing from it was executed."""

    def __init__(self, global_name: str):
        self.global_name = global_name
        hint = next((h for p, h in _HINTS.items() if global_name.startswith(p)), None)
        msg = (f"refused: the file asks for the Python global '{global_name}', which this checkpoint "
               "format never needs (loading it could run code); nothing from the file was executed")
        super().__init__(msg + (f" — {hint}" if hint else ""))


# ---------------------------------------------------------------------------------------------
# Shared objects handed to the stream cannot be modified by it
# ---------------------------------------------------------------------------------------------
# A stream may BUILD (set attributes on) anything it can reference, including the callables the
# allowlist gives it. Those are shared by every load in the process, so they refuse attribute
# assignment: a file cannot change how the next file is read.

class _FrozenClass(type):
    def __setattr__(cls, name, value):
        raise CheckpointError("damaged pickle: tries to modify a class")

    def __delattr__(cls, name):
        raise CheckpointError("damaged pickle: tries to modify a class")


class _Frozen:
    __slots__ = ()

    def __setattr__(self, name, value):
        raise CheckpointError("damaged pickle: tries to modify a shared object")

    __delattr__ = __setattr__


class _Call(_Frozen):
    """An allowlisted function, callable by the stream but not modifiable by it."""
    __slots__ = ("_fn",)

    def __init__(self, fn: Callable):
        object.__setattr__(self, "_fn", fn)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<allowed {self._fn.__name__}>"


# ---------------------------------------------------------------------------------------------
# Inert stand-ins
# ---------------------------------------------------------------------------------------------

class EasyDict(dict, metaclass=_FrozenClass):
    """Stand-in for `dnnlib.util.EasyDict`: a plain dict subclass (no attribute magic)."""


class PersistentRecord:
    """What `torch_utils.persistence._reconstruct_persistent_obj(meta)` becomes: the `meta` dict as
    data. `meta['module_src']` stays an inert string; nothing is imported or executed."""

    def __init__(self, meta: dict):
        self.meta = meta

    @property
    def class_name(self) -> str:
        return str(self.meta.get("class_name", "?"))

    @property
    def state(self) -> dict:
        return self.meta.get("state")

    def __repr__(self) -> str:
        return f"<persistent {self.class_name}>"


def reconstruct_persistent_obj(meta) -> PersistentRecord:
    if not isinstance(meta, dict):
        raise CheckpointError("a persistent object without its description (meta is not a dict)")
    if meta.get("type") != "class":
        raise CheckpointError(f"persistent object of type {meta.get('type')!r} is not supported")
    if not isinstance(meta.get("state"), dict):
        raise CheckpointError(f"persistent {meta.get('class_name')!r} has no state dict")
    return PersistentRecord(meta)


class InertNamespace(metaclass=_FrozenClass):
    """Stand-in for `argparse.Namespace` (rosinality training arguments): attributes only."""

    def __repr__(self) -> str:
        return f"InertNamespace({vars(self)!r})"


def safe_set(items=()) -> set:
    """`builtins.set`, as protocol ≤ 3 pickles spell a set: only from a list or tuple of items."""
    if not isinstance(items, (list, tuple)):
        raise CheckpointError("damaged pickle: set() of something that is not a list")
    return set(items)


# ---------------------------------------------------------------------------------------------
# numpy scalars (the official pickles store some gains as numpy float64)
# ---------------------------------------------------------------------------------------------

_NUMPY_CODES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1", "c8", "c16"}


class DtypeSpec(metaclass=_FrozenClass):
    """Stand-in for `numpy.dtype(spec, align, copy)` + its BUILD state: records a plain numeric type
    code and byte order, and never hands untrusted state to numpy's own `__setstate__`."""

    def __init__(self, spec, align=False, copy=False):
        if not isinstance(spec, str) or spec not in _NUMPY_CODES:
            raise CheckpointError(f"numpy dtype {spec!r} is not a plain numeric type")
        self.code, self.byteorder = spec, "="

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
            raise CheckpointError("damaged pickle: unexpected numpy dtype state")
        self.byteorder = state[1]

    def numpy(self) -> np.dtype:
        dt = np.dtype(self.code)
        return dt.newbyteorder(self.byteorder) if self.byteorder in "<>" else dt


def numpy_scalar(dtype, data=None):
    """`numpy.core.multiarray.scalar(dtype, bytes)` → the plain Python number (via np.frombuffer)."""
    if not isinstance(dtype, DtypeSpec) or not isinstance(data, bytes):
        raise CheckpointError("damaged pickle: numpy scalar without a numeric dtype and raw bytes")
    dt = dtype.numpy()
    if len(data) != dt.itemsize:
        raise CheckpointError("damaged pickle: numpy scalar of the wrong size")
    return np.frombuffer(data, dtype=dt)[0].item()


# ---------------------------------------------------------------------------------------------
# Tensors and storages
# ---------------------------------------------------------------------------------------------

class TorchStorage:
    """A storage we parsed ourselves: a flat 1-D tensor of one dtype."""

    def __init__(self, flat: torch.Tensor):
        self.flat = flat

    @property
    def dtype(self) -> torch.dtype:
        return self.flat.dtype

    def numel(self) -> int:
        return self.flat.numel()


class StorageType(_Frozen):
    """Stand-in for `torch.FloatStorage` & co. inside torch.save streams: only names a dtype."""
    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: torch.dtype):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", dtype)

    def __repr__(self) -> str:
        return f"torch.{self.name}"


STORAGE_TYPES = {
    ("torch", name): StorageType(name, dtype) for name, dtype in {
        "FloatStorage": torch.float32, "DoubleStorage": torch.float64,
        "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
        "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
        "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
    }.items()
}


def _plain_int(x, what: str) -> int:
    if type(x) is not int or x < 0:
        raise CheckpointError(f"damaged tensor record: {what} is {x!r}")
    return x


def rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                   backward_hooks=None, metadata=None) -> torch.Tensor:
    """`torch._utils._rebuild_tensor_v2`: a strided view of a storage, bounds checked; hooks and
    metadata are ignored (a checkpoint tensor never needs them)."""
    if not isinstance(storage, TorchStorage):
        raise CheckpointError("damaged tensor record: no storage")
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)) \
            or len(size) != len(stride):
        raise CheckpointError("damaged tensor record: size/stride")
    offset = _plain_int(storage_offset, "storage offset")
    size = [_plain_int(s, "size") for s in size]
    stride = [_plain_int(s, "stride") for s in stride]
    if math.prod(size) > 0:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.numel():
            raise CheckpointError(f"damaged tensor record: shape {size} reaches past its storage "
                                  f"of {storage.numel()} elements")
    return storage.flat.as_strided(size, stride, offset)


def rebuild_parameter(data, requires_grad=False, backward_hooks=None) -> torch.Tensor:
    """`torch._utils._rebuild_parameter`: the data tensor (loading needs no Parameter wrapper)."""
    if not isinstance(data, torch.Tensor):
        raise CheckpointError("damaged parameter record: no tensor")
    return data


def storage_from_bytes(blob) -> TorchStorage:
    """`torch.storage._load_from_bytes`: the blob is a torch.save stream of one storage, parsed by
    our own reader (stock torch would call `torch.load(weights_only=False)` on it)."""
    from .torch_serialization import read_torch_bytes  # the reader uses this module too
    if not isinstance(blob, (bytes, bytearray)):
        raise CheckpointError("damaged pickle: storage blob is not bytes")
    obj = read_torch_bytes(bytes(blob), STORAGE_BLOB_GLOBALS)
    if not isinstance(obj, TorchStorage):
        raise CheckpointError("damaged pickle: storage blob holds something other than a storage")
    return obj


# ---------------------------------------------------------------------------------------------
# Allowlists: (module, name) → our replacement
# ---------------------------------------------------------------------------------------------

_TENSORS = {
    ("torch._utils", "_rebuild_tensor_v2"): _Call(rebuild_tensor),
    ("torch._utils", "_rebuild_parameter"): _Call(rebuild_parameter),
    ("collections", "OrderedDict"): OrderedDict,
}

# NVIDIA network pickles (NVIDIA_PKL_FORMAT.md section 4).
NVIDIA_PKL_GLOBALS: dict[tuple[str, str], Callable] = {
    **_TENSORS,
    ("torch.storage", "_load_from_bytes"): _Call(storage_from_bytes),
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _Call(reconstruct_persistent_obj),
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("numpy.core.multiarray", "scalar"): _Call(numpy_scalar),    # written by numpy < 2
    ("numpy._core.multiarray", "scalar"): _Call(numpy_scalar),   # written by numpy ≥ 2
    ("numpy", "dtype"): DtypeSpec,
    ("builtins", "set"): _Call(safe_set),                        # protocol 3 spells sets so
}

# The inner stream of one storage blob.
STORAGE_BLOB_GLOBALS: dict[tuple[str, str], Any] = dict(STORAGE_TYPES)

# torch.save files (rosinality checkpoints, state dicts): tensors, plus the training arguments.
TORCH_FILE_GLOBALS: dict[tuple[str, str], Any] = {
    **_TENSORS,
    **STORAGE_TYPES,
    ("argparse", "Namespace"): InertNamespace,
    ("builtins", "set"): _Call(safe_set),
}


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` whose every global lookup goes through a fixed allowlist.

    `persistent_load` (the torch.save storage references) is delegated to the given function; a
    stream with persistent ids and no such function is refused.
    """

    def __init__(self, file, allowed: Mapping[tuple[str, str], Any],
                 persistent_load: Callable[[Any], Any] | None = None):
        super().__init__(file)
        self._allowed = allowed
        self._persistent = persistent_load

    def find_class(self, module: str, name: str):
        if module == "__builtin__":  # protocol ≤ 2 spelling
            module = "builtins"
        try:
            return self._allowed[(module, name)]
        except (KeyError, TypeError):
            raise UnsafePickleError(f"{module}.{name}") from None

    def persistent_load(self, pid):
        if self._persistent is None:
            raise CheckpointError("damaged pickle: unexpected persistent reference")
        return self._persistent(pid)


def restricted_load(data: bytes | io.IOBase, allowed: Mapping[tuple[str, str], Any],
                    persistent_load: Callable[[Any], Any] | None = None):
    """Unpickle one object from bytes or a binary file through the allowlist."""
    f = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    return RestrictedUnpickler(f, allowed, persistent_load).load()
