"""The direction picker: where directions come from, the list of them with preview strips, and a
slider that moves every row of the direction's layer range at once.

Sources: random per layer (from a seed), PCA (GANSpace) and SeFa computed for the loaded model
(k directions over a layer range), or a directions file (e.g. from `ganstudio directions`), or a
labelled-direction file. The style-row sliders move along the chosen direction.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QToolButton,
                             QVBoxLayout, QWidget)
from superqt.utils import signals_blocked

from .direction_library import DirectionListing
from .direction_list import DirectionList
from .directions import COMPUTED, FILES
from .state import OFFSET_RANGE, ExplorerState
from .widgets import FloatSlider

SOURCES = [("Random per layer", "random"), ("PCA of W (GANSpace)", "pca"),
           ("SeFa (closed form)", "sefa"), ("Directions file…", "file"),
           ("Labelled direction file…", "labelled")]
TIPS = {"random": "One random unit direction per layer, drawn (numpy) from the seed",
        "pca": "Principal components of W over sampled latents, applied on the layer range",
        "sefa": "Eigenvectors of the style weights of the layer range: what those layers react to",
        "file": "Directions saved by `ganstudio directions` (their own layer range)",
        "labelled": "A direction learnt from labelled samples (a classifier in W)"}


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


class DirectionPanel(QWidget):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()
    loadRequested = pyqtSignal(str)          # "file" | "labelled": the window asks for a file

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state = ExplorerState()
        self._listing = DirectionListing()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.form = form = QFormLayout()
        self.source = QComboBox()
        for text, key in SOURCES:
            self.source.addItem(text, key)
            self.source.setItemData(self.source.count() - 1, TIPS[key],
                                    Qt.ItemDataRole.ToolTipRole)
        form.addRow("Source", self.source)
        self.k = _spin(1, 64, "Number of directions")
        self.first = _spin(0, 0, "First W input the directions apply to")
        self.last = _spin(0, 0, "Last W input the directions apply to")
        self.params = QWidget()
        row = QHBoxLayout(self.params)
        row.setContentsMargins(0, 0, 0, 0)
        for text, w in (("k", self.k), ("w", self.first), ("–", self.last)):
            row.addWidget(QLabel(text))
            row.addWidget(w, 1)
        form.addRow("Set", self.params)
        self.seed = _spin(0, 2**31 - 1, "Seed of the random directions / of PCA's W samples")
        self.samples = _spin(100, 1_000_000, "PCA: number of sampled W")
        self.samples.setSingleStep(1000)
        self.samples_label = QLabel("N")
        self.seed_row = QWidget()
        srow = QHBoxLayout(self.seed_row)
        srow.setContentsMargins(0, 0, 0, 0)
        srow.addWidget(self.seed, 1)
        srow.addWidget(self.samples_label)
        srow.addWidget(self.samples, 1)
        form.addRow("Seed", self.seed_row)
        self.file_row = QWidget()
        frow = QHBoxLayout(self.file_row)
        frow.setContentsMargins(0, 0, 0, 0)
        self.file_name = QLabel()
        self.file_name.setObjectName("infoValue")
        self.reload = QToolButton()
        self.reload.setText("Load…")
        frow.addWidget(self.file_name, 1)
        frow.addWidget(self.reload)
        form.addRow("File", self.file_row)
        lay.addLayout(form)
        self.status = QLabel()
        self.status.setObjectName("columnCaption")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.list = DirectionList()
        lay.addWidget(self.list)
        move = QHBoxLayout()
        move.addWidget(QLabel("Move"))
        self.amount = FloatSlider(*OFFSET_RANGE, default=0.0, steps=1000)
        self.amount.setToolTip("Move every row of the layer range along the chosen direction, in σ "
                               "of W (double-click resets)")
        move.addWidget(self.amount, 1)
        self.amount_label = QLabel("0σ")
        self.amount_label.setObjectName("valueLabel")
        self.amount_label.setFixedWidth(48)
        move.addWidget(self.amount_label)
        lay.addLayout(move)

        self.source.activated.connect(self._on_source_activated)
        self.k.valueChanged.connect(lambda v: self._edit_spec(k=v))
        self.first.valueChanged.connect(lambda v: self._edit_spec(first=v, last=max(v, self.last.value())))
        self.last.valueChanged.connect(lambda v: self._edit_spec(last=v, first=min(v, self.first.value())))
        self.seed.valueChanged.connect(self._on_seed_valueChanged)
        self.samples.valueChanged.connect(lambda v: self._edit_spec(samples=v))
        self.reload.clicked.connect(lambda: self.loadRequested.emit(self._state.direction.source))
        self.list.indexChosen.connect(
            lambda i: self.edited.emit(self._state.replace(direction_index=i), None))
        self.amount.floatChanged.connect(self._on_amount_floatChanged)
        self.amount.sliderReleased.connect(self.gestureEnded)

    # --- widget → state ------------------------------------------------------------------------
    def _on_source_activated(self, row: int) -> None:
        key = self.source.itemData(row)
        if key in FILES:
            self.loadRequested.emit(key)          # the window edits the state if a file loads
            self.set_state(self._state)           # otherwise the combo shows the old source
        elif key != self._state.direction.source:
            self._edit_spec(source=key)

    def _edit_spec(self, **changes) -> None:
        spec = dataclasses.replace(self._state.direction, **changes)
        self.edited.emit(self._state.replace(direction=spec, direction_index=0), None)

    def _on_seed_valueChanged(self, v: int) -> None:
        if self._state.direction.source == "pca":
            self._edit_spec(seed=v)
        else:
            self.edited.emit(self._state.replace(direction_seed=v), None)

    def _on_amount_floatChanged(self, v: float) -> None:
        self.amount_label.setText(f"{v:+.2f}σ" if abs(v) >= 0.005 else "0σ")
        rows = range(self._listing.first, self._listing.last + 1)
        self.edited.emit(self._state.with_layers("offsets", rows, v), "direction:move")

    # --- state → widgets -----------------------------------------------------------------------
    def set_model(self, info) -> None:
        n = int(info.num_ws)
        with signals_blocked(self.k):
            self.k.setMaximum(max(1, min(64, int(info.w_dim))))
        for box in (self.first, self.last):
            with signals_blocked(box):
                box.setRange(0, max(0, n - 1))
        w_space = bool(info.capabilities.has_w_space)
        for row, (_, key) in enumerate(SOURCES):
            item = self.source.model().item(row)
            item.setEnabled(key == "random" or w_space)

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        spec = state.direction
        with signals_blocked(self.source):
            self.source.setCurrentIndex(max(0, self.source.findData(spec.source)))
        self.source.setToolTip(TIPS.get(spec.source, ""))
        n = max(1, state.num_ws)
        first, last = spec.layer_range(n)
        for box, v in ((self.k, spec.k), (self.first, first), (self.last, last),
                       (self.samples, spec.samples),
                       (self.seed, spec.seed if spec.source == "pca" else state.direction_seed)):
            with signals_blocked(box):
                box.setValue(v)
        self.form.setRowVisible(self.params, spec.source in COMPUTED)
        self.form.setRowVisible(self.seed_row, spec.source in ("random", "pca"))
        self.samples.setVisible(spec.source == "pca")
        self.samples_label.setVisible(spec.source == "pca")
        self.form.setRowVisible(self.file_row, spec.source in FILES)
        self.file_name.setText(Path(spec.path).name if spec.path else "")
        self.file_name.setToolTip(spec.path)
        self.list.set_current(state.direction_index)
        self._show_amount()

    def set_listing(self, listing: DirectionListing) -> bool:
        """Show the set's entries and status; True when the list was rebuilt."""
        self._listing = listing
        self.status.setText(listing.status)
        rebuilt = self.list.set_entries(listing.names, listing.values)
        self.list.set_current(self._state.direction_index)
        self.amount.setEnabled(bool(listing.names))
        self._show_amount()
        return rebuilt

    def set_strip(self, index: int, images) -> None:
        self.list.set_strip(index, images)

    def _show_amount(self) -> None:
        if self.amount.isSliderDown():
            return
        values = {self._state.offset(i) for i in range(self._listing.first, self._listing.last + 1)}
        v = values.pop() if len(values) == 1 else 0.0
        self.amount.set_float(v)
        self.amount_label.setText(f"{v:+.2f}σ" if abs(v) >= 0.005 else "0σ")
