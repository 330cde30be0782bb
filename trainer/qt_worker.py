"""The trainer's only Qt module: runs a `Trainer` in a QThread and reports through signals.

    worker = TrainingWorker(config)
    worker.previewReady.connect(show)          # np.uint8 [H, W, 3]
    worker.start()
    worker.pause(); worker.resume(); worker.stop()   # each takes effect within one step (< 1 s)
    worker.save_now()                          # latest.safetensors before the next step (or paused)

Only plain values and numpy arrays cross the thread boundary. `finished(path)` fires when training
ends (done, or stopped on request) with the path of latest.safetensors; `failed(message)` when it
cannot go on (bad data, NaN, a failed final save). Never raises across the thread.
"""
from __future__ import annotations

import os
import threading
import traceback

import torch

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

    def __init__(self, config: TrainConfig, *, dataset=None, threads: int | None = None,
                 parent: QObject | None = None):
        """threads: torch CPU threads of the training thread (OpenMP counts are per OS thread);
        None = $GANSTUDIO_THREADS, else the creating thread's torch.get_num_threads()."""
        super().__init__(parent)
        self._config, self._dataset = config, dataset
        env = os.environ.get("GANSTUDIO_THREADS", "").strip()
        self.threads = max(1, int(threads or (env if env.isdigit() else 0)
                                  or torch.get_num_threads()))
        self._stop, self._pause = threading.Event(), threading.Event()
        self._save = threading.Event()
        self._trainer: Trainer | None = None     # touched only by the worker thread
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

    def save_now(self) -> None:
        """Write latest.safetensors between two steps (also while paused); snapshotSaved(path)."""
        self._save.set()

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
        # called between steps (and every 50 ms while paused): the place for an on-demand save
        if self._save.is_set() and self._trainer is not None and not self._stop.is_set():
            self._save.clear()
            self._trainer._try_save(snapshot=False)     # reports a failed write via on_error
        return self._stop.is_set()

    def _should_pause(self) -> bool:
        paused = self._pause.is_set() and not self._stop.is_set()
        if paused != self._paused_reported:
            self._paused_reported = paused
            self.stateChanged.emit("paused" if paused else "running")
        return paused

    def _run(self) -> None:
        try:
            torch.set_num_threads(self.threads)
            callbacks = Callbacks(on_step=self.progressChanged.emit,
                                  on_tick=self.statsReady.emit,
                                  on_preview=self.previewReady.emit,
                                  on_snapshot=self.snapshotSaved.emit,
                                  on_error=self.errorOccurred.emit)
            trainer = self._trainer = Trainer(self._config, callbacks, dataset=self._dataset)
            self._dataset = None                  # the trainer owns it now
            self.stateChanged.emit("running")
            result = trainer.run(should_stop=self._should_stop, should_pause=self._should_pause)
        except Exception as e:  # never raise across the thread
            traceback.print_exc()
            self.failed.emit(f"{type(e).__name__}: {e}" if not str(e) else str(e))
            return
        finally:
            self._trainer = None
        if result.status == "failed":
            self.failed.emit(result.message)
        else:
            self.finished.emit(result.checkpoint or "")
