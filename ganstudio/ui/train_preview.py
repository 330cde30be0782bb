"""The live preview: the generator's images of fixed latents at the resolution it trains at.

The grid arrives as one uint8 [rows·r, cols·r, 3] array; each cell is drawn enlarged by a whole
number of screen pixels (nearest neighbour: a 4² network shows 16 crisp squares) with a thin gap
between cells.
"""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .image_view import qimage_from_array

GAP = 3


class PixelGrid(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self._qimage = None
        self.rows = self.cols = 1
        self.placeholder = "Samples of fixed latents appear here while training"
        self.setObjectName("imageCanvas")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)

    def set_grid(self, image: np.ndarray, rows: int, cols: int) -> None:
        self.image, self.rows, self.cols = image, max(1, rows), max(1, cols)
        self._qimage = qimage_from_array(image)
        self.update()

    def cell(self) -> int:
        """Resolution of one sample."""
        return 0 if self.image is None else self.image.shape[0] // self.rows

    def scale(self) -> float:
        """Screen pixels per generated pixel: a whole number when enlarging."""
        if self.image is None:
            return 1.0
        r = self.cell()
        avail = min((self.width() - GAP * (self.cols + 1)) / (self.cols * r),
                    (self.height() - GAP * (self.rows + 1)) / (self.rows * r))
        return float(int(avail)) if avail >= 1 else max(avail, 0.05)

    def sizeHint(self) -> QSize:
        return QSize(520, 520)

    def paintEvent(self, event):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#141518"))
        if self._qimage is None:
            p.setPen(QColor(140, 140, 140))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        r, s = self.cell(), self.scale()
        side = max(1, round(r * s))
        total_w = self.cols * side + GAP * (self.cols - 1)
        total_h = self.rows * side + GAP * (self.rows - 1)
        x0, y0 = (self.width() - total_w) // 2, (self.height() - total_h) // 2
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, s < 1)
        for i in range(self.rows):
            for j in range(self.cols):
                target = QRect(x0 + j * (side + GAP), y0 + i * (side + GAP), side, side)
                p.drawImage(target, self._qimage, QRect(j * r, i * r, r, r))


class TrainPreview(QWidget):
    """The grid and a caption saying what it shows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.title = QLabel("PREVIEW")
        self.title.setObjectName("sectionTitle")
        self.grid = PixelGrid()
        self.caption = QLabel("")
        self.caption.setObjectName("valueLabel")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.title)
        lay.addWidget(self.grid, 1)
        lay.addWidget(self.caption)
        self.count = 0                     # previews shown (tests, status)

    def show_grid(self, image: np.ndarray, rows: int, cols: int, kimg: float | None = None,
                  alpha: float | None = None) -> None:
        self.grid.set_grid(image, rows, cols)
        self.count += 1
        r = self.grid.cell()
        parts = [f"{rows}×{cols} samples at {r}×{r}"]
        if kimg is not None:
            parts.append(f"{kimg:.2f} kimg")
        if alpha is not None and alpha < 1:
            parts.append(f"fading in α {alpha:.2f}")
        shown = self.grid.scale()
        if shown >= 2:
            parts.append(f"shown {shown:.0f}×")
        self.caption.setText(" · ".join(parts))

    def clear(self) -> None:
        self.grid.image, self.grid._qimage = None, None
        self.grid.update()
        self.caption.setText("")
