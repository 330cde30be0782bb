"""Export a video: A → B, through saved latents, or a walk along the chosen direction; MP4 or GIF.

Frames render off the GUI thread; the file appears only when complete (a cancel or an error leaves
nothing behind). Non-modal: the explorer stays usable, the video uses the state at Export time.
"""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFileDialog,
                             QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                             QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ganstudio.render import tools
from ganstudio.render.qt_jobs import Job

from .video_paths import VideoSettings, video_requests

MOTIONS = [("Latent A → latent B", "ab"), ("Through saved latents…", "files"),
           ("Walk along the chosen direction", "walk")]


class VideoDialog(QDialog):
    written = pyqtSignal(str, int)          # path, frames
    cancelled = pyqtSignal()
    failed = pyqtSignal(str)

    def __init__(self, explorer, parent=None, last_dir: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.explorer = explorer
        self.job: Job | None = None
        self.files: tuple = ()
        self._last_dir = last_dir
        lay = QVBoxLayout(self)
        form = self.form = QFormLayout()
        self.motion = QComboBox()
        for text, key in MOTIONS:
            self.motion.addItem(text, key)
        form.addRow("Motion", self.motion)
        self.files_row = QWidget()
        row = QHBoxLayout(self.files_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.files_label = QLabel("no files")
        self.choose = QToolButton()
        self.choose.setText("Choose…")
        row.addWidget(self.files_label, 1)
        row.addWidget(self.choose)
        form.addRow("Latents", self.files_row)
        self.frames = QSpinBox()
        self.frames.setRange(1, 100_000)
        self.frames.setValue(60)
        form.addRow("Frames", self.frames)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(30)
        form.addRow("FPS", self.fps)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.1, 10)
        self.amount.setValue(2.0)
        self.amount.setSuffix(" σ")
        self.amount.setToolTip("The walk goes from −amount to +amount along the direction")
        form.addRow("Amount", self.amount)
        self.loop = QCheckBox("return to the start (seamless loop)")
        form.addRow("", self.loop)
        self.scale = QSpinBox()
        self.scale.setRange(1, 16)
        self.scale.setSuffix("×")
        self.scale.setToolTip("Enlarge frames by pixel repetition (small models, MP4 needs even sides)")
        form.addRow("Scale", self.scale)
        out = QHBoxLayout()
        self.path = QLineEdit(str(Path(last_dir or Path.home()) / "ganstudio.mp4"))
        self.browse = QToolButton()
        self.browse.setText("…")
        out.addWidget(self.path, 1)
        out.addWidget(self.browse)
        form.addRow("File (.mp4/.gif)", out)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button, self.cancel_button = QPushButton("Export"), QPushButton("Close")
        self.start_button.setDefault(True)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        lay.addLayout(buttons)
        self.motion.currentIndexChanged.connect(self._show_motion)
        self.choose.clicked.connect(self._choose_files)
        self.browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._show_motion()

    def settings(self) -> VideoSettings:
        return VideoSettings(motion=self.motion.currentData(), frames=self.frames.value(),
                             fps=self.fps.value(), amount=self.amount.value(),
                             loop=self.loop.isChecked(), scale=self.scale.value(),
                             files=self.files, path=self.path.text().strip())

    def _show_motion(self) -> None:
        m = self.motion.currentData()
        self.form.setRowVisible(self.files_row, m == "files")
        self.form.setRowVisible(self.amount, m == "walk")

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Latents to pass through", self._last_dir,
                                                "Latents (*.npz)")
        if paths:
            self.files = tuple(paths)
            self.files_label.setText(", ".join(Path(p).name for p in paths))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Video file", self.path.text(),
                                              "MP4 video (*.mp4);;GIF animation (*.gif)")
        if path:
            self.path.setText(path)

    # --- the job --------------------------------------------------------------------------------
    def start(self) -> None:
        if self.job is not None:
            return
        s = self.settings()
        if Path(s.path).suffix.lower() not in (".mp4", ".gif"):
            self._fail(f"{s.path or 'the file'}: use a name ending in .mp4 or .gif")
            return
        try:
            requests, total = video_requests(self.explorer, s)
        except (OSError, ValueError) as e:
            self._fail(str(e))
            return
        renderer = self.explorer.engine.renderer

        def work(progress, preview, should_stop):
            return tools.write_video_file(renderer, requests, total, s.path, fps=s.fps,
                                          scale=s.scale, on_progress=progress,
                                          should_stop=should_stop)
        self.job = Job(work, self, "video export")
        self.job.progressChanged.connect(self._on_job_progressChanged)
        self.job.finished.connect(lambda n: self._done(f"{n} frames → {s.path}", s.path, n))
        self.job.cancelled.connect(lambda: self._done("Cancelled: no file written"))
        self.job.failed.connect(lambda msg: self._done(msg, failed=True))
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.status.setText(f"Rendering {total} frames…")
        self.start_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.job.start()

    def _on_job_progressChanged(self, done: int, total: int) -> None:
        self.progress.setValue(done)
        self.status.setText(f"frame {done}/{total}")

    def _done(self, text: str, path: str = "", frames: int = 0, failed: bool = False) -> None:
        self.job.deleteLater()
        self.job = None
        self.status.setText(text)
        self.start_button.setEnabled(True)
        self.cancel_button.setText("Close")
        if path:
            self.written.emit(path, frames)
        elif failed:
            self.failed.emit(text)
        else:
            self.cancelled.emit()

    def _fail(self, text: str) -> None:
        self.status.setText(text)
        self.failed.emit(text)

    def _on_cancel_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")
        else:
            self.close()

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.shutdown()         # no file is left: the writer removes its temp file
            self.job = None
        super().closeEvent(event)

    def reject(self) -> None:           # Esc
        self.close()
