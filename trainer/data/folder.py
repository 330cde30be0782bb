"""Image folders and .zip archives -> one uint8 array [N, R, R, 3] plus a DatasetReport.

Rules (numpy + Pillow only, no torch):

- Candidates: every file below the folder (recursively, sorted by relative path) or every member
  of the archive. Names with a component starting with "." and ``__MACOSX`` folders are ignored
  silently (OS clutter); every other file is either used or skipped with a reason.
- Extensions png, jpg, jpeg, webp, bmp (any case) are read; others are skipped as
  "unsupported file type". The bytes decide the format, not the name: a text file called x.jpg is
  "not an image"; a truncated or damaged image is a "corrupt image".
- Too small: the shorter side of the stored image is below half the training resolution
  (``2 * min(w, h) < resolution``); such images are skipped, larger ones are used even if they
  must be upscaled a little.
- Each image: EXIF orientation applied, transparency composited onto white, 16-bit grey scaled to
  8 bits, converted to RGB, centre-cropped to a square and resized with Lanczos to R x R.
- labels=True: the class is the first folder below the root (for a .zip whose members all sit in
  one top-level folder, the folder below that); class names are the sorted folder names, and files
  directly in the root are skipped as "outside class folders".
- Disk cache (only when cache_dir is given): ``dataset-<key>.npz`` holding images, classes,
  class names and the report, keyed by a hash of (absolute source path, resolution, labels,
  max_images, and every candidate's name, size and mtime -- or the .zip's size and mtime),
  written atomically; a stale key simply misses, an unreadable cache file is rebuilt.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .report import (CORRUPT, NO_CLASS_FOLDER, NOT_AN_IMAGE, TOO_LARGE, TOO_SMALL, UNREADABLE,
                     UNSUPPORTED, DatasetError, DatasetReport)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CACHE_VERSION = 1
_CHUNK = 128   # entries decoded per batch of thread work (also the max_images stopping granularity)


@dataclass
class LoadedImages:
    images: np.ndarray             # [N, R, R, 3] uint8
    classes: np.ndarray            # [N] int64 (all 0 without labels)
    class_names: tuple[str, ...]   # () without labels
    names: list[str]               # source-relative name of each image
    report: DatasetReport


@dataclass(frozen=True)
class _Entry:
    name: str        # relative posix path inside the folder or archive
    size: int
    mtime_ns: int


# ------------------------------------------------------------------------------------------------
# Decoding one image

def is_too_small(width: int, height: int, resolution: int) -> bool:
    """The skip rule: the shorter side is below half the training resolution."""
    return 2 * min(width, height) < resolution


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I;16"):
        im = Image.fromarray((np.asarray(im, dtype=np.float32) / 257.0).round().astype(np.uint8))
    elif im.mode in ("I", "F"):
        a = np.asarray(im, dtype=np.float32)
        a = a / 257.0 if a.max(initial=0.0) > 255.0 else a
        im = Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def prepare_image(im: Image.Image, resolution: int) -> np.ndarray:
    """RGB, centre-cropped square, Lanczos-resized: uint8 [resolution, resolution, 3]."""
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:   # a damaged EXIF block only loses the orientation
        pass
    im = _to_rgb(im)
    w, h = im.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    out = im.resize((resolution, resolution), Image.Resampling.LANCZOS,
                    box=(left, top, left + s, top + s))
    return np.asarray(out, dtype=np.uint8)


def decode_image(data: bytes, resolution: int) -> tuple[np.ndarray | None, str | None]:
    """(image, None) or (None, skip reason) for one file's bytes."""
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return None, TOO_LARGE
    except (UnidentifiedImageError, ValueError, TypeError, SyntaxError, OSError):
        return None, NOT_AN_IMAGE
    try:
        with im:
            if is_too_small(im.width, im.height, resolution):
                return None, TOO_SMALL
            if im.format == "JPEG":   # decode at a reduced DCT scale when the file is much larger
                im.draft("RGB", (resolution, resolution))
            im.load()
            return prepare_image(im, resolution), None
    except Image.DecompressionBombError:
        return None, TOO_LARGE
    except Exception:   # noqa: BLE001 -- any decoder failure means a damaged file
        return None, CORRUPT


