"""Architecture, resolution, preset and length, with the hyper-parameters under "Advanced"."""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox,
                             QVBoxLayout, QWidget)
from superqt import QCollapsible
from superqt.utils import signals_blocked

from .train_recipe import (ARCH_LABELS, FIELDS, PRESET_TIPS, PRESETS, RESOLUTIONS,
                           preset_config)


def _spin(decimals: int, lo: float, hi: float):
    box = QSpinBox() if decimals == 0 else QDoubleSpinBox()
    if decimals:
        box.setDecimals(decimals)
        box.setSingleStep(10 ** -min(decimals, 3) if hi <= 1 else 1.0)
    box.setRange(int(lo) if decimals == 0 else lo, int(hi) if decimals == 0 else hi)
    box.setKeyboardTracking(False)
    box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
    return box


class TrainOptionsBox(QWidget):
    changed = pyqtSignal()                 # anything the next run depends on
    resolutionChanged = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = self._form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.arch = QComboBox()
        for key, label in ARCH_LABELS.items():
            self.arch.addItem(label, key)
        self.arch.setCurrentIndex(list(ARCH_LABELS).index("stylegan2"))
        self.arch.setToolTip("PGGAN and StyleGAN grow from 4² upwards; StyleGAN2 trains at full "
                             "size from the start")
        self.res = QComboBox()
        for r in RESOLUTIONS:
            self.res.addItem(f"{r} × {r}", r)
        self.res.setCurrentIndex(RESOLUTIONS.index(64))
        self.preset = QComboBox()
        for i, name in enumerate(PRESETS):
            self.preset.addItem(name)
            self.preset.setItemData(i, PRESET_TIPS[name], 3)     # Qt.ItemDataRole.ToolTipRole
        self.kimg = _spin(1, 0.1, 1e6)
        self.kimg.setToolTip("Length of training: thousands of real images shown to D")
        form.addRow("Architecture", self.arch)
        form.addRow("Resolution", self.res)
        form.addRow("Preset", self.preset)
        form.addRow("Length (kimg)", self.kimg)
        lay.addLayout(form)
        self.advanced = QCollapsible("Advanced", expandedIcon="▾", collapsedIcon="▸")
        self.advanced.setDuration(0)
        body = QWidget()
        adv = self._adv = QFormLayout(body)
        adv.setContentsMargins(8, 0, 0, 0)
        self.fields = {}
        for f in FIELDS:
            box = _spin(f.decimals, f.lo, f.hi)
            box.setToolTip(f.tip)
            box.valueChanged.connect(self.changed)
            adv.addRow(f.label, box)
            self.fields[f.key] = box
        self.advanced.addWidget(body)
        lay.addWidget(self.advanced)
        self._locked = False
        self.arch.currentIndexChanged.connect(self._on_preset_inputs_changed)
        self.res.currentIndexChanged.connect(self._on_preset_inputs_changed)
        self.res.currentIndexChanged.connect(lambda: self.resolutionChanged.emit(self.resolution()))
        self.preset.currentIndexChanged.connect(self._on_preset_inputs_changed)
        self.kimg.valueChanged.connect(self.changed)
        self._on_preset_inputs_changed()

    def arch_name(self) -> str:
        return self.arch.currentData()

    def resolution(self) -> int:
        return int(self.res.currentData())

    def values(self) -> dict:
        """Keyword arguments of train_recipe.build_config (all but data/out/device)."""
        return dict(arch=self.arch_name(), res=self.resolution(), kimg=self.kimg.value(),
                    preset_name=self.preset.currentText(),
                    advanced={k: box.value() for k, box in self.fields.items()})

    def _on_preset_inputs_changed(self) -> None:
        if not self._locked:
            self.show_config(preset_config(self.arch_name(), self.resolution(),
                                           self.preset.currentText()))
        self.changed.emit()

    def show_config(self, config) -> None:
        """Show a TrainConfig's values (a preset's, or a run's being resumed)."""
        arch = config.arch
        for f in FIELDS:
            box = self.fields[f.key]
            with signals_blocked(box):
                box.setValue(int(f.get(config)) if f.decimals == 0 else f.get(config))
            box.setEnabled(not self._locked)
            self._adv.setRowVisible(box, arch in f.archs)      # only what this arch uses
        with signals_blocked(self.kimg):
            self.kimg.setValue(config.kimg)

    def set_resumed(self, config) -> None:
        """Resuming: show the run's configuration; only its length can change."""
        was_locked, self._locked = self._locked, config is not None
        if config is not None:
            for combo, value in ((self.arch, config.arch), (self.res, config.res)):
                with signals_blocked(combo):
                    combo.setCurrentIndex(max(0, combo.findData(value)))
            self.show_config(config)
        elif was_locked:                   # back to a new run: the preset's values again
            self._on_preset_inputs_changed()
        for w in (self.arch, self.res):
            w.setEnabled(not self._locked)
        self._form.setRowVisible(self.preset, not self._locked)   # a run has its own values
