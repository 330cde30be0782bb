"""Style rows: one per W input (BigGAN: per z chunk), grouped under Coarse / Middle / Fine headers."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from .state import ExplorerState
from .style_row import GroupHeader, StyleRow

GROUPS = ("coarse", "middle", "fine")
ROW_TIP = ("Move along the active direction, in standard deviations of W "
           "(double-click resets)")
NO_W_SPACE = ("This model has no W space (PGGAN): a single z drives every layer, so there is "
              "nothing to mix per layer and no per-layer noise.")
NO_NOISE_CHUNKS = ("BigGAN has no noise inputs: all its randomness is in z. Each row is one z "
                   "chunk, which with the class drives that block's conditional BatchNorm.")


@dataclass(frozen=True)
class RowSpec:
    index: int
    label: str
    group: str
    resolution: int
    has_noise: bool


def row_specs(info) -> list[RowSpec]:
    """Rows to show for a model, from its layer table (or the StyleGAN convention without one)."""
    caps = info.capabilities
    layers = list(caps.layers)
    if not caps.has_w_space and int(info.num_ws) > 1 and len(layers) == int(info.num_ws):
        return [RowSpec(L.index, f"z{L.index} · {L.role} · {L.resolution}²", L.group,
                        L.resolution, False) for L in layers]      # BigGAN's z chunks
    if not caps.has_w_space:
        res = int(info.img_resolution)
        return [RowSpec(0, "z · all layers", "coarse", res, False)]
    if len(layers) != int(info.num_ws):
        from_res = (lambda r: "coarse" if r <= 8 else "middle" if r <= 32 else "fine")
        return [RowSpec(i, f"w{i} · {2 ** (2 + i // 2)}² · {from_res(2 ** (2 + i // 2))}",
                        from_res(2 ** (2 + i // 2)), 2 ** (2 + i // 2), bool(caps.has_noise))
                for i in range(int(info.num_ws))]
    return [RowSpec(L.index, L.label, L.group, L.resolution, bool(L.has_noise and caps.has_noise))
            for L in layers]


class StyleRowsPanel(QScrollArea):
    edited = pyqtSignal(object, object)      # new ExplorerState, undo-coalescing key
    gestureEnded = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rows: list[StyleRow] = []
        self.headers: dict[str, GroupHeader] = {}
        self._state = ExplorerState()
        self._specs: list[RowSpec] = []
        self._range: tuple[int, int] | None = None     # W indices the direction applies to
        self.setWidget(QWidget())

    def set_model(self, info) -> None:
        """Rebuild the rows for a newly loaded model."""
        self._specs = row_specs(info)
        self.rows, self.headers = [], {}
        body = QWidget()
        body.setObjectName("rowsBody")
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        w_space = bool(info.capabilities.has_w_space)
        chunks = not w_space and len(self._specs) > 1
        why = "" if w_space else NO_NOISE_CHUNKS if chunks else NO_W_SPACE
        lay.addWidget(self._captions("W" if w_space else "z"))
        for g in GROUPS:
            specs = [s for s in self._specs if s.group == g]
            if not specs:
                continue
            lo, hi = specs[0].resolution, specs[-1].resolution
            res = f"{lo}²" if lo == hi else f"{lo}²–{hi}²"
            title = f"{g.capitalize()}  {res}" if w_space or chunks else "Latent z"
            header = GroupHeader(g, title, any(s.has_noise for s in specs))
            header.offsetChanged.connect(self._on_header_offsetChanged)
            header.noiseToggled.connect(self._on_header_noiseToggled)
            header.slider.sliderReleased.connect(self.gestureEnded)
            if not w_space:
                header.setToolTip(why)
                header.setVisible(chunks)
            self.headers[g] = header
            lay.addWidget(header)
            for s in specs:
                row = StyleRow(s.index, s.label, s.has_noise, why)
                row.setToolTip(why)
                row.offsetChanged.connect(self._on_row_offsetChanged)
                row.noiseToggled.connect(self._on_row_noiseToggled)
                row.slider.sliderReleased.connect(self.gestureEnded)
                self.rows.append(row)
                lay.addWidget(row)
        lay.addStretch(1)
        self.setWidget(body)
        self._show_range()

    def set_layer_range(self, first: int, last: int) -> None:
        """Rows outside first..last cannot move: the chosen direction does not apply there."""
        if self._range != (first, last):
            self._range = (first, last)
            self._show_range()

    def _in_range(self, i: int) -> bool:
        return self._range is None or self._range[0] <= i <= self._range[1]

    def _show_range(self) -> None:
        where = "" if self._range is None else f"w{self._range[0]}–w{self._range[1]}"
        for row in self.rows:
            inside = self._in_range(row.index)
            row.slider.setEnabled(inside)
            row.label.setEnabled(inside)
            row.slider.setToolTip(ROW_TIP if inside else
                                  f"The chosen direction applies to {where} only")
        for g, header in self.headers.items():
            header.slider.setEnabled(bool(self._group_indices(g)))

    @staticmethod
    def _captions(space: str = "W") -> QWidget:
        """Column captions above the rows."""
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(6, 0, 8, 2)
        for text, stretch, align in (("from", 0, Qt.AlignmentFlag.AlignLeft),
                                     ("layer", 0, Qt.AlignmentFlag.AlignLeft),
                                     (f"offset along direction (σ of {space})", 1,
                                      Qt.AlignmentFlag.AlignHCenter),
                                     ("noise", 0, Qt.AlignmentFlag.AlignRight)):
            label = QLabel(text)
            label.setObjectName("columnCaption")
            label.setAlignment(align)
            if text == "from":
                label.setFixedWidth(26)
            if text == "layer":
                label.setMinimumWidth(118)
            row.addWidget(label, stretch)
        return w

    def set_state(self, state: ExplorerState) -> None:
        self._state = state
        for row in self.rows:
            i = row.index
            row.set_values(state.offset(i), state.noise_enabled(i), state.b_fraction(i))
        for g, header in self.headers.items():
            idx = self._group_indices(g)
            offsets = {state.offset(i) for i in idx}
            if len(offsets) == 1 and not header.slider.isSliderDown():
                header.show_value(offsets.pop())
            every = [s.index for s in self._specs if s.group == g]
            noisy = [state.noise_enabled(i) for i in every if self._specs[i].has_noise]
            header.set_noise(any(noisy), bool(noisy) and all(noisy))

    def _group_indices(self, group: str) -> list[int]:
        """The rows of a group that the direction applies to."""
        return [s.index for s in self._specs if s.group == group and self._in_range(s.index)]

    def _on_row_offsetChanged(self, i: int, v: float):
        self.edited.emit(self._state.with_layers("offsets", [i], v), f"offset:{i}")

    def _on_row_noiseToggled(self, i: int, on: bool):
        self.edited.emit(self._state.with_layers("noise_on", [i], on), None)

    def _on_header_offsetChanged(self, group: str, v: float):
        self.edited.emit(self._state.with_layers("offsets", self._group_indices(group), v),
                         f"group:{group}")

    def _on_header_noiseToggled(self, group: str, on: bool):
        idx = [s.index for s in self._specs if s.group == group and s.has_noise]
        self.edited.emit(self._state.with_layers("noise_on", idx, on), None)
