"""Training curves (pyqtgraph): G and D losses, R1 or gradient penalty, path length, images/s.

One point per tick (the stats.jsonl line: means over the tick's steps), against kimg. A dotted
line marks each new resolution of a growing network.
"""
from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget

BACKGROUND, AXIS, TEXT = "#17191c", "#5d646e", "#8d96a3"
# plot title, [(stats key, legend name, colour)]
PLOTS = {
    "loss": ("Loss  <span style='color:#4a8fe0'>━ G</span>  "
             "<span style='color:#e08a3a'>━ D</span>",
             [("loss_G", "G", "#4a8fe0"), ("loss_D", "D", "#e08a3a")]),
    "reg": ("R1 penalty", [("r1_penalty", "R1", "#7cc46a"), ("gp", "GP", "#7cc46a"),
                           ("ortho", "ortho", "#7cc46a")]),
    "pl": ("Path length", [("pl_penalty", "penalty", "#c07ee0")]),
    "speed": ("Images / s", [("images_per_s", "img/s", "#aab3bf")]),
}


class TrainPlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.view.ci.setSpacing(6)
        lay.addWidget(self.view)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, tuple[list, list]] = {}
        self._marks: list = []
        self._last_res = None
        for i, (name, (title, series)) in enumerate(PLOTS.items()):
            plot = self.view.addPlot(row=i // 2, col=i % 2)
            self._style(plot, title)
            for key, label, colour in series:
                self.curves[key] = plot.plot([], [], name=label, antialias=True,
                                             pen=pg.mkPen(colour, width=1.6))
                self.data[key] = ([], [])
            self.plots[name] = plot
        self.plots["speed"].setXLink(self.plots["loss"])
        self.plots["pl"].setXLink(self.plots["loss"])
        self.plots["reg"].setXLink(self.plots["loss"])
        self.set_arch("stylegan2")

    @staticmethod
    def _style(plot: pg.PlotItem, title: str) -> None:
        plot.setTitle(title, color=TEXT, size="9pt")
        plot.showGrid(x=True, y=True, alpha=0.12)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        for side in ("left", "bottom"):
            ax = plot.getAxis(side)
            ax.setPen(pg.mkPen(AXIS))
            ax.setTextPen(pg.mkPen(TEXT))
            ax.enableAutoSIPrefix(False)
        plot.setLabel("bottom", "kimg", color=TEXT)

    def set_arch(self, arch: str) -> None:
        """Titles that say what this architecture regularises."""
        reg = {"pggan": "Gradient penalty (WGAN-GP)",
               "biggan": "Orthogonal regularisation"}.get(arch, "R1 penalty")
        self.plots["reg"].setTitle(reg, color=TEXT, size="9pt")
        pl = "Path length" if arch == "stylegan2" else "Path length (StyleGAN2 only)"
        self.plots["pl"].setTitle(pl, color=TEXT, size="9pt")

    def clear(self) -> None:
        for key, (xs, ys) in self.data.items():
            xs.clear()
            ys.clear()
            self.curves[key].setData([], [])
        for plot, line in self._marks:
            plot.removeItem(line)
        self._marks.clear()
        self._last_res = None

    def add(self, stats: dict) -> None:
        """One tick's stats line."""
        self._add(stats)
        self._refresh()

    def set_history(self, lines: list[dict]) -> None:
        self.clear()
        for s in lines:
            self._add(s)
        self._refresh()

    def points(self, key: str) -> int:
        return len(self.data[key][0])

    def _add(self, stats: dict) -> None:
        kimg = stats.get("kimg")
        if not isinstance(kimg, (int, float)):
            return
        for key, (xs, ys) in self.data.items():
            v = stats.get(key)
            if isinstance(v, (int, float)) and math.isfinite(v):
                xs.append(float(kimg))
                ys.append(float(v))
        res = stats.get("resolution")
        if res != self._last_res:
            if self._last_res is not None:
                self._mark(float(kimg), int(res))
            self._last_res = res

    def _mark(self, kimg: float, res: int) -> None:
        for name, plot in self.plots.items():
            line = pg.InfiniteLine(kimg, angle=90, pen=pg.mkPen(AXIS, style=pg.QtCore.Qt.PenStyle.DotLine),
                                   label=f"{res}²" if name == "loss" else None,
                                   labelOpts={"color": TEXT, "position": 0.92})
            plot.addItem(line)
            self._marks.append((plot, line))

    def _refresh(self) -> None:
        for key, (xs, ys) in self.data.items():
            self.curves[key].setData(xs, ys)
