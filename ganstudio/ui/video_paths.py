"""The frames of a video as render requests (no Qt): A → B, through saved latents, or a walk along
the chosen direction. Requests are made lazily, one per frame, so long videos cost no memory.

- "ab": linear in W from the image as shown (edits and mixing included) to latent B.
- "files": linear in W through the latents of the given .npz files, in order (the first of each).
- "walk": the image as shown, moved −amount … +amount σ along the chosen direction on its layer
  range (with `loop`: 0 → +a → 0 → −a → back).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganstudio.render import tools
from ganstudio.render.request import LatentSource

MOTIONS = ("ab", "files", "walk")


@dataclass(frozen=True)
class VideoSettings:
    motion: str = "ab"
    frames: int = 60
    fps: float = 30.0
    amount: float = 2.0              # walk: σ
    loop: bool = False
    scale: int = 1                   # pixel repetition
    files: tuple = ()                # motion "files": latent .npz paths
    path: str = ""                   # .mp4 or .gif


def _plain(request):
    """The request without per-layer edits: its latent A is already the final ws."""
    return request.replace(crossover=None, blend=None, direction=None, offsets=None,
                           preview=False)


def _file_ws(explorer, request, path: str) -> np.ndarray:
    """The first latent of a file as ws `[num_ws, w_dim]` for the loaded model."""
    model = explorer.model
    lat = tools.read_latent_file(path)
    if lat.w is not None:
        w = lat.w[0]
        if w.shape != (model.num_ws, model.w_dim):
            raise ValueError(f"{Path(path).name}: W is {w.shape}, the model needs "
                             f"({model.num_ws}, {model.w_dim})")
        return w
    src = (LatentSource(z=tuple(float(v) for v in lat.z[0])) if lat.z is not None
           else LatentSource(seed=int(lat.seeds[0])))
    return explorer.engine.renderer.mapped_ws(_plain(request).replace(latent_a=src))


def video_requests(explorer, s: VideoSettings):
    """(iterator of RenderRequest, frame count); ValueError says what is wrong."""
    if explorer.model is None:
        raise ValueError("no model is loaded")
    if s.motion not in MOTIONS:
        raise ValueError(f"unknown motion {s.motion!r}")
    if s.frames < 1:
        raise ValueError("a video needs at least 1 frame")
    state, renderer = explorer.state, explorer.engine.renderer
    request = explorer.request_for(state)
    if s.motion == "walk":
        active = explorer.directions.active(state)
        if active is None:
            raise ValueError("the chosen directions are not ready")
        amounts = tools.walk_amounts(s.frames, s.amount, s.loop)
        base = state.fit(int(explorer.model.num_ws))

        def walk():
            for a in amounts:
                offsets = tuple(o + a if active.covers(i) else o for i, o in enumerate(base.offsets))
                yield base.replace(offsets=offsets).to_request(explorer.model, active)
        return walk(), len(amounts)
    if s.motion == "ab":
        keys = [renderer.mapped_ws(request),
                renderer.mapped_ws(_plain(request).replace(latent_a=request.latent_b))]
    else:
        if len(s.files) < 2 and not (s.loop and s.files):
            raise ValueError("choose at least two latent files")
        keys = [_file_ws(explorer, request, p) for p in s.files]
    ws = tools.interpolation_ws(np.stack(keys), s.frames, s.loop)      # [F, num_ws, w_dim]
    plain = _plain(request)
    return (plain.replace(latent_a=LatentSource.from_ws(w)) for w in ws), len(ws)
