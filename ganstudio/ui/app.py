"""Application entry: the QApplication, the render engine and the explorer window."""
from __future__ import annotations

import sys

from .explorer import DEFAULT_MODEL


def create_window(model: str | None = None, device: str | None = None, synchronous: bool = False,
                  settings=None):
    """The explorer window with its engine, already loading `model` (default: the built-in one)."""
    from ganstudio.render.qt_engine import RenderEngine

    from .main_window import MainWindow
    engine = RenderEngine(device=None if device in (None, "auto") else device,
                          synchronous=synchronous)
    win = MainWindow(engine, settings=settings)
    engine.setParent(win)
    win.open_path(model or DEFAULT_MODEL)
    return win


def run_app(model: str | None = None, device: str | None = None) -> int:
    from PyQt6.QtWidgets import QApplication

    from .theme import apply_theme
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GANStudio")
    app.setOrganizationName("GANStudio")
    apply_theme(app)
    win = create_window(model, device)
    win.show()
    return app.exec()
