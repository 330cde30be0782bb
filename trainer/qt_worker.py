"""The trainer's only Qt module: runs a `Trainer` in a QThread and reports through signals.

    worker = TrainingWorker(config)
    worker.previewReady.connect(show)          # np.uint8 [H, W, 3]
    worker.start()
    worker.pause(); worker.resume(); worker.stop()   # each takes effect within one step (< 1 s)

Only plain values and numpy arrays cross the thread boundary. `finished(path)` fires when training
ends (done, or stopped on request) with the path of latest.safetensors; `failed(message)` when it
cannot go on (bad data, NaN, a failed final save). Never raises across the thread.
"""
from __future__ import annotations

import threading
import traceback

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from .config import TrainConfig
from .loop import Callbacks, Trainer


class _Thread(QThread):
    def __init__(self, target, parent=None):
        super().__init__(parent)
        self._target = target

    def run(self) -> None:
        self._target()


class TrainingWorker(QObject):
    progressChanged = pyqtSignal(dict)   # every step: kimg, total_kimg, fraction, resolution, α, eta_s…
    previewReady = pyqtSignal(object)    # np.uint8 [H, W, 3] grid of the fixed preview latents
    statsReady = pyqtSignal(dict)        # every tick: the stats.jsonl line
    snapshotSaved = pyqtSignal(str)      # a checkpoint was written
    stateChanged = pyqtSignal(str)       # "running" | "paused" | "stopping"
    errorOccurred = pyqtSignal(str)      # a non-fatal problem (e.g. a checkpoint write failed)
    finished = pyqtSignal(str)           # path of latest.safetensors ("" if none)
    failed = pyqtSignal(str)             # one-line reason

    def __init__(self, config: TrainConfig, *, dataset=None, parent: QObject | None = None):
        super().__init__(parent)
        self._config, self._dataset = config, dataset
        self._stop, self._pause = threading.Event(), threading.Event()
        self._paused_reported = False
        self._thread = _Thread(self._run)

    # --- control (GUI thread) --------------------------------------------------------------------
    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        if not self._stop.is_set() and self._thread.isRunning():
            self.stateChanged.emit("stopping")
        self._stop.set()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, msecs: int = 30000) -> bool:
        return self._thread.wait(msecs)

    def shutdown(self) -> None:
        """Stop and join the thread (idempotent)."""
        self.stop()
        self._thread.wait()

    # --- worker thread ---------------------------------------------------------------------------
    def _should_stop(self) -> bool:
        return self._stop.is_set()

    def _should_pause(self) -> bool:
        paused = self._pause.is_set() and not self._stop.is_set()
        if paused != self._paused_reported:
            self._paused_reported = paused
            self.stateChanged.emit("paused" if paused else "running")
        return paused

    def _run(self) -> None:
        try:
            callbacks = Callbacks(on_step=self.progressChanged.emit,
                                  on_tick=self.statsReady.emit,
                                  on_preview=self.previewReady.emit,
                                  on_snapshot=self.snapshotSaved.emit,
                                  on_error=self.errorOccurred.emit)
            trainer = Trainer(self._config, callbacks, dataset=self._dataset)
            self.stateChanged.emit("running")
            result = trainer.run(should_stop=self._should_stop, should_pause=self._should_pause)
        except Exception as e:  # never raise across the thread
            traceback.print_exc()
            self.failed.emit(f"{type(e).__name__}: {e}" if not str(e) else str(e))
            return
        if result.status == "failed":
            self.failed.emit(result.message)
        else:
            self.finished.emit(result.checkpoint or "")
