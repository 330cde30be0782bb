"""The central image: fit to the window or integer zoom, enlarged smoothly or with crisp pixels;
accepts dropped files."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter
from PyQt6.QtWidgets import QScrollArea, QWidget


def qimage_from_array(image: np.ndarray) -> QImage:
    """An owning QImage (RGB888) from an H×W×3 uint8 array."""
    a = np.ascontiguousarray(image, dtype=np.uint8)                  # [H, W, 3]
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class _Canvas(QWidget):
    def __init__(self, view: "ImageView"):
        super().__init__()
        self._view = view

    def paintEvent(self, event):
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(self.backgroundRole()))
        img = self._view.qimage
        if img is None:
            p.setPen(QColor(140, 140, 140))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._view.placeholder)
            return
        scale = self._view.scale()
        lw, lh = self._view.logical_size()
        w, h = round(lw * scale), round(lh * scale)
        target = QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)
        # shrinking is always smooth; enlarging is bilinear or nearest-neighbour (crisp pixels)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                        w < img.width() or self._view.smooth)
        p.drawImage(target, img)


class ImageView(QScrollArea):
    """Shows the newest frame. `zoom` 0 fits the window; n ≥ 1 shows n screen pixels per pixel."""
    fileDropped = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("imageView")
        self.qimage: QImage | None = None
        self.image: np.ndarray | None = None
        self.placeholder = "Loading model…"
        self.zoom = 0
        self.smooth = True                    # enlarge bilinearly (False: crisp pixels)
        self._logical = (0, 0)                # (width, height) of a full frame
        self.canvas = _Canvas(self)
        self.canvas.setObjectName("imageCanvas")
        self.setWidget(self.canvas)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAcceptDrops(True)
        self.set_zoom(0)

    def set_image(self, image: np.ndarray, logical: int | None = None) -> None:
        """Show a frame; `logical` is the full frame's size, so a smaller preview frame is drawn
        at the same place and scale as the full one."""
        size = (logical, logical) if logical else (image.shape[1], image.shape[0])
        resized = size != self._logical
        self.image, self._logical = image, size
        self.qimage = qimage_from_array(image)
        if resized:
            self.set_zoom(self.zoom)
        self.canvas.update()

    def set_smooth(self, smooth: bool) -> None:
        self.smooth = bool(smooth)
        self.canvas.update()

    def logical_size(self) -> tuple[int, int]:
        return self._logical

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        self.canvas.update()

    def scale(self) -> float:
        if self.qimage is None:
            return 1.0
        if self.zoom:
            return float(self.zoom)
        vp = self.viewport().size()
        lw, lh = self._logical
        return min(vp.width() / lw, vp.height() / lh)

    def set_zoom(self, zoom: int) -> None:
        self.zoom = max(0, int(zoom))
        fit = self.zoom == 0 or self.qimage is None
        self.setWidgetResizable(fit)
        if not fit:
            self.canvas.setFixedSize(QSize(self._logical[0] * self.zoom,
                                           self._logical[1] * self.zoom))
        else:
            self.canvas.setMinimumSize(0, 0)
            self.canvas.setMaximumSize(16777215, 16777215)
        self.canvas.update()

    # --- drag and drop of model / session / PNG files --------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.fileDropped.emit(urls[0].toLocalFile())
