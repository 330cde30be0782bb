"""Where the run lives: its folder (new, or one to continue) and the device it trains on."""
from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                             QLineEdit, QToolButton, QVBoxLayout, QWidget)

from .train_recipe import DEVICES


def default_run_folder(arch: str, res: int) -> str:
    return str(Path.home() / "GANStudio" / "runs" / f"{arch}-{res}-{time.strftime('%Y%m%d-%H%M')}")


class TrainRunBox(QWidget):
    folderChanged = pyqtSignal(str)
    resumeToggled = pyqtSignal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder for checkpoints, previews and stats")
        self.folder.setToolTip("Checkpoints (latest.safetensors, snapshot-*.safetensors), preview "
                               "PNGs, stats.jsonl and TensorBoard logs go here")
        self.browse = QToolButton()
        self.browse.setText("Choose")
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        lay.addLayout(row)
        self.info = QLabel("A new run")
        self.info.setObjectName("valueLabel")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.resume = QCheckBox("Continue this run")
        self.resume.setToolTip("Resume exactly where the run's latest checkpoint left off: same "
                               "data, networks, optimizer state and random streams")
        self.resume.setEnabled(False)
        lay.addWidget(self.resume)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setToolTip("auto: CUDA or Apple MPS when present, else the CPU")
        form.addRow("Device", self.device)
        lay.addLayout(form)
        self.browse.clicked.connect(self._pick)
        self.folder.editingFinished.connect(lambda: self.folderChanged.emit(self.path()))
        self.resume.toggled.connect(self.resumeToggled)

    def path(self) -> str:
        return self.folder.text().strip()

    def set_path(self, path: str) -> None:
        self.folder.setText(path)
        self.folderChanged.emit(self.path())

    def resuming(self) -> bool:
        return self.resume.isEnabled() and self.resume.isChecked()

    def _pick(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run folder (new or existing)", self.path())
        if path:
            self.set_path(path)

    def show_run(self, description: str | None) -> None:
        """`description` of the run already in the folder, or None for an empty/new folder."""
        has_run = description is not None
        self.resume.setEnabled(has_run)
        self.resume.setChecked(has_run)
        self.info.setText(description if has_run else "A new run")
