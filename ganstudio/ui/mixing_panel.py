"""Style mixing: crossover k (layers ≥ k take seed B's style) and a per-layer A↔B blend."""
from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout,
                             QWidget)
from superqt.utils import signals_blocked

from .state import ExplorerState
from .widgets import FloatSlider

NO_MIXING = ("Style mixing needs a W space with several inputs; this model (PGGAN) has a single "
             "z, so there is nothing to mix per layer.")


class MixingPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        self._num_ws = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Crossover"))
        self.crossover = QSlider(Qt.Orientation.Horizontal)
        self.crossover.setToolTip("Layers ≥ k take their style from seed B (k = num_ws: off)")
        row.addWidget(self.crossover, 1)
        self.crossover_label = QLabel()
        self.crossover_label.setMinimumWidth(70)
        row.addWidget(self.crossover_label)
        lay.addLayout(row)
        head = QHBoxLayout()
        head.addWidget(QLabel("Blend A ↔ B per layer"))
        head.addStretch(1)
        self.reset_blend = QToolButton()
        self.reset_blend.setText("all A")
        self.reset_blend.setToolTip("Set every layer's blend back to A")
        head.addWidget(self.reset_blend)
        lay.addLayout(head)
        self.blend_box = QWidget()
        self.blend_grid = QGridLayout(self.blend_box)
        self.blend_grid.setContentsMargins(0, 0, 0, 0)
        self.blend_grid.setHorizontalSpacing(0)
        self.blend_grid.setVerticalSpacing(0)
        lay.addWidget(self.blend_box)
        self.blend_sliders: list[FloatSlider] = []
        self.crossover.valueChanged.connect(self._on_crossover_valueChanged)
        self.crossover.sliderReleased.connect(self.gestureEnded)
        self.reset_blend.clicked.connect(
            lambda: self.edited.emit(self._state.replace(blend=(0.0,) * self._num_ws), None))

    def set_model(self, info) -> None:
        n = int(info.num_ws)
        self._num_ws = n
        with signals_blocked(self.crossover):
            self.crossover.setRange(0, n)
        self.blend_sliders = []
        while self.blend_grid.count():
            self.blend_grid.takeAt(0).widget().deleteLater()
        for i in range(n):
            s = FloatSlider(0.0, 1.0, default=0.0, steps=100, orientation=Qt.Orientation.Vertical)
            s.setFixedHeight(64)
            s.setToolTip(f"{'w' if info.capabilities.has_w_space else 'z'}{i}: 0 = A, 1 = B "
                         "(double-click resets)")
            s.floatChanged.connect(lambda v, i=i: self._on_blend_floatChanged(i, v))
            s.sliderReleased.connect(self.gestureEnded)
            tick = QLabel(str(i))
            tick.setObjectName("tickLabel")
            tick.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.blend_grid.addWidget(s, 0, i, Qt.AlignmentFlag.AlignHCenter)
            self.blend_grid.addWidget(tick, 1, i)
            self.blend_sliders.append(s)
        mixable = n > 1                     # ws per layer, or BigGAN's z chunks
        self.setEnabled(mixable)
        self.setToolTip("" if mixable else NO_MIXING)

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        k = self._num_ws if state.crossover is None else state.crossover
        with signals_blocked(self.crossover):
            self.crossover.setValue(k)
        self.crossover_label.setText("off" if state.crossover is None else
                                     f"k = {k}: w{k}+ ← B")
        for i, s in enumerate(self.blend_sliders):
            s.set_float(state.blend_at(i))

    def _on_crossover_valueChanged(self, k: int):
        crossover = None if k >= self._num_ws else k
        self.edited.emit(self._state.replace(crossover=crossover), "crossover")

    def _on_blend_floatChanged(self, i: int, v: float):
        self.edited.emit(self._state.with_layers("blend", [i], round(v, 2)), f"blend:{i}")
