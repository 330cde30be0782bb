"""What the Train panel's form means: presets, the Advanced fields, and the TrainConfig they make.

No Qt here. A form is (architecture, resolution, preset, Advanced values); `build_config` turns it
into a `TrainConfig` through `trainer.config.preset`, so the panel and `ganstudio-train` agree.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from trainer.config import ARCHS, TrainConfig, preset

ARCH_LABELS = {"pggan": "PGGAN", "stylegan": "StyleGAN", "stylegan2": "StyleGAN2",
               "biggan": "BigGAN"}
STYLE_ARCHS = ("pggan", "stylegan", "stylegan2")
RESOLUTIONS = (8, 16, 32, 64, 128, 256, 512, 1024)
DEVICES = ("auto", "cpu", "cuda", "mps")


def _cpu(arch: str, res: int) -> dict:
    # trainer.config.preset as it is, with reports often enough to watch it learn on a CPU
    return dict(tick_kimg=0.25, preview_kimg=1.0, snapshot_kimg=20.0)


def _quick(arch: str, res: int) -> dict:
    model = dict(preset(arch, res).model)
    if arch in STYLE_ARCHS:
        model["channel_max"] = 64
    # an EMA half-life that grows with the images shown (≤ 5 % of them), so that the first
    # previews already follow the generator instead of averaging in its random start
    return dict(model=model, kimg=30.0, phase_kimg=3.0, transition_kimg=3.0, tick_kimg=0.1,
                preview_kimg=0.5, snapshot_kimg=5.0, ema_rampup=0.05)


def _gpu(arch: str, res: int) -> dict:
    # the papers' network sizes (channels = min(channel_base / res, 512), 512-d z and w,
    # 8 mapping layers) and phase lengths (PGGAN 800 kimg, StyleGAN 600 kimg), batch 32
    model = {"z_dim": 512, "channel_base": 32768 if arch == "stylegan2" else 16384,
             "channel_max": 512}
    if arch in ("stylegan", "stylegan2"):
        model.update(w_dim=512, mapping_layers=8)
    elif arch == "biggan":   # the BigGAN paper's width at 128² (ch 96) and its 128-d shared embedding
        model = {**preset(arch, res).model, "ch": 96, "d_ch": 96, "shared_dim": 128}
    values = dict(model=model, batch=32, batch_per_res={}, kimg=25000.0, ema_kimg=10.0,
                  phase_kimg=800.0 if arch == "pggan" else 600.0,
                  transition_kimg=800.0 if arch == "pggan" else 600.0,
                  tick_kimg=4.0, preview_kimg=20.0, snapshot_kimg=200.0)
    if arch == "stylegan2":
        values.update(r1_gamma=round(0.0002 * res * res / 32, 4), ema_rampup=None)
    return values


PRESETS = {
    "CPU · small networks": _cpu,
    "Quick try · minutes": _quick,
    "GPU · paper-sized networks": _gpu,
}
PRESET_TIPS = {
    "CPU · small networks": "About 1 M parameters per network; hours at 64² on a desktop CPU",
    "Quick try · minutes": "Short growth phases and narrow networks: blurry faces within minutes",
    "GPU · paper-sized networks": "The papers' network widths and phase lengths (needs a GPU)",
}


@dataclass(frozen=True)
class Field:
    key: str            # TrainConfig field, or "model.<key>" for the architecture config
    label: str
    decimals: int       # 0 = integer
    lo: float
    hi: float
    tip: str
    archs: tuple = ARCHS

    def get(self, config: TrainConfig) -> float:
        if self.key.startswith("model."):
            return float(config.model.get(self.key[6:], 0))
        return float(getattr(config, self.key))


FIELDS = (
    Field("batch", "Minibatch", 0, 1, 4096, "Images per step at the target resolution "
          "(a change also applies below it)"),
    Field("g_lr", "G learning rate", 5, 0.0, 1.0, "Adam learning rate of the generator"),
    Field("d_lr", "D learning rate", 5, 0.0, 1.0, "Adam learning rate of the discriminator"),
    Field("r1_gamma", "R1 γ", 4, 0.0, 1000.0, "Weight of the R1 penalty γ/2·‖∇D(x)‖² (0 = off)",
          ("stylegan", "stylegan2")),
    Field("gp_lambda", "Gradient penalty λ", 2, 0.0, 1000.0, "WGAN-GP weight λ", ("pggan",)),
    Field("pl_weight", "Path length weight", 2, 0.0, 100.0,
          "Path-length regularisation (0 = off)", ("stylegan2",)),
    Field("ema_kimg", "EMA half-life (kimg)", 2, 0.0, 1000.0,
          "Half-life of the generator's moving average, which previews and snapshots show"),
    Field("mixing_prob", "Style mixing prob.", 2, 0.0, 1.0,
          "Share of generated images made from two latents (mixing regularisation)",
          ("stylegan", "stylegan2")),
    Field("phase_kimg", "Phase (kimg)", 1, 0.0, 100000.0,
          "Images per resolution at full strength", ("pggan", "stylegan")),
    Field("transition_kimg", "Fade-in (kimg)", 1, 0.0, 100000.0,
          "Images while a new resolution fades in (α 0→1)", ("pggan", "stylegan")),
    Field("model.channel_max", "Max channels", 0, 1, 1024, "Widest layer of G and D",
          STYLE_ARCHS),
    Field("model.ch", "Channel multiplier", 0, 1, 256, "BigGAN's width: G channels = ch × "
          "a per-resolution factor", ("biggan",)),
    Field("model.d_ch", "D channel multiplier", 0, 1, 256, "BigGAN's discriminator width",
          ("biggan",)),
    Field("preview_kimg", "Preview every (kimg)", 2, 0.01, 10000.0, "How often the grid updates"),
    Field("snapshot_kimg", "Snapshot every (kimg)", 1, 0.1, 100000.0,
          "How often a numbered checkpoint is written"),
    Field("seed", "Seed", 0, 0, 2**31 - 1, "Seeds weights, data order and the preview latents"),
)


def preset_config(arch: str, res: int, preset_name: str) -> TrainConfig:
    """The preset's configuration: what the form shows after choosing arch, res and preset."""
    return preset(arch, res, **PRESETS[preset_name](arch, res))


