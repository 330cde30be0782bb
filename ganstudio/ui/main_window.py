"""The main window: the explorer (sidebar, image, style rows) and the Train panel, as two tabs."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import (QApplication, QLabel, QMainWindow, QMessageBox, QScrollArea,
                             QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget)

from .actions import install_actions
from .class_panel import ClassPanel
from .file_actions import FileActions
from .direction_panel import DirectionPanel
from .explorer import Explorer
from .image_view import ImageView, qimage_from_array
from .latent_files_panel import LatentFilesPanel
from .latent_panel import LatentPanel
from .mixing_panel import MixingPanel
from .model_info_panel import ModelInfoPanel
from .noise_panel import NoisePanel
from .status_bar import StatusBar
from .style_rows_panel import StyleRowsPanel
from .tool_actions import ToolActions
from .train_panel import TrainPanel
from .wheel_guard import WheelGuard
from .widgets import Section


class MainWindow(ToolActions, FileActions, QMainWindow):
    def __init__(self, engine, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("GANStudio")
        self.settings = settings if settings is not None else QSettings()
        self.engine = engine
        self.explorer = Explorer(engine, self)
        self.info_panel, self.latent_panel = ModelInfoPanel(), LatentPanel()
        self.mixing_panel, self.noise_panel = MixingPanel(), NoisePanel()
        self.direction_panel, self.rows_panel = DirectionPanel(), StyleRowsPanel()
        self.class_panel = ClassPanel()
        self.latent_files_panel = LatentFilesPanel()
        self.view = ImageView()
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.train_panel = TrainPanel()
        explore_page = QWidget()
        QVBoxLayout(explore_page).setContentsMargins(0, 0, 0, 0)
        explore_page.layout().setSpacing(0)
        explore_page.layout().addWidget(self._layout())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(explore_page, "Explore")
        self.tabs.addTab(self.train_panel, "Train")
        self.setCentralWidget(self.tabs)
        self.actions = install_actions(self)
        smooth = self.settings.value("view/smooth_enlarging", True, type=bool)
        self.actions["smooth"].setChecked(smooth)
        self.view.set_smooth(smooth)
        bar = self.findChild(QToolBar, "mainToolbar")       # the explorer's toolbar: on its tab
        self.removeToolBar(bar)
        explore_page.layout().insertWidget(0, bar)
        bar.show()
        self._wire()
        self._install_tools()
        self._rebuild_recent_menu()
        self.setAcceptDrops(True)
        self.wheel_guard = WheelGuard(self)
        QApplication.instance().installEventFilter(self.wheel_guard)
        self.resize(1480, 900)

    def _layout(self) -> QSplitter:
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.setSpacing(0)
        for title, panel in (("Model", self.info_panel), ("Latent", self.latent_panel),
                             ("Class", self.class_panel),
                             ("Stored latents", self.latent_files_panel),
                             ("Style mixing", self.mixing_panel), ("Noise", self.noise_panel),
                             ("Direction", self.direction_panel)):
            side_lay.addWidget(Section(title, panel))
        self.class_section = self.class_panel.parentWidget()
        self.class_section.setVisible(False)          # shown for class-conditional models
        side_lay.addStretch(1)
        side_scroll = self.side_scroll = QScrollArea()
        side_scroll.setWidgetResizable(True)
        side_scroll.setWidget(side)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setMinimumWidth(300)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 8, 0, 0)
        self.rows_title = QLabel("STYLES")
        self.rows_title.setObjectName("sectionTitle")
        self.rows_title.setContentsMargins(10, 0, 10, 4)
        right_lay.addWidget(self.rows_title)
        right_lay.addWidget(self.rows_panel, 1)
        right.setMinimumWidth(360)
        split = QSplitter()
        for w in (side_scroll, self.view, right):
            split.addWidget(w)
        split.setStretchFactor(1, 1)
        split.setSizes([310, 760, 400])
        split.setChildrenCollapsible(False)
        return split

    def _wire(self) -> None:
        ex = self.explorer
        for panel in (self.latent_panel, self.mixing_panel, self.noise_panel,
                      self.direction_panel, self.rows_panel, self.class_panel,
                      self.latent_files_panel):
            panel.edited.connect(ex.edit)
            if hasattr(panel, "gestureEnded"):
                panel.gestureEnded.connect(ex.seal)
        ex.stateChanged.connect(self._on_explorer_stateChanged)
        ex.modelChanged.connect(self._on_explorer_modelChanged)
        ex.frameReady.connect(self._on_explorer_frameReady)
        ex.loadFailed.connect(lambda text: self.show_error("Cannot open", text))
        ex.message.connect(lambda text: self.status.showMessage(text, 6000))
        self.view.fileDropped.connect(self.open_path)
        self.train_panel.exploreRequested.connect(self._on_train_exploreRequested)
        self.train_panel.titleChanged.connect(lambda text: self.tabs.setTabText(1, text))

    # --- explorer → views ----------------------------------------------------------------------
    def _on_explorer_stateChanged(self, state) -> None:
        for panel in (self.latent_panel, self.mixing_panel, self.noise_panel,
                      self.direction_panel, self.rows_panel, self.status, self.class_panel,
                      self.latent_files_panel):
            panel.set_state(state)
        if state.zoom != self.view.zoom:
            self.view.set_zoom(state.zoom)
        self.actions["undo"].setEnabled(self.explorer.history.can_undo())
        self.actions["redo"].setEnabled(self.explorer.history.can_redo())

    def _on_explorer_modelChanged(self, info) -> None:
        for panel in (self.info_panel, self.latent_panel, self.mixing_panel, self.noise_panel,
                      self.rows_panel, self.class_panel):
            panel.set_model(info)
        self.class_section.setVisible(int(info.c_dim) > 0)
        self.status.set_device(info.device)
        kind = ("W INPUTS" if info.capabilities.has_w_space else
                "Z CHUNKS" if info.num_ws > 1 else "Z")
        self.rows_title.setText(f"STYLES · {info.num_ws} {kind}")
        name = "built-in default" if str(info.path).startswith("builtin:") else Path(info.path).name
        self.setWindowTitle(f"{name} — GANStudio")
        if info.path and not str(info.path).startswith("builtin:"):
            self._remember_recent(str(info.path))

    def _on_explorer_frameReady(self, result) -> None:
        full = result.capabilities.img_resolution if result.is_preview else None
        self.view.set_image(result.image, full or None)
        total = result.timings.get("total") if result.timings else None
        if total is None and result.timings:
            total = sum(result.timings.values())
        self.status.frame_shown(total)

    def _on_train_exploreRequested(self, path: str) -> None:
        self.open_path(path)
        self.tabs.setCurrentIndex(0)

    def show_train(self) -> None:
        self.tabs.setCurrentWidget(self.train_panel)

    def show_error(self, title: str, text: str) -> None:
        """Every error dialog goes through here (tests intercept QMessageBox.critical)."""
        QMessageBox.critical(self, title, text)

    # --- edit / view actions ---------------------------------------------------------------------
    def undo(self):
        self.explorer.undo()

    def redo(self):
        self.explorer.redo()

    def reset(self):
        self.explorer.reset()

    def copy_image(self):
        if self.view.image is not None:
            QApplication.clipboard().setImage(qimage_from_array(self.view.image))
            self.status.showMessage("Image copied", 3000)

    def _step_seed(self, field: str, step: int):
        s = self.explorer.state
        self.explorer.edit(s.replace(**{field: max(0, getattr(s, field) + step)}))

    def next_seed(self):
        self._step_seed("seed_a", 1)

    def prev_seed(self):
        self._step_seed("seed_a", -1)

    def next_seed_b(self):
        self._step_seed("seed_b", 1)

    def prev_seed_b(self):
        self._step_seed("seed_b", -1)

    def set_smooth_enlarging(self, smooth: bool):
        """View → Smooth enlarging: bilinear when the image is shown larger than it is, or crisp
        pixels (remembered between runs)."""
        self.view.set_smooth(smooth)
        self.settings.setValue("view/smooth_enlarging", bool(smooth))

    def zoom_fit(self):
        self.explorer.set_zoom(0)

    def zoom_actual(self):
        self.explorer.set_zoom(1)

    def zoom_in(self):
        z = self.explorer.state.zoom or max(1, int(self.view.scale()))
        self.explorer.set_zoom(z + 1)

    def zoom_out(self):
        z = self.explorer.state.zoom or max(1, int(self.view.scale()))
        self.explorer.set_zoom(0 if z <= 1 else z - 1)

    # --- Qt events -----------------------------------------------------------------------------
    def dragEnterEvent(self, event):
        self.view.dragEnterEvent(event)

    def dropEvent(self, event):
        self.view.dropEvent(event)

    def closeEvent(self, event):
        if not self.train_panel.request_close(self, self.close):   # asks; stops, saves, re-closes
            self.show_train()
            event.ignore()
            return
        self.shutdown_jobs()
        self.engine.shutdown()
        super().closeEvent(event)
