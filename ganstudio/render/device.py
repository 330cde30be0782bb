"""Which device renders, and with how many CPU threads.

Device: an explicit argument (command line) wins, then the environment variable GANSTUDIO_DEVICE,
then the app setting, then `auto` = CUDA → MPS → CPU. A device that was asked for but is absent
falls back to the CPU with a note (the app must start anyway).

Threads (CPU only): GANSTUDIO_THREADS wins; otherwise the count is chosen by timing this
project's own workload (a channels-last 3×3 convolution and a transposed one, as in StyleGAN2's
middle blocks) with 1 thread and with all cores. On small shared machines one thread is often as
fast as two, and it leaves a core for the GUI.
"""
from __future__ import annotations

import ctypes
import os
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

DEVICE_ENV = "GANSTUDIO_DEVICE"
THREADS_ENV = "GANSTUDIO_THREADS"
DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceChoice:
    device: str          # "cpu" | "cuda" | "cuda:1" | "mps"
    source: str          # "argument" | "environment" | "setting" | "auto"
    note: str = ""       # why a requested device was not used, if it was not


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    out = []
    if torch.cuda.is_available():
        out.append("cuda")
    if _mps_available():
        out.append("mps")
    out.append("cpu")
    return out


def choose_device(argument: str | None = None, setting: str | None = None,
                  env: dict | None = None) -> DeviceChoice:
    """Resolve the device from argument > environment > setting > auto.

    Raises ValueError for a name that is not a device at all (a typo should be said, not guessed).
    """
    env = os.environ if env is None else env
    for source, value in (("argument", argument), ("environment", env.get(DEVICE_ENV)),
                          ("setting", setting)):
        if value is not None and str(value).strip():
            return _resolve(str(value).strip().lower(), source)
    return _resolve("auto", "auto")


def _resolve(name: str, source: str) -> DeviceChoice:
    base = name.split(":", 1)[0]
    if base not in DEVICE_NAMES:
        raise ValueError(f"unknown device {name!r} (from {source}); use one of "
                         f"{', '.join(DEVICE_NAMES)}")
    if base == "auto":
        return DeviceChoice(available_devices()[0], source)
    if base == "cuda" and not torch.cuda.is_available():
        return DeviceChoice("cpu", source, f"{name} was requested but CUDA is not available")
    if base == "cuda" and ":" in name:
        index = int(name.split(":", 1)[1])
        if index >= torch.cuda.device_count():
            return DeviceChoice("cpu", source, f"{name} was requested but there are only "
                                f"{torch.cuda.device_count()} CUDA devices")
    if base == "mps" and not _mps_available():
        return DeviceChoice("cpu", source, "mps was requested but MPS is not available")
    return DeviceChoice(name, source)


# ---------------------------------------------------------------------------------------------
# Intra-op threads
# ---------------------------------------------------------------------------------------------

_measured: dict[int, float] | None = None


def cpu_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _workload() -> callable:
    """A slice of StyleGAN2 at 64² (128 channels): 3×3 conv + stride-2 transposed conv, ~45 ms."""
    g = torch.Generator().manual_seed(0)
    cl = torch.channels_last
    x = torch.randn(1, 128, 32, 32, generator=g).contiguous(memory_format=cl)
    w = torch.randn(128, 128, 3, 3, generator=g).contiguous(memory_format=cl)
    wt = torch.randn(128, 128, 3, 3, generator=g).contiguous(memory_format=cl)

    def run():
        y = F.conv2d(x, w, padding=1)
        F.conv_transpose2d(y, wt, stride=2)
    return run


def measure_threads(candidates: list[int] | None = None, repeats: int = 5) -> dict[int, float]:
    """Best-of-`repeats` seconds of the workload per thread count (restores the old count)."""
    cores = cpu_cores()
    if candidates is None:
        candidates = sorted({1, cores})
    run = _workload()
    old = torch.get_num_threads()
    times: dict[int, float] = {}
    try:
        with torch.inference_mode():
            for n in candidates:
                torch.set_num_threads(n)
                run()  # warm-up: JIT kernels, caches
                best = float("inf")
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    run()
                    best = min(best, time.perf_counter() - t0)
                times[n] = best
    finally:
        torch.set_num_threads(old)
    return times


def choose_threads(env: dict | None = None, measure: bool = True, margin: float = 0.15) -> int:
    """GANSTUDIO_THREADS, else the measured best (more threads must win by `margin` to be used).

    The measurement runs once per process (~0.3 s) and is cached.
    """
    global _measured
    env = os.environ if env is None else env
    value = env.get(THREADS_ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number, got {value!r}") from None
        return max(1, n)
    if not measure or cpu_cores() == 1:
        return 1
    if _measured is None:
        _measured = measure_threads()
    best = 1
    for n, t in sorted(_measured.items()):
        if t < _measured[best] * (1.0 - margin):
            best = n
    return best


def last_thread_measurement() -> dict[int, float] | None:
    """Seconds per thread count from the last automatic choice (None when not measured)."""
    return None if _measured is None else dict(_measured)


# ---------------------------------------------------------------------------------------------
# Allocator: keep big freed blocks for reuse (glibc)
# ---------------------------------------------------------------------------------------------

MALLOC_ENV = "GANSTUDIO_MALLOC_TUNING"
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_allocator_tuned: bool | None = None


def tune_allocator(env: dict | None = None) -> bool:
    """Make glibc's malloc reuse freed activation buffers instead of returning them to the OS.

    By default glibc serves blocks above 32 MB (and, in threads other than the main one, any block
    that does not fit a 64 MB arena heap) with a fresh mmap, so every frame page-faults its
    activations in again: measured here ~80 ms per 128 MB buffer, 3–6× the cost of writing it.
    This sets M_MMAP_MAX=0 (no mmap for large blocks), M_TRIM_THRESHOLD=1 GiB (keep freed memory)
    and M_ARENA_MAX=1 (worker threads share the main heap). Process-wide and irreversible;
    the price is that RSS stays at its high-water mark. GANSTUDIO_MALLOC_TUNING=0 turns it off.
    Returns whether the settings are in effect (False on non-glibc systems).
    """
    global _allocator_tuned
    env = os.environ if env is None else env
    if env.get(MALLOC_ENV, "1").strip() in ("0", "false", "no", "off"):
        return False
    if _allocator_tuned is not None:
        return _allocator_tuned
    _allocator_tuned = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = (mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1
          and mallopt(_M_ARENA_MAX, 1) == 1)
    _allocator_tuned = bool(ok)
    return _allocator_tuned


def allocator_tuned() -> bool:
    return bool(_allocator_tuned)
