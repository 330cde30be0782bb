"""What is loaded: architecture, resolution, W inputs, parameter count, source format, device."""
from __future__ import annotations

import os

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFormLayout, QLabel, QWidget

FIELDS = ("Architecture", "Resolution", "W inputs", "Parameters", "Format", "Device", "File")


def format_count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


def describe(info) -> dict[str, str]:
    """The values shown for a ModelInfo."""
    res = int(info.img_resolution)
    ws = str(info.num_ws) + ("" if info.capabilities.has_w_space else
                             " z chunks (no W space)" if int(info.num_ws) > 1 else
                             " (z only, no W space)")
    path = info.path or ""
    return {
        "Architecture": info.arch,
        "Resolution": f"{res} × {res}",
        "W inputs": ws,
        "Parameters": format_count(int(info.num_params)),
        "Format": info.source_format,
        "Device": info.device,
        "File": os.path.basename(path) if path and not path.startswith("builtin:") else
        "built-in default",
    }


class ModelInfoPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.values: dict[str, QLabel] = {}
        for name in FIELDS:
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName("infoValue")
            self.values[name] = label
            form.addRow(name, label)

    def set_model(self, info) -> None:
        for name, text in describe(info).items():
            self.values[name].setText(text)
        self.values["File"].setToolTip(info.path or "")
