"""Class controls of a class-conditional model: class A, class B and the A ↔ B interpolation.

The interpolation is a soft one-hot `(1 − t)·onehot(A) + t·onehot(B)`, i.e. a linear blend of the
two class embeddings (BigGAN's class interpolation); t = 0 is class A exactly, t = 1 class B.
"""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QWidget
from superqt.utils import signals_blocked

from .state import ExplorerState
from .widgets import FloatSlider


def class_label(i: int, names) -> str:
    """A class as the picker shows it: its name when the checkpoint carries names, else its index."""
    return f"{names[i]} ({i})" if i < len(names) else str(i)


class ClassPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        self._c_dim = 0
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.class_a = QComboBox()
        self.class_a.setToolTip("Class of a class-conditional model")
        self.class_b = QComboBox()
        self.class_b.setToolTip("Second class: the slider below blends the two classes")
        for box in (self.class_a, self.class_b):
            box.setMaxVisibleItems(20)
            box.setMinimumContentsLength(10)
        form.addRow("Class", self.class_a)
        form.addRow("Class B", self.class_b)
        self.mix = FloatSlider(0.0, 1.0, default=0.0, steps=100)
        self.mix.setToolTip("Class interpolation: 0 = class A, 1 = class B; between, a blend of "
                            "their embeddings (double-click resets)")
        self.mix_label = QLabel()
        self.mix_label.setFixedWidth(40)
        row = QHBoxLayout()
        row.addWidget(self.mix, 1)
        row.addWidget(self.mix_label)
        form.addRow("A ↔ B", row)
        self.class_a.currentIndexChanged.connect(self._on_class_a_currentIndexChanged)
        self.class_b.currentIndexChanged.connect(self._on_class_b_currentIndexChanged)
        self.mix.floatChanged.connect(self._on_mix_floatChanged)
        self.mix.sliderReleased.connect(self.gestureEnded)

    def _emit(self, key, **changes):
        self.edited.emit(self._state.replace(**changes), key)

    def _on_class_a_currentIndexChanged(self, i: int):
        if i >= 0:
            self._emit(None, class_index=i)

    def _on_class_b_currentIndexChanged(self, i: int):
        if i >= 0:
            self._emit(None, class_b=i)

    def _on_mix_floatChanged(self, v: float):
        self._emit("class_mix", class_b=max(self.class_b.currentIndex(), 0),
                   class_mix=round(v, 3))

    def set_model(self, info) -> None:
        self._c_dim = c_dim = int(info.c_dim)
        names = tuple(getattr(info, "class_names", ()) or ())
        items = [class_label(i, names) for i in range(c_dim)]
        for box in (self.class_a, self.class_b):
            with signals_blocked(box):
                box.clear()
                box.addItems(items)
        self.setEnabled(c_dim > 0)

    def _default_b(self, state: ExplorerState) -> int:
        if state.class_b is not None:
            return min(max(state.class_b, 0), self._c_dim - 1)
        return min((state.class_index or 0) + 1, self._c_dim - 1)

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        if self._c_dim > 0:
            a = min(max(state.class_index or 0, 0), self._c_dim - 1)
            for box, i in ((self.class_a, a), (self.class_b, self._default_b(state))):
                with signals_blocked(box):
                    box.setCurrentIndex(i)
        self.mix.set_float(state.class_mix)
        self.mix_label.setText(f"{state.class_mix:.2f}")
