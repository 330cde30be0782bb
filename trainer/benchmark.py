"""`ganstudio bench train [--json FILE]`: training speed per architecture on this machine.

For each architecture: the CPU preset's networks at 64² (progressive ones set to full resolution,
α = 1), `synthetic:faces` data, a few warm-up steps, then timed steps (one step = one D and one G
update, lazy R1/path-length steps included at their usual rates). Reported: images/s (real images
shown to D per second) and achieved GFLOP/s, where the FLOPs of matrix products and convolutions
of one step — forward, backward and the double backward of the regularisers — are counted once
with torch's FLOP formulas and averaged over a full lazy-regularisation cycle.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from .config import ARCHS, preset

DATA = "synthetic:faces?n=256"


class _FlopCount(TorchDispatchMode):
    """Sum of matmul/conv FLOPs of everything run inside (forward and backward alike)."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.total += count(*args, **kwargs, out_val=out)
        return out


def _mean_step_flops(trainer) -> float:
    """FLOPs of a step averaged over a lazy-regularisation cycle: one counted step per kind of
    step (plain, R1, path length, both), weighted by how often that kind occurs."""
    cfg = trainer.config
    r1 = cfg.r1_interval if cfg.loss == "logistic" and cfg.r1_gamma > 0 else 0
    pl = cfg.pl_interval if cfg.pl_weight > 0 else 0
    cycle = max(r1, 1) * max(pl, 1)
    kinds: dict[tuple[bool, bool], list[int]] = {}
    for k in range(cycle):
        kinds.setdefault((bool(r1) and k % r1 == 0, bool(pl) and k % pl == 0), []).append(k)
    saved, total = trainer.step_count, 0.0
    for ks in kinds.values():
        trainer.step_count = ks[0]
        with _FlopCount() as fc:
            trainer.step()
        total += fc.total * len(ks)
    trainer.step_count = saved
    return total / cycle


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--archs", default=",".join(ARCHS), help="comma-separated (default: all)")
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=32, help="timed steps per architecture")
    p.add_argument("--warmup", type=int, default=4)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset field, as ganstudio-train --set (e.g. "
                        "model.channel_base=1024); repeatable")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "platform": platform.platform()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_arch(arch: str, res: int, batch: int, steps: int, warmup: int, device: str | None,
               sets: list[str] = ()) -> dict:
    from .cli import _apply_sets
    from .loop import Trainer
    with tempfile.TemporaryDirectory(prefix="ganstudio-bench-") as out:
        cfg = preset(arch, res, data=DATA, out=out, batch=batch, batch_per_res={}, start_res=res,
                     kimg=1e6, device=device or "auto")
        cfg = _apply_sets(cfg, list(sets))
        trainer = Trainer(cfg)
        trainer.open_data()
        for _ in range(warmup):
            trainer.step()
        flops_per_step = _mean_step_flops(trainer)
        _sync(trainer.device)
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        _sync(trainer.device)
        seconds = time.perf_counter() - t0
    return {"arch": arch, "resolution": res, "batch": batch, "steps": steps,
            "device": str(trainer.device), "params_G": sum(p.numel() for p in trainer.G.parameters()),
            "params_D": sum(p.numel() for p in trainer.D.parameters()),
            "num_ws": int(getattr(trainer.G, "num_ws", 0)), "model": dict(cfg.model),
            "seconds": round(seconds, 3), "images_per_s": round(steps * batch / seconds, 2),
            "gflop_per_step": round(flops_per_step / 1e9, 3),
            "gflop_per_s": round(flops_per_step * steps / seconds / 1e9, 2)}


def run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    bad = [a for a in archs if a not in ARCHS]
    if bad:
        print(f"ganstudio bench train: unknown architecture(s) {', '.join(bad)}")
        return 2
    try:
        from .cli import _apply_sets
        for arch in archs:                                   # bad --set fails before any timing
            _apply_sets(preset(arch, args.res), args.set)
    except ValueError as e:
        print(f"ganstudio bench train: {e}")
        return 2
    info = machine()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']} "
          f"({info['torch_threads']} threads){', GPU ' + info['gpu'] if 'gpu' in info else ''}")
    if load_before:
        print(f"load average before: {load_before[0]:.2f} (1 min)")
    rows = []
    for arch in archs:
        r = bench_arch(arch, args.res, args.batch, args.steps, args.warmup, args.device, args.set)
        rows.append(r)
        print(f"  {arch}: {r['images_per_s']} img/s", flush=True)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    header = f"{'arch':<10} {'res':>4} {'batch':>5} {'device':>6} {'G params':>9} {'D params':>9} " \
             f"{'img/s':>8} {'GFLOP/step':>10} {'GFLOP/s':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['arch']:<10} {r['resolution']:>4} {r['batch']:>5} {r['device']:>6} "
              f"{r['params_G'] / 1e6:>8.2f}M {r['params_D'] / 1e6:>8.2f}M {r['images_per_s']:>8.1f} "
              f"{r['gflop_per_step']:>10.2f} {r['gflop_per_s']:>8.1f}")
    if load_after:
        print(f"load average after: {load_after[0]:.2f} (1 min) — other processes share this CPU")
    if args.json:
        doc = {"benchmark": "train", "machine": info, "results": rows,
               "load_average": {"before": load_before[0] if load_before else None,
                                "after": load_after[0] if load_after else None}}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"wrote {args.json}")
    return 0
