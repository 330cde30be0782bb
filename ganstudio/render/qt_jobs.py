"""Job: one tool function (see tools.py) on its own QThread, reporting through signals.

    job = Job(lambda progress, preview, should_stop: work(...), parent=owner)
    job.progressChanged.connect(bar.setValue); job.finished.connect(use_result)
    job.start(); … job.cancel()

The function gets `progress(done, total)`, `preview(value)` and `should_stop()`. Exactly one of
`finished(result)`, `cancelled()` (it raised JobCancelled) or `failed(message)` (any other
exception, as one line) follows, always after the thread has ended, and always in the thread the
Job lives in (the GUI thread), whatever the receiver. Never raises across the thread.
`shutdown()` cancels and joins; owners call it before they go away (a QThread must not be
destroyed while it runs).
"""
from __future__ import annotations

import threading

from PyQt6.QtCore import QObject, QThread, Qt, pyqtSignal, pyqtSlot

from .tools import JobCancelled


def one_line(e: BaseException) -> str:
    text = (str(e).strip().splitlines() or [""])[0]
    if isinstance(e, ValueError) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class _Thread(QThread):
    def __init__(self, target, parent=None):
        super().__init__(parent)
        self._target = target

    def run(self) -> None:
        self._target()


class Job(QObject):
    progressChanged = pyqtSignal(int, int)      # done, total
    previewReady = pyqtSignal(object)           # whatever the function reports (an image, a step)
    finished = pyqtSignal(object)               # the function's result
    cancelled = pyqtSignal()
    failed = pyqtSignal(str)                    # one line
    _progress = pyqtSignal(int, int)            # worker → GUI thread relays
    _preview = pyqtSignal(object)

    def __init__(self, fn, parent: QObject | None = None, name: str = "GANStudio job"):
        super().__init__(parent)
        self._fn = fn
        self._stop = threading.Event()
        self._outcome: tuple[str, object] | None = None
        self._done = False
        self._thread = _Thread(self._run, self)
        self._thread.setObjectName(name)
        queued = Qt.ConnectionType.QueuedConnection
        self._progress.connect(self._on_worker_progress, queued)
        self._preview.connect(self._on_worker_preview, queued)
        self._thread.finished.connect(self._on_thread_finished, queued)

    # --- GUI thread ------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._thread.isRunning() and self._outcome is None:
            self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def is_running(self) -> bool:
        """True from start() until the outcome signal has been emitted."""
        return self._thread.isRunning() or (self._outcome is not None and not self._done)

    def shutdown(self) -> None:
        """Cancel and join the thread (idempotent); the outcome signal is not emitted after this."""
        self._stop.set()
        self._thread.wait()
        self._done = True

    @pyqtSlot(int, int)
    def _on_worker_progress(self, done: int, total: int) -> None:
        if not self._done:
            self.progressChanged.emit(done, total)

    @pyqtSlot(object)
    def _on_worker_preview(self, value) -> None:
        if not self._done:
            self.previewReady.emit(value)

    @pyqtSlot()
    def _on_thread_finished(self) -> None:
        self._thread.wait()
        if self._done or self._outcome is None:
            return
        self._done = True
        kind, value = self._outcome
        if kind == "finished":
            self.finished.emit(value)
        elif kind == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(str(value))

    # --- worker thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            result = self._fn(self._progress.emit, self._preview.emit, self._stop.is_set)
        except JobCancelled:
            self._outcome = ("cancelled", None)
        except Exception as e:  # noqa: BLE001 — never raise across the thread
            self._outcome = ("failed", one_line(e))
        else:
            self._outcome = ("finished", result)
