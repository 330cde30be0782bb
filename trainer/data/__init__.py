"""Training data: image folders, .zip archives and the built-in `synthetic:faces`.

``open_dataset(spec, resolution)`` is the one entry point. ``spec`` is

- a folder: every png/jpg/jpeg/webp/bmp below it (recursively), see ``trainer.data.folder``;
- a ``.zip`` file: the same, for the archive's members;
- ``synthetic:faces``, optionally with query options ``n`` (number of faces, default 10000),
  ``seed`` (default: the ``seed`` argument), ``class`` (the categorical factor used as the
  class label, default ``hair_colour``) and ``texture`` (1: add fine-scale patterns, default 0),
  e.g. ``synthetic:faces?n=20000&seed=3&texture=1``.

Every image ends up as uint8 [R, R, 3] in memory; ``Dataset.sample`` turns a random batch into
float32 [N, 3, r, r] in [-1, 1] (see ``trainer.data.dataset``).
"""
from __future__ import annotations

import os
from urllib.parse import parse_qsl

from .dataset import Dataset, downsample_box
from .report import DatasetError, DatasetReport
from .synthetic_faces import FACTOR_NAMES, FACTORS, SyntheticFaces

__all__ = ["open_dataset", "thumbnails", "Dataset", "DatasetError", "DatasetReport", "SyntheticFaces",
           "FACTORS", "FACTOR_NAMES", "downsample_box", "SYNTHETIC_DEFAULT_SIZE"]

SYNTHETIC_DEFAULT_SIZE = 10000
_SYNTHETIC_OPTIONS = ("n", "seed", "class", "texture")


def open_dataset(spec: str, resolution: int, *, xflip: bool = False, seed: int = 0,
                 max_images: int | None = None, labels: bool = False,
                 cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Open a folder, a .zip or ``synthetic:faces[?n=N&seed=S&class=FACTOR&texture=0|1]`` at
    ``resolution``.

    xflip: sample() mirrors each image with probability 1/2 (drawn from the sampling generator).
    seed: the synthetic faces' seed unless the spec gives one (folders ignore it).
    max_images: keep only the first max_images images (folders: in sorted path order).
    labels: folders get one class per top-level subfolder (synthetic data is always labelled).
    cache_dir: folders/zips only; keep the decoded array there as .npy (see trainer.data.folder).
    Raises DatasetError (one clear line) when the source is unusable or holds nothing usable.
    """
    resolution = _check_resolution(resolution)
    if max_images is not None and int(max_images) < 1:
        raise DatasetError(f"max_images must be at least 1, got {max_images}")
    spec = str(spec)
    if spec.startswith("synthetic:"):
        return _open_synthetic(spec, resolution, xflip=xflip, seed=seed, max_images=max_images)
    from .folder import load_images   # Pillow-only loader
    loaded = load_images(spec, resolution, max_images=max_images, labels=labels,
                         cache_dir=cache_dir)
    from .dataset import ArrayStore
    return Dataset(ArrayStore(loaded.images, loaded.classes), report=loaded.report,
                   class_names=loaded.class_names, xflip=xflip)


def _check_resolution(resolution) -> int:
    try:
        r = int(resolution)
    except (TypeError, ValueError):
        raise DatasetError(f"resolution must be an integer, got {resolution!r}") from None
    if not 4 <= r <= 4096:
        raise DatasetError(f"resolution must be between 4 and 4096, got {r}")
    return r


def _open_synthetic(spec: str, resolution: int, *, xflip: bool, seed: int,
                    max_images: int | None) -> Dataset:
    name, _, query = spec[len("synthetic:"):].partition("?")
    if name != "faces":
        raise DatasetError(f"unknown synthetic dataset {spec!r} (available: synthetic:faces)")
    opts = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=False)) if query else {}
    unknown = sorted(set(opts) - set(_SYNTHETIC_OPTIONS))
    if unknown:
        raise DatasetError(f"unknown option(s) {', '.join(unknown)} in {spec!r} "
                           f"(allowed: {', '.join(_SYNTHETIC_OPTIONS)})")
    try:
        n = int(opts.get("n", SYNTHETIC_DEFAULT_SIZE))
        seed = int(opts.get("seed", seed))
    except ValueError:
        raise DatasetError(f"n and seed must be integers in {spec!r}") from None
    if n < 1:
        raise DatasetError(f"n must be at least 1 in {spec!r}")
    texture = opts.get("texture", "0")
    if texture not in ("0", "1"):
        raise DatasetError(f"texture must be 0 or 1 in {spec!r}, got {texture!r}")
    if max_images is not None:
        n = min(n, int(max_images))
    try:
        faces = SyntheticFaces(resolution, size=n, seed=seed,
                               class_factor=opts.get("class", "hair_colour"),
                               texture=texture == "1")
    except ValueError as e:
        raise DatasetError(f"{spec}: {e}") from None
    report = DatasetReport(source=f"synthetic:faces?n={n}&seed={seed}"
                                  + ("&texture=1" if faces.texture else ""), resolution=resolution,
                           usable=n)
    report.notes.append("faces are drawn on first use" + (", then kept in memory" if faces.cached
                                                          else " (too many to keep in memory)"))
    return Dataset(faces, report=report, class_names=faces.class_names, xflip=xflip)


def thumbnails(spec: str, k: int = 16, size: int = 64) -> tuple[list, DatasetReport]:
    """For a dataset summary in the UI: the first k usable images as uint8 [size, size, 3] and a
    report. Cheap: a folder/zip is read only until k usable images are found, so its report
    covers the files examined so far (synthetic: the whole dataset). DatasetError as open_dataset.
    """
    spec = str(spec)
    size = _check_resolution(size)
    if spec.startswith("synthetic:"):
        full = _open_synthetic(spec, size, xflip=False, seed=0, max_images=None)
        return full.thumbnails(k), full.report
    from .folder import thumbnails as folder_thumbnails
    return folder_thumbnails(spec, k=k, size=size)
