"""`ganstudio-train` / `python -m trainer`: headless training with a progress bar and a summary.

    ganstudio-train --data DIR|ZIP|synthetic:faces --arch pggan|stylegan|stylegan2|biggan --res 64 \
        --kimg N --out runs/NAME [--resume [PATH]] [--batch B] [--seed S]

`--resume` alone continues the run in --out exactly (its config comes from the checkpoint; --kimg,
--device and --set still apply); `--resume PATH` starts a new run from the weights in PATH (a
GANStudio checkpoint or an official file) — fine-tuning. Under `torchrun --nproc_per_node N` every
process trains its share of the minibatch and only rank 0 writes. Ctrl-C finishes the current
step, saves latest.safetensors and exits; a second Ctrl-C aborts at once.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from .config import ARCHS, TrainConfig, preset


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganstudio-train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="image folder, .zip, or synthetic:faces[?n=N&seed=S]")
    p.add_argument("--arch", choices=ARCHS, default="stylegan2")
    p.add_argument("--res", type=int, default=None, help="target resolution (default 64)")
    p.add_argument("--kimg", type=float, default=None, help="thousands of real images to show D")
    p.add_argument("--out", required=True, help="run folder, e.g. runs/NAME")
    p.add_argument("--resume", nargs="?", const="latest", default=None, metavar="PATH",
                   help="alone: resume --out exactly; PATH: fine-tune from that file's weights")
    p.add_argument("--batch", type=int, default=None, help="minibatch at every resolution")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default=None, help="auto | cpu | cuda | mps")
    p.add_argument("--xflip", action="store_true", help="mirror training images at random")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any TrainConfig field (JSON value), e.g. phase_kimg=10, "
                        "model.channel_max=128; repeatable")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (log ticks)")
    return p


def _apply_sets(config: TrainConfig, items: list[str]) -> TrainConfig:
    d = config.to_dict()
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if key.startswith("model."):
            d["model"] = {**d["model"], key[len("model."):]: value}
        elif key in d:
            d[key] = value
        else:
            raise ValueError(f"--set {key}: no such training option")
    return TrainConfig.from_dict(d)


def make_config(args: argparse.Namespace) -> TrainConfig:
    if args.resume == "latest":
        latest = Path(args.out) / "latest.safetensors"
        if not latest.is_file():
            raise ValueError(f"--resume: nothing to resume, {latest} does not exist")
        from ganstudio.core.checkpoint import read_header
        saved = ((read_header(latest) or {}).get("meta") or {}).get("train_config")
        if not saved:
            raise ValueError(f"--resume: {latest} holds no training state")
        config = TrainConfig.from_dict(saved)
        config.out, config.resume = args.out, "latest"
    else:
        if not args.data:
            raise ValueError("--data is required (a folder, a .zip or synthetic:faces)")
        config = preset(args.arch, args.res or 64)
        config.data, config.out = args.data, args.out
        config.resume = args.resume or ""
        if args.batch is not None:
            config.batch, config.batch_per_res = args.batch, {}
        if args.seed is not None:
            config.seed = args.seed
        if args.xflip:
            config.xflip = True
    if args.kimg is not None:
        config.kimg = args.kimg
    if args.device is not None:
        config.device = args.device
    return _apply_sets(config, args.set).validate()


class _Progress:
    """tqdm bar (kimg, ETA) on rank 0, or one line per tick with --no-progress."""

    def __init__(self, total_kimg: float, start_kimg: float, enabled: bool, bar: bool):
        self.enabled, self.bar = enabled, None
        if enabled and bar:
            from tqdm import tqdm
            self.bar = tqdm(total=round(total_kimg, 3), initial=round(start_kimg, 3), unit="kimg",
                            dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg "
                            "[{elapsed}<{remaining}, {postfix}]")
        self.last = start_kimg

    def step(self, p: dict) -> None:
        if self.bar is not None:
            self.bar.update(round(p["kimg"] - self.last, 6))
            self.last = p["kimg"]
            self.bar.set_postfix_str(f"{p['resolution']}² α={p['alpha']:.2f} "
                                     f"{p['images_per_s']:.1f} img/s", refresh=False)

    def tick(self, s: dict) -> None:
        if self.enabled and self.bar is None:
            losses = " ".join(f"{k}={s[k]:.3f}" for k in ("loss_D", "loss_G") if k in s)
            print(f"tick {s['tick']}: {s['kimg']:.2f} kimg {s['resolution']}² α={s['alpha']:.2f} "
                  f"{losses} {s['sec_per_kimg']:.1f} s/kimg {s['images_per_s']:.1f} img/s",
                  flush=True)

    def write(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.write(msg)
        else:
            print(msg, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ganstudio.core.allocator import keep_freed_memory
    keep_freed_memory()
    from . import distributed as dist
    env = dist.env_from_torchrun()
    try:
        config = make_config(args)
    except ValueError as e:
        print(f"ganstudio-train: error: {e}", file=sys.stderr)
        return 2

    from ganstudio.core.checkpoint import CheckpointError
    from .loop import Callbacks, Trainer
    stop = {"requested": False}
    progress = _Progress(config.kimg, 0.0, enabled=env.is_main, bar=not args.no_progress)
    callbacks = Callbacks(on_step=progress.step, on_tick=progress.tick,
                          on_error=lambda m: progress.write(f"error: {m}"))
    try:
        trainer = Trainer(config, callbacks, dist_env=env)
        data = trainer.open_data()
    except (ValueError, CheckpointError, OSError, RuntimeError) as e:
        progress.close()
        print(f"ganstudio-train: error: {e}", file=sys.stderr)
        return 2
    if env.is_main:
        report = getattr(data, "report", None)
        print(report.summary() if report is not None else f"data: {config.data}", file=sys.stderr)
        print(f"{config.arch} {config.res}², {trainer.schedule.describe()}; device "
              f"{trainer.device}, {env.world_size} process(es); run folder {config.out}",
              file=sys.stderr)
        progress.close()
        progress = _Progress(config.kimg, trainer.kimg, enabled=True, bar=not args.no_progress)
        trainer.callbacks.on_step, trainer.callbacks.on_tick = progress.step, progress.tick

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        progress.write("stopping after this step (Ctrl-C again to abort without saving)…")

    # Ctrl-C (and torchrun's SIGTERM to its workers) → finish the step, save, exit.
    previous = {sig: signal.signal(sig, on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = trainer.run(should_stop=lambda: stop["requested"])
    except KeyboardInterrupt:
        progress.close()
        print("ganstudio-train: aborted; latest.safetensors is from the last save", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.close()
        dist.shutdown()
    if env.is_main:
        rate = (result.kimg - trainer.start_kimg) * 1000 / max(result.seconds, 1e-9)
        print(f"{result.status}: {result.message}\n"
              f"  {result.kimg:.3f} kimg, {result.steps} steps, {result.seconds:.1f} s, "
              f"{rate:.1f} img/s; resolution {trainer.growth()[0]}²\n"
              f"  checkpoint: {result.checkpoint}\n  run folder: {config.out}")
    return 1 if result.status == "failed" else 0


def entry() -> None:
    """The `ganstudio-train` / `python -m trainer` entry point: `main`, then the exit code; a
    torchrun worker leaves through `distributed.exit_process`."""
    from . import distributed as dist
    code = main()
    if dist.env_from_torchrun().enabled:
        dist.exit_process(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
