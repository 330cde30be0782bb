"""Write uint8 frames to MP4 (ffmpeg through imageio-ffmpeg) or GIF (Pillow), atomically.

Every frame given is written: the GIF writer encodes each frame itself (Pillow's own
multi-frame GIF writer merges consecutive identical frames, which would change the count).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np

from ganstudio.core.checkpoint import atomic_write

FORMATS = (".mp4", ".gif")


class VideoWriteError(ValueError):
    """A video that cannot be written: the message says why, in one line."""


def _prepare(frame: np.ndarray, scale: int, shape: tuple | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise VideoWriteError(f"frames must be uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
    if shape is not None and frame.shape != shape:
        raise VideoWriteError(f"frame size changed from {shape} to {frame.shape}")
    if scale > 1:
        frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)   # nearest-neighbour upscale
    return np.ascontiguousarray(frame)


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], *, fps: float = 30.0,
                scale: int = 1, quality: int = 8) -> int:
    """Write frames to `path` (.mp4 or .gif); returns the number of frames written.

    `scale` enlarges each frame by pixel repetition (small models make tiny videos);
    `quality` (0–10) is the MP4 quality. MP4 frames must have even sides (libx264, yuv420p).
    """
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise VideoWriteError(f"{path}: unknown video type {ext!r}; use .mp4 or .gif")
    if fps <= 0:
        raise VideoWriteError("fps must be positive")
    scale = int(scale)
    if scale < 1:
        raise VideoWriteError("scale must be at least 1")
    count = [0]
    writer = _write_mp4 if ext == ".mp4" else _write_gif
    atomic_write(path, lambda tmp: count.__setitem__(0, writer(tmp, frames, fps, scale, quality)))
    return count[0]


def _write_mp4(tmp: str, frames, fps: float, scale: int, quality: int) -> int:
    import imageio_ffmpeg

    n, gen, shape = 0, None, None
    try:
        for frame in frames:
            if shape is None:
                shape = np.asarray(frame).shape
            f = _prepare(frame, scale, shape)
            if gen is None:
                h, w = f.shape[:2]
                if h % 2 or w % 2:
                    raise VideoWriteError(f"MP4 needs even frame sides, got {w}×{h} (use scale 2)")
                # the temp file has no .mp4 suffix, so name the container explicitly
                gen = imageio_ffmpeg.write_frames(
                    tmp, (w, h), fps=fps, codec="libx264", quality=quality,
                    pix_fmt_out="yuv420p", macro_block_size=1, output_params=["-f", "mp4"],
                    ffmpeg_log_level="error")
                gen.send(None)
            gen.send(f)
            n += 1
    finally:
        if gen is not None:
            gen.close()
    if n == 0:
        raise VideoWriteError("no frames to write")
    return n


def _write_gif(tmp: str, frames, fps: float, scale: int, quality: int) -> int:
    from PIL import GifImagePlugin, Image

    duration = max(10, int(round(1000.0 / fps / 10)) * 10)   # GIF delays are in 1/100 s
    n, shape = 0, None
    with open(tmp, "wb") as out:
        for frame in frames:
            if shape is None:
                shape = np.asarray(frame).shape
            im = Image.fromarray(_prepare(frame, scale, shape)).convert(
                "P", palette=Image.Palette.ADAPTIVE, colors=256)
            if n == 0:
                header, _ = GifImagePlugin.getheader(im, info={"loop": 0})
                for part in header:
                    out.write(part)
            for part in GifImagePlugin.getdata(im, include_color_table=True, duration=duration):
                out.write(part)
            n += 1
        if n == 0:
            raise VideoWriteError("no frames to write")
        out.write(b";")                                        # GIF trailer
    return n
