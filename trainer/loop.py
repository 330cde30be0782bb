"""The training loop: `Trainer(config, callbacks).run(should_stop, should_pause)` or `step()`.

One step = one D update and one G update on one minibatch (size per resolution, split over
processes). Everything the next step depends on — weights, Adam state, RNG streams, counters,
schedule position, path-length mean — is in the checkpoint, so a resumed run continues exactly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.core.checkpoint import CheckpointError, save_checkpoint

from . import biggan_losses as BL
from . import classes
from . import distributed as dist
from . import losses as L
from . import state as S
from .config import TrainConfig
from .networks import (SEED_DATA, SEED_GRID, SEED_TRAIN, build_networks, first_non_finite,
                       pick_device, set_growth)
from .run_folder import RunFolder, image_grid, snapshot_name
from .schedule import GrowthSchedule
from .seeding import derive_seed, make_generator


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why in one line."""


class NonFiniteError(TrainingError):
    """A loss or weight became NaN/Inf."""


def _never() -> bool:
    return False


@dataclass
class Callbacks:
    on_step: Callable[[dict], None] | None = None        # progress after every step
    on_tick: Callable[[dict], None] | None = None        # stats.jsonl line
    on_preview: Callable[[np.ndarray], None] | None = None   # uint8 [H, W, 3] grid
    on_snapshot: Callable[[str], None] | None = None     # path of the checkpoint just written
    on_error: Callable[[str], None] | None = None        # fatal, or a save that failed


@dataclass(frozen=True)
class RunResult:
    status: str            # "done" | "stopped" | "failed"
    message: str
    checkpoint: str | None
    kimg: float
    steps: int
    seconds: float


class Trainer:
    def __init__(self, config: TrainConfig, callbacks: Callbacks | None = None, *,
                 dataset=None, dist_env: dist.DistEnv | None = None):
        self.config = config.validate()
        self.callbacks = callbacks or Callbacks()
        self.env = dist_env or dist.SINGLE
        self.device = dist.device_for(self.env, pick_device(config.device))
        dist.init(self.env, self.device)
        self.folder = RunFolder(config.out, enabled=self.env.is_main)
        self.config, resume_ckpt, init_weights, model_config = S.starting_point(self.config)
        self.dataset = dataset
        if resume_ckpt is None and init_weights is None:
            self.config, model_config = classes.with_data_classes(self.config, model_config,
                                                                  self.open_data)
        self.schedule = GrowthSchedule(self.config)
        for r in self.schedule.resolutions():
            if self.config.batch_at(r) % self.env.world_size:
                raise ValueError(f"minibatch {self.config.batch_at(r)} at {r}² does not split "
                                 f"over {self.env.world_size} processes")
        self.nets = build_networks(self.config, model_config, self.device)
        self.G, self.G_ema, self.D = self.nets.G, self.nets.G_ema, self.nets.D
        seed, rank = self.config.seed, self.env.rank
        self.gens = {"data": make_generator("cpu", derive_seed(seed, SEED_DATA, rank)),
                     "train": make_generator(self.device, derive_seed(seed, SEED_TRAIN, rank))}
        self.pl_mean = torch.zeros([], device=self.device)
        self.cur_nimg, self.step_count, self.tick = 0, 0, 0
        self.total_nimg = int(round(self.config.kimg * 1000))
        self.next_nimg = {"tick": 0, "preview": 0, "snapshot": 0}
        if resume_ckpt is not None:
            self._load_training_state(resume_ckpt)
        elif init_weights is not None:
            S.load_module(self.G, init_weights["G"], "G")
            S.load_module(self.G_ema, init_weights["G_ema"], "G_ema")
            if init_weights["D"]:
                S.load_module(self.D, init_weights["D"], "D")
            set_growth((self.G, self.G_ema, self.D), self.config.res, 1.0)   # full size
        else:
            g = self.schedule.at(0)
            set_growth((self.G, self.G_ema, self.D), g.resolution, g.alpha)
        for m in (self.G, self.G_ema, self.D):
            dist.broadcast_module(m, self.env)
        self.grid_z, self.grid_c, self.grid_shape = classes.preview_latents(
            make_generator("cpu", derive_seed(self.config.seed, SEED_GRID)),
            *self.config.preview_grid, self.G.z_dim, self.G.c_dim, self.device)
        self.start_kimg = self.kimg
        self._tick_sums: dict[str, list[float]] = {}
        self._tick_t0, self._tick_nimg0, self._paused_s = time.perf_counter(), self.cur_nimg, 0.0

    def _load_training_state(self, ckpt) -> None:
        train = ckpt.meta["train"]
        for name, module in (("G", self.G), ("G_ema", self.G_ema), ("D", self.D)):
            S.load_module(module, ckpt.group(name), name)
        optim = ckpt.meta.get("optim", {})
        S.load_optimizer(self.nets.opt_G, ckpt.group("opt_G"), optim.get("G", []), "G")
        S.load_optimizer(self.nets.opt_D, ckpt.group("opt_D"), optim.get("D", []), "D")
        S.restore_rng(self.gens, ckpt.group("rng"), self.env.rank)
        if "pl_mean" in ckpt.group("loss"):
            self.pl_mean.copy_(ckpt.group("loss")["pl_mean"])
        self.cur_nimg, self.step_count = int(train["cur_nimg"]), int(train["step"])
        self.tick = int(train.get("tick", 0))
        self.next_nimg.update({k: int(v) for k, v in train.get("next_nimg", {}).items()})

    def open_data(self, labels: bool | None = None):
        """The dataset (opened on first use; sharded by rank under torchrun); labels for a
        conditional model (default: when G has classes)."""
        if self.dataset is None:
            from .data import open_dataset
            labels = self.G.c_dim > 0 if labels is None else labels
            data = open_dataset(self.config.data, self.config.res, xflip=self.config.xflip,
                                labels=labels)
            if self.env.enabled:
                data = data.shard(self.env.rank, self.env.world_size)
            self.dataset = data
        return self.dataset

    # ---------------------------------------------------------------------------------------------
    # One step
    # ---------------------------------------------------------------------------------------------
    @property
    def kimg(self) -> float:
        return self.cur_nimg / 1000

    def growth(self) -> tuple[int, float]:
        """(resolution, α) the networks were last trained at — what a checkpoint renders."""
        return self.G.current_resolution, self.G.alpha

    def step(self) -> dict:
        cfg, gen = self.config, self.gens["train"]
        g = self.schedule.at(self.cur_nimg)
        set_growth((self.G, self.G_ema, self.D), g.resolution, g.alpha)
        n = g.batch // self.env.world_size

        # --- D: real vs fake (+ lazy R1 | gradient penalty and drift) ---------------------------
        real, c_real = self._reals(n, g)
        c = self._random_c(n)
        with torch.no_grad():
            fake, _ = L.generate(self.G, L.draw_z(n, self.G.z_dim, gen), c,
                                 mixing_prob=cfg.mixing_prob, gen=gen)
        self.D.requires_grad_(True)
        size_ratio = g.resolution / cfg.res          # penalties as on full-size upscaled images
        if cfg.loss == "hinge":
            loss_D, stats = BL.d_loss_hinge(self.D, real, fake, c_real)
        elif cfg.loss == "wgan-gp":
            loss_D, stats = L.d_loss_wgan_gp(self.D, real, fake, c_real, gp_lambda=cfg.gp_lambda,
                                             gp_target=cfg.gp_target,
                                             drift_epsilon=cfg.drift_epsilon, gen=gen,
                                             size_ratio=size_ratio)
        else:
            lazy = self.step_count % cfg.r1_interval == 0
            loss_D, stats = L.d_loss_logistic(self.D, real, fake, c_real, r1_gamma=cfg.r1_gamma,
                                              r1_weight=cfg.r1_interval if lazy else 0,
                                              size_ratio=size_ratio)
        self._optimize(self.nets.opt_D, self.D, loss_D, "loss_D")

        # --- G: fool D (+ lazy path-length regularisation) ---------------------------------------
        self.D.requires_grad_(False)
        c = self._random_c(n)
        fake, _ = L.generate(self.G, L.draw_z(n, self.G.z_dim, gen), c,
                             mixing_prob=cfg.mixing_prob, gen=gen, update_emas=True)
        if self.G.has_w_space:
            dist.average_buffer_(self.G.mapping.w_avg, self.env)
        loss_G, s = L.g_loss(cfg.loss, self.D, fake, c)
        stats.update(s)
        if cfg.ortho_beta > 0:
            ortho = BL.ortho_penalty(self.G)
            loss_G = loss_G + ortho * cfg.ortho_beta
            stats["ortho"] = ortho.detach()
        if cfg.pl_weight > 0 and self.step_count % cfg.pl_interval == 0:
            m = max(n // cfg.pl_batch_shrink, 1)
            pl, s = L.path_length_penalty(
                self.G, L.draw_z(m, self.G.z_dim, gen), self._random_c(m), pl_mean=self.pl_mean,
                pl_decay=cfg.pl_decay, mixing_prob=cfg.mixing_prob, gen=gen,
                reduce_mean=lambda t: dist.mean(t, self.env))
            loss_G = loss_G + pl * (cfg.pl_weight * cfg.pl_interval)
            stats.update(s)
        self._optimize(self.nets.opt_G, self.G, loss_G, "loss_G")
        self.D.requires_grad_(True)

        # --- EMA, counters ----------------------------------------------------------------------
        beta = L.ema_beta(g.batch, cfg.ema_kimg, self.cur_nimg, cfg.ema_rampup)
        L.update_ema(self.G_ema, self.G, beta)
        self.cur_nimg += g.batch
        self.step_count += 1
        out = {k: float(v) for k, v in stats.items()}
        for k, v in out.items():
            self._tick_sums.setdefault(k, []).append(v)
        out.update(step=self.step_count, kimg=self.kimg, resolution=g.resolution, alpha=g.alpha,
                   batch=g.batch)
        return out

    def _reals(self, n: int, g):
        images, labels = self.open_data().sample(n, self.gens["data"], resolution=g.resolution)
        real = images.to(self.device, torch.float32)                            # [n, 3, r, r]
        if self.config.progressive:
            real = L.fade_reals(real, g.alpha)
        c = None
        if self.G.c_dim:
            c = F.one_hot(torch.as_tensor(labels).long().reshape(-1), self.G.c_dim).float()
            c = c.to(self.device)
        return real, c

    def _random_c(self, n: int):
        if not self.G.c_dim:
            return None
        gen = self.gens["train"]
        idx = torch.randint(self.G.c_dim, [n], generator=gen, device=gen.device)
        return F.one_hot(idx, self.G.c_dim).float().to(self.device)

    def _optimize(self, opt, module, loss: torch.Tensor, name: str) -> None:
        """Check the loss on every process, then backward, average gradients, step."""
        bad = not bool(torch.isfinite(loss.detach()))
        if dist.any_flag([bad], self.env, self.device)[0]:
            value = float(loss.detach()) if bad else "non-finite on another process"
            raise NonFiniteError(f"step {self.step_count + 1} ({self.kimg:.3f} kimg): {name} is "
                                 f"{value}; training stopped, the last good checkpoint is kept")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        dist.all_reduce_grads(list(module.parameters()), self.env)
        opt.step()

    # ---------------------------------------------------------------------------------------------
    # The loop
    # ---------------------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool] = _never,
            should_pause: Callable[[], bool] = _never) -> RunResult:
        t0 = time.perf_counter()
        status, message, saved = "done", "", None
        try:
            self._begin()
            while self.cur_nimg < self.total_nimg:
                stop, pause = dist.any_flag([should_stop(), should_pause()], self.env, self.device)
                if pause and not stop:
                    stop = self._wait_paused(should_stop, should_pause)
                if stop:
                    status = "stopped"
                    break
                progress = self.step()
                self._report_step(progress)
                self._after_step()
            saved = self._try_save(snapshot=status == "done")
            if saved is None and self.env.is_main:
                status, message = "failed", "the final checkpoint could not be written"
            elif status == "stopped":
                message = f"stopped at {self.kimg:.3f} kimg on request; saved {saved}"
            else:
                message = f"finished {self.kimg:.3f} kimg; saved {saved}"
        except (TrainingError, CheckpointError, ValueError, OSError, RuntimeError) as e:
            status, message = "failed", str(e)
            self._emit("on_error", message)
        finally:
            self.folder.close()
        latest = str(self.folder.latest) if self.folder.latest.is_file() else None
        return RunResult(status, message, latest, self.kimg, self.step_count,
                         time.perf_counter() - t0)

    def _begin(self) -> None:
        self.folder.write_config(self.config)
        self._tick_t0, self._tick_nimg0, self._paused_s = time.perf_counter(), self.cur_nimg, 0.0

    def _wait_paused(self, should_stop, should_pause) -> bool:
        """Poll every 50 ms until resumed (False) or asked to stop (True)."""
        t = time.perf_counter()
        while True:
            stop, pause = dist.any_flag([should_stop(), should_pause()], self.env, self.device)
            if stop or not pause:
                self._paused_s += time.perf_counter() - t
                return stop
            time.sleep(0.05)

    def _report_step(self, progress: dict) -> None:
        elapsed = max(time.perf_counter() - self._tick_t0 - self._paused_s, 1e-9)
        rate = (self.cur_nimg - self._tick_nimg0) / elapsed
        progress.update(total_kimg=self.total_nimg / 1000, images_per_s=rate,
                        fraction=min(self.cur_nimg / max(self.total_nimg, 1), 1.0),
                        eta_s=(self.total_nimg - self.cur_nimg) / rate if rate > 0 else None)
        self._emit("on_step", progress)

    def _after_step(self) -> None:
        cfg, done = self.config, self.cur_nimg >= self.total_nimg
        if self.cur_nimg >= self.next_nimg["tick"] or done:
            self._end_tick()
            self.next_nimg["tick"] = self.cur_nimg + int(cfg.tick_kimg * 1000)
        if self.cur_nimg >= self.next_nimg["preview"] or done:
            self.preview()
            self.next_nimg["preview"] = self.cur_nimg + int(cfg.preview_kimg * 1000)
        if self.cur_nimg >= self.next_nimg["snapshot"] and not done:
            self.next_nimg["snapshot"] = self.cur_nimg + int(cfg.snapshot_kimg * 1000)
            self._try_save(snapshot=True)

    def _end_tick(self) -> None:
        now = time.perf_counter()
        seconds = max(now - self._tick_t0 - self._paused_s, 1e-9)
        nimg = self.cur_nimg - self._tick_nimg0
        res, alpha = self.growth()
        stats = {k: float(np.mean(v)) for k, v in self._tick_sums.items()}
        stats.update(tick=self.tick, kimg=self.kimg, step=self.step_count,
                     resolution=res, alpha=alpha, batch=self.config.batch_at(res),
                     sec_per_tick=seconds, sec_per_kimg=seconds / max(nimg / 1000, 1e-9),
                     images_per_s=nimg / seconds)
        self.folder.append_stats(stats)
        self.folder.log_scalars({k: v for k, v in stats.items() if k != "tick"}, self.cur_nimg)
        self._emit("on_tick", stats)
        self.tick += 1
        self._tick_sums.clear()
        self._tick_t0, self._tick_nimg0, self._paused_s = now, self.cur_nimg, 0.0

    # ---------------------------------------------------------------------------------------------
    # Preview and checkpoints
    # ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def preview(self) -> np.ndarray | None:
        """G_ema on the fixed grid latents at the current resolution (rank 0 only)."""
        if not self.env.is_main:
            return None
        rows, cols = self.grid_shape
        images = []
        for i in range(0, rows * cols, 16):
            c = None if self.grid_c is None else self.grid_c[i: i + 16]
            ws = L.map_z(self.G_ema, self.grid_z[i: i + 16], c)
            images.append(L.synthesize(self.G_ema, ws, c, noise_mode="const"))
        grid = image_grid(torch.cat(images), rows, cols)
        self.folder.save_preview(grid, self.kimg, self.cur_nimg)
        self._emit("on_preview", grid)
        return grid

    def save(self, snapshot: bool = False) -> Path | None:
        """Write latest.safetensors (and a numbered snapshot); every rank must call it.
        Refuses (NonFiniteError) when a weight is NaN/Inf, so a good file is never replaced."""
        rng = [dict(zip(self.gens, states)) for states in zip(
            *[dist.gather_bytes(g.get_state(), self.env) for g in self.gens.values()])]
        if not self.env.is_main:
            return None
        bad = first_non_finite({"G": self.G, "G_ema": self.G_ema, "D": self.D})
        if bad is not None:
            raise NonFiniteError(f"step {self.step_count}: weight {bad} is not finite; not saved, "
                                 "the last good checkpoint is kept")
        res, alpha = self.growth()
        opt_G, groups_G = S.optimizer_tensors(self.nets.opt_G)
        opt_D, groups_D = S.optimizer_tensors(self.nets.opt_D)
        meta = {"kimg": self.kimg, "growth": {"resolution": res, "alpha": alpha},
                "train": {"step": self.step_count, "cur_nimg": self.cur_nimg, "tick": self.tick,
                          "next_nimg": dict(self.next_nimg),
                          "world_size": self.env.world_size},
                "train_config": self.config.to_dict(), "optim": {"G": groups_G, "D": groups_D}}
        names = classes.class_names(self.open_data(), self.G.c_dim) if self.G.c_dim else None
        if names:
            meta["class_names"] = names
        path = self.folder.path / snapshot_name(self.kimg) if snapshot else self.folder.latest
        save_checkpoint(path, arch=self.config.arch, config=self.G.config_dict(),
                        groups={"G": self.G, "G_ema": self.G_ema, "D": self.D, "opt_G": opt_G,
                                "opt_D": opt_D, "rng": S.rng_tensors(rng),
                                "loss": {"pl_mean": self.pl_mean}}, meta=meta)
        if snapshot:
            self.folder.copy_to_latest(path)
        self._emit("on_snapshot", str(path))
        return path

    def _try_save(self, snapshot: bool) -> Path | None:
        """save(), reporting (not raising) a failed write: the previous file stays intact."""
        try:
            return self.save(snapshot=snapshot)
        except OSError as e:
            self._emit("on_error", f"could not write a checkpoint in {self.folder.path} "
                                   f"({e.strerror or e}); the previous checkpoint is intact")
            return None

    def _emit(self, name: str, value) -> None:
        fn = getattr(self.callbacks, name)
        if fn is not None and (self.env.is_main or name == "on_error"):
            fn(value)
