"""Semantic directions in W: GANSpace-style PCA, SeFa closed-form factorisation, labelled ones.

A `Direction` holds k unit vectors (`[k, w_dim]`, or per-layer `[k, num_ws, w_dim]`), the inclusive
W-index range (first, last) they are applied to, one value per vector (explained variance,
eigenvalue, accuracy …) and free-form info. Files are `.npz` without pickled objects.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from .checkpoint import atomic_write
from .interface import GeneratorBase

FORMAT = "ganstudio-directions"
FORMAT_VERSION = 1


class DirectionError(ValueError):
    """A direction file or request that cannot be used: the message says why, in one line."""


@dataclass(frozen=True, eq=False)
class Direction:
    name: str
    method: str                                   # "pca" | "sefa" | "logistic" | "ridge" | …
    vectors: np.ndarray                           # [k, w_dim] or [k, num_ws, w_dim], unit norm
    layers: tuple[int, int]                       # first, last W index (inclusive; last -1 = to the end)
    values: np.ndarray                            # [k] one number per vector (see values_label)
    values_label: str = ""                        # e.g. "explained_variance_ratio", "eigenvalue"
    component_names: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)      # JSON-able extras (seed, samples, accuracy …)
    arrays: dict = field(default_factory=dict)    # extra numpy arrays (mean w, classifier …)

    def __post_init__(self):
        v = np.asarray(self.vectors, dtype=np.float32)
        if v.ndim not in (2, 3) or v.shape[0] == 0:
            raise DirectionError(f"direction vectors must be [k, w_dim] or [k, num_ws, w_dim], "
                                 f"got {v.shape}")
        object.__setattr__(self, "vectors", v)
        object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64).reshape(-1))
        first, last = (int(x) for x in self.layers)
        if first < 0 or (last < first and last != -1):
            raise DirectionError(f"bad layer range {first}-{last}")
        object.__setattr__(self, "layers", (first, last))
        names = tuple(self.component_names) or tuple(f"{self.name}{i}" for i in range(len(v)))
        if len(names) != len(v):
            raise DirectionError(f"{len(names)} component names for {len(v)} vectors")
        object.__setattr__(self, "component_names", names)

    @property
    def k(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def w_dim(self) -> int:
        return int(self.vectors.shape[-1])

    @property
    def per_layer(self) -> bool:
        return self.vectors.ndim == 3

    def layer_mask(self, num_ws: int) -> np.ndarray:
        """`[num_ws]` 1.0 on the layers this direction applies to."""
        first, last = self.layers
        if first >= num_ws:
            raise DirectionError(f"direction starts at W index {first}; the model has {num_ws}")
        mask = np.zeros(num_ws, dtype=np.float32)
        last = num_ws - 1 if last == -1 else min(last, num_ws - 1)
        mask[first: last + 1] = 1.0
        return mask

    def offset(self, index: int, amount: float, num_ws: int) -> np.ndarray:
        """What to add to ws: `[num_ws, w_dim]`, `amount` × vector on the direction's layers."""
        if not 0 <= index < self.k:
            raise DirectionError(f"direction index {index} out of range 0..{self.k - 1}")
        v = self.vectors[index]
        if self.per_layer and v.shape[0] != num_ws:
            raise DirectionError(f"per-layer direction has {v.shape[0]} layers, the model {num_ws}")
        v = v if self.per_layer else np.broadcast_to(v, (num_ws, self.w_dim))
        return (float(amount) * v * self.layer_mask(num_ws)[:, None]).astype(np.float32)

    def apply(self, ws: torch.Tensor, index: int, amount: float) -> torch.Tensor:
        """ws `[N, num_ws, w_dim]` moved by `amount` along vector `index` (a new tensor)."""
        if ws.ndim != 3 or ws.shape[-1] != self.w_dim:
            raise DirectionError(f"ws must be [N, num_ws, {self.w_dim}], got {tuple(ws.shape)}")
        off = torch.from_numpy(self.offset(index, amount, ws.shape[1]))
        return ws + off.to(ws.device, ws.dtype).unsqueeze(0)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def save_direction(path: str | os.PathLike, d: Direction) -> None:
    """Write `d` as .npz atomically; strings and JSON only, so loading never unpickles."""
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": d.name, "method": d.method,
              "layers": list(d.layers), "values_label": d.values_label,
              "component_names": list(d.component_names), "info": d.info,
              "arrays": sorted(d.arrays)}
    data = {"header": np.array(json.dumps(header)), "vectors": d.vectors, "values": d.values}
    for key, arr in d.arrays.items():
        data[f"array_{key}"] = np.asarray(arr)

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **data)
    atomic_write(path, write)


