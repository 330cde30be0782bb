"""Status bar: render time, frames per second, device, and the current seed / ψ."""
from __future__ import annotations

import time
from collections import deque

from PyQt6.QtWidgets import QLabel, QStatusBar


class StatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._frames: deque[float] = deque(maxlen=120)
        self.render_label = QLabel("—")
        self.fps_label = QLabel("—")
        self.device_label = QLabel("—")
        self.state_label = QLabel("")
        for w in (self.state_label, self.render_label, self.fps_label, self.device_label):
            w.setObjectName("statusField")
            self.addPermanentWidget(w)

    def frame_shown(self, render_ms: float | None) -> None:
        now = time.monotonic()
        self._frames.append(now)
        while self._frames and now - self._frames[0] > 1.0:
            self._frames.popleft()
        if render_ms is not None:
            self.render_label.setText(f"{render_ms:.1f} ms")
        span = self._frames[-1] - self._frames[0] if len(self._frames) > 1 else 0.0
        fps = (len(self._frames) - 1) / span if span > 0 else 0.0
        self.fps_label.setText(f"{fps:.1f} fps" if fps > 0 else "— fps")

    def set_device(self, device: str) -> None:
        self.device_label.setText(device)

    def set_state(self, state) -> None:
        mix = "" if state.crossover is None else f" · k {state.crossover}"
        self.state_label.setText(f"seed {state.seed_a} · B {state.seed_b} · ψ {state.psi:.2f}{mix}")
