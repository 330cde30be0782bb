"""The Train panel's logic (no widgets): dataset summaries, one training run, its snapshots.

- `scan(spec, res, xflip)` summarises a dataset on a background thread (thumbnails, full report);
  the newest request wins, results of older ones are dropped. The opened dataset is handed to the
  training run that uses the same source, so a folder is decoded once.
- `start(config)` waits for the summary of its dataset, refuses (`refused`) when it holds no usable
  image, else runs a `trainer.qt_worker.TrainingWorker`. Progress reaches the views at most
  every 100 ms (newest wins); previews and stats arrive as they come.
- `explore()` asks the running trainer to write latest.safetensors now and announces its path
  (`exploreRequested`); the explorer loads that file in its own engine: no module is shared.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QObject, pyqtSignal
from superqt.utils import qthrottled

THUMBNAILS = 8


@dataclass
class DatasetSummary:
    spec: str
    res: int
    xflip: bool
    ok: bool = False
    thumbnails: list = field(default_factory=list, repr=False)   # uint8 [r, r, 3] arrays
    report: str = ""                                    # DatasetReport.summary()
    usable: int = 0
    skipped: dict = field(default_factory=dict)         # reason -> count
    error: str = ""                                     # one line when not ok
    dataset: object = field(default=None, repr=False)   # trainer.data.Dataset, for the run

    def key(self) -> tuple:
        return (self.spec, self.res, self.xflip)


def summarize(spec: str, res: int, xflip: bool = False) -> DatasetSummary:
    """Background thread: the first thumbnails, then the whole source at `res` (never raises)."""
    out = DatasetSummary(spec, res, xflip)
    try:
        from trainer.data import DatasetError, open_dataset, thumbnails
        try:
            out.thumbnails, first = thumbnails(spec, k=THUMBNAILS, size=min(res, 64))
            out.report, out.skipped = first.summary(), dict(first.skipped)
            ds = open_dataset(spec, res, xflip=xflip)     # every image: the true counts
        except DatasetError as e:
            out.error, out.thumbnails = str(e), []
            return out
        rep = ds.report
        out.ok, out.dataset, out.usable = True, ds, rep.usable
        out.report, out.skipped = rep.summary(), dict(rep.skipped)
    except Exception as e:  # noqa: BLE001 — never raise across a thread
        out.error = f"{type(e).__name__}: {e}".splitlines()[0]
    return out


class TrainController(QObject):
    scanStarted = pyqtSignal(str)          # dataset spec
    summaryReady = pyqtSignal(object)      # DatasetSummary (newest scan only)
    stateChanged = pyqtSignal(str)         # idle | waiting | running | paused | stopping
    progressChanged = pyqtSignal(dict)     # newest step's progress, ≤ 10 per second
    previewReady = pyqtSignal(object)      # uint8 [H, W, 3] grid of the fixed latents
    statsReady = pyqtSignal(dict)          # one stats.jsonl line per tick
    checkpointSaved = pyqtSignal(str)      # a checkpoint file was written
    exploreRequested = pyqtSignal(str)     # open this checkpoint in the explorer
    refused = pyqtSignal(str)              # start refused: one-line reason
    message = pyqtSignal(str)              # status text (run ended, a save failed…)
    _scanned = pyqtSignal(object)          # from the scan thread

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = "idle"
        self.worker = None
        self.config = None                 # TrainConfig of the current / last run
        self.latest: str | None = None     # newest checkpoint of the current / last run
        self.current: dict = {}            # newest progress, unthrottled (what a preview shows)
        self.summary: DatasetSummary | None = None
        self._scan_key: tuple | None = None
        self._pending_start = None         # config waiting for its dataset summary
        self._explore_pending = False
        self._scanned.connect(self._on_scan_done)
        app = QCoreApplication.instance()
        if app is not None:                # quitting without closing the window: still save
            app.aboutToQuit.connect(self.shutdown)
        self._emit_progress = qthrottled(self._publish_progress, timeout=100, leading=True,
                                         parent=self)

    # --- datasets ------------------------------------------------------------------------------
    def scan(self, spec: str, res: int, xflip: bool = False) -> None:
        key = (str(spec).strip(), int(res), bool(xflip))
        if key == self._scan_key:
            return
        self._scan_key = key
        if not key[0]:
            return
        self.scanStarted.emit(key[0])
        threading.Thread(target=self._scan_thread, args=key, name="GANStudio dataset scan",
                         daemon=True).start()

    def _scan_thread(self, spec: str, res: int, xflip: bool) -> None:
        summary = summarize(spec, res, xflip)
        try:
            self._scanned.emit(summary)
        except RuntimeError:               # the window closed while scanning
            pass

    def _on_scan_done(self, summary: DatasetSummary) -> None:
        if summary.key() != self._scan_key:
            return                         # superseded by a newer scan
        self.summary = summary
        self.summaryReady.emit(summary)
        pending, self._pending_start = self._pending_start, None
        if pending is not None:
            self.start(pending)

    # --- the run --------------------------------------------------------------------------------
    def is_active(self) -> bool:
        return self.state in ("running", "paused", "stopping")

    def start(self, config) -> None:
        if self.is_active():
            return
        dataset = None
        if not config.resume:
            if (Path(config.out) / "latest.safetensors").is_file():
                self.refused.emit(f"{config.out} already holds a run: continue it, or choose "
                                  "another run folder")
                return
            key = (config.data, config.res, config.xflip)
            if self.summary is None or self.summary.key() != key:
                self._pending_start = config
                self._set_state("waiting")
                self.scan(*key)
                return
            if not self.summary.ok:
                self._set_state("idle")
                self.refused.emit(self.summary.error or "the dataset holds no usable image")
                return
            if config.arch in ("pggan", "stylegan", "stylegan2") and not config.model.get("c_dim"):
                dataset = self.summary.dataset      # opened without labels: unconditional only
        from trainer.qt_worker import TrainingWorker
        self.config, self.latest, self._explore_pending = config, None, False
        self.current = {}
        w = self.worker = TrainingWorker(config, dataset=dataset, parent=self)
        w.progressChanged.connect(self._on_worker_progressChanged)
        w.previewReady.connect(self.previewReady)
        w.statsReady.connect(self.statsReady)
        w.snapshotSaved.connect(self._on_worker_snapshotSaved)
        w.stateChanged.connect(self._set_state)
        w.errorOccurred.connect(self._on_worker_errorOccurred)
        w.finished.connect(self._on_worker_finished)
        w.failed.connect(self._on_worker_failed)
        self._set_state("running")
        w.start()

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()

    def resume(self) -> None:
        if self.worker is not None:
            self.worker.resume()

    def stop(self) -> None:
        self._pending_start = None
        if self.state == "waiting":
            self._set_state("idle")
        if self.worker is not None:
            self.worker.stop()

    def shutdown(self) -> None:
        """Stop, save and join the training thread (blocking; idempotent)."""
        self._pending_start = None
        if self.worker is not None:
            self.worker.shutdown()
            self._end_run()

    def explore(self) -> None:
        """The current generator in the explorer: a fresh save while training, else the latest."""
        if self.is_active() and self.state != "stopping":
            self._explore_pending = True
            self.message.emit("Saving a snapshot for the explorer…")
            self.worker.save_now()
        elif self.latest and Path(self.latest).is_file():
            self.exploreRequested.emit(self.latest)

    # --- worker → views -------------------------------------------------------------------------
    def _on_worker_progressChanged(self, progress: dict) -> None:
        self.current = progress
        self._emit_progress(progress)

    def _publish_progress(self, progress: dict) -> None:
        if self.worker is not None:        # nothing late after the run ended
            self.progressChanged.emit(progress)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _on_worker_snapshotSaved(self, path: str) -> None:
        self.latest = path
        self.checkpointSaved.emit(path)
        if self._explore_pending:
            self._explore_pending = False
            self.exploreRequested.emit(path)

    def _on_worker_errorOccurred(self, text: str) -> None:
        self.message.emit(text)
        if self._explore_pending and self.latest:      # the save failed: show the last one
            self._explore_pending = False
            self.exploreRequested.emit(self.latest)

    def _on_worker_finished(self, path: str) -> None:
        if path:
            self._on_worker_snapshotSaved(path)
        self.message.emit(f"Training stopped; saved {path}" if path else "Training stopped")
        self._end_run()

    def _on_worker_failed(self, text: str) -> None:
        self.message.emit(f"Training failed: {text}")
        self._end_run()

    def _end_run(self) -> None:
        self._emit_progress.flush(restart_timer=False)
        w, self.worker, self._explore_pending = self.worker, None, False
        if w is not None:
            w.wait()                       # it returns right after its last signal
            w.deleteLater()
        self._set_state("idle")
