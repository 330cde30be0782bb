"""`ganstudio bench render`: batch-1 StyleGAN2 rendering speed on this machine, as a table and JSON.

Per config (64², 256², 1024² by default) it measures, on random weights (timing does not depend
on them): the official-equivalent full frame (core.stylegan2's modules, the grouped modulated
conv of NVIDIA's code, with the default allocator), the fast full frame, incremental edits of
single W inputs (w16 / w14 at 1024², w12 / w10 at 256², w0 everywhere), a preview frame, the
achieved GFLOP/s (convolution FLOPs counted analytically) against the float32 matmul GFLOP/s of
the same run, and the peak RSS. Wall times are medians and minima of N runs; the CPU time of the
process is reported too, because on a shared machine it is the steadier figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass

import torch

from ganstudio.core.stylegan2 import StyleGAN2Config

from .device import allocator_tuned, choose_device, choose_threads, last_thread_measurement
from .device import tune_allocator
from .fast_synthesis import FastKernels
from .incremental import IncrementalSynthesis, NoiseSpec
from .models import build_builtin_default
from .stages import stage_flops, stylegan2_stages


@dataclass(frozen=True)
class BenchConfig:
    name: str
    resolution: int
    channel_base: int
    channel_max: int
    edits: tuple            # W inputs whose edit is timed


CONFIGS = {
    "64": BenchConfig("64", 64, 4096, 128, (6, 0)),
    "256": BenchConfig("256", 256, 16384, 512, (12, 10, 0)),
    "1024": BenchConfig("1024", 1024, 32768, 512, (16, 14, 0)),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configs", default="64,256,1024",
                   help="comma-separated resolutions among 64, 256, 1024 (default: all)")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per figure (default 7; "
                   "the 1024² config uses at most 3, its official-equivalent at most 2)")
    p.add_argument("--threads", type=int, default=None,
                   help="intra-op threads (default: GANSTUDIO_THREADS or measured)")
    p.add_argument("--no-official", action="store_true",
                   help="skip the official-equivalent path (it is slow at 1024²)")
    p.add_argument("--no-malloc-tuning", action="store_true",
                   help="keep glibc's default allocator settings for the fast path too")


# ---------------------------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / (1024 * 1024)


def matmul_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    best = float("inf")
    for _ in range(repeats + 1):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def _time(fn, repeats: int, device: torch.device, warmup: int = 1) -> dict:
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        _sync(device)
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        _sync(device)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"median_ms": statistics.median(wall), "min_ms": min(wall),
            "cpu_min_ms": min(cpu), "runs": repeats}


def _model(cfg: BenchConfig, device: torch.device):
    sg2 = StyleGAN2Config(img_resolution=cfg.resolution, z_dim=512, w_dim=512,
                          channel_base=cfg.channel_base, channel_max=cfg.channel_max)
    G = build_builtin_default(sg2).to(device)
    g = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        ws = G.mapping(torch.randn([2, G.z_dim], generator=g).to(device))        # [2, num_ws, 512]
    return G, ws[:1].clone(), ws[1:].clone()


def bench_official(cfg: BenchConfig, device, repeats: int) -> dict:
    G, ws, _ = _model(cfg, device)
    with torch.inference_mode():
        return _time(lambda: G.synthesis(ws, noise_mode="const"), repeats, device)


def bench_fast(cfg: BenchConfig, device, repeats: int, preview_budget_ms: float = 100.0,
               preview_min_resolution: int = 32) -> dict:
    G, ws, other = _model(cfg, device)
    stages = stylegan2_stages(G)
    flops = sum(stage_flops(G, stages))
    run = IncrementalSynthesis(FastKernels(G), stages, device)
    noise = NoiseSpec("const", 0, tuple([1.0] * G.num_ws))
    out: dict = {"gflop": flops / 1e9, "num_ws": G.num_ws}
    with torch.inference_mode():
        out["full"] = _time(lambda: run.run(ws, noise, keep=False), repeats, device)
        edits = {}
        for k in cfg.edits:
            state = {"flip": False}
            run.run(ws, noise)                                           # store a frame

            def edit(k=k, state=state):
                state["flip"] = not state["flip"]
                w = ws.clone()
                if state["flip"]:
                    w[:, k] = other[:, k]
                return run.run(w, noise)

            t = _time(edit, repeats, device)
            _, stats = edit()
            t["first_stage"] = stages[stats.start_stage].name
            t["stages_run"] = stats.stages_run
            edits[f"w{k}"] = t
        out["edits"] = edits
        # Preview after a w0 edit: the largest skip-path image ≥ 32² within the budget (the
        # renderer's rule with its defaults).
        run.run(ws, noise)
        run.run(ws, noise, start_stage=0)                                # fresh per-stage times
        torgbs = [s.index for s in run.torgb_stages()][:-1]
        torgbs = [i for i in torgbs if stages[i].resolution >= preview_min_resolution] or torgbs
        fitting = [i for i in torgbs if run.estimate_ms(0, i) <= preview_budget_ms]
        stop = fitting[-1] if fitting else torgbs[0]
        state = {"flip": False}

        def preview():
            state["flip"] = not state["flip"]
            w = ws.clone()
            if state["flip"]:
                w[:, 0] = other[:, 0]
            return run.run(w, noise, stop_stage=stop)

        t = _time(preview, repeats, device)
        t["resolution"] = stages[stop].resolution
        out["preview"] = t
    return out


# ---------------------------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    try:
        choice = choose_device(getattr(args, "device", None))
        names = [c.strip() for c in str(args.configs).split(",") if c.strip()]
        unknown = [c for c in names if c not in CONFIGS]
        if unknown:
            raise ValueError(f"unknown config(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(CONFIGS)}")
    except ValueError as e:
        print(f"ganstudio bench render: {e}", file=sys.stderr)
        return 2
    device = torch.device(choice.device)
    threads = args.threads or (choose_threads() if device.type == "cpu" else
                               torch.get_num_threads())
    torch.set_num_threads(threads)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = {
        "machine": {"platform": platform.platform(), "cpu": cpu_model(),
                    "cores": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "device": str(device),
                    "device_note": choice.note, "threads": threads,
                    "thread_measurement_s": last_thread_measurement(),
                    "load_average_before": load_before},
        "configs": {},
    }
    print(f"GANStudio render benchmark — {report['machine']['cpu']}, {platform.platform()}, "
          f"torch {torch.__version__}, device {device}, {threads} thread(s)")
    if load_before is not None:
        print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} "
              f"{load_before[2]:.2f} (on {os.cpu_count()} cores; other work skews the timings)")
    peak = matmul_gflops(device)
    report["machine"]["matmul_gflops"] = peak
    print(f"float32 matmul (2048²): {peak:.1f} GFLOP/s")

    def reps(cfg: BenchConfig, official: bool = False) -> int:
        if cfg.resolution >= 1024:
            return max(1, min(args.repeats, 2 if official else 3))
        return max(1, args.repeats)

    # The official-equivalent path first, with the allocator as the official code finds it.
    official = {}
    if not args.no_official:
        for name in names:
            cfg = CONFIGS[name]
            print(f"  official-equivalent {cfg.resolution}² …", flush=True)
            official[name] = bench_official(cfg, device, reps(cfg, True))
    tuned = False
    if device.type == "cpu" and not args.no_malloc_tuning:
        tuned = tune_allocator()
    report["machine"]["malloc_tuning"] = tuned or allocator_tuned()
    for name in names:
        cfg = CONFIGS[name]
        print(f"  fast path {cfg.resolution}² …", flush=True)
        r = bench_fast(cfg, device, reps(cfg))
        if name in official:
            r["official_full"] = official[name]
            r["speedup_vs_official"] = official[name]["median_ms"] / r["full"]["median_ms"]
            if tuned:   # how much of the gain is the allocator: the same code with the tuning
                print(f"  official-equivalent {cfg.resolution}², tuned allocator …", flush=True)
                r["official_full_tuned_malloc"] = bench_official(
                    cfg, device, 1 if cfg.resolution >= 1024 else reps(cfg))
        r["gflops_achieved"] = r["gflop"] / (r["full"]["min_ms"] / 1000)
        r["fraction_of_matmul"] = r["gflops_achieved"] / peak
        r["fps"] = 1000 / r["full"]["median_ms"]
        r["peak_rss_mb"] = peak_rss_mb()
        report["configs"][name] = r
    report["machine"]["load_average_after"] = (os.getloadavg() if hasattr(os, "getloadavg")
                                               else None)
    print()
    print(format_table(report))
    if getattr(args, "json", None):
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwritten: {args.json}")
    return 0


def format_table(report: dict) -> str:
    m = report["machine"]
    lines = [f"machine: {m['cpu']} · {m['platform']} · torch {m['torch']} · {m['device']} · "
             f"{m['threads']} thread(s) · malloc tuning {'on' if m['malloc_tuning'] else 'off'}",
             f"float32 matmul: {m['matmul_gflops']:.1f} GFLOP/s",
             "",
             "| config | GFLOP | official-equiv. full ms: med / min (med, tuned malloc) "
             "| fast full ms: med / min (cpu) | speed-up | frames/s | edits ms: med (× vs full) "
             "| preview ms (res) | eff. GFLOP/s | of matmul | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in report["configs"].items():
        full = r["full"]
        off = r.get("official_full")
        off_s = f"{off['median_ms']:.0f} / {off['min_ms']:.0f}" if off else "—"
        tm = r.get("official_full_tuned_malloc")
        if tm:
            off_s += f" ({tm['median_ms']:.0f})"
        sp = f"{r['speedup_vs_official']:.2f}×" if off else "—"
        edits = ", ".join(f"{k} {v['median_ms']:.0f} ({full['median_ms'] / v['median_ms']:.1f}×)"
                          for k, v in r["edits"].items())
        pv = r["preview"]
        lines.append(
            f"| {name}² | {r['gflop']:.1f} | {off_s} | {full['median_ms']:.1f} / "
            f"{full['min_ms']:.1f} ({full['cpu_min_ms']:.0f}) | {sp} | {r['fps']:.1f} | {edits} | "
            f"{pv['median_ms']:.1f} ({pv['resolution']}²) | {r['gflops_achieved']:.1f} | "
            f"{100 * r['fraction_of_matmul']:.0f}% | {r['peak_rss_mb']:.0f} |")
    la, lb = m.get("load_average_before"), m.get("load_average_after")
    if la and lb:
        lines.append(f"\nload average before/after: {la[0]:.2f} / {lb[0]:.2f} "
                     f"({m['cores']} cores); peak RSS is the process high-water mark so far")
    lines.append("eff. GFLOP/s = the official algorithm's convolution FLOPs / fastest full frame "
                 "(Winograd layers do fewer, so it can pass the matmul figure)")
    return "\n".join(lines)
