"""Start / Pause / Resume / Stop, "Explore this snapshot", and the progress of the run."""
from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                             QWidget)

STATE_TEXT = {"idle": "Ready", "waiting": "Reading the dataset…", "running": "Training",
              "paused": "Paused", "stopping": "Stopping and saving…"}


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


class TrainControls(QWidget):
    startClicked = pyqtSignal()
    pauseClicked = pyqtSignal()
    resumeClicked = pyqtSignal()
    stopClicked = pyqtSignal()
    exploreClicked = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        row = QHBoxLayout()
        self.start = QPushButton("Start")
        self.start.setObjectName("primaryButton")
        self.pause = QPushButton("Pause")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Finish the current step, save latest.safetensors and stop")
        self.explore = QPushButton("Explore this snapshot")
        self.explore.setToolTip("Save the current generator (EMA) and open it in the explorer")
        for b in (self.start, self.pause, self.stop):
            b.setMinimumWidth(84)
            row.addWidget(b)
        self.state_label = QLabel(STATE_TEXT["idle"])
        self.state_label.setObjectName("trainState")
        row.addSpacing(10)
        row.addWidget(self.state_label)
        row.addStretch(1)
        row.addWidget(self.explore)
        lay.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("not started")
        self.bar.setTextVisible(True)
        lay.addWidget(self.bar)
        self.detail = QLabel("Choose a dataset and a run folder, then Start.")
        self.detail.setObjectName("valueLabel")
        lay.addWidget(self.detail)
        self.state = "idle"
        self.start.clicked.connect(self.startClicked)
        self.pause.clicked.connect(self._on_pause_clicked)
        self.stop.clicked.connect(self.stopClicked)
        self.explore.clicked.connect(self.exploreClicked)
        self.set_state("idle", can_explore=False)

    def _on_pause_clicked(self) -> None:
        (self.resumeClicked if self.state == "paused" else self.pauseClicked).emit()

    def set_state(self, state: str, can_explore: bool, resuming: bool = False) -> None:
        self.state = state
        active = state in ("running", "paused")
        self.start.setEnabled(state == "idle")
        self.start.setText("Resume run" if resuming else "Start")
        self.pause.setEnabled(active)
        self.pause.setText("Resume" if state == "paused" else "Pause")
        self.stop.setEnabled(active or state == "waiting")
        self.explore.setEnabled(can_explore and state != "stopping")
        self.state_label.setText(STATE_TEXT.get(state, state))
        self.state_label.setProperty("state", state)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)

    def show_progress(self, p: dict, progressive: bool) -> None:
        """One progress dict of the trainer (kimg, total_kimg, fraction, resolution, α, eta_s…)."""
        self.bar.setValue(round(1000 * float(p.get("fraction", 0.0))))
        self.bar.setFormat(f"{p['kimg']:.2f} / {p['total_kimg']:g} kimg  ·  "
                           f"{100 * p.get('fraction', 0):.1f} %")
        res = int(p["resolution"])
        parts = [f"resolution {res}×{res}"]
        if progressive:
            parts.append(f"fade-in α {float(p.get('alpha', 1.0)):.2f}")
        parts.append(f"{p.get('images_per_s', 0.0):.1f} img/s")
        parts.append(f"ETA {format_duration(p.get('eta_s'))}")
        self.show_message("   ·   ".join(parts))

    def show_position(self, kimg: float, total_kimg: float) -> None:
        """Where a run stands before it (re)starts."""
        fraction = min(kimg / total_kimg, 1.0) if total_kimg > 0 else 0.0
        self.bar.setValue(round(1000 * fraction))
        self.bar.setFormat(f"{kimg:.2f} / {total_kimg:g} kimg  ·  {100 * fraction:.1f} %"
                           if kimg > 0 else f"0 / {total_kimg:g} kimg")

    def show_message(self, text: str, error: bool = False) -> None:
        self.detail.setText(text)
        self.detail.setProperty("error", error)
        self.detail.style().unpolish(self.detail)
        self.detail.style().polish(self.detail)
