"""The training-side view of a dataset: a uint8 image store plus a deterministic batch sampler.

Sampling draws indices *with replacement* from the caller's ``torch.Generator`` (and the x-flip
coin from the same generator), so a batch depends only on that generator's state: no cursor or
epoch state lives in the dataset, and resuming training only needs the generator state.

Multi-process training: ``shard(rank, world_size)`` gives a view over images rank, rank+W,
rank+2W, ... (disjoint across ranks). Each rank samples from its own shard, typically with a
generator seeded (seed, rank); even with identical generators the ranks see different images.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from .report import DatasetReport


class ImageStore(Protocol):
    """Where the uint8 [H, W, 3] images come from (an in-memory array, or faces drawn on demand)."""

    resolution: int

    def __len__(self) -> int: ...

    def images(self, idx: np.ndarray) -> np.ndarray: ...   # [n, R, R, 3] uint8

    def classes(self, idx: np.ndarray) -> np.ndarray: ...  # [n] int64 class per index


class ArrayStore:
    """Images already decoded into one uint8 array [N, R, R, 3]."""

    def __init__(self, images: np.ndarray, classes: np.ndarray | None = None):
        assert images.ndim == 4 and images.shape[3] == 3 and images.dtype == np.uint8, images.shape
        self.array = images
        self.resolution = int(images.shape[1])
        n = len(images)
        self._classes = (np.zeros(n, np.int64) if classes is None
                         else np.asarray(classes, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.array)

    def images(self, idx: np.ndarray) -> np.ndarray:
        return self.array[idx]

    def classes(self, idx: np.ndarray) -> np.ndarray:
        return self._classes[idx]


class Dataset:
    """Images at one resolution, a report, class labels and a deterministic sampler."""

    def __init__(self, store: ImageStore, *, report: DatasetReport,
                 class_names: tuple[str, ...] = (), xflip: bool = False,
                 indices: np.ndarray | None = None):
        self.store = store
        self.report = report
        self.resolution = int(store.resolution)
        self.xflip = bool(xflip)
        self.class_names = tuple(class_names)
        self.indices = (np.arange(len(store), dtype=np.int64) if indices is None
                        else np.asarray(indices, dtype=np.int64))

    # -- plain access --------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Number of classes for a conditional model; 0 when the data has no labels."""
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """(uint8 [R, R, 3] image, class index) of the i-th image of this view, unflipped."""
        j = self.indices[int(i)]
        return self.store.images(np.array([j]))[0], int(self.store.classes(np.array([j]))[0])

    def preload(self, progress=None, chunk: int = 256) -> None:
        """Make every image of this view ready now (synthetic faces are otherwise drawn on first
        use: about N / 400 s at 64x64 on one core). progress(done, total) is called per chunk."""
        total = len(self)
        for start in range(0, total, chunk):
            self.store.images(self.indices[start:start + chunk])
            if progress is not None:
                progress(min(start + chunk, total), total)

    def factor_labels(self) -> np.ndarray | None:
        """[N, F] float32 known factors of this view's images (synthetic data), else None."""
        labels_array = getattr(self.store, "labels_array", None)
        return None if labels_array is None else labels_array()[self.indices]

    def thumbnails(self, k: int = 16, size: int | None = None) -> list[np.ndarray]:
        """The first k images as uint8 [size, size, 3] arrays (box-downsampled, for the UI)."""
        k = min(int(k), len(self))
        if k <= 0:
            return []
        imgs = self.store.images(self.indices[:k])                      # [k, R, R, 3]
        if size is None or size >= self.resolution:
            return [im.copy() for im in imgs]
        x = torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(size, size), mode="area")
        x = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return list(x)

    def shard(self, rank: int, world_size: int) -> "Dataset":
        """The view for one of world_size processes: images rank, rank+W, ... of this view."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} out of range for world size {world_size}")
        if len(self) < world_size:
            raise ValueError(f"{len(self)} images cannot be split over {world_size} processes")
        return Dataset(self.store, report=self.report, class_names=self.class_names,
                       xflip=self.xflip, indices=self.indices[rank::world_size])

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, batch: int, generator: torch.Generator,
               resolution: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch: (float32 [N, 3, r, r] in [-1, 1], long [N] class indices).

        Uses the generator for indices (with replacement) and, with xflip, one coin per image.
        resolution < self.resolution returns the same batch box-averaged down (area filter).
        """
        r = self.resolution if resolution is None else int(resolution)
        if not 1 <= r <= self.resolution:
            raise ValueError(f"sample resolution must be 1..{self.resolution}, got {resolution}")
        pick = torch.randint(len(self), (int(batch),), generator=generator)          # [N]
        flip = (torch.rand(int(batch), generator=generator) < 0.5) if self.xflip else None
        idx = self.indices[pick.numpy()]
        x = torch.from_numpy(np.ascontiguousarray(self.store.images(idx)))          # [N, R, R, 3]
        x = x.permute(0, 3, 1, 2).to(torch.float32).mul_(2.0 / 255.0).sub_(1.0)     # [N, 3, R, R]
        if flip is not None:
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if r != self.resolution:
            x = downsample_box(x, r)                                                # [N, 3, r, r]
        return x.contiguous(), torch.from_numpy(self.store.classes(idx).astype(np.int64))


def downsample_box(x: torch.Tensor, r: int) -> torch.Tensor:
    """[N, C, R, R] -> [N, C, r, r] by averaging boxes (exact box filter when R % r == 0)."""
    R = x.shape[-1]
    if r == R:
        return x
    if R % r == 0:
        return F.avg_pool2d(x, kernel_size=R // r)
    return F.interpolate(x, size=(r, r), mode="area")
