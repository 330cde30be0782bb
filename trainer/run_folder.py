"""The run folder: config.json, stats.jsonl, preview PNGs, TensorBoard events, checkpoints.

Only the writing process (rank 0) gets an enabled RunFolder; the others get a disabled one whose
methods do nothing, so the loop never branches on rank for reporting.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from ganstudio.core.checkpoint import atomic_write

LATEST = "latest.safetensors"


def snapshot_name(kimg: float) -> str:
    return f"snapshot-{int(kimg):06d}.safetensors"


def preview_name(kimg: float) -> str:
    return f"preview-{int(kimg):06d}.png"


def image_grid(images: torch.Tensor, rows: int, cols: int) -> np.ndarray:
    """[rows·cols, 3, r, r] in [-1, 1] → uint8 grid [rows·r, cols·r, 3]."""
    n, c, h, w = images.shape
    assert n == rows * cols and c == 3, (images.shape, rows, cols)
    x = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5
    x = x.round().to(torch.uint8).reshape(rows, cols, c, h, w)                  # [R, C, 3, h, w]
    x = x.permute(0, 3, 1, 4, 2).reshape(rows * h, cols * w, c)                 # [R·h, C·w, 3]
    return np.ascontiguousarray(x.numpy())


class RunFolder:
    def __init__(self, path: str | Path, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled
        self._writer = None
        if enabled:
            self.path.mkdir(parents=True, exist_ok=True)

    @property
    def latest(self) -> Path:
        return self.path / LATEST

    # --- text -------------------------------------------------------------------------------------
    def write_config(self, config) -> None:
        if self.enabled:
            config.save(self.path / "config.json")

    def append_stats(self, stats: dict) -> None:
        if not self.enabled:
            return
        with open(self.path / "stats.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(stats, sort_keys=True) + "\n")

    # --- TensorBoard ------------------------------------------------------------------------------
    def _tb(self):
        if self._writer is None and self.enabled:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=str(self.path))
        return self._writer

    def log_scalars(self, stats: dict, nimg: int) -> None:
        tb = self._tb()
        if tb is None:
            return
        for key, value in stats.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                tb.add_scalar(key, value, global_step=nimg)
        tb.flush()

    # --- previews ---------------------------------------------------------------------------------
    def save_preview(self, grid: np.ndarray, kimg: float, nimg: int) -> Path | None:
        if not self.enabled:
            return None
        from PIL import Image
        path = self.path / preview_name(kimg)
        atomic_write(path, lambda tmp: Image.fromarray(grid).save(tmp, format="PNG"))
        tb = self._tb()
        if tb is not None:
            tb.add_image("preview", grid, global_step=nimg, dataformats="HWC")
            tb.flush()
        return path

    # --- checkpoints ------------------------------------------------------------------------------
    def copy_to_latest(self, snapshot: Path) -> None:
        """latest.safetensors ← a finished snapshot, atomically."""
        atomic_write(self.latest, lambda tmp: shutil.copyfile(snapshot, tmp))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
