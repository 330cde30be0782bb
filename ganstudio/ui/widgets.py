"""Small reusable controls: a float slider with double-click reset, an A/B source marker."""
from __future__ import annotations

from PyQt6.QtCore import QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QSlider, QWidget

A_COLOR = QColor(70, 140, 230)      # seed A
B_COLOR = QColor(235, 140, 50)      # seed B


class FloatSlider(QSlider):
    """A QSlider over floats [lo, hi] in `steps` steps; double-click returns it to `default`.

    floatChanged(value) fires on every change by the user (not on `set_float`).
    """
    floatChanged = pyqtSignal(float)

    def __init__(self, lo: float, hi: float, default: float = 0.0, steps: int = 1000,
                 orientation=Qt.Orientation.Horizontal, parent=None):
        super().__init__(orientation, parent)
        self._lo, self._hi, self._steps, self.default = lo, hi, steps, default
        self.setRange(0, steps)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._quiet = False
        self.set_float(default)
        self.valueChanged.connect(self._on_self_valueChanged)

    def float_value(self) -> float:
        return self._lo + (self._hi - self._lo) * self.value() / self._steps

    def set_float(self, v: float) -> None:
        """Move the handle without emitting floatChanged."""
        self._quiet = True
        try:
            t = (min(max(v, self._lo), self._hi) - self._lo) / (self._hi - self._lo)
            self.setValue(round(t * self._steps))
        finally:
            self._quiet = False

    def _on_self_valueChanged(self, _):
        if not self._quiet:
            self.floatChanged.emit(self.float_value())

    def mouseDoubleClickEvent(self, event):
        self.setValue(round((self.default - self._lo) / (self._hi - self._lo) * self._steps))
        self.sliderReleased.emit()       # a reset is one complete edit
        event.accept()


class SourceMarker(QWidget):
    """A small chip showing where a layer's style comes from: A, B, or a blend of both."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._t = 0.0
        self.setFixedSize(QSize(26, 16))
        self._update_tip()

    def set_fraction(self, t: float) -> None:
        if t != self._t:
            self._t = t
            self._update_tip()
            self.update()

    def fraction(self) -> float:
        return self._t

    def text(self) -> str:
        if self._t <= 0:
            return "A"
        if self._t >= 1:
            return "B"
        return f"{round(self._t * 100)}"

    def _update_tip(self):
        self.setToolTip(f"style from seed A {100 - round(self._t * 100)}% · "
                        f"seed B {round(self._t * 100)}%")

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._t
        c = QColor.fromRgbF(*(A_COLOR.getRgbF()[k] * (1 - t) + B_COLOR.getRgbF()[k] * t
                              for k in range(3)))
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawRoundedRect(r, 4, 4)
        p.setPen(QColor(255, 255, 255))
        f = p.font()
        f.setPointSizeF(max(6.0, f.pointSizeF() * 0.8))
        f.setBold(True)
        p.setFont(f)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.text())


class Section(QWidget):
    """A titled block of the sidebar."""

    def __init__(self, title: str, body: QWidget, parent=None):
        super().__init__(parent)
        from PyQt6.QtWidgets import QLabel, QVBoxLayout
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        head = QLabel(title.upper())
        head.setObjectName("sectionTitle")
        lay.addWidget(head)
        lay.addWidget(body)
        self.setObjectName("section")
        self.body = body
