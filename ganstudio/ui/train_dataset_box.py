"""Dataset picker and summary: a folder, a .zip or synthetic:faces; count, skips, thumbnails."""
from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                             QMenu, QToolButton, QVBoxLayout, QWidget)

from .image_view import qimage_from_array

SYNTHETIC = "synthetic:faces"
THUMB = 64


class TrainDatasetBox(QWidget):
    datasetChanged = pyqtSignal(str)       # the spec, after the user picked or typed it
    xflipChanged = pyqtSignal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        row = QHBoxLayout()
        self.edit = QLineEdit(SYNTHETIC)
        self.edit.setPlaceholderText("image folder, .zip or synthetic:faces")
        self.edit.setToolTip("Training images: a folder (searched recursively), a .zip archive, or "
                             "synthetic:faces[?n=N&seed=S] (drawn on the fly, nothing to download)")
        self.browse = QToolButton()
        self.browse.setText("Choose")
        self.browse.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.browse)
        menu.addAction("Image folder…", self._pick_folder)
        menu.addAction("Zip archive…", self._pick_zip)
        menu.addAction("Synthetic faces (built in)", lambda: self.set_spec(SYNTHETIC))
        self.browse.setMenu(menu)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        lay.addLayout(row)
        self.xflip = QCheckBox("Mirror images at random (x-flip)")
        self.xflip.setToolTip("Doubles the variety of a small dataset; not for text or asymmetric "
                              "subjects")
        lay.addWidget(self.xflip)
        self.headline = QLabel("—")
        self.headline.setObjectName("infoValue")
        self.headline.setWordWrap(True)
        self.details = QLabel()
        self.details.setObjectName("trainNote")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        lay.addWidget(self.headline)
        lay.addWidget(self.details)
        thumbs = QWidget()
        self.thumb_grid = QGridLayout(thumbs)
        self.thumb_grid.setContentsMargins(0, 2, 0, 0)
        self.thumb_grid.setSpacing(4)
        self.thumbs: list[QLabel] = []
        for i in range(8):
            label = QLabel()
            label.setFixedSize(THUMB, THUMB)
            label.setObjectName("trainThumb")
            self.thumb_grid.addWidget(label, i // 4, i % 4)
            self.thumbs.append(label)
        self.thumb_grid.setColumnStretch(4, 1)
        lay.addWidget(thumbs)
        self.edit.editingFinished.connect(lambda: self.datasetChanged.emit(self.spec()))
        self.xflip.toggled.connect(self.xflipChanged)

    def set_editable(self, on: bool) -> None:
        """Off while training or continuing a run (the summary stays readable)."""
        for w in (self.edit, self.browse, self.xflip):
            w.setEnabled(on)

    def spec(self) -> str:
        return self.edit.text().strip()

    def set_spec(self, spec: str) -> None:
        self.edit.setText(spec)
        self.datasetChanged.emit(self.spec())

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of training images")
        if path:
            self.set_spec(path)

    def _pick_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Zip archive of training images", "",
                                              "Zip archives (*.zip);;All files (*)")
        if path:
            self.set_spec(path)

    # --- summary ------------------------------------------------------------------------------
    def show_scanning(self, spec: str) -> None:
        self.headline.setText(f"Reading {spec} …")
        self.headline.setStyleSheet("")
        self.details.hide()
        self._set_thumbnails([])

    def show_summary(self, summary) -> None:
        """A DatasetSummary: counts and thumbnails, or the report of why nothing is usable."""
        if summary.ok:
            skipped = sum(summary.skipped.values())
            text = f"{summary.usable:,} usable images at {summary.res}²"
            text += f" · {skipped:,} skipped" if skipped else " · none skipped"
            self.headline.setText(text)
            self.headline.setStyleSheet("")
        else:
            self.headline.setText(summary.error or "No usable images")
            self.headline.setStyleSheet("color: #e3735e;")
        lines = summary.report.splitlines()[1:] if summary.report else []
        self.details.setText("\n".join(line.strip() for line in lines))
        self.details.setVisible(bool(lines))
        self._set_thumbnails(summary.thumbnails)

    def show_problem(self, text: str) -> None:
        """A refused start or a failed run that concerns the data."""
        self.headline.setText(text)
        self.headline.setStyleSheet("color: #e3735e;")

    def _set_thumbnails(self, images) -> None:
        for i, label in enumerate(self.thumbs):
            if i < len(images):
                pix = QPixmap.fromImage(qimage_from_array(images[i]))
                label.setPixmap(pix.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation))
            else:
                label.clear()
            label.setVisible(i < len(images))

    def thumbnail_count(self) -> int:
        return sum(1 for t in self.thumbs if t.pixmap() is not None and not t.pixmap().isNull())
