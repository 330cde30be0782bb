"""The QThread adapter: signals carry plain values; pause/resume/stop take effect within 1 s."""
import numpy as np

from ganstudio.core.checkpoint import read_checkpoint
from trainer.qt_worker import TrainingWorker
from trainer_tiny import tiny_config


def test_worker_reports_pauses_resumes_and_stops_within_a_second(qtbot, tmp_path):
    worker = TrainingWorker(tiny_config("stylegan2", tmp_path / "run", kimg=1000.0))
    previews, stats = [], []
    worker.previewReady.connect(previews.append)
    worker.statsReady.connect(stats.append)
    try:
        with qtbot.waitSignal(worker.progressChanged, timeout=20000) as first:
            worker.start()
        assert first.args[0]["step"] >= 1 and first.args[0]["resolution"] == 8

        with qtbot.waitSignal(worker.stateChanged, timeout=1000,
                              check_params_cb=lambda s: s == "paused"):
            worker.pause()
        with qtbot.waitSignal(worker.progressChanged, timeout=1000):
            worker.resume()

        with qtbot.waitSignal(worker.finished, timeout=1000) as done:
            worker.stop()
        path = done.args[0]
        assert path.endswith("latest.safetensors")
        assert read_checkpoint(path).meta["train"]["step"] >= 2
    finally:
        worker.shutdown()
    assert not worker.is_running()
    qtbot.waitUntil(lambda: bool(previews and stats), timeout=1000)
    assert isinstance(previews[0], np.ndarray) and previews[0].shape == (16, 16, 3)
    assert previews[0].dtype == np.uint8 and {"kimg", "loss_G", "images_per_s"} <= set(stats[0])


def test_worker_reports_bad_data_as_failed(qtbot, tmp_path):
    worker = TrainingWorker(tiny_config("stylegan2", tmp_path / "run", data=str(tmp_path / "none")))
    try:
        with qtbot.waitSignal(worker.failed, timeout=20000) as failed:
            worker.start()
        assert "none" in failed.args[0]
    finally:
        worker.shutdown()
