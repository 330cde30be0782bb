"""The demo model that ships in resources/: it opens as the default, it draws the faces it was
trained on (as the shipped face reader sees them), and its shipped face-factor directions do
what their names say on samples they were not fitted on; its coarse rows hold pose and face
shape; and W is smoother than Z on it."""
import numpy as np
import pytest
import torch

from ganstudio.core.directions import direction_score, load_direction
from ganstudio.core.face_reader import load_face_reader
from ganstudio.core.factor_directions import factor_directions, read_samples
from ganstudio.core.figures import group_factor_changes
from ganstudio.core.smoothness import path_length
from ganstudio.render.models import (BUILTIN_DEFAULT, companion_directions, default_face_reader_file,
                                     default_model_file, load_source)


@pytest.fixture(scope="module")
def demo():
    return load_source(BUILTIN_DEFAULT).generator


@pytest.fixture(scope="module")
def reader():
    return load_face_reader(default_face_reader_file())


@pytest.fixture(scope="module")
def samples(demo, reader):
    """400 fresh samples (seed 123; the shipped directions were fitted on seed 0)."""
    return read_samples(demo, reader, 400, seed=123)


def test_the_default_model_is_the_trained_demo(demo):
    src = load_source(BUILTIN_DEFAULT)
    assert src.source_format == "ganstudio" and src.path == str(default_model_file())
    assert (demo.arch, demo.img_resolution, demo.num_ws) == ("stylegan2", 64, 10)
    assert default_model_file().stat().st_size < 25e6


def test_the_demo_draws_the_dataset_s_variety(samples):
    """What the reader sees in the demo's samples resembles synthetic:faces: glasses on about a
    third of the faces, every hair colour and hair style drawn, tilts both ways."""
    _, read = samples
    glasses = (read["glasses"] > 0.5).mean()
    colours = np.bincount(read["hair_colour"].argmax(1), minlength=5) / len(read["glasses"])
    styles = np.bincount(read["hair_style"].argmax(1), minlength=5) / len(read["glasses"])
    print(f"glasses {glasses:.2f}, hair colours {np.round(colours, 2)}, styles {np.round(styles, 2)}")
    assert 0.15 < glasses < 0.6
    assert colours.min() > 0.04 and styles.min() > 0.04
    assert np.percentile(read["tilt"], 10) < -5 and np.percentile(read["tilt"], 90) > 5


def move_and_read(G, reader, ws, vector, amount):
    w = torch.as_tensor(ws + amount * vector, dtype=torch.float32)
    with torch.no_grad():
        img = G.synthesis(w.unsqueeze(1).repeat(1, G.num_ws, 1), noise_mode="const")
    return reader.read(img.clamp(-1, 1))


@pytest.mark.parametrize("name,factor", [("smile", "mouth_curve"), ("glasses", "glasses"),
                                         ("head tilt", "tilt"), ("darker skin", "skin_tone")])
def test_shipped_directions_raise_their_factor_on_fresh_samples(demo, reader, samples, name, factor):
    d = load_direction(companion_directions(default_model_file()))
    i = d.component_names.index(name)
    ws, before = samples
    sigma = float((ws @ d.vectors[i]).std())                   # spread of W along the direction
    after = move_and_read(demo, reader, ws, d.vectors[i], 2.0 * sigma)
    gain = after[factor].mean() - before[factor].mean()
    print(f"{name}: {factor} {before[factor].mean():.3f} → {after[factor].mean():.3f}")
    assert gain > 0.1 * np.ptp(before[factor])
    score = direction_score(d, ws)[:, i]                       # the fit's own score predicts it
    truth = before[factor] > 0.5 if factor == "glasses" else before[factor]
    assert np.corrcoef(score, truth.astype(float))[0, 1] > 0.5


def test_fitting_factor_directions_from_scratch_on_the_demo(demo, reader):
    d = factor_directions(demo, reader, [("smile", "mouth_curve"), ("glasses", "glasses")],
                          num_samples=300, seed=7)
    assert d.component_names == ("smile", "glasses") and d.info["fit"]["glasses"] == "train_accuracy"
    assert d.values[1] > 0.8 and d.values[0] > 0.3                     # accuracy, R²
    assert np.allclose(np.linalg.norm(d.vectors, axis=1), 1, atol=1e-5)


def test_w_is_smoother_than_z_on_the_demo(demo):
    """The StyleGAN claim on a trained model: short steps along straight W paths change the image
    less than steps along Z paths (README: about half, with either distance)."""
    for distance in ("pixel", "random-features"):
        w = path_length(demo, "w", num_samples=200, distance=distance, seed=3)
        z = path_length(demo, "z", num_samples=200, distance=distance, seed=3)
        print(f"{distance}: W {w.mean:.3g}, Z {z.mean:.3g}, ratio {w.mean / z.mean:.2f}")
        assert w.mean < 0.75 * z.mean and w.median < z.median


def test_the_coarse_rows_hold_pose_and_face_shape(demo, reader):
    """Swapping the coarse ws (4²–8²) for another seed's turns and reshapes the face; swapping the
    middle or fine ones barely does (README: the factor table under "The demo model")."""
    moved = group_factor_changes(demo, reader, pairs=100)
    for factor in ("tilt", "face_aspect"):
        print(factor, {g: round(row[factor], 3) for g, row in moved.items()})
        assert moved["coarse"][factor] > 0.15
        assert moved["coarse"][factor] > 3 * max(moved["middle"][factor], moved["fine"][factor])
