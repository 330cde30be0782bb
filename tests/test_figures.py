"""The papers' figures: tiles land where the layout says, style mixing copies exactly the W
indices of its group, and the edit strip's centre column is the unedited image."""
import numpy as np
import torch
from PIL import Image

from ganstudio.cli import main as cli_main
from ganstudio.core.checkpoint import save_generator
from ganstudio.core.face_reader import load_face_reader
from ganstudio.core.figures import (factor_change, group_edit_strip, group_factor_changes,
                                    group_indices, group_influence, mixed_ws, render, sample_grid,
                                    skip_path_shares, style_mixing_grid, tile, ws_for_seeds)
from ganstudio.core.stylegan1 import StyleGANConfig, StyleGANGenerator
from ganstudio.render.models import default_face_reader_file
from tiny_models import tiny_stylegan2

R = 16


def cell(grid, r, c, pad=2):
    return grid[r * (R + pad): r * (R + pad) + R, c * (R + pad): c * (R + pad) + R]


def test_tile_places_images_row_major_with_padding():
    imgs = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1).repeat(3, axis=3).repeat(2, 1).repeat(2, 2)
    out = tile(imgs, 2, 3, pad=1, fill=255)
    assert out.shape == (5, 8, 3) and out[3, 0, 0] == 3 and out[0, 6, 0] == 2 and out[2, 0, 0] == 255


def test_sample_grid_tiles_are_the_seed_renders():
    G = tiny_stylegan2(res=R)
    grid = sample_grid(G, range(5, 11), cols=3)
    assert grid.shape == (2 * R + 2, 3 * R + 4, 3)
    assert np.array_equal(cell(grid, 1, 2), render(G, ws_for_seeds(G, [10]))[0])


def test_style_mixing_copies_exactly_the_group_layers():
    G = tiny_stylegan2(res=R)                     # 6 W inputs: coarse w0–w3, middle w4–w5
    groups = group_indices(G)
    assert groups == {"coarse": [0, 1, 2, 3], "middle": [4, 5]}
    grid = style_mixing_grid(G, [1, 2, 3], [7, 8], ["coarse", "middle"])
    a, b = ws_for_seeds(G, [1, 2, 3]), ws_for_seeds(G, [7, 8])
    img_a, img_b = render(G, a), render(G, b)
    assert grid.shape == (3 * R + 4, 4 * R + 6, 3)
    assert np.all(cell(grid, 0, 0) == 255)
    assert np.array_equal(cell(grid, 0, 2), img_a[1]) and np.array_equal(cell(grid, 2, 0), img_b[1])
    want = render(G, mixed_ws(a[2:3], b[1:2], [4, 5]))[0]
    assert np.array_equal(cell(grid, 2, 3), want)
    assert not np.array_equal(want, img_a[2]) and not np.array_equal(want, img_b[1])
    everything = mixed_ws(a[:1], b[:1], range(G.num_ws))
    assert torch.equal(everything, b[:1])


def test_group_edit_strip_moves_each_group_around_the_unedited_centre():
    G = tiny_stylegan2(res=R)
    strip, labels = group_edit_strip(G, seed=4, amounts=(-4, 0, 4))
    base = render(G, ws_for_seeds(G, [4]))[0]
    assert labels == ["coarse (w0–w3)", "middle (w4–w5)"] and strip.shape == (2 * R + 2, 3 * R + 4, 3)
    for r in range(2):
        assert np.array_equal(cell(strip, r, 1), base)
        assert not np.array_equal(cell(strip, r, 0), base) and not np.array_equal(cell(strip, r, 2), base)


def test_figures_command_writes_three_pngs(tmp_path, capsys):
    save_generator(tmp_path / "m.safetensors", tiny_stylegan2(res=R))
    assert cli_main(["figures", str(tmp_path / "m.safetensors"), "--out", str(tmp_path / "f"),
                     "--rows", "2", "--cols", "3", "--scale", "2"]) == 0
    sizes = {n: Image.open(tmp_path / "f" / n).size for n in ("samples.png", "style_mixing.png",
                                                               "group_edits.png")}
    assert sizes["samples.png"] == (2 * (3 * R + 4), 2 * (2 * R + 2))
    assert sizes["style_mixing.png"] == (2 * (7 * R + 12), 2 * (5 * R + 8))   # 1+6 cols, 1+4 rows
    assert "coarse, coarse, middle, middle" in capsys.readouterr().out


def test_group_influence_measures_what_each_group_carries():
    G = tiny_stylegan2(res=R)
    influence = group_influence(G, pairs=8)
    assert list(influence) == ["coarse", "middle"] and all(v > 0.5 for v in influence.values())
    for name, p in G.synthesis.named_parameters():
        if name.endswith("affine.weight"):
            p.data.zero_()                                          # styles ignore w
    assert all(v == 0 for v in group_influence(G, pairs=8).values())


def test_skip_path_shares_see_what_each_resolution_paints():
    G = tiny_stylegan2(res=R)
    shares = skip_path_shares(G, samples=16)
    assert list(shares) == [4, 8, 16] and shares[16] == (1.0, 1.0)
    assert all(0 < p < 1 for p, _ in (shares[4], shares[8]))
    G.synthesis.b16.torgb.weight.data.zero_()                  # the 16² toRGB adds nothing but
    shares = skip_path_shares(G, samples=16)                   # its bias: 8² has painted it all
    assert np.allclose(shares[8], (1.0, 1.0), atol=1e-5) and shares[4][0] < 0.99
    v1 = StyleGANGenerator(StyleGANConfig(img_resolution=R, z_dim=8, w_dim=8, channel_base=64))
    assert skip_path_shares(v1.eval(), samples=4) == {}                  # no skip path


def test_factor_change_is_a_fraction_of_each_factor_s_range():
    a, b = np.array([0.0, 0.5]), np.array([0.4, 0.5])
    assert np.isclose(factor_change(["continuous", -1.0, 1.0], a, b), 0.1)       # 0.2 of 2 → 0.1
    assert np.isclose(factor_change(["circular"], np.array([0.95]), np.array([0.05])), 0.2)
    assert factor_change(["bool"], np.array([0.2, 0.7]), np.array([0.6, 0.9])) == 0.5
    probs = np.eye(3)[[0, 1, 2, 2]]
    assert factor_change(["categorical", ["x", "y", "z"]], probs, probs[[0, 2, 2, 2]]) == 0.25


def test_group_factor_changes_sees_nothing_when_styles_ignore_w(tmp_path, capsys):
    reader = load_face_reader(default_face_reader_file())
    G = tiny_stylegan2(res=R)
    moved = group_factor_changes(G, reader, pairs=6)
    assert list(moved) == ["coarse", "middle"] and list(moved["coarse"]) == list(reader.factors)
    assert max(moved["coarse"].values()) > 0
    for name, p in G.synthesis.named_parameters():
        if name.endswith("affine.weight"):
            p.data.zero_()
    assert all(v == 0 for row in group_factor_changes(G, reader, pairs=6).values()
               for v in row.values())
    save_generator(tmp_path / "m.safetensors", tiny_stylegan2(res=R))
    assert cli_main(["figures", str(tmp_path / "m.safetensors"), "--out", str(tmp_path / "f"),
                     "--pairs", "4", "--factors"]) == 0
    table = capsys.readouterr().out
    assert "| group | face_aspect |" in table and "| middle |" in table
