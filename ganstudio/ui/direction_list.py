"""The picker's list: one entry per direction (name, value) with its preview strip."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from .direction_strips import AMOUNTS, THUMB
from .image_view import qimage_from_array


class DirectionEntry(QWidget):
    """Name and value on one line, the strip of thumbnails below."""

    def __init__(self, name: str, value: str, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(3)
        head = QHBoxLayout()
        self.name = QLabel(name)
        self.value = QLabel(value)
        self.value.setObjectName("valueLabel")
        head.addWidget(self.name, 1)
        head.addWidget(self.value)
        lay.addLayout(head)
        strip = QHBoxLayout()
        strip.setSpacing(2)
        self.thumbs: list[QLabel] = []
        for a in AMOUNTS:
            t = QLabel()
            t.setObjectName("thumb")
            t.setFixedSize(THUMB, THUMB)
            t.setToolTip(f"{a:+g}σ along {name}")
            strip.addWidget(t)
            self.thumbs.append(t)
        strip.addStretch(1)
        lay.addLayout(strip)

    def set_images(self, images) -> None:
        for label, img in zip(self.thumbs, images):
            if img is None:
                label.clear()
                continue
            pm = QPixmap.fromImage(qimage_from_array(np.ascontiguousarray(img)))
            label.setPixmap(pm.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation))

    def has_images(self) -> bool:
        return any(t.pixmap() is not None and not t.pixmap().isNull() for t in self.thumbs)


class DirectionList(QListWidget):
    indexChosen = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("directionList")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.entries: list[DirectionEntry] = []
        self._shown: tuple = ()
        self.currentRowChanged.connect(self._on_self_currentRowChanged)

    def set_entries(self, names: tuple, values: tuple) -> bool:
        """Rebuild when the entries differ; True if it did (strips must be rendered again)."""
        if (names, values) == self._shown:
            return False
        self._shown = (names, values)
        with signals_blocked(self):
            self.clear()
            self.entries = []
            for name, value in zip(names, values):
                entry = DirectionEntry(name, value)
                item = QListWidgetItem(self)
                item.setSizeHint(entry.sizeHint() + QSize(0, 2))
                self.setItemWidget(item, entry)
                self.entries.append(entry)
        visible = min(len(self.entries), 4)
        row_h = self.entries[0].sizeHint().height() + 2 if self.entries else 0
        self.setFixedHeight(max(0, visible * row_h + 2 * self.frameWidth() + 2))
        self.setVisible(bool(self.entries))
        return True

    def set_current(self, index: int) -> None:
        with signals_blocked(self):
            self.setCurrentRow(min(max(index, 0), self.count() - 1) if self.count() else -1)

    def set_strip(self, index: int, images) -> None:
        if 0 <= index < len(self.entries):
            self.entries[index].set_images(images)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.updateEditorGeometries()        # entries follow the width (e.g. a scroll bar came)

    def _on_self_currentRowChanged(self, row: int) -> None:
        if row >= 0:
            self.indexChosen.emit(row)
