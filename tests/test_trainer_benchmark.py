"""`ganstudio bench train` runs end to end on a tiny config, applies --set overrides to the preset
(the 128² / 1024² figures in the README were measured this way) and rejects bad ones."""
import json

from ganstudio.cli import main


def test_bench_train_applies_model_overrides_and_writes_json(tmp_path, capsys):
    out = tmp_path / "train.json"
    rc = main(["bench", "train", "--archs", "stylegan2", "--res", "16", "--batch", "2",
               "--steps", "1", "--warmup", "1", "--set", "model.channel_base=128",
               "--set", "model.channel_max=16", "--json", str(out)])
    assert rc == 0
    (row,) = json.loads(out.read_text())["results"]
    assert row["model"]["channel_base"] == 128 and row["model"]["channel_max"] == 16
    assert row["num_ws"] == 6 and row["images_per_s"] > 0 and row["gflop_per_step"] > 0
    small = row["params_G"]
    main(["bench", "train", "--archs", "stylegan2", "--res", "16", "--batch", "2", "--steps", "1",
          "--warmup", "1", "--set", "model.channel_base=512", "--set", "model.channel_max=32",
          "--json", str(out)])
    assert json.loads(out.read_text())["results"][0]["params_G"] > small
    assert "stylegan2" in capsys.readouterr().out


def test_bench_train_rejects_a_bad_override(capsys):
    assert main(["bench", "train", "--archs", "stylegan2", "--set", "no_such_option=1"]) == 2
    assert "no such training option" in capsys.readouterr().out
