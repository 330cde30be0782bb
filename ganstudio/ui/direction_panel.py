"""The direction the style-row sliders move along.

Until semantic directions (PCA / SeFa) land, this is one random unit direction per W input drawn
with numpy from the direction seed (see `directions.py`); each slider moves its own layer's w along
its own direction, in units of W's standard deviation along it.
"""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFormLayout, QLabel, QSpinBox, QWidget
from superqt.utils import signals_blocked

from .state import ExplorerState

EXPLAIN = ("Random direction per layer (numpy, from this seed) — semantic directions "
           "(PCA, SeFa) will appear here.")


class DirectionPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.kind = QLabel("random per layer")
        self.kind.setToolTip(EXPLAIN)
        form.addRow("Direction", self.kind)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip(EXPLAIN)
        form.addRow("Seed", self.seed)
        self.seed.valueChanged.connect(
            lambda v: self.edited.emit(self._state.replace(direction_seed=v), None))

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        with signals_blocked(self.seed):
            self.seed.setValue(state.direction_seed)
