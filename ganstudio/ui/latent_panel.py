"""Latent controls: seed A, seed B (the mixing source), truncation ψ and cutoff, class."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QSpinBox, QToolButton, QWidget
from superqt.utils import signals_blocked

from .state import PSI_RANGE, ExplorerState
from .widgets import FloatSlider

MAX_SEED = 2**31 - 1


def _seed_box(tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, MAX_SEED)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)
    return box


class LatentPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        self._rng = np.random.default_rng()     # the dice buttons: fresh seeds for the user
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.seed_a = _seed_box("Seed of latent A (the image you steer)")
        self.seed_b = _seed_box("Seed of latent B (the style-mixing source)")
        self.dice_a, self.dice_b = QToolButton(), QToolButton()
        form.addRow("Seed A", self._with_dice(self.seed_a, self.dice_a))
        form.addRow("Seed B", self._with_dice(self.seed_b, self.dice_b))
        self.psi = FloatSlider(*PSI_RANGE, default=1.0, steps=300)
        self.psi.setToolTip("Truncation ψ: 1 = no truncation, 0 = the average image "
                            "(double-click resets)")
        self.psi_label = QLabel()
        self.psi_label.setFixedWidth(40)
        row = QHBoxLayout()
        row.addWidget(self.psi, 1)
        row.addWidget(self.psi_label)
        form.addRow("ψ", row)
        self.cutoff = QSpinBox()
        self.cutoff.setSpecialValueText("all layers")
        self.cutoff.setToolTip("Truncate only layers below this index")
        self.cutoff.setKeyboardTracking(False)
        form.addRow("Cutoff", self.cutoff)
        self.class_box = QSpinBox()
        self.class_box.setToolTip("Class of a class-conditional model")
        self.class_label = QLabel("Class")
        form.addRow(self.class_label, self.class_box)

        self.seed_a.valueChanged.connect(lambda v: self._emit(None, seed_a=v))
        self.seed_b.valueChanged.connect(lambda v: self._emit(None, seed_b=v))
        self.dice_a.clicked.connect(lambda: self.seed_a.setValue(self._random_seed()))
        self.dice_b.clicked.connect(lambda: self.seed_b.setValue(self._random_seed()))
        self.psi.floatChanged.connect(lambda v: self._emit("psi", psi=round(v, 2)))
        self.psi.sliderReleased.connect(self.gestureEnded)
        self.cutoff.valueChanged.connect(lambda v: self._emit(None, cutoff=v or None))
        self.class_box.valueChanged.connect(lambda v: self._emit(None, class_index=v))

    def _with_dice(self, box: QSpinBox, dice: QToolButton) -> QHBoxLayout:
        dice.setText("⚄")
        dice.setToolTip("Random seed")
        row = QHBoxLayout()
        row.addWidget(box, 1)
        row.addWidget(dice)
        return row

    def _random_seed(self) -> int:
        return int(self._rng.integers(0, 100_000))

    def _emit(self, key, **changes):
        self.edited.emit(self._state.replace(**changes), key)

    def set_model(self, info) -> None:
        n = int(info.num_ws)
        self.cutoff.setRange(0, max(0, n - 1))
        self.cutoff.setEnabled(n > 1)
        c_dim = int(info.c_dim)
        self.class_box.setRange(0, max(0, c_dim - 1))
        self.class_box.setVisible(c_dim > 0)
        self.class_label.setVisible(c_dim > 0)
        mixable = bool(info.capabilities.has_w_space) and n > 1
        self.seed_b.setEnabled(mixable)
        self.dice_b.setEnabled(mixable)
        self.seed_b.setToolTip("Seed of latent B (the style-mixing source)" if mixable else
                               "No style mixing: this model has a single z and no W space")

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        for box, v in ((self.seed_a, state.seed_a), (self.seed_b, state.seed_b),
                       (self.cutoff, state.cutoff or 0), (self.class_box, state.class_index or 0)):
            with signals_blocked(box):
                box.setValue(v)
        self.psi.set_float(state.psi)
        self.psi_label.setText(f"{state.psi:.2f}")
