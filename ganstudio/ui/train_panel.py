"""The Train panel: dataset, model and run on the left; controls, live preview and curves on the right.

Thin: it wires the boxes to a `TrainController` and shows what the controller reports.
`extra` holds TrainConfig overrides applied last (tests use it for tiny networks).
"""
from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QMessageBox, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from .train_controller import TrainController
from .train_controls import TrainControls
from .train_dataset_box import TrainDatasetBox
from .train_options_box import TrainOptionsBox
from .train_plots import TrainPlots
from .train_preview import TrainPreview
from .train_recipe import build_config, has_run, read_run, resume_config
from .train_run_box import TrainRunBox, default_run_folder
from .widgets import Section


class TrainPanel(QWidget):
    exploreRequested = pyqtSignal(str)     # a checkpoint to open in the explorer
    titleChanged = pyqtSignal(str)         # short text for the tab: "Train · 34 %"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.extra: dict = {}
        self.controller = TrainController(self)
        self.dataset_box, self.options = TrainDatasetBox(), TrainOptionsBox()
        self.run_box, self.controls = TrainRunBox(), TrainControls()
        self.preview, self.plots = TrainPreview(), TrainPlots()
        self._run = None                   # RunInfo of the run in the chosen folder
        self._resumed = None               # its TrainConfig, when continuing it
        self._folder_auto = True           # the run folder follows arch/res until edited
        self._close_when_idle = None        # the window's close(), once training has stopped
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._layout())
        self._wire()
        self.run_box.folder.setText(default_run_folder(self.options.arch_name(),
                                                       self.options.resolution()))
        self._shown = False                # datasets are read once the tab is first shown

    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self._rescan()

    def _layout(self) -> QSplitter:
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.setSpacing(0)
        for title, box in (("Dataset", self.dataset_box), ("Model", self.options),
                           ("Run", self.run_box)):
            side_lay.addWidget(Section(title, box))
        side_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(320)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(12, 10, 12, 8)
        right_lay.setSpacing(10)
        right_lay.addWidget(self.controls)
        views = QSplitter()
        views.addWidget(self.preview)
        views.addWidget(self.plots)
        views.setSizes([520, 560])
        views.setChildrenCollapsible(False)
        right_lay.addWidget(views, 1)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 1150])
        split.setChildrenCollapsible(False)
        return split

    def _wire(self) -> None:
        c, ctl = self.controller, self.controls
        self.dataset_box.datasetChanged.connect(self._rescan)
        self.dataset_box.xflipChanged.connect(self._rescan)
        self.options.resolutionChanged.connect(self._rescan)
        self.options.changed.connect(self._on_options_changed)
        self.run_box.folderChanged.connect(self._on_run_folder_changed)
        self.run_box.resumeToggled.connect(self._on_resume_toggled)
        ctl.startClicked.connect(self.start)
        ctl.pauseClicked.connect(c.pause)
        ctl.resumeClicked.connect(c.resume)
        ctl.stopClicked.connect(c.stop)
        ctl.exploreClicked.connect(c.explore)
        c.scanStarted.connect(self.dataset_box.show_scanning)
        c.summaryReady.connect(self.dataset_box.show_summary)
        c.stateChanged.connect(self._on_controller_stateChanged)
        c.progressChanged.connect(self._on_controller_progressChanged)
        c.previewReady.connect(self._on_controller_previewReady)
        c.statsReady.connect(self.plots.add)
        c.checkpointSaved.connect(lambda _: self._sync_controls())
        c.exploreRequested.connect(self.exploreRequested)
        c.refused.connect(self._on_controller_refused)
        c.message.connect(ctl.show_message)

    # --- actions -------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            if self._resumed is not None:
                config = resume_config(self.run_box.path(), kimg=self.options.kimg.value(),
                                       device=self.run_box.device.currentText())
            else:
                config = build_config(**self.options.values(), data=self.dataset_box.spec(),
                                      out=self.run_box.path(),
                                      device=self.run_box.device.currentText(),
                                      xflip=self.dataset_box.xflip.isChecked(), extra=self.extra)
        except ValueError as e:
            self._on_controller_refused(str(e))
            return
        if self._resumed is None:
            self.plots.clear()
            self.preview.clear()
        self.plots.set_arch(config.arch)
        self.controller.start(config)

    def is_training(self) -> bool:
        return self.controller.is_active() or self.controller.state == "waiting"

    def request_close(self, parent, close) -> bool:
        """True when nothing trains. Else ask; on Yes stop and save, then call `close()`."""
        c = self.controller
        if c.state == "waiting":
            c.stop()
        if not c.is_active():
            return True
        if self._close_when_idle is None:
            answer = QMessageBox.question(
                parent, "Training in progress",
                "Stop training, save a checkpoint and close GANStudio?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer == QMessageBox.StandardButton.Yes:
                self._close_when_idle = close
                c.stop()
        return False

    # --- form → controller ---------------------------------------------------------------------
    def _rescan(self, *_) -> None:
        if not self._shown:
            return
        self.controller.scan(self.dataset_box.spec(), self.options.resolution(),
                             self.dataset_box.xflip.isChecked())

    def _on_options_changed(self) -> None:
        if not self.is_training():
            self.plots.set_arch(self.options.arch_name())
        if self._folder_auto and self._resumed is None and not self.is_training():
            self.run_box.folder.setText(default_run_folder(self.options.arch_name(),
                                                           self.options.resolution()))

    def _on_run_folder_changed(self, folder: str) -> None:
        self._folder_auto = False          # chosen or typed: it stays
        try:
            self._run = read_run(folder)
        except ValueError as e:
            self._run = None
            self.controls.show_message(f"Cannot continue {folder}: {e}", error=True)
        self.run_box.show_run(self._run.describe() if self._run else None)
        self._on_resume_toggled(self.run_box.resuming())

    def _on_resume_toggled(self, on: bool) -> None:
        run = self._run if on else None
        self._resumed = run.config if run else None
        self.options.set_resumed(self._resumed)
        self.dataset_box.set_editable(run is None and not self.is_training())
        if run is None:
            self.controls.show_position(0.0, self.options.kimg.value())
        else:
            kimg = run.stats[-1]["kimg"] if run.stats else 0.0
            self.controls.show_position(kimg, run.config.kimg)
            self.controls.show_message(f"Resume run continues from {kimg:.2f} kimg with the same "
                                       "data, networks, optimizer state and random streams")
            self.dataset_box.edit.setText(run.config.data)
            self._rescan()
            self.plots.set_arch(run.config.arch)
            self.plots.set_history(run.stats)
            if run.preview is not None:
                self.preview.show_grid(run.preview, *run.preview_layout())
        self._sync_controls()

    # --- controller → views --------------------------------------------------------------------
    def _sync_controls(self) -> None:
        c = self.controller
        can = c.is_active() or bool(c.latest) or has_run(self.run_box.path())
        self.controls.set_state(c.state, can_explore=can, resuming=self._resumed is not None)

    def _on_controller_stateChanged(self, state: str) -> None:
        busy = state != "idle"
        self.dataset_box.set_editable(not busy and self._resumed is None)
        self.options.setEnabled(not busy)
        self.run_box.setEnabled(not busy)
        if state == "idle":
            self._on_run_folder_changed(self.run_box.path())
            self.titleChanged.emit("Train")
            close, self._close_when_idle = self._close_when_idle, None
            if close is not None:
                close()
        elif state == "paused":
            self.titleChanged.emit("Train · paused")
        self._sync_controls()

    def _on_controller_progressChanged(self, p: dict) -> None:
        self.controls.show_progress(p, self.controller.config.progressive)
        self.titleChanged.emit(f"Train · {100 * p.get('fraction', 0):.0f} %")

    def _on_controller_previewReady(self, grid) -> None:
        config, p = self.controller.config, self.controller.current
        r = int(p.get("resolution", config.res))            # the grid is at this resolution
        self.preview.show_grid(grid, grid.shape[0] // r, grid.shape[1] // r, p.get("kimg"),
                               p.get("alpha") if config.progressive else None)

    def _on_controller_refused(self, reason: str) -> None:
        self.controls.show_message(f"Not started: {reason}", error=True)
        self._sync_controls()
