"""Nothing in a checkpoint runs: forbidden globals are refused; damaged and foreign files give one-line errors."""
from __future__ import annotations

import functools
import io
import pickle
import pickletools
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from checkpoint_writers import (EasyDict, tiny_generator, _Pickler, dump_pickle, init_kwargs, record,
                                reference_generator, rosinality_state, save_rosinality, snapshot,
                                stand_in_modules)

from ganstudio.core.checkpoint import CheckpointError, save_generator
from ganstudio.core.importers import UnsafePickleError, load_generator
from ganstudio.core.importers import safe_unpickle as su
from ganstudio.core.importers.nvidia_pkl import fit_channels
from ganstudio.core.importers.rosinality import rosinality_channel_multiplier
from ganstudio.core.importers.torch_serialization import LEGACY_MAGIC
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator


# ---------------------------------------------------------------------------------------------
# nothing in a file runs
# ---------------------------------------------------------------------------------------------

class _OpenForWriting:
    """Unpickling this with plain pickle calls io.open(path, 'w'): it creates the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return io.open, (self.path, "w")


def _payloads(target: Path) -> dict[str, bytes]:
    t = str(target)
    proto = b"\x80\x02"  # hand-written GLOBAL opcodes behind a protocol-2 header
    return {
        "os.system": proto + b"cos\nsystem\n(V" + f"touch {t}".encode() + b"\ntR.",
        "builtins.eval": proto + b"cbuiltins\neval\n(V" + f"open({t!r}, 'w')".encode() + b"\ntR.",
        "subprocess.Popen": proto + b"csubprocess\nPopen\n((Vtouch\nV" + t.encode() + b"\nltR.",
        "io.open": pickle.dumps(_OpenForWriting(t), protocol=4),
    }


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen", "io.open"])
def test_forbidden_global_is_refused_and_nothing_runs(tmp_path, name):
    target = tmp_path / "created_by_payload"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_payloads(target)[name])
    with pytest.raises(UnsafePickleError) as e:
        load_generator(path)
    assert f"'{name}'" in str(e.value) and str(path) in str(e.value)
    assert not target.exists()


def test_protocol_0_pickle_is_not_even_read(tmp_path):
    target = tmp_path / "created_by_payload"
    path = tmp_path / "evil0.pkl"
    path.write_bytes(_payloads(target)["os.system"][2:])
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_generator(path)
    assert not target.exists()


def test_payloads_are_live_with_plain_pickle(tmp_path):
    """The refusal tests are honest: the same bytes through plain pickle do create the file."""
    for name in ("io.open", "builtins.eval"):
        target = tmp_path / f"made_by_{name}"
        result = pickle.loads(_payloads(target)[name])
        result.close()
        assert target.exists()


def test_forbidden_global_deep_inside_a_network_pickle(tmp_path):
    G0 = tiny_generator()
    target = tmp_path / "created_by_payload"
    src_marker = tmp_path / "module_src_ran"
    snap = snapshot(G0, src_marker)
    snap["G_ema"].meta["state"]["evil"] = _OpenForWriting(target)  # after all the tensors
    path = tmp_path / "evil-snapshot.pkl"
    path.write_bytes(dump_pickle(snap))
    with pytest.raises(UnsafePickleError, match="'io.open'"):
        load_generator(path)
    assert not target.exists() and not src_marker.exists()


def test_forbidden_global_inside_a_storage_blob(tmp_path):
    target = tmp_path / "created_by_payload"

    def evil_blob(storage):
        head = b"".join(pickle.dumps(x, protocol=2) for x in
                        (LEGACY_MAGIC, 1001, {"little_endian": True}))
        return head + _payloads(target)["os.system"]
    path = tmp_path / "evil-blob.pkl"
    path.write_bytes(dump_pickle(snapshot(tiny_generator(), tmp_path / "ran"),
                                 storage_blob=evil_blob))
    with pytest.raises(UnsafePickleError, match="'os.system'"):
        load_generator(path)
    assert not target.exists()


def test_forbidden_global_in_a_torch_file(tmp_path):
    target = tmp_path / "created_by_payload"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {"w": torch.ones(2)}, "x": _OpenForWriting(target)}, path)
    with pytest.raises(UnsafePickleError, match="'io.open'"):
        load_generator(path)
    assert not target.exists()


@pytest.mark.parametrize("payload", [
    b"cdnnlib.util\nEasyDict\n(N}V__repr__\nI1\nstb.",                     # a shared class
    b"ctorch._utils\n_rebuild_tensor_v2\n(N}V_fn\nI1\nstb.",               # a shared function
])
def test_a_file_cannot_modify_the_allowlisted_objects(payload):
    before = su.EasyDict.__repr__
    with pytest.raises(CheckpointError, match="modify"):
        su.restricted_load(payload, su.NVIDIA_PKL_GLOBALS)
    assert su.EasyDict.__repr__ is before
    assert su.rebuild_tensor.__name__ == "rebuild_tensor"


def test_numpy_scalars_become_plain_numbers():
    spec = su.DtypeSpec("f8")
    spec.__setstate__((3, ">", None, None, None, -1, -1, 0))
    value = su.numpy_scalar(spec, np.array(1.25, dtype=">f8").tobytes())
    assert value == 1.25 and type(value) is float
    with pytest.raises(CheckpointError):
        su.DtypeSpec("O")          # object dtypes never


# ---------------------------------------------------------------------------------------------
# damaged and foreign files
# ---------------------------------------------------------------------------------------------

def _damaged(kind: str, tmp_path: Path) -> tuple[bytes, str]:
    snap = dump_pickle(snapshot(tiny_generator(), tmp_path / "ran"))
    buf = io.BytesIO()
    save_rosinality(buf, tiny_generator(res=8))
    ros = buf.getvalue()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    rng = np.random.RandomState(0)
    wrong_count = dump_pickle(snapshot(tiny_generator(), tmp_path / "ran"),
                              storage_blob=_miscounted_blob)
    cases = {
        "truncated_half": (snap[: len(snap) // 2], "damaged or truncated"),
        "truncated_tail": (snap[:-10], "damaged or truncated"),
        "random_bytes": (rng.bytes(4096), "not a checkpoint"),
        "empty": (b"", "empty file"),
        "png": (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a checkpoint"),
        "text": (b"just some notes\n", "not a checkpoint"),
        "zip_not_torch": (zbuf.getvalue(), "not one written by torch.save"),
        "torch_zip_truncated": (ros[: len(ros) // 2], "damaged"),
        "pickle_of_a_list": (pickle.dumps([1, 2, 3], protocol=4), "not a network snapshot"),
        "pickle_without_generator": (pickle.dumps({"D": 1}, protocol=4), "without a generator"),
        "storage_count_mismatch": (wrong_count, "elements"),
        "torch_file_of_other_things": (_torch_bytes({"model": {"layer.weight": torch.ones(2)}}),
                                       "not a generator GANStudio recognises"),
    }
    return cases[kind]


def _legacy_blob(storage) -> bytes:
    buf = io.BytesIO()
    torch.save(storage, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _miscounted_blob(storage) -> bytes:
    """A legacy storage blob whose element count (the 8 bytes before the data) is off by one."""
    blob = _legacy_blob(storage)
    with warnings.catch_warnings():  # TypedStorage accessors are deprecated; the format uses them
        warnings.simplefilter("ignore", UserWarning)
        n = storage.untyped().nbytes()
        count = n // storage.element_size()
    return blob[: -(n + 8)] + (count + 1).to_bytes(8, "little") + blob[len(blob) - n:]


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("kind", [
    "truncated_half", "truncated_tail", "random_bytes", "empty", "png", "text", "zip_not_torch",
    "torch_zip_truncated", "pickle_of_a_list", "pickle_without_generator",
    "storage_count_mismatch", "torch_file_of_other_things"])
def test_damaged_or_foreign_files_give_one_line_errors(tmp_path, kind):
    data, expected = _damaged(kind, tmp_path)
    path = tmp_path / f"{kind}.pkl"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as e:
        load_generator(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and expected in msg, msg


def test_tensor_reaching_past_its_storage_is_refused(tmp_path):
    class Lying(_Pickler):
        def reducer_override(self, obj):
            if type(obj) is torch.Tensor and obj.numel() > 1:
                return torch._utils._rebuild_tensor_v2, (obj._typed_storage(), 0, (obj.numel() * 2,),
                                                         (1,), False, OrderedDict())
            return super().reducer_override(obj)
    with stand_in_modules():
        f = io.BytesIO()
        Lying(f, 4, False).dump(snapshot(tiny_generator(), tmp_path / "ran"))
    path = tmp_path / "lying.pkl"
    path.write_bytes(f.getvalue())
    with pytest.raises(CheckpointError, match="reaches past its storage"):
        load_generator(path)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_generator(tmp_path / "nope.pkl")
    with pytest.raises(CheckpointError, match="not a file"):
        load_generator(tmp_path)