def load_direction(path: str | os.PathLike) -> Direction:
    try:
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise DirectionError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise DirectionError(f"{path}: not a directions file ({e})") from None
    try:
        header = json.loads(str(files["header"]))
        if header.get("format") != FORMAT:
            raise DirectionError(f"{path}: not a GANStudio directions file")
        if int(header.get("format_version", 0)) > FORMAT_VERSION:
            raise DirectionError(f"{path}: written by a newer GANStudio")
        arrays = {k: files[f"array_{k}"] for k in header.get("arrays", [])}
        return Direction(name=header["name"], method=header["method"], vectors=files["vectors"],
                         layers=tuple(header["layers"]), values=files["values"],
                         values_label=header.get("values_label", ""),
                         component_names=tuple(header.get("component_names", ())),
                         info=header.get("info", {}), arrays=arrays)
    except KeyError as e:
        raise DirectionError(f"{path}: directions file lacks {e}") from None
    except json.JSONDecodeError:
        raise DirectionError(f"{path}: directions header is damaged") from None


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def _sign_fix(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors are defined up to sign: make each one's largest-magnitude entry positive."""
    flat = vectors.reshape(len(vectors), -1)
    idx = np.abs(flat).argmax(axis=1)
    signs = np.sign(flat[np.arange(len(flat)), idx])
    signs[signs == 0] = 1
    return vectors * signs.reshape(-1, *([1] * (vectors.ndim - 1)))


def resolve_layers(layers: tuple[int, int] | None, num_ws: int) -> tuple[int, int]:
    if layers is None:
        return 0, num_ws - 1
    first, last = int(layers[0]), int(layers[1])
    if not 0 <= first <= last < num_ws:
        raise DirectionError(f"layer range {first}-{last} is outside 0-{num_ws - 1}")
    return first, last


def sample_w(G: GeneratorBase, num_samples: int, seed: int, batch: int = 1024,
             truncation_psi: float = 1.0) -> torch.Tensor:
    """`num_samples` w `[N, w_dim]` from z drawn through a seeded `torch.Generator` (CPU draws)."""
    if not G.has_w_space:
        raise DirectionError("this generator has no W space (e.g. PGGAN): no W directions")
    if G.c_dim:
        raise DirectionError("sampling W of class-conditional generators is not supported yet")
    g = torch.Generator().manual_seed(int(seed))
    device = next(G.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, num_samples, batch):
            z = torch.randn([min(batch, num_samples - start), G.z_dim], generator=g)  # [n, z_dim]
            out.append(G.mapping(z.to(device), None, truncation_psi=truncation_psi)[:, 0].cpu())
    return torch.cat(out).to(torch.float64)                                          # [N, w_dim]


# ---------------------------------------------------------------------------------------------
# GANSpace-style PCA
# ---------------------------------------------------------------------------------------------

def pca_directions(G: GeneratorBase, k: int = 10, num_samples: int = 10_000, seed: int = 0,
                   layers: tuple[int, int] | None = None, name: str = "pca") -> Direction:
    """Principal components of W over `num_samples` sampled z, sorted by explained variance.

    Values are explained-variance ratios; `arrays["std"]` holds each component's standard
    deviation in W (a slider step of 1σ is `std[i]`), `arrays["mean"]` the sample mean of W.
    """
    if not 1 <= k <= G.w_dim:
        raise DirectionError(f"k must be between 1 and w_dim={G.w_dim}, got {k}")
    if num_samples < 2:
        raise DirectionError("PCA needs at least 2 samples")
    w = sample_w(G, num_samples, seed)                                  # [N, w_dim] float64
    mean = w.mean(dim=0)
    cov = (w - mean).T @ (w - mean) / (num_samples - 1)                 # [w_dim, w_dim]
    evals, evecs = torch.linalg.eigh(cov)                               # ascending
    order = torch.argsort(evals, descending=True)[:k]
    evals_all = evals.clamp_min(0)
    vectors = _sign_fix(evecs[:, order].T.numpy())                      # [k, w_dim]
    ratio = (evals_all[order] / evals_all.sum().clamp_min(1e-30)).numpy()
    return Direction(name=name, method="pca", vectors=vectors, layers=resolve_layers(layers, G.num_ws),
                     values=ratio, values_label="explained_variance_ratio",
                     info={"num_samples": int(num_samples), "seed": int(seed)},
                     arrays={"mean": mean.numpy().astype(np.float32),
                             "std": evals_all[order].sqrt().numpy().astype(np.float32)})


# ---------------------------------------------------------------------------------------------
# SeFa
# ---------------------------------------------------------------------------------------------

def style_affines(G: GeneratorBase) -> list[tuple[int, str, torch.Tensor]]:
    """Every style affine as (w index, module name, effective weight `[C_out, w_dim]`).

    The effective weight is the raw stored weight times every gain the network applies at run
    time: the equalized-LR `weight_gain` of the affine, and for StyleGAN2 toRGB layers the extra
    1/√C_in the layer multiplies its styles by. Scaling one layer's rows does not change the
    eigenvectors of that layer alone, but once layers are stacked the relative scale decides
    which layers dominate AᵀA, so it must be the scale the network really uses.
    A generator family can provide its own `style_affines()` method with the same contract.
    """
    if not G.has_w_space:
        raise DirectionError(f"{G.arch!r} has no W space and no style affines: SeFa needs them")
    if hasattr(G, "style_affines"):
        return list(G.style_affines())
    synthesis = getattr(G, "synthesis", None)
    if synthesis is None or not hasattr(synthesis, "blocks"):
        raise DirectionError(f"SeFa does not know where the style affines of {G.arch!r} are")
    out = []
    for res, start, block in zip(synthesis.block_resolutions, synthesis.block_w_start(),
                                 synthesis.blocks()):
        convs = ["conv1"] if block.num_conv == 1 else ["conv0", "conv1"]
        for j, conv in enumerate(convs):
            aff = getattr(block, conv).affine
            out.append((start + j, f"b{res}.{conv}", aff.weight.detach() * aff.weight_gain))
        aff = block.torgb.affine
        gain = aff.weight_gain * float(getattr(block.torgb, "weight_gain", 1.0))
        out.append((start + block.num_conv, f"b{res}.torgb", aff.weight.detach() * gain))
    return out


def sefa_directions(G: GeneratorBase, k: int = 10, layers: tuple[int, int] | None = None,
                    include_torgb: bool = True, name: str = "sefa") -> Direction:
    """Closed-form factorisation (Shen & Zhou, 2021): top eigenvectors of AᵀA.

    A `[ΣC_out, w_dim]` stacks the effective affine weights of the style layers fed by W indices
    first..last; the eigenvectors with the largest eigenvalues are the w directions that move
    those styles most. Values are the eigenvalues.
    """
    first, last = resolve_layers(layers, G.num_ws)
    chosen = [(i, n, w) for i, n, w in style_affines(G)
              if first <= i <= last and (include_torgb or not n.endswith("torgb"))]
    if not chosen:
        raise DirectionError(f"no style layers in W index range {first}-{last}")
    A = torch.cat([w.to("cpu", torch.float32) for _, _, w in chosen])   # [ΣC_out, w_dim]
    if not 1 <= k <= A.shape[1]:
        raise DirectionError(f"k must be between 1 and w_dim={A.shape[1]}, got {k}")
    evals, evecs = torch.linalg.eigh((A.T @ A).double())               # ascending
    order = torch.argsort(evals, descending=True)[:k]
    vectors = _sign_fix(evecs[:, order].T.numpy())                      # [k, w_dim]
    return Direction(name=name, method="sefa", vectors=vectors, layers=(first, last),
                     values=evals[order].numpy(), values_label="eigenvalue",
                     info={"style_layers": [n for _, n, _ in chosen]})


# ---------------------------------------------------------------------------------------------
# Labelled directions
# ---------------------------------------------------------------------------------------------

def labelled_direction(ws, labels, name: str, *, layers: tuple[int, int] | None = None,
                       l2: float = 1e-2, steps: int = 300) -> Direction:
    """A linear classifier (binary labels) or regressor (other labels) in W; its normal is the
    direction.

    ws `[N, w_dim]`, labels `[N]`. Labels that are all 0/1 (or bool) fit an L2-regularised
    logistic regression by full-batch L-BFGS in torch (deterministic); any other numbers fit a
    ridge regression in closed form. Features are standardised for fitting and the normal is mapped
    back to raw W, so the direction is the gradient of the score in W. It points towards label 1
    (or larger values). `arrays["weight"]`, `arrays["bias"]` give the score `w·weight + bias`.
    For categorical factors, call once per class with `labels == class`.
    """
    X = torch.as_tensor(np.asarray(ws), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(labels, dtype=np.float64))
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise DirectionError(f"need ws [N, w_dim] and labels [N]; got {tuple(X.shape)} and "
                             f"{tuple(y.shape)}")
    if len(X) < 4 or torch.unique(y).numel() < 2:
        raise DirectionError("need at least 4 samples and two different labels")
    mean, std = X.mean(0), X.std(0).clamp_min(1e-8)
    Xs = (X - mean) / std                                               # [N, w_dim]
    binary = bool(torch.all((y == 0) | (y == 1)))
    if binary:
        a = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros([], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([a, b], lr=1, max_iter=steps, max_eval=2 * steps,
                                line_search_fn="strong_wolfe",
                                tolerance_grad=1e-7, tolerance_change=1e-10)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(Xs @ a + b, y)
            loss = loss + l2 * a.square().sum()
            loss.backward()
            return loss
        with torch.enable_grad():           # callers may be inside no_grad (render workers)
            opt.step(closure)
        a, b = a.detach(), b.detach()
        score = Xs @ a + b
        quality = float(((score > 0).double() == y).double().mean())
        method, quality_label = "logistic", "train_accuracy"
    else:
        yc = y - y.mean()
        gram = Xs.T @ Xs + l2 * len(X) * torch.eye(X.shape[1], dtype=torch.float64)
        a = torch.linalg.solve(gram, Xs.T @ yc)
        b = y.mean()
        score = Xs @ a + b
        quality = float(1 - (y - score).square().sum() / yc.square().sum())
        method, quality_label = "ridge", "train_r2"
    weight = a / std                                                    # score gradient in raw W
    bias = b - (weight * mean).sum()
    norm = weight.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise DirectionError("the classifier found no direction (labels not predictable from W?)")
    return Direction(name=name, method=method, vectors=(weight / norm).numpy()[None],
                     layers=(0, -1) if layers is None else tuple(layers), values=[quality],
                     values_label=quality_label, component_names=(name,),
                     info={"num_samples": int(len(X)), "l2": l2, "score_per_unit_step": float(norm)},
                     arrays={"weight": weight.numpy(), "bias": np.array([float(bias)])})


def direction_score(d: Direction, ws) -> np.ndarray:
    """The labelled direction's classifier/regressor score (logit or value) of w `[N, w_dim]`:
    `[N]` for one direction, `[N, k]` for a stacked set (`factor_directions`)."""
    if "weight" not in d.arrays:
        raise DirectionError(f"direction {d.name!r} carries no classifier")
    w = np.asarray(ws, dtype=np.float64)
    weight = np.asarray(d.arrays["weight"], dtype=np.float64)
    bias = np.asarray(d.arrays["bias"], dtype=np.float64)
    if weight.ndim == 1:
        return w @ weight + float(bias[0])
    return w @ weight.T + bias
