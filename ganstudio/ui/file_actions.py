"""File actions of the main window: open, save, sessions, PNGs, grids, recent files."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QFileDialog

MODEL_FILTER = "Models (*.safetensors *.pkl *.pt *.pth);;All files (*)"
DOC_SUFFIXES = (".json", ".png")
MAX_RECENT = 10


class FileActions:
    """Mixed into MainWindow (uses its explorer, settings, status, show_error, recent_menu)."""

    def open_path(self, path: str) -> None:
        """A model file, or a session .json / saved PNG that restores the explorer state."""
        if Path(path).suffix.lower() in DOC_SUFFIXES:
            self.explorer.open_document(path)
        else:
            self.explorer.open_model(path)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._last_dir(), MODEL_FILTER)
        if path:
            self.open_path(path)

    def open_document_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session or PNG", self._last_dir(),
                                              "Sessions and images (*.json *.png)")
        if path:
            self.open_path(path)

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", self._last_dir(),
                                              "Session (*.json)")
        if path:
            self._guarded(self.explorer.save_session, path, "Cannot save session")

    def save_image_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save image", self._last_dir(), "PNG (*.png)")
        if path:
            path = path if path.lower().endswith(".png") else path + ".png"
            self._guarded(self.explorer.save_png, path, "Cannot save image")

    def export_grid_dialog(self) -> None:
        from .grid_dialog import GridDialog
        if self.explorer.model is None:
            return
        dlg = GridDialog(int(self.explorer.model.num_ws), self.explorer.state.crossover, self)
        if not dlg.exec():
            return
        try:
            seeds_a, seeds_b, k = dlg.values()
        except ValueError as e:
            self.show_error("Style-mixing grid", str(e))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save grid", self._last_dir(), "PNG (*.png)")
        if path:
            self._guarded(self.export_grid, path, "Cannot export grid", seeds_a, seeds_b, k)

    def export_grid(self, path, seeds_a, seeds_b, crossover: int) -> None:
        from .documents import mixing_grid, write_png
        grid = mixing_grid(self.explorer.render_state, self.explorer.state, seeds_a, seeds_b,
                           crossover)
        write_png(path, grid)
        self.status.showMessage(f"Saved {len(seeds_a)}×{len(seeds_b)} grid to {path}", 6000)

    def _guarded(self, fn, path, title, *args) -> None:
        try:
            fn(path, *args)
        except (OSError, ValueError) as e:
            self.show_error(title, str(e))
        else:
            self.settings.setValue("last_dir", str(Path(path).parent))

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", "") or "")

    def _remember_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", [path] + recent[:MAX_RECENT - 1])
        self._rebuild_recent_menu()

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", []) or []
        return [value] if isinstance(value, str) else list(value)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            self.recent_menu.addAction(path, lambda p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

