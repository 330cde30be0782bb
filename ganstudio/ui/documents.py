"""Files the explorer writes and reads back: sessions (.json), PNGs carrying the state, grids.

A document is `{"format": "ganstudio-explorer", "version": 1, "model": {"path", "content_hash",
"arch"}, "state": {...ExplorerState...}}`; a session file is that JSON, a saved PNG carries the same
JSON in its `ganstudio` text chunk. No Qt here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, PngImagePlugin

from ganstudio.core.checkpoint import atomic_write

from .state import ExplorerState

DOC_FORMAT = "ganstudio-explorer"
DOC_VERSION = 1
PNG_KEY = "ganstudio"


@dataclass(frozen=True)
class ExplorerDocument:
    model_path: str
    content_hash: str
    state: ExplorerState


def make_document(state: ExplorerState, info) -> dict:
    model = {"path": "", "content_hash": "", "arch": ""}
    if info is not None:
        model = {"path": info.path, "content_hash": info.content_hash, "arch": info.arch}
    return {"format": DOC_FORMAT, "version": DOC_VERSION, "model": model,
            "state": state.to_dict()}


def parse_document(d, where: str = "document") -> ExplorerDocument:
    if not isinstance(d, dict) or d.get("format") != DOC_FORMAT:
        raise ValueError(f"{where} is not a GANStudio explorer session")
    if int(d.get("version", 0)) > DOC_VERSION:
        raise ValueError(f"{where} was written by a newer GANStudio (version {d.get('version')})")
    model = d.get("model") or {}
    state = ExplorerState.from_dict(d.get("state") or {})
    return ExplorerDocument(str(model.get("path") or ""), str(model.get("content_hash") or ""),
                            state)


def write_session(path, state: ExplorerState, info) -> None:
    text = json.dumps(make_document(state, info), indent=2, sort_keys=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_png(path, image: np.ndarray, state: ExplorerState | None = None, info=None) -> None:
    """Save an H×W×3 uint8 image; with a state, the document goes into the `ganstudio` chunk."""
    meta = PngImagePlugin.PngInfo()
    if state is not None:
        meta.add_text(PNG_KEY, json.dumps(make_document(state, info), sort_keys=True))
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB")
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG", pnginfo=meta))


def read_document(path) -> ExplorerDocument:
    """A session .json, or a PNG saved by the explorer; ValueError with the reason otherwise."""
    path = Path(path)
    name = path.name
    try:
        if path.suffix.lower() == ".png":
            with Image.open(path) as im:
                text = getattr(im, "text", {}).get(PNG_KEY)
            if text is None:
                raise ValueError(f"{name} carries no GANStudio explorer state")
        else:
            text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{name}: cannot read ({e.strerror or e})") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{name} is not valid JSON ({e.msg})") from None
    return parse_document(d, name)


def mixing_grid(render: Callable[[ExplorerState], np.ndarray], state: ExplorerState,
                seeds_a, seeds_b, crossover: int) -> np.ndarray:
    """The StyleGAN paper's style-mixing figure: B sources along the top, A sources down the left,
    cell (i, j) = A_i with layers ≥ crossover from B_j. `render(state)` returns H×W×3 uint8."""
    base = state.replace(crossover=None, blend=(), offsets=())
    tops = [render(base.replace(seed_a=b)) for b in seeds_b]
    rows = []
    for a in seeds_a:
        cells = [render(base.replace(seed_a=a))]
        cells += [render(base.replace(seed_a=a, seed_b=b, crossover=crossover)) for b in seeds_b]
        rows.append(np.concatenate(cells, axis=1))
    blank = np.full_like(tops[0], 255)
    top = np.concatenate([blank] + tops, axis=1)
    return np.concatenate([top] + rows, axis=0)                   # [(1+nA)H, (1+nB)W, 3]
