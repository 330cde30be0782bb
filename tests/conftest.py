"""Test setup: Qt offscreen before any QApplication, one torch thread, reference data location."""
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GANSTUDIO_DEVICE", "cpu")
os.environ.setdefault("GANSTUDIO_THREADS", "1")   # no thread-count measurement in tests

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("GANSTUDIO_REFERENCE", REPO.parent / "shared" / "reference"))


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)


@pytest.fixture
def reference_dir():
    """../shared/reference, or skip (with that reason) when the folder is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE
