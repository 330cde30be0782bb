"""TrainConfig: everything a training run depends on, one dataclass, saved as `config.json`.

`preset(arch, res)` gives hyper-parameters that are sensible for 64²–128² on a CPU (small networks,
short growth phases); the values follow the papers where they are scale-free (learning rates,
Adam betas, ε_drift, λ_GP, mixing probability, lazy-regularisation intervals) and are scaled down
where they are not (channels, kimg per phase, minibatch).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

ARCHS = ("pggan", "stylegan", "stylegan2", "biggan")
PROGRESSIVE_ARCHS = ("pggan", "stylegan")


@dataclass
class TrainConfig:
    # --- what ---------------------------------------------------------------------------------
    arch: str = "stylegan2"
    res: int = 64                         # target resolution (power of two)
    data: str = "synthetic:faces"         # image folder, .zip or "synthetic:faces"
    xflip: bool = False
    model: dict = field(default_factory=dict)   # arch config overrides (z_dim, channel_max, c_dim…)
    out: str = "runs/run"
    device: str = "auto"                  # auto | cpu | cuda | cuda:1 | mps
    resume: str = ""                      # "" fresh; "latest" = out/latest.safetensors; else a file
    # --- how long, how much -------------------------------------------------------------------
    kimg: float = 300.0                   # total thousands of real images shown to D
    batch: int = 16                       # minibatch (global, over all processes) at the target res
    batch_per_res: dict = field(default_factory=dict)   # {res: minibatch} below the target
    seed: int = 0
    # --- optimisation -------------------------------------------------------------------------
    loss: str = "logistic"                # "wgan-gp" (PGGAN) | "logistic" (StyleGAN, StyleGAN2)
                                          # | "hinge" (BigGAN)
    g_lr: float = 0.002
    d_lr: float = 0.002
    betas: tuple = (0.0, 0.99)
    adam_eps: float = 1e-8
    r1_gamma: float = 0.0                 # R1 weight γ (penalty γ/2 ‖∇D(x)‖²), 0 = off
    r1_interval: int = 16                 # lazy R1: every N D steps, scaled by N
    pl_weight: float = 0.0                # path-length weight (StyleGAN2), 0 = off
    pl_interval: int = 4                  # lazy PL: every N G steps, scaled by N
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    gp_lambda: float = 10.0               # WGAN-GP λ
    gp_target: float = 1.0
    drift_epsilon: float = 0.001          # WGAN-GP drift ε · D(x)²
    mixing_prob: float = 0.0              # style-mixing regularisation
    ortho_beta: float = 0.0               # BigGAN's orthogonal regularisation of G's weights, 0 = off
    ema_kimg: float = 10.0                # G EMA half-life in kimg
    ema_rampup: float | None = None       # half-life ≤ rampup · kimg shown (None = no ramp-up)
    # --- progressive growing (pggan, stylegan) ------------------------------------------------
    start_res: int = 4
    phase_kimg: float = 20.0              # stable training per resolution
    transition_kimg: float = 20.0         # fade-in α 0→1 per new resolution
    # --- reporting ----------------------------------------------------------------------------
    tick_kimg: float = 1.0                # stats.jsonl line, TensorBoard scalars, progress
    preview_kimg: float = 5.0             # preview grid PNG
    snapshot_kimg: float = 20.0           # latest.safetensors + snapshot-KKKKKK.safetensors
    preview_grid: tuple = (4, 4)          # rows, cols

    # --- derived ------------------------------------------------------------------------------
    @property
    def progressive(self) -> bool:
        return self.arch in PROGRESSIVE_ARCHS

    def batch_at(self, res: int) -> int:
        return int(self.batch_per_res.get(res, self.batch))

    def model_config(self) -> dict:
        """Values for the architecture's config dataclass (unknown keys are ignored by it)."""
        return {**self.model, "img_resolution": self.res}

    def validate(self) -> "TrainConfig":
        if self.arch not in ARCHS:
            raise ValueError(f"unknown --arch {self.arch!r}; choose one of {', '.join(ARCHS)}")
        if self.res < 4 or self.res & (self.res - 1):
            raise ValueError(f"--res must be a power of two ≥ 4, got {self.res}")
        if self.start_res < 4 or self.start_res & (self.start_res - 1) or self.start_res > self.res:
            raise ValueError(f"start_res must be a power of two in 4..{self.res}, got {self.start_res}")
        if self.loss not in ("wgan-gp", "logistic", "hinge"):
            raise ValueError(f"unknown loss {self.loss!r}")
        for r in [self.res] + list(self.batch_per_res):
            if self.batch_at(r) < 1:
                raise ValueError(f"minibatch at {r}² must be ≥ 1")
        if self.kimg <= 0:
            raise ValueError("--kimg must be > 0")
        return self

    # --- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["batch_per_res"] = {str(k): v for k, v in self.batch_per_res.items()}
        d["betas"] = list(self.betas)
        d["preview_grid"] = list(self.preview_grid)
        return d

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}")
        v = dict(values)
        if "batch_per_res" in v:
            v["batch_per_res"] = {int(k): int(b) for k, b in v["batch_per_res"].items()}
        for key in ("betas", "preview_grid"):
            if key in v:
                v[key] = tuple(v[key])
        return cls(**v)

    def save(self, path: str | Path) -> None:
        from ganstudio.core.checkpoint import atomic_write
        text = json.dumps(self.to_dict(), indent=2)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text))

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))


# Small networks for a CPU: channels = min(channel_base / res, 128), at least 16 at the top
# resolution — about 1 M parameters per network and ~6 GFLOP per trained 64² image (G and D,
# forward and backward), 10–20 images/s on two desktop cores.
def _cpu_model(arch: str, res: int) -> dict:
    if arch == "biggan":
        # ch 16 at 32² (blocks of 64 channels), 8 at 64² and up (128 → 16); attention at 16² / 32²;
        # z 120 splits into 4 (32²), 5 (64²) or 6 (128²) chunks. n_classes comes from the data.
        ch = 16 if res <= 32 else 8
        attn = (max(res // 2, 8),)
        return {"ch": ch, "d_ch": ch, "z_dim": 120, "shared_dim": 32, "attn_resolutions": attn,
                "d_attn_resolutions": attn}
    model = {"z_dim": 128, "channel_base": max(1024, 16 * res), "channel_max": 128}
    if arch != "pggan":
        model.update(w_dim=128, mapping_layers=4)
    return model


_GROWING_BATCH = {4: 32, 8: 32, 16: 16, 32: 16, 64: 16, 128: 8}


def preset(arch: str, res: int = 64, **overrides) -> TrainConfig:
    """Hyper-parameters per architecture for a 64²–128² run on a CPU; `overrides` win."""
    if arch not in ARCHS:
        raise ValueError(f"unknown --arch {arch!r}; choose one of {', '.join(ARCHS)}")
    base = dict(arch=arch, res=res, model=_cpu_model(arch, res))
    if arch == "pggan":
        # Karras et al. 2018: WGAN-GP λ=10, ε_drift=0.001, Adam(0.001, β=(0, 0.99)), G EMA.
        base.update(loss="wgan-gp", g_lr=0.001, d_lr=0.001, batch=_GROWING_BATCH.get(res, 8),
                    batch_per_res={r: b for r, b in _GROWING_BATCH.items() if r < res},
                    ema_kimg=10.0, mixing_prob=0.0)
    elif arch == "stylegan":
        # Karras et al. 2019: logistic NS loss + R1 γ=10, mixing 0.9, Adam(0.001, (0, 0.99)).
        base.update(loss="logistic", g_lr=0.001, d_lr=0.001, batch=_GROWING_BATCH.get(res, 8),
                    batch_per_res={r: b for r, b in _GROWING_BATCH.items() if r < res},
                    r1_gamma=10.0, mixing_prob=0.9, ema_kimg=10.0)
    elif arch == "biggan":
        # Brock et al. 2019: hinge loss, SN in G and D, Adam(G 1e-4, D 4e-4, β = (0, 0.999),
        # ε = 1e-6), orthogonal regularisation β = 1e-4, G EMA (half-life as for StyleGAN2 here,
        # BigGAN's 0.9999/step is far too slow for a short CPU run). One D step per G step.
        base.update(loss="hinge", g_lr=1e-4, d_lr=4e-4, betas=(0.0, 0.999), adam_eps=1e-6,
                    batch=16, ortho_beta=1e-4, ema_kimg=16 * 10 / 32, ema_rampup=0.05)
    else:
        # Karras et al. 2020 (config F) with the ADA paper's small-data heuristics:
        # γ = 0.0002 · res² / batch, EMA half-life = batch · 10/32 kimg with ramp-up 0.05.
        batch = 16
        base.update(loss="logistic", g_lr=0.002, d_lr=0.002, batch=batch,
                    r1_gamma=round(0.0002 * res * res / batch, 4), pl_weight=2.0,
                    mixing_prob=0.9, ema_kimg=batch * 10 / 32, ema_rampup=0.05)
    base.update(overrides)
    return TrainConfig(**base).validate()
