"""Reading `torch.save` streams (zip and legacy) through the restricted unpickler.

Two containers exist:
- zip (torch ≥ 1.6): `<prefix>/data.pkl` (the object, storages as persistent ids
  `('storage', StorageType, key, location, numel)`), raw storage bytes in `<prefix>/data/<key>`,
  `<prefix>/byteorder`.
- legacy: five pickles in a row — magic number, protocol version 1001, a sys-info dict, the object
  (persistent ids `('storage', StorageType, key, location, numel, view_metadata)`), the sorted list
  of storage keys — then per key an 8-byte element count and the raw bytes. NVIDIA's network
  pickles embed one such stream per storage (`torch.storage._load_from_bytes`).
"""
from __future__ import annotations

import io
import os
import zipfile
from typing import Any, Mapping

import torch

from ..checkpoint import CheckpointError
from .safe_unpickle import StorageType, TorchStorage, restricted_load

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
ZIP_MAGIC = b"PK\x03\x04"


def is_legacy_torch(head: bytes) -> bool:
    """Whether bytes start like a legacy torch.save stream (a pickled magic number)."""
    return (len(head) >= 14 and head[0] == 0x80 and head[2:4] == b"\x8a\x0a"
            and head[4:14] == LEGACY_MAGIC.to_bytes(10, "little"))


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _tensor_from_raw(raw: bytes, dtype: torch.dtype, little_endian: bool = True) -> torch.Tensor:
    """A flat tensor over a copy of the raw bytes (byte-swapped for big-endian files)."""
    size = _element_size(dtype)
    if len(raw) % size:
        raise CheckpointError("damaged storage: byte count is not a whole number of elements")
    buf = bytearray(raw)
    if not buf:
        return torch.empty(0, dtype=dtype)
    if little_endian or size == 1:
        return torch.frombuffer(buf, dtype=dtype)
    swapped = torch.frombuffer(buf, dtype=torch.uint8).reshape(-1, size).flip(1).contiguous()
    return swapped.view(dtype).reshape(-1)


def _storage_pid(pid, legacy: bool):
    """Validate a persistent id; returns (StorageType, key, numel, view_metadata)."""
    n = 6 if legacy else 5
    if not isinstance(pid, tuple) or len(pid) != n or pid[0] != "storage":
        raise CheckpointError(f"damaged torch file: unexpected persistent id {str(pid)[:60]}")
    stype, key, numel = pid[1], pid[2], pid[4]
    if not isinstance(stype, StorageType):
        raise CheckpointError("damaged torch file: storage of unknown type")
    if not isinstance(key, str) or type(numel) is not int or numel < 0:
        raise CheckpointError("damaged torch file: bad storage reference")
    return stype, key, numel, (pid[5] if legacy else None)


# ---------------------------------------------------------------------------------------------
# zip container
# ---------------------------------------------------------------------------------------------

def read_torch_zip(zf: zipfile.ZipFile, allowed: Mapping[tuple[str, str], Any]):
    names = zf.namelist()
    pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
    if len(pkl) != 1:
        raise CheckpointError("a zip file, but not one written by torch.save (no data.pkl)")
    prefix = pkl[0][: -len("data.pkl")]
    for info in zf.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError("a zip file with compressed entries: not written by torch.save")
    little = True
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if order not in ("little", "big"):
            raise CheckpointError(f"damaged torch file: byte order {order!r}")
        little = order == "little"
    storages: dict[str, TorchStorage] = {}

    def persistent_load(pid):
        stype, key, numel, _ = _storage_pid(pid, legacy=False)
        if key not in storages:
            try:
                raw = zf.read(f"{prefix}data/{key}")
            except KeyError:
                raise CheckpointError(f"damaged torch file: storage {key!r} is missing") from None
            flat = _tensor_from_raw(raw, stype.dtype, little)
            if flat.numel() < numel:
                raise CheckpointError(f"damaged torch file: storage {key!r} is truncated")
            storages[key] = TorchStorage(flat)
        elif storages[key].dtype != stype.dtype:
            raise CheckpointError(f"damaged torch file: storage {key!r} read as two dtypes")
        return storages[key]

    return restricted_load(zf.read(pkl[0]), allowed, persistent_load)


# ---------------------------------------------------------------------------------------------
# legacy container
# ---------------------------------------------------------------------------------------------

def read_torch_legacy(f: io.IOBase, allowed: Mapping[tuple[str, str], Any], size: int):
    """`f` positioned at the start of a legacy torch.save stream of `size` bytes."""
    if restricted_load(f, {}) != LEGACY_MAGIC:
        raise CheckpointError("not a torch.save file (wrong magic number)")
    if restricted_load(f, {}) != LEGACY_PROTOCOL:
        raise CheckpointError("torch.save file of an unknown protocol version")
    sys_info = restricted_load(f, {})
    little = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True
    storages: dict[str, TorchStorage] = {}
    views: dict[str, TorchStorage] = {}

    def persistent_load(pid):
        stype, key, numel, view = _storage_pid(pid, legacy=True)
        if key not in storages:
            if numel * _element_size(stype.dtype) > size:  # never allocate more than the file holds
                raise CheckpointError("damaged torch file: storage larger than the file")
            storages[key] = TorchStorage(torch.empty(numel, dtype=stype.dtype))
        root = storages[key]
        if root.dtype != stype.dtype:
            raise CheckpointError(f"damaged torch file: storage {key!r} read as two dtypes")
        if view is None:
            return root
        if not (isinstance(view, tuple) and len(view) == 3):
            raise CheckpointError("damaged torch file: bad storage view")
        view_key, offset, view_size = view
        if type(offset) is not int or type(view_size) is not int or offset < 0 or view_size < 0 \
                or offset + view_size > root.numel():
            raise CheckpointError("damaged torch file: storage view out of bounds")
        if view_key not in views:
            views[view_key] = TorchStorage(root.flat[offset: offset + view_size])
        return views[view_key]

    obj = restricted_load(f, allowed, persistent_load)
    keys = restricted_load(f, {})
    if not isinstance(keys, list) or set(keys) != set(storages) or len(keys) != len(storages):
        raise CheckpointError("damaged torch file: storage list does not match the object")
    for key in keys:
        st = storages[key]
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError("truncated torch file: storage data missing")
        count = int.from_bytes(head, "little" if little else "big", signed=True)
        if count != st.numel():
            raise CheckpointError(f"damaged torch file: storage {key!r} has {count} elements, "
                                  f"expected {st.numel()}")
        nbytes = count * _element_size(st.dtype)
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise CheckpointError("truncated torch file: storage data cut short")
        if count:
            st.flat.copy_(_tensor_from_raw(raw, st.dtype, little))
    return obj


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------

def read_torch_bytes(data: bytes, allowed: Mapping[tuple[str, str], Any]):
    """One torch.save stream held in memory (zip or legacy)."""
    if data[:4] == ZIP_MAGIC:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return read_torch_zip(zf, allowed)
        except zipfile.BadZipFile as e:
            raise CheckpointError(f"damaged torch zip data ({e})") from None
    return read_torch_legacy(io.BytesIO(data), allowed, len(data))


def read_torch_file(path: str | os.PathLike, allowed: Mapping[tuple[str, str], Any]):
    """A torch.save file on disk (zip or legacy), through the restricted unpickler."""
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        if head == ZIP_MAGIC:
            try:
                with zipfile.ZipFile(f) as zf:
                    return read_torch_zip(zf, allowed)
            except zipfile.BadZipFile as e:
                raise CheckpointError(f"damaged zip container ({e})") from None
        return read_torch_legacy(f, allowed, os.fstat(f.fileno()).st_size)
