"""One style row (a W input) and the header of a group of rows: slider, noise switch, A/B marker."""
from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget
from superqt.utils import signals_blocked

from .state import OFFSET_RANGE
from .widgets import FloatSlider, SourceMarker


def _format_sigma(v: float) -> str:
    return f"{v:+.2f}σ" if abs(v) >= 0.005 else "0σ"


class _SliderLine(QWidget):
    """Label · slider · value · noise checkbox, shared by rows and group headers."""

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 1, 8, 1)
        lay.setSpacing(6)
        self.label = QLabel(text)
        self.label.setMinimumWidth(118)
        self.slider = FloatSlider(*OFFSET_RANGE, default=0.0, steps=1000)
        self.slider.setToolTip("Move along the active direction, in standard deviations of W "
                               "(double-click resets)")
        self.slider.setMinimumWidth(110)
        self.value = QLabel(_format_sigma(0.0))
        self.value.setObjectName("valueLabel")
        self.value.setFixedWidth(48)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.noise = QCheckBox()
        self.noise.setToolTip("Noise on/off for the layers this style feeds")
        lay.addWidget(self.label)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.value)
        lay.addWidget(self.noise)

    def show_value(self, v: float) -> None:
        self.slider.set_float(v)
        self.value.setText(_format_sigma(v))


class StyleRow(_SliderLine):
    """The controls of W input `index`."""
    offsetChanged = pyqtSignal(int, float)
    noiseToggled = pyqtSignal(int, bool)

    def __init__(self, index: int, text: str, has_noise: bool, why_no_noise: str = "",
                 parent=None):
        super().__init__(text, parent)
        self.index = index
        self.setObjectName("styleRow")
        self.marker = SourceMarker()
        self.layout().insertWidget(0, self.marker)
        self.noise.setChecked(has_noise)
        self.noise.setEnabled(has_noise)
        if why_no_noise:                       # disabled, saying why
            self.noise.setToolTip(why_no_noise)
        elif not has_noise:                    # keep the column aligned, show nothing
            policy = self.noise.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            self.noise.setSizePolicy(policy)
            self.noise.hide()
        self.slider.floatChanged.connect(self._on_slider_floatChanged)
        self.noise.toggled.connect(lambda on: self.noiseToggled.emit(self.index, on))

    def _on_slider_floatChanged(self, v: float):
        self.value.setText(_format_sigma(v))
        self.offsetChanged.emit(self.index, v)

    def set_values(self, offset: float, noise_on: bool, b_fraction: float) -> None:
        self.show_value(offset)
        with signals_blocked(self.noise):
            self.noise.setChecked(noise_on and self.noise.isEnabled())
        self.marker.set_fraction(b_fraction)


class GroupHeader(_SliderLine):
    """Coarse / Middle / Fine: its slider and noise box set every row of the group at once."""
    offsetChanged = pyqtSignal(str, float)
    noiseToggled = pyqtSignal(str, bool)

    def __init__(self, group: str, text: str, any_noise: bool, parent=None):
        super().__init__(text, parent)
        self.group = group
        self.setObjectName("groupHeader")
        lead = QWidget()
        lead.setFixedWidth(SourceMarker().width())      # align with the rows' markers
        self.layout().insertWidget(0, lead)
        self.layout().setContentsMargins(6, 5, 8, 5)
        self.label.setObjectName("groupTitle")
        self.slider.setToolTip(f"Set every {group} row at once (double-click resets)")
        self.noise.setToolTip(f"Noise on/off for every {group} row")
        self.noise.setEnabled(any_noise)
        self.slider.floatChanged.connect(self._on_slider_floatChanged)
        self.noise.clicked.connect(self._on_noise_clicked)

    def _on_slider_floatChanged(self, v: float):
        self.value.setText(_format_sigma(v))
        self.offsetChanged.emit(self.group, v)

    def _on_noise_clicked(self):
        on = self.noise.checkState() != Qt.CheckState.Unchecked
        self.set_noise(on, on)
        self.noiseToggled.emit(self.group, on)

    def set_noise(self, any_on: bool, all_on: bool) -> None:
        """Checked when all rows have noise, partly when some do."""
        with signals_blocked(self.noise):
            self.noise.setCheckState(Qt.CheckState.Checked if all_on else
                                     Qt.CheckState.PartiallyChecked if any_on else
                                     Qt.CheckState.Unchecked)
