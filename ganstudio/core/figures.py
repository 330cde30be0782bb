"""The StyleGAN papers' figures as uint8 image grids: a sample grid, the style-mixing grid and a
per-group edit strip. Values in, arrays out; `ganstudio figures` writes them as PNGs.

Style mixing (StyleGAN, figure 3): the top row holds destination images A_j, the left column
source images B_i; cell (i, j) is A_j with B_i's w on the W indices of row i's group (coarse,
middle or fine, from the generator's layer table). The edit strip: one row per group, the same
latent moved along that group's own top SeFa direction (what those layers react to most).
`group_influence` puts a number on what each group carries, and `group_factor_changes` says
which of a synthetic face's factors (as a face reader reads them) each group moves.
`skip_path_shares` says which resolutions of a skip generator (StyleGAN2) paint the picture.
"""
from __future__ import annotations

import numpy as np
import torch

from .directions import sample_w, sefa_directions
from .interface import GeneratorBase
from .layers import upsample2d
from .latents import z_from_seed

GROUPS = ("coarse", "middle", "fine")


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [-1, 1] → [N, H, W, 3] uint8 (the official conversion)."""
    return (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def tile(images: np.ndarray, rows: int, cols: int, pad: int = 0, fill: int = 255) -> np.ndarray:
    """[rows·cols, H, W, 3] → one [rows·H + pad·(rows-1), …] image, row-major."""
    n, h, w, c = images.shape
    assert n == rows * cols, (n, rows, cols)
    out = np.full((rows * h + pad * (rows - 1), cols * w + pad * (cols - 1), c), fill, np.uint8)
    for k in range(n):
        r, q = divmod(k, cols)
        out[r * (h + pad): r * (h + pad) + h, q * (w + pad): q * (w + pad) + w] = images[k]
    return out


@torch.no_grad()
def ws_for_seeds(G: GeneratorBase, seeds, truncation_psi: float = 1.0) -> torch.Tensor:
    device = next(G.parameters()).device
    z = torch.cat([z_from_seed(int(s), G.z_dim) for s in seeds]).to(device)    # as the explorer
    return G.mapping(z, None, truncation_psi=truncation_psi)          # [N, num_ws, w_dim]


@torch.no_grad()
def render(G: GeneratorBase, ws: torch.Tensor, batch: int = 32) -> np.ndarray:
    return np.concatenate([to_uint8(G.synthesis(ws[i:i + batch], noise_mode="const"))
                           for i in range(0, len(ws), batch)])


def group_indices(G: GeneratorBase) -> dict[str, list[int]]:
    """W indices per resolution group (a group the model lacks is left out)."""
    out: dict[str, list[int]] = {}
    for layer in G.layer_table():
        out.setdefault(layer.group, []).append(layer.index)
    return {g: out[g] for g in GROUPS if g in out}


def sample_grid(G: GeneratorBase, seeds, cols: int, truncation_psi: float = 1.0,
                pad: int = 2) -> np.ndarray:
    seeds = list(seeds)
    rows = -(-len(seeds) // cols)
    seeds += seeds[-1:] * (rows * cols - len(seeds))
    return tile(render(G, ws_for_seeds(G, seeds, truncation_psi)), rows, cols, pad)


def mixed_ws(ws_a: torch.Tensor, ws_b: torch.Tensor, indices) -> torch.Tensor:
    """ws_a with ws_b on the given W indices."""
    out = ws_a.clone()
    out[:, list(indices)] = ws_b[:, list(indices)]
    return out


def style_mixing_grid(G: GeneratorBase, dest_seeds, source_seeds, row_groups,
                      truncation_psi: float = 1.0, pad: int = 2) -> np.ndarray:
    """(1 + rows) × (1 + cols) tiles: blank corner, A along the top, B down the left."""
    groups = group_indices(G)
    a = ws_for_seeds(G, dest_seeds, truncation_psi)
    b = ws_for_seeds(G, source_seeds, truncation_psi)
    if len(row_groups) != len(b):
        raise ValueError(f"{len(b)} source seeds but {len(row_groups)} row groups")
    img_a, img_b = render(G, a), render(G, b)
    tiles = [np.full_like(img_a[0], 255)] + list(img_a)
    for i, group in enumerate(row_groups):
        mixed = mixed_ws(a, b[i:i + 1].expand_as(a), groups[group])
        tiles += [img_b[i]] + list(render(G, mixed))
    return tile(np.stack(tiles), len(b) + 1, len(a) + 1, pad)


def group_edit_strip(G: GeneratorBase, seed: int, amounts=(-3, -1.5, 0, 1.5, 3),
                     truncation_psi: float = 1.0, pad: int = 2,
                     num_samples: int = 2000) -> tuple[np.ndarray, list[str]]:
    """One row per group: the seed's image moved along the top SeFa direction of that group's W
    indices, applied on those indices only. `amounts` are in standard deviations of W along the
    direction (the explorer's slider unit), estimated from `num_samples` seeded W. Returns the
    strip and the row labels."""
    ws = ws_for_seeds(G, [seed], truncation_psi)                      # [1, num_ws, w_dim]
    w = sample_w(G, num_samples, seed=0).to(ws.device)                # [N, w_dim] float64
    rows, labels = [], []
    for group, idx in group_indices(G).items():
        d = sefa_directions(G, k=1, layers=(idx[0], idx[-1]))
        v = torch.as_tensor(d.offset(0, 1.0, G.num_ws), device=ws.device)      # [num_ws, w_dim]
        sigma = float((w @ v[idx[0]].to(w.dtype)).std())
        rows.append(render(G, torch.cat([ws + a * sigma * v for a in amounts])))
        labels.append(f"{group} (w{idx[0]}–w{idx[-1]})")
    return tile(np.concatenate(rows), len(rows), len(amounts), pad), labels


def group_influence(G: GeneratorBase, pairs: int = 100, seed: int = 1000) -> dict[str, float]:
    """How much of the picture each group carries: the mean |Δ| (uint8 units, 0–255) between the
    images of `pairs` seeds and the same images with that group's ws taken from other seeds."""
    a = ws_for_seeds(G, range(seed, seed + pairs))
    b = ws_for_seeds(G, range(seed + pairs, seed + 2 * pairs))
    base = render(G, a).astype(np.float32)
    return {group: float(np.abs(render(G, mixed_ws(a, b, idx)).astype(np.float32) - base).mean())
            for group, idx in group_indices(G).items()}


def factor_change(spec, before: np.ndarray, after: np.ndarray) -> float:
    """How far a factor moved, 0 (never) … 1 (across its whole range, or always switched)."""
    kind = spec[0]
    if kind == "continuous":
        return float(np.abs(after - before).mean() / (spec[2] - spec[1]))
    if kind == "circular":                                   # a hue in [0, 1): the short way round
        d = np.abs(after - before) % 1.0
        return float(np.minimum(d, 1 - d).mean() / 0.5)
    if kind == "bool":
        return float(((after > 0.5) != (before > 0.5)).mean())
    return float((after.argmax(1) != before.argmax(1)).mean())        # categorical


@torch.no_grad()
def group_factor_changes(G: GeneratorBase, reader, pairs: int = 100, seed: int = 1000
                         ) -> dict[str, dict[str, float]]:
    """{group: {factor: change}}: what the reader sees move in the images of `pairs` seeds when
    that group's ws come from other seeds (`factor_change` units). A StyleGAN whose coarse rows
    hold pose and shape and whose fine rows hold colour shows it here."""
    a = ws_for_seeds(G, range(seed, seed + pairs))
    b = ws_for_seeds(G, range(seed + pairs, seed + 2 * pairs))

    def read(ws: torch.Tensor) -> dict[str, np.ndarray]:
        img = torch.from_numpy(render(G, ws)).permute(0, 3, 1, 2).float() / 127.5 - 1
        return reader.read(img)

    base = read(a)
    out = {}
    for group, idx in group_indices(G).items():
        moved = read(mixed_ws(a, b, idx))
        out[group] = {name: factor_change(spec, base[name], moved[name])
                      for name, spec in reader.factors.items()}
    return out


@torch.no_grad()
def skip_path_shares(G: GeneratorBase, samples: int = 200, seed: int = 1000, batch: int = 16
                     ) -> dict[int, tuple[float, float]]:
    """{resolution: (pixels, colour)} for a StyleGAN2 (skip toRGB) generator, {} for others.

    A skip generator's image is the sum of every block's toRGB output, upsampled. For each block
    this is how much of the final image is already there once that block's toRGB has added its
    part: R² of the image so far (upsampled to full size) against the final image, over all
    pixels, and over each image's mean colour. A resolution whose row barely rises paints little,
    so the styles that feed it (its toRGB's w) can change little of what it shows."""
    if G.arch != "stylegan2":
        return {}
    syn = G.synthesis
    filt = syn.blocks()[0].resample_filter
    moments: dict[tuple, list] = {}                    # key → [n, Σx, Σx²] over samples

    def add(key, x: torch.Tensor) -> None:
        m = moments.setdefault(key, [0, 0.0, 0.0])
        x = x.double()
        m[0] += len(x)
        m[1] = m[1] + x.sum(0)
        m[2] = m[2] + (x * x).sum(0)

    def variance(key) -> float:
        n, s1, s2 = moments[key]
        return float((s2 / n - (s1 / n) ** 2).sum())

    for start in range(seed, seed + samples, batch):
        ws = ws_for_seeds(G, range(start, min(start + batch, seed + samples)))
        so_far: dict[int, torch.Tensor] = {}
        final = syn(ws, noise_mode="const", on_block=lambda i, x, img: so_far.__setitem__(
            syn.block_resolutions[i], img))
        add("final", final.flatten(1))
        add("final colour", final.mean(dim=(2, 3)))
        for res, img in so_far.items():
            while img.shape[-1] < final.shape[-1]:
                img = upsample2d(img, filt)
            residual = final - img
            add(res, residual.flatten(1))
            add((res, "colour"), residual.mean(dim=(2, 3)))
    return {res: (1 - variance(res) / variance("final"),
                  1 - variance((res, "colour")) / variance("final colour"))
            for res in syn.block_resolutions}
