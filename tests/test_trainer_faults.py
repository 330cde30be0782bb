"""Faults: NaN stops training and keeps the last good checkpoint; a failed write keeps the old
file; a stop request finishes the step, saves and returns."""
import errno

import pytest
import torch

import ganstudio.core.checkpoint as ckpt_module
from ganstudio.core.checkpoint import read_checkpoint
from trainer.loop import Callbacks, NonFiniteError, Trainer
from trainer_tiny import tiny_config


def _good_run(tmp_path, steps=2):
    trainer = Trainer(tiny_config("stylegan2", tmp_path / "run", kimg=1.0))
    for _ in range(steps):
        trainer.step()
    latest = trainer.save()
    return trainer, latest, latest.read_bytes()


def test_nan_in_weights_stops_with_step_and_loss_and_keeps_checkpoint(tmp_path):
    trainer, latest, good = _good_run(tmp_path)
    errors = []
    trainer.callbacks = Callbacks(on_error=errors.append)
    with torch.no_grad():
        trainer.G.synthesis.b8.conv1.weight[0, 0, 0, 0] = float("nan")
    result = trainer.run()
    assert result.status == "failed"
    assert "step 3" in result.message and "loss_D is nan" in result.message
    assert errors == [result.message]
    assert latest.read_bytes() == good                       # the good file was not touched
    assert torch.isfinite(read_checkpoint(latest).group("G")["synthesis.b8.conv1.weight"]).all()
    assert not list(latest.parent.glob("*.tmp"))


def test_save_refuses_non_finite_weights(tmp_path):
    trainer, latest, good = _good_run(tmp_path, steps=1)
    with torch.no_grad():
        trainer.D.b4.out.bias.fill_(float("inf"))
    with pytest.raises(NonFiniteError, match="D.b4.out.bias"):
        trainer.save()
    assert latest.read_bytes() == good


def test_failed_write_reports_and_leaves_previous_checkpoint(tmp_path, monkeypatch):
    trainer, latest, good = _good_run(tmp_path, steps=1)

    def disk_full(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt_module, "save_file", disk_full)
    errors = []
    trainer.callbacks = Callbacks(on_error=errors.append)
    trainer.total_nimg = trainer.cur_nimg + 8                 # two more steps, then the final save
    result = trainer.run()
    assert result.status == "failed" and "could not be written" in result.message
    assert any("No space left on device" in e and "previous checkpoint is intact" in e
               for e in errors)
    assert latest.read_bytes() == good
    assert not list(latest.parent.glob("*.tmp"))


def test_stop_request_finishes_the_step_and_saves(tmp_path):
    steps = []
    trainer = Trainer(tiny_config("stylegan2", tmp_path / "run", kimg=1.0),
                      Callbacks(on_step=steps.append))
    result = trainer.run(should_stop=lambda: len(steps) >= 3)
    assert result.status == "stopped" and result.steps == 3
    meta = read_checkpoint(result.checkpoint).meta
    assert meta["train"]["step"] == 3 and meta["kimg"] == pytest.approx(0.012)
