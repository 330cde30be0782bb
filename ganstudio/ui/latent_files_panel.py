"""Where latents A and B come from (a seed, or a stored latent: projected or loaded from .npz),
with load / save buttons and a way back to the seed."""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QGridLayout, QLabel, QToolButton, QWidget

from .state import ExplorerState
from .widgets import A_COLOR, B_COLOR


class LatentFilesPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    loadRequested = pyqtSignal(str)          # "a" | "b"
    saveRequested = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        self.labels: dict[str, QLabel] = {}
        self.clear_buttons: dict[str, QToolButton] = {}
        for row, (which, color) in enumerate((("a", A_COLOR), ("b", B_COLOR))):
            tag = QLabel(which.upper())
            tag.setStyleSheet(f"color: {color.name()}; font-weight: 600;")
            grid.addWidget(tag, row, 0)
            label = QLabel()
            label.setObjectName("infoValue")
            label.setMinimumWidth(60)
            grid.addWidget(label, row, 1)
            grid.setColumnStretch(1, 1)
            self.labels[which] = label
            for col, (text, tip, slot) in enumerate((
                    ("Load…", f"Load latent {which.upper()} from a .npz (W, z or seed)",
                     lambda _=False, w=which: self.loadRequested.emit(w)),
                    ("Save…", f"Save latent {which.upper()} as .npz (W [1, num_ws, w_dim], "
                              "the layout NVIDIA's generate.py --projected-w reads)",
                     lambda _=False, w=which: self.saveRequested.emit(w)),
                    ("✕", f"Use seed {which.upper()} again",
                     lambda _=False, w=which: self._clear(w))), start=2):
                button = QToolButton()
                button.setText(text)
                button.setToolTip(tip)
                button.clicked.connect(slot)
                grid.addWidget(button, row, col)
                if text == "✕":
                    self.clear_buttons[which] = button

    def _clear(self, which: str) -> None:
        self.edited.emit(self._state.replace(**{f"latent_{which}": None}), None)

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        for which in ("a", "b"):
            stored = getattr(state, f"latent_{which}")
            seed = getattr(state, f"seed_{which}")
            text = (stored.label or f"stored {stored.space}") if stored else f"seed {seed}"
            self.labels[which].setText(text)
            if stored:
                shape = (f"{stored.rows}×{len(stored.values[0])}" if stored.space == "w"
                         else str(len(stored.values)))
                tip = f"{text}: stored {stored.space} ({shape} values); ✕ returns to seed {seed}"
            else:
                tip = f"Latent {which.upper()} is seed {seed}"
            self.labels[which].setToolTip(tip)
            self.clear_buttons[which].setEnabled(stored is not None)
