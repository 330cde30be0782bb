"""`ganstudio-train` end to end on synthetic:faces, then `--resume`; the result renders."""
import json

import pytest
import torch

from ganstudio.core.checkpoint import load_native_generator, read_checkpoint
from trainer.cli import main
from trainer.config import TrainConfig

TINY = ["--set", "model.z_dim=16", "--set", "model.w_dim=16", "--set", "model.mapping_layers=2",
        "--set", "model.channel_base=128", "--set", "model.channel_max=16",
        "--set", "preview_grid=[2,2]", "--set", "tick_kimg=0.008", "--set", "device=\"cpu\"",
        "--set", "phase_kimg=0.008", "--set", "transition_kimg=0.008", "--no-progress"]


def test_cli_trains_resumes_and_the_checkpoint_renders(tmp_path, capsys):
    out = tmp_path / "runs" / "demo"
    rc = main(["--data", "synthetic:faces?n=16", "--arch", "stylegan", "--res", "8",
               "--kimg", "0.024", "--out", str(out), "--batch", "4", "--seed", "7"] + TINY)
    assert rc == 0
    printed = capsys.readouterr()
    assert "done: finished 0.024 kimg" in printed.out and "img/s" in printed.out
    assert "16 usable images" in printed.err
    for name in ("config.json", "stats.jsonl", "latest.safetensors", "preview-000000.png"):
        assert (out / name).is_file(), name
    assert list(out.glob("events.out.tfevents.*")) and list(out.glob("snapshot-*.safetensors"))
    config = TrainConfig.load(out / "config.json")
    assert (config.arch, config.res, config.seed, config.batch) == ("stylegan", 8, 7, 4)
    ticks = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    assert {"kimg", "loss_D", "loss_G", "resolution", "alpha", "sec_per_kimg",
            "images_per_s"} <= set(ticks[-1])
    assert ticks[0]["resolution"] == 4 and ticks[-1]["resolution"] == 8

    G = load_native_generator(out / "latest.safetensors")
    img = G(torch.randn([2, G.z_dim], generator=torch.Generator().manual_seed(0)))
    assert img.shape == (2, 3, 8, 8) and torch.isfinite(img).all() and img.std() > 0

    rc = main(["--out", str(out), "--resume", "--kimg", "0.032", "--no-progress"])
    assert rc == 0
    meta = read_checkpoint(out / "latest.safetensors").meta
    assert meta["kimg"] == pytest.approx(0.032) and meta["train"]["step"] == 8
    assert meta["train_config"]["seed"] == 7


def test_cli_bad_input_is_one_clear_line(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r"),
                 "--kimg", "1"] + TINY) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ganstudio-train: error:") and "missing" in err[0]
    assert main(["--out", str(tmp_path / "nothing"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_python_dash_m_trainer_has_the_documented_options():
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "trainer", "--help"], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--data", "--arch", "--res", "--kimg", "--out", "--resume", "--batch", "--seed"):
        assert option in proc.stdout


def test_ctrl_c_finishes_the_step_saves_and_exits_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "trainer", "--data", "synthetic:faces?n=16", "--arch",
           "stylegan2", "--res", "8", "--kimg", "1000", "--out", str(out), "--batch", "4"] + TINY
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        lines = []
        for line in proc.stdout:                      # wait for the first tick line
            lines.append(line)
            if line.startswith("tick "):
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    text = "".join(lines) + rest
    assert proc.returncode == 0, text
    assert "stopping after this step" in text and "stopped: stopped at" in text
    meta = read_checkpoint(out / "latest.safetensors").meta
    assert meta["train"]["step"] >= 1
