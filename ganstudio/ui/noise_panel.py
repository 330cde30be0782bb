"""Noise controls: mode (const / random / none), noise seed, global strength."""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QWidget
from superqt.utils import signals_blocked

from .state import NOISE_MODES, ExplorerState
from .widgets import FloatSlider

NO_NOISE = "This model has no noise inputs."
NO_NOISE_BIGGAN = "BigGAN has no noise inputs: all its randomness is in z (the chunk rows)."


class NoisePanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.mode = QComboBox()
        self.mode.addItems(NOISE_MODES)
        self.mode.setToolTip("const: the model's stored noise · random: drawn from the noise seed"
                             " · none: no noise")
        form.addRow("Mode", self.mode)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed of the random noise (mode random)")
        form.addRow("Seed", self.seed)
        self.strength = FloatSlider(0.0, 2.0, default=1.0, steps=200)
        self.strength.setToolTip("Multiplies every layer's noise (double-click resets)")
        self.strength_label = QLabel()
        self.strength_label.setFixedWidth(40)
        row = QHBoxLayout()
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_label)
        form.addRow("Strength", row)
        self.mode.currentTextChanged.connect(lambda m: self._emit(None, noise_mode=m))
        self.seed.valueChanged.connect(lambda v: self._emit(None, noise_seed=v))
        self.strength.floatChanged.connect(
            lambda v: self._emit("noise_strength", noise_strength=round(v, 2)))
        self.strength.sliderReleased.connect(self.gestureEnded)
        self._tips = [w.toolTip() for w in (self.mode, self.seed, self.strength)]

    def _emit(self, key, **changes):
        self.edited.emit(self._state.replace(**changes), key)

    def set_model(self, info) -> None:
        has = bool(info.capabilities.has_noise)
        why = "" if has else NO_NOISE_BIGGAN if info.arch == "biggan" else NO_NOISE
        for w, tip in zip((self.mode, self.seed, self.strength), self._tips):
            w.setEnabled(has)
            w.setToolTip(tip if has else why)             # disabled widgets say why
        self.setToolTip(why)

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        with signals_blocked(self.mode):
            self.mode.setCurrentText(state.noise_mode)
        with signals_blocked(self.seed):
            self.seed.setValue(state.noise_seed)
        self.seed.setEnabled(self.mode.isEnabled() and state.noise_mode == "random")
        self.strength.set_float(state.noise_strength)
        self.strength_label.setText(f"{state.noise_strength:.2f}")
