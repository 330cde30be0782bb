"""Application entry: create the QApplication and the main window."""
from __future__ import annotations

import sys


def run_app(model: str | None = None, device: str | None = None) -> int:
    from PyQt6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GANStudio")
    app.setOrganizationName("GANStudio")
    win = QMainWindow()
    win.setWindowTitle("GANStudio")
    win.setCentralWidget(QLabel("GANStudio — the explorer window is being built."))
    win.resize(1200, 800)
    win.show()
    return app.exec()