# ------------------------------------------------------------------------------------------------
# Sources

def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


class _Source:
    """A folder or an archive: sorted candidate entries and a thread-safe byte reader."""

    def __init__(self, spec: str):
        path = Path(os.path.expanduser(spec))
        if not path.exists():
            raise DatasetError(f"dataset not found: {spec}")
        self.path = path.resolve()
        self.zip: zipfile.ZipFile | None = None
        self._lock = threading.Lock()
        if path.is_dir():
            self.kind = "folder"
            self.entries = self._list_folder()
        elif path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
            self.kind = "zip"
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as e:
                raise DatasetError(f"not a readable .zip archive: {spec} ({e})") from None
            self.entries = self._list_zip()
        else:
            raise DatasetError(f"expected a folder, a .zip file or synthetic:faces, got {spec}")
        self.label_root = self._single_top_folder() if self.kind == "zip" else ""

    def _list_folder(self) -> list[_Entry]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames[:] = [d for d in dirnames if not _hidden(d)]
            rel_dir = Path(dirpath).relative_to(self.path).as_posix()
            for fn in filenames:
                name = fn if rel_dir == "." else f"{rel_dir}/{fn}"
                if _hidden(name):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, fn))
                    out.append(_Entry(name, st.st_size, st.st_mtime_ns))
                except OSError:
                    out.append(_Entry(name, -1, -1))
        return sorted(out, key=lambda e: e.name)

    def _list_zip(self) -> list[_Entry]:
        out = [_Entry(i.filename, i.file_size, 0) for i in self.zip.infolist()
               if not i.is_dir() and not _hidden(i.filename.rstrip("/"))]
        return sorted(out, key=lambda e: e.name)

    def _single_top_folder(self) -> str:
        tops = {e.name.split("/", 1)[0] for e in self.entries}
        if len(tops) == 1 and all("/" in e.name for e in self.entries):
            return tops.pop() + "/"
        return ""

    def read(self, entry: _Entry) -> bytes:
        if self.zip is None:
            with open(self.path / entry.name, "rb") as f:
                return f.read()
        with self._lock:
            return self.zip.read(entry.name)

    def class_folder(self, entry: _Entry) -> str | None:
        name = entry.name[len(self.label_root):] if entry.name.startswith(self.label_root) else entry.name
        return name.split("/", 1)[0] if "/" in name else None

    def fingerprint(self) -> list:
        if self.kind == "zip":
            st = self.path.stat()
            return [st.st_size, st.st_mtime_ns]
        return [[e.name, e.size, e.mtime_ns] for e in self.entries]

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _load_one(source: _Source, entry: _Entry, resolution: int):
    if not entry.name.lower().endswith(IMAGE_EXTENSIONS):
        return None, UNSUPPORTED
    try:
        data = source.read(entry)
    except Exception:   # noqa: BLE001 -- permissions, I/O errors, bad CRC in an archive
        return None, UNREADABLE
    return decode_image(data, resolution)


def _iter_usable(source: _Source, resolution: int, report: DatasetReport, limit: int | None,
                 accept: Callable[[_Entry], str | None] = lambda e: None, threads: int | None = None):
    """Yield (entry, image) for usable entries in order, recording skips; stop after limit."""
    threads = threads or min(4, os.cpu_count() or 1)
    found = 0
    entries = source.entries
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start in range(0, len(entries), _CHUNK):
            chunk = []
            for e in entries[start:start + _CHUNK]:
                reason = accept(e)
                if reason is not None:
                    report.skip(e.name, reason)
                else:
                    chunk.append(e)
            for e, (img, reason) in zip(chunk, pool.map(lambda e: _load_one(source, e, resolution),
                                                        chunk)):
                if img is None:
                    report.skip(e.name, reason)
                    continue
                found += 1
                yield e, img
                if limit is not None and found >= limit:
                    rest = len(entries) - (entries.index(e) + 1)
                    if rest:
                        report.notes.append(f"stopped after {limit} usable image(s); "
                                            f"{rest} later file(s) not examined")
                    return


# ------------------------------------------------------------------------------------------------
# Public entry points

