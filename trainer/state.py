"""Training state ↔ native checkpoint (`ganstudio.core.checkpoint`), so one file resumes exactly.

Groups: `G`, `G_ema`, `D` (weights, read by `load_native_generator`), `opt_G` / `opt_D` (Adam
moments and step counts, keyed `<param index>.<name>`), `rng` (every RNG state as a uint8 tensor,
keyed `r<rank>.<stream>`), `loss` (the path-length mean). JSON meta: `kimg`, `growth`
(`resolution`, `alpha` — what the explorer shows), `train` (counters and schedule position),
`train_config`, `optim` (the optimizers' param_groups).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ganstudio.core.checkpoint import CheckpointError, NativeCheckpoint, read_checkpoint


# ---------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------

def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    sd = opt.state_dict()
    tensors = {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"{idx}.{name}"] = t
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return tensors, groups


def load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                   groups: list[dict], what: str) -> None:
    state: dict[int, dict] = {}
    for key, t in tensors.items():
        idx, _, name = key.partition(".")
        state.setdefault(int(idx), {})[name] = t
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in groups]
    try:
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"{what} optimizer state does not fit this model ({e})") from None


# ---------------------------------------------------------------------------------------------
# RNG streams
# ---------------------------------------------------------------------------------------------

def rng_tensors(states_per_rank: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {f"r{rank}.{name}": s for rank, states in enumerate(states_per_rank)
            for name, s in states.items()}


def restore_rng(gens: dict[str, torch.Generator], tensors: dict[str, torch.Tensor],
                rank: int) -> list[str]:
    """Set each stream of this rank from the checkpoint; returns the names that were missing."""
    missing = []
    for name, g in gens.items():
        state = tensors.get(f"r{rank}.{name}")
        if state is None:
            missing.append(name)
        else:
            g.set_state(state.to(torch.uint8).cpu())
    return missing


# ---------------------------------------------------------------------------------------------
# Whole-file helpers
# ---------------------------------------------------------------------------------------------

def load_module(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    if not state:
        raise CheckpointError(f"the checkpoint has no {what} weights")
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{what} weights do not fit this model (missing "
                              f"{result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})")


def read_training_checkpoint(path: str | Path) -> NativeCheckpoint:
    """A native checkpoint that holds full training state (for an exact resume)."""
    ckpt = read_checkpoint(path)
    if not ckpt.meta.get("train") or not ckpt.group("G") or not ckpt.group("D"):
        raise CheckpointError(f"{path}: no training state inside (use --resume PATH to "
                              "fine-tune from its weights instead)")
    return ckpt


def read_initial_weights(path: str | Path, arch: str) -> dict:
    """Weights to fine-tune from: a native checkpoint or (through the importers) an official file.

    Returns {"config": arch config dict, "G": state, "G_ema": state, "D": state or {}}.
    """
    from ganstudio.core.checkpoint import is_native
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if is_native(path):
        ckpt = read_checkpoint(path)
        if ckpt.arch != arch:
            raise CheckpointError(f"{path} holds a {ckpt.arch} model; this run trains {arch}")
        G = ckpt.group("G") or ckpt.group("G_ema")
        return {"config": ckpt.config, "G": G, "G_ema": ckpt.group("G_ema") or G,
                "D": ckpt.group("D")}
    try:
        from ganstudio.core.importers import load_generator
    except ImportError:
        raise CheckpointError(f"{path}: not a GANStudio checkpoint, and this version cannot "
                              "import other formats yet") from None
    G = load_generator(path)
    if isinstance(G, tuple):        # (generator, ModelMeta)
        G = G[0]
    if getattr(G, "arch", None) != arch:
        raise CheckpointError(f"{path} holds a {getattr(G, 'arch', '?')} model; this run trains {arch}")
    state = {k: v.detach().cpu() for k, v in G.state_dict().items()}
    return {"config": G.config_dict(), "G": state, "G_ema": state, "D": {}}


def starting_point(config):
    """Where a run starts: (config, training checkpoint | None, initial weights | None, model config).

    `resume == ""`: fresh. `"latest"`: the run folder's latest.safetensors, resumed exactly.
    A path: fine-tuning from that file's weights — the model keeps its own size and trains at
    full resolution from the first step (no regrowing), with fresh optimizers and counters.
    """
    if not config.resume:
        return config, None, None, config.model_config()
    if config.resume == "latest":
        path = Path(config.out) / "latest.safetensors"
        if not path.is_file():
            raise CheckpointError(f"nothing to resume: {path} does not exist")
        ckpt = read_training_checkpoint(path)
        if ckpt.arch != config.arch:
            raise CheckpointError(f"{path} trains {ckpt.arch}, not {config.arch}")
        return config, ckpt, None, ckpt.config
    weights = read_initial_weights(config.resume, config.arch)
    res = int(weights["config"].get("img_resolution", config.res))
    config = dataclasses.replace(config, res=res, start_res=res).validate()
    return config, None, weights, weights["config"]
