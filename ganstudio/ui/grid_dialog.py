"""Asks for the A seeds, B seeds and crossover of a style-mixing grid."""
from __future__ import annotations

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QSpinBox


def parse_seeds(text: str) -> list[int]:
    """'1, 5-7' → [1, 5, 6, 7]; ValueError with the offending part otherwise."""
    seeds = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            lo, _, hi = part.partition("-")
            lo, hi = int(lo), int(hi or lo)
            if lo < 0 or hi < lo:
                raise ValueError
            seeds.extend(range(lo, hi + 1))
        except ValueError:
            raise ValueError(f"not a seed or seed range: {part!r}") from None
    if not seeds:
        raise ValueError("no seeds given")
    if len(seeds) > 64:
        raise ValueError(f"{len(seeds)} seeds is too many for a grid (at most 64)")
    return seeds


class GridDialog(QDialog):
    def __init__(self, num_ws: int, crossover: int | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Style-mixing grid")
        form = QFormLayout(self)
        self.seeds_a = QLineEdit("0-4")
        self.seeds_a.setToolTip("Rows: the seeds whose coarse styles are kept (e.g. 0-4, 9)")
        self.seeds_b = QLineEdit("10-14")
        self.seeds_b.setToolTip("Columns: the seeds that give the styles of layers ≥ k")
        self.crossover = QSpinBox()
        self.crossover.setRange(0, max(0, num_ws - 1))
        self.crossover.setValue(crossover if crossover is not None else min(4, num_ws - 1))
        self.crossover.setToolTip("Layers ≥ k take their style from the column's seed")
        form.addRow("Seeds A (rows)", self.seeds_a)
        form.addRow("Seeds B (columns)", self.seeds_b)
        form.addRow("Crossover k", self.crossover)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[list[int], list[int], int]:
        return parse_seeds(self.seeds_a.text()), parse_seeds(self.seeds_b.text()), \
            self.crossover.value()
