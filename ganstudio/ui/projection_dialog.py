"""Project an image into W or W+: target and live render side by side, progress, stop, save.

The optimisation runs off the GUI thread on a copy of the loaded model (pixel loss at several
scales, see core/projection.py); when it ends (or is stopped) the result becomes latent A.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                             QLineEdit,
                             QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from ganstudio.render import tools
from ganstudio.render.qt_jobs import Job

from .image_view import qimage_from_array

VIEW = 192


def _picture(image: np.ndarray | None, label: QLabel) -> None:
    if image is None:
        return
    pm = QPixmap.fromImage(qimage_from_array(image))
    mode = (Qt.TransformationMode.FastTransformation if image.shape[0] < VIEW
            else Qt.TransformationMode.SmoothTransformation)
    label.setPixmap(pm.scaled(VIEW, VIEW, Qt.AspectRatioMode.KeepAspectRatio, mode))


class ProjectionDialog(QDialog):
    projected = pyqtSignal(object, str)      # ProjectionResult, label for latent A
    failed = pyqtSignal(str)

    def __init__(self, explorer, image_path: str, parent=None):
        """Raises ValueError when the image cannot be read or no model is loaded."""
        super().__init__(parent)
        if explorer.model is None:
            raise ValueError("no model is loaded")
        self.explorer, self.model = explorer, explorer.model
        res = int(self.model.img_resolution)
        self.target = tools.load_square_image(image_path, res)            # [res, res, 3] uint8
        self.name = Path(image_path).name
        self.job: Job | None = None
        self.result = None
        self.setWindowTitle(f"Project {self.name}")
        lay = QVBoxLayout(self)
        pics = QHBoxLayout()
        self.target_view, self.render_view = QLabel(), QLabel()
        for view, title in ((self.target_view, "target"), (self.render_view, "projection")):
            col = QVBoxLayout()
            view.setFixedSize(VIEW, VIEW)
            view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            view.setObjectName("imageView")
            caption = QLabel(title)
            caption.setObjectName("columnCaption")
            col.addWidget(caption)
            col.addWidget(view)
            pics.addLayout(col)
        lay.addLayout(pics)
        _picture(self.target, self.target_view)
        form = QFormLayout()
        self.space = QComboBox()
        self.space.addItem("W+ (one w per layer: closer)", "w+")
        self.space.addItem("W (one w for all layers: more editable)", "w")
        form.addRow("Space", self.space)
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000)
        self.steps.setValue(300)
        form.addRow("Steps", self.steps)
        self._settings = getattr(parent, "settings", None)        # the main window's QSettings
        self.vgg16 = QLineEdit(str(self._settings.value("projection/vgg16", "") or "")
                               if self._settings is not None else "")
        self.vgg16.setPlaceholderText("none: pixel loss only")
        self.vgg16.setToolTip("VGG16 weights you already have (torchvision's vgg16-397923af.pth or "
                              "a .safetensors of it) add a perceptual term; none ships, nothing "
                              "is downloaded")
        pick = QPushButton("…")
        pick.setFixedWidth(32)
        pick.clicked.connect(self._pick_vgg16)
        row = QHBoxLayout()
        row.addWidget(self.vgg16, 1)
        row.addWidget(pick)
        form.addRow("Perceptual", row)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.status = QLabel(f"{res}×{res} target; pixel loss at 3 scales, plus VGG16 features "
                             "when a weights file is given")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button, self.stop_button = QPushButton("Project"), QPushButton("Stop")
        self.save_button, self.close_button = QPushButton("Save latent…"), QPushButton("Close")
        for b in (self.start_button, self.stop_button, self.save_button, self.close_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.stop_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self._save_dialog)
        self.close_button.clicked.connect(self.close)

    def start(self) -> None:
        if self.job is not None:
            return
        renderer, model_id, target = self.explorer.engine.renderer, self.model.model_id, self.target
        space, steps = self.space.currentData(), self.steps.value()
        vgg16 = self.vgg16.text().strip()
        if self._settings is not None:
            self._settings.setValue("projection/vgg16", vgg16)

        def work(progress, preview, should_stop):
            return tools.project_image(renderer, model_id, target, space=space, steps=steps,
                                       vgg16_weights=vgg16, on_progress=preview,
                                       should_stop=should_stop)
        self.job = Job(work, self, "projection")
        self.job.previewReady.connect(self._on_job_previewReady)
        self.job.finished.connect(self._on_job_finished)
        self.job.failed.connect(self._on_job_failed)
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.status.setText("Preparing (mean W)…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.job.start()

    def _pick_vgg16(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "VGG16 weights", self.vgg16.text(),
                                              "VGG16 weights (*.pth *.pt *.safetensors)")
        if path:
            self.vgg16.setText(path)

    def stop(self) -> None:
        """End early: what has been found so far still becomes latent A."""
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping…")

    def _on_job_previewReady(self, p) -> None:          # core.projection.ProjectionProgress
        self.progress.setValue(p.step)
        self.status.setText(f"step {p.step}/{p.num_steps} · loss {p.loss:.4f}")
        _picture(p.preview, self.render_view)

    def _on_job_finished(self, result) -> None:
        self._ended()
        self.result = result
        _picture(result.image, self.render_view)
        how = "stopped after" if result.stopped else "after"
        self.status.setText(f"PSNR {result.psnr:.2f} dB ({result.space.upper()}, {how} "
                            f"{result.steps_done} steps): now latent A")
        self.save_button.setEnabled(True)
        self.projected.emit(result, f"projected {self.name}")

    def _on_job_failed(self, message: str) -> None:
        self._ended()
        self.status.setText(message)
        self.failed.emit(message)

    def _ended(self) -> None:
        self.job.deleteLater()
        self.job = None
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def save_latent(self, path: str) -> None:
        tools.save_latent_file(path, self.result.ws[0], model_hash=self.model.content_hash)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save latent", Path(self.name).stem + ".npz",
                                              "Latents (*.npz)")
        if path:
            try:
                self.save_latent(path)
            except (OSError, ValueError) as e:
                self.status.setText(str(e))
            else:
                self.status.setText(f"Saved {path}")

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.shutdown()
            self.job = None
        super().closeEvent(event)

    def reject(self) -> None:
        self.close()