def build_config(*, arch: str, res: int, preset_name: str, kimg: float, advanced: dict,
                 data: str, out: str, device: str = "auto", xflip: bool = False,
                 extra: dict | None = None) -> TrainConfig:
    """A validated TrainConfig for a fresh run; ValueError with a one-line reason."""
    base = preset_config(arch, res, preset_name)
    values: dict = {}
    for f in FIELDS:
        if f.key not in advanced or arch not in f.archs:
            continue
        v = int(advanced[f.key]) if f.decimals == 0 else float(advanced[f.key])
        if f.key.startswith("model."):
            values.setdefault("model", dict(base.model))[f.key[6:]] = v
        elif v != getattr(base, f.key):
            values[f.key] = v
    if "batch" in values:
        values["batch_per_res"] = {}        # as `ganstudio-train --batch`: one size everywhere
    if not str(data).strip():
        raise ValueError("choose a dataset: an image folder, a .zip or synthetic:faces")
    if not str(out).strip():
        raise ValueError("choose a run folder")
    values.update(kimg=float(kimg), data=str(data).strip(), out=str(Path(out).expanduser()),
                  device=device, xflip=bool(xflip))
    for key, v in (extra or {}).items():       # test hook / power users: any TrainConfig field
        values[key] = {**values.get("model", base.model), **v} if key == "model" else v
    return dataclasses.replace(base, **values).validate()


def resume_config(folder: str, kimg: float | None = None, device: str | None = None
                  ) -> TrainConfig:
    """The configuration that continues the run in `folder` exactly (as `--resume`)."""
    import argparse

    from trainer.cli import make_config
    args = argparse.Namespace(resume="latest", out=str(Path(folder).expanduser()), kimg=kimg,
                              device=device, set=[], data=None)
    return make_config(args)


def has_run(folder: str) -> bool:
    return bool(str(folder).strip()) and (Path(folder).expanduser() / "latest.safetensors").is_file()


@dataclass
class RunInfo:
    """What a run folder holds, for continuing it: its config, curves and newest preview."""
    config: TrainConfig
    stats: list                     # stats.jsonl lines
    preview: object = None          # uint8 [H, W, 3] of the newest preview PNG, or None

    def describe(self) -> str:
        c, kimg = self.config, self.stats[-1]["kimg"] if self.stats else 0.0
        return (f"Holds a {ARCH_LABELS.get(c.arch, c.arch)} {c.res}² run at {kimg:.1f} of "
                f"{c.kimg:g} kimg on {c.data}")

    def preview_layout(self) -> tuple[int, int, float | None, float | None]:
        """(rows, cols, kimg, α) of the preview: its cells are at the last tick's resolution."""
        last = self.stats[-1] if self.stats else {}
        r = int(last.get("resolution", self.config.res))
        alpha = last.get("alpha") if self.config.progressive else None
        return self.preview.shape[0] // r, self.preview.shape[1] // r, last.get("kimg"), alpha


def read_run(folder: str) -> RunInfo | None:
    """The run in `folder`, or None when it holds none; ValueError when it cannot continue."""
    if not has_run(folder):
        return None
    import json

    import numpy as np
    from PIL import Image
    path = Path(folder).expanduser()
    info = RunInfo(resume_config(folder), [])
    try:
        with open(path / "stats.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    info.stats.append(json.loads(line))
                except ValueError:
                    continue                         # a line cut short by a crash
    except OSError:
        pass
    previews = sorted(path.glob("preview-*.png"), key=lambda p: p.stat().st_mtime)
    if previews:
        try:
            info.preview = np.asarray(Image.open(previews[-1]).convert("RGB"))
        except OSError:
            pass
    return info