def load_images(spec: str | os.PathLike, resolution: int, *, max_images: int | None = None,
                labels: bool = False, cache_dir: str | os.PathLike | None = None) -> LoadedImages:
    """Decode every usable image of a folder or .zip; DatasetError when none is usable."""
    spec = str(spec)
    source = _Source(spec)
    try:
        cache_file = None
        if cache_dir is not None:
            key = json.dumps([CACHE_VERSION, str(source.path), int(resolution), bool(labels),
                              max_images, source.fingerprint()])
            digest = hashlib.sha256(key.encode()).hexdigest()[:24]
            cache_file = Path(cache_dir) / f"dataset-{digest}-{int(resolution)}.npz"
            cached = _read_cache(cache_file)
            if cached is not None:
                return cached
        loaded = _decode_all(source, spec, int(resolution), max_images, labels)
        if cache_file is not None:
            _write_cache(cache_file, loaded)
        return loaded
    finally:
        source.close()


def _decode_all(source: _Source, spec: str, resolution: int, max_images: int | None,
                labels: bool) -> LoadedImages:
    report = DatasetReport(source=spec, resolution=resolution)
    accept = ((lambda e: None if source.class_folder(e) is not None else NO_CLASS_FOLDER)
              if labels else (lambda e: None))
    # Filled in place (no second copy at the end): the bound is the number of image-named files;
    # pages past the last usable image are never touched, so they cost no memory.
    bound = sum(e.name.lower().endswith(IMAGE_EXTENSIONS) for e in source.entries)
    bound = min(bound, max_images) if max_images is not None else bound
    images = np.empty((max(bound, 1), resolution, resolution, 3), np.uint8)   # [bound, R, R, 3]
    names, folders = [], []
    for entry, img in _iter_usable(source, resolution, report, max_images, accept):
        images[len(names)] = img
        names.append(entry.name)
        folders.append(source.class_folder(entry) if labels else "")
    report.usable = len(names)
    if not names:
        if not source.entries:
            raise DatasetError(f"no files found in {spec} ({source.kind} is empty)")
        parts = ", ".join(f"{n} {r}" for r, n in sorted(report.skipped.items(), key=lambda kv: -kv[1]))
        raise DatasetError(f"no usable images in {spec}: all {len(source.entries)} file(s) "
                           f"were skipped ({parts}); need png/jpg/jpeg/webp/bmp images at least "
                           f"{(resolution + 1) // 2} px on the shorter side")
    class_names = tuple(sorted(set(folders))) if labels else ()
    lookup = {n: i for i, n in enumerate(class_names)}
    classes = np.array([lookup.get(f, 0) for f in folders], dtype=np.int64)
    return LoadedImages(images[:len(names)], classes, class_names, names, report)


def thumbnails(spec: str | os.PathLike, k: int = 16, size: int = 64) -> tuple[list[np.ndarray], DatasetReport]:
    """The first k usable images of a folder/.zip at size x size, and the report of the files
    examined so far (cheap: stops after k usable images). DatasetError if the source is missing."""
    source = _Source(str(spec))
    try:
        report = DatasetReport(source=str(spec), resolution=int(size))
        imgs = [img for _, img in _iter_usable(source, int(size), report, int(k))]
        report.usable = len(imgs)
        return imgs, report
    finally:
        source.close()


def _read_cache(path: Path) -> LoadedImages | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            report = DatasetReport.from_dict(meta["report"])
            report.notes.append(f"loaded from cache {path.name}")
            return LoadedImages(z["images"], z["classes"].astype(np.int64),
                                tuple(meta["class_names"]), list(meta["names"]), report)
    except Exception:   # noqa: BLE001 -- a damaged cache is rebuilt, never trusted
        return None


def _write_cache(path: Path, loaded: LoadedImages) -> None:
    from ganstudio.core.checkpoint import atomic_write
    meta = json.dumps({"report": loaded.report.to_dict(), "class_names": list(loaded.class_names),
                       "names": loaded.names})

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, images=loaded.images, classes=loaded.classes, meta=np.array(meta))
    try:
        atomic_write(path, write)
    except OSError as e:   # a cache that cannot be written is only slower next time
        loaded.report.notes.append(f"could not write cache {path}: {e}")
