"""Latent controls: seed A, seed B (the mixing source), truncation (ψ and cutoff, or for BigGAN
the z resampling threshold). The class of a conditional model is in class_panel.py."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QToolButton,
                             QWidget)
from superqt.utils import signals_blocked

from .state import PSI_RANGE, THRESHOLD_RANGE, ExplorerState
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
        self._form = form = QFormLayout(self)
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
        self._psi_row = row = QHBoxLayout()
        row.addWidget(self.psi, 1)
        row.addWidget(self.psi_label)
        form.addRow("ψ", row)
        self.cutoff = QSpinBox()
        self.cutoff.setSpecialValueText("all layers")
        self.cutoff.setToolTip("Truncate only layers below this index")
        self.cutoff.setKeyboardTracking(False)
        form.addRow("Cutoff", self.cutoff)
        self._trunc_row = self._threshold_row()
        form.addRow("Truncation", self._trunc_row)

        self.seed_a.valueChanged.connect(lambda v: self._emit(None, seed_a=v))
        self.seed_b.valueChanged.connect(lambda v: self._emit(None, seed_b=v))
        self.dice_a.clicked.connect(lambda: self.seed_a.setValue(self._random_seed()))
        self.dice_b.clicked.connect(lambda: self.seed_b.setValue(self._random_seed()))
        self.psi.floatChanged.connect(lambda v: self._emit("psi", psi=round(v, 2)))
        self.psi.sliderReleased.connect(self.gestureEnded)
        self.cutoff.valueChanged.connect(lambda v: self._emit(None, cutoff=v or None))
        self.trunc_on.toggled.connect(lambda on: self._emit(
            None, truncation=round(self.threshold.float_value(), 2) if on else None))
        self.threshold.floatChanged.connect(
            lambda v: self._emit("truncation", truncation=round(v, 2)))
        self.threshold.sliderReleased.connect(self.gestureEnded)

    def _threshold_row(self) -> QHBoxLayout:
        """BigGAN's truncation trick: z entries outside ±threshold are redrawn."""
        self.trunc_on = QCheckBox()
        self.trunc_on.setToolTip("Truncation by resampling: redraw every z entry outside "
                                 "±threshold (smaller = more typical images, less variety)")
        self.threshold = FloatSlider(*THRESHOLD_RANGE, default=1.0, steps=240)
        self.threshold.setToolTip("Resampling threshold for z (double-click resets)")
        self.threshold_label = QLabel()
        self.threshold_label.setFixedWidth(40)
        row = QHBoxLayout()
        row.addWidget(self.trunc_on)
        row.addWidget(self.threshold, 1)
        row.addWidget(self.threshold_label)
        return row

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
        resample = getattr(info.capabilities, "truncation", "psi") == "resample"
        self._form.setRowVisible(self._psi_row, not resample)
        self._form.setRowVisible(self.cutoff, not resample)
        self._form.setRowVisible(self._trunc_row, resample)
        mixable = n > 1
        self.seed_b.setEnabled(mixable)
        self.dice_b.setEnabled(mixable)
        w_space = bool(info.capabilities.has_w_space)
        self.seed_b.setToolTip("No style mixing: this model has a single z and no W space"
                               if not mixable else "Seed of latent B (the style-mixing source)"
                               if w_space else "Seed of latent B (the source of mixed z chunks)")

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        for box, v in ((self.seed_a, state.seed_a), (self.seed_b, state.seed_b),
                       (self.cutoff, state.cutoff or 0)):
            with signals_blocked(box):
                box.setValue(v)
        self.psi.set_float(state.psi)
        self.psi_label.setText(f"{state.psi:.2f}")
        with signals_blocked(self.trunc_on):
            self.trunc_on.setChecked(state.truncation is not None)
        self.threshold.set_float(1.0 if state.truncation is None else state.truncation)
        self.threshold_label.setText("off" if state.truncation is None
                                     else f"±{state.truncation:.2f}")
