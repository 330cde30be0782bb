"""Device choice: auto picks what exists; unknown or missing devices give a one-line ValueError."""
import pytest
import torch

from ganstudio.core.device import pick_device


def test_explicit_cpu_and_environment(monkeypatch):
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("GANSTUDIO_DEVICE", "cpu")
    assert pick_device(None) == torch.device("cpu")


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("GANSTUDIO_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        pick_device("gpu0")


def test_missing_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        assert pick_device("cuda").type == "cuda"
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")


def test_allocator_settings_apply_on_linux_and_memory_still_works():
    import sys

    from ganstudio.core.allocator import keep_freed_memory
    applied = keep_freed_memory()
    assert applied == sys.platform.startswith("linux")
    x = torch.ones(4 << 20)                      # 16 MiB, below the raised threshold: from the heap
    del x
    assert float(torch.ones(8 << 20).sum()) == 8 << 20
