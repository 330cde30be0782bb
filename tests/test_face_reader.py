"""The face-factor reader: its file, its heads, and the reader that ships in resources/ reading
fresh `synthetic:faces` drawings it never saw."""
import numpy as np
import pytest
import torch

from ganstudio.core.checkpoint import CheckpointError, save_generator
from ganstudio.core.directions import DirectionError
from ganstudio.core.factor_directions import parse_targets, target_labels
from ganstudio.core.face_reader import (FaceReader, decode, factor_target, load_face_reader,
                                        save_face_reader)
from ganstudio.render.models import default_face_reader_file
from tiny_models import tiny_stylegan2
from trainer.face_reader import (dataset_arrays, evaluate_face_reader, reader_factors,
                                 train_face_reader)

SMALL = {"tilt": ["continuous", -20.0, 20.0], "hue": ["circular"], "glasses": ["bool"],
         "hair": ["categorical", ["black", "red", "grey"]]}


def test_reader_file_round_trip_and_refuses_other_files(tmp_path):
    torch.manual_seed(0)
    reader = FaceReader(SMALL).eval()
    save_face_reader(tmp_path / "r.safetensors", reader, {"note": "x"})
    back = load_face_reader(tmp_path / "r.safetensors")
    x = torch.rand(3, 3, 32, 32) * 2 - 1                      # any resolution is resized to 64²
    assert torch.equal(reader(x), back(x)) and back.info == {"note": "x"}
    out = back.read(x)
    assert out["hair"].shape == (3, 3) and np.allclose(out["hair"].sum(1), 1, atol=1e-6)
    assert np.all((out["hue"] >= 0) & (out["hue"] < 1)) and out["tilt"].shape == (3,)

    save_generator(tmp_path / "g.safetensors", tiny_stylegan2())
    with pytest.raises(CheckpointError, match="not a GANStudio face reader"):
        load_face_reader(tmp_path / "g.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a readable face-reader file"):
        load_face_reader(tmp_path / "junk.safetensors")
    with pytest.raises(CheckpointError, match="no such"):
        load_face_reader(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("spec,values", [(["continuous", -20.0, 20.0], [-20.0, 0.0, 7.5, 20.0]),
                                         (["circular"], [0.0, 0.25, 0.6, 0.99])])
def test_targets_decode_back_to_their_values(spec, values):
    t = torch.as_tensor(factor_target(spec, np.array(values)), dtype=torch.float64)
    assert np.allclose(decode(spec, t), values, atol=1e-9)


def test_a_short_training_run_learns_the_easy_factors():
    """60 steps on 512 faces: background hue and glasses are learnt well above chance (an
    untrained reader is at ~0.25 turns of hue error and ~65% glasses accuracy, the base rate)."""
    before = evaluate_face_reader(FaceReader(reader_factors()), n=200)
    reader = train_face_reader(n_train=512, steps=60, batch=64)
    after = evaluate_face_reader(reader, n=200)
    print({k: round(v, 3) for k, v in after.items()})
    assert after["background_hue"] < 0.5 * before["background_hue"]
    assert after["skin_tone"] > 0.5 > before["skin_tone"]


def test_the_shipped_reader_reads_faces_it_never_saw():
    """The reader in resources/ on 1,000 fresh drawings (another dataset seed than training)."""
    reader = load_face_reader(default_face_reader_file())
    scores = evaluate_face_reader(reader, n=1000)
    print({k: round(v, 3) for k, v in scores.items()})
    assert scores["glasses"] > 0.97 and scores["hair_colour"] > 0.93 and scores["hair_style"] > 0.95
    assert min(scores[k] for k in ("tilt", "mouth_curve", "skin_tone", "face_aspect")) > 0.9
    assert scores["background_hue"] < 0.02                        # mean error, in turns


def test_dataset_arrays_are_images_in_minus_one_one_with_labels():
    images, labels = dataset_arrays(8, seed=3)
    assert images.shape == (8, 3, 64, 64) and images.min() >= -1 and images.max() <= 1
    assert set(labels) == set(reader_factors()) and labels["tilt"].shape == (8,)


def test_targets_parse_and_label_with_clear_errors():
    assert parse_targets("smile:mouth_curve, glasses") == (("smile", "mouth_curve"),
                                                           ("glasses", "glasses"))
    reader = FaceReader(SMALL)
    readings = {"tilt": np.array([-5.0, 3.0]), "hue": np.array([0.1, 0.9]),
                "glasses": np.array([0.2, 0.7]), "hair": np.array([[0.1, 0.8, 0.1], [0.6, 0.2, 0.2]])}
    assert np.array_equal(target_labels(reader, readings, "glasses"), [0, 1])
    assert np.array_equal(target_labels(reader, readings, "hair=red"), [1, 0])
    assert np.array_equal(target_labels(reader, readings, "tilt"), [-5, 3])
    for bad, message in [("nose", "unknown factor"), ("hair", "needs a class"),
                         ("hair=blue", "needs a class"), ("glasses=yes", "takes no"),
                         ("hue", "wraps around")]:
        with pytest.raises(DirectionError, match=message):
            target_labels(reader, readings, bad)
    with pytest.raises(DirectionError, match="no factors"):
        parse_targets(" , ")
