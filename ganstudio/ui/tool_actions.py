"""The main window's direction, latent-file, projection and video actions (a mixin, like
FileActions): wires the direction picker to the explorer's DirectionLibrary and preview strips."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QFileDialog

from ganstudio.render import tools
from ganstudio.render.qt_jobs import Job

from .direction_strips import DirectionStrips
from .directions import DirectionSpec
from .stored_latent import StoredLatent

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp);;All files (*)"


class ToolActions:
    """Mixed into MainWindow (uses explorer, direction_panel, rows_panel, latent_files_panel,
    status, show_error, settings, _last_dir)."""

    def _install_tools(self) -> None:
        ex = self.explorer
        self.strips = DirectionStrips(ex, self)
        self.strips.stripReady.connect(self.direction_panel.set_strip)
        self.direction_panel.loadRequested.connect(self.load_direction_dialog)
        self.latent_files_panel.loadRequested.connect(self.load_latent_dialog)
        self.latent_files_panel.saveRequested.connect(self.save_latent_dialog)
        ex.stateChanged.connect(self._on_tools_stateChanged)
        ex.modelChanged.connect(self.direction_panel.set_model)
        self.projection_dialog = self.video_dialog = None

    def _on_tools_stateChanged(self, state) -> None:
        listing = self.explorer.directions.listing(state)
        if self.direction_panel.set_listing(listing):
            self.strips.forget()                    # new entries: draw their strips again
            self.strips.refresh()
        self.rows_panel.set_layer_range(listing.first, listing.last)

    # --- directions ------------------------------------------------------------------------------
    def load_direction_dialog(self, source: str = "file") -> None:
        title = "Open labelled direction" if source == "labelled" else "Open directions"
        path, _ = QFileDialog.getOpenFileName(self, title, self._last_dir(),
                                              "Directions (*.npz);;All files (*)")
        if path:
            self.load_direction(path, source)

    def load_direction(self, path: str, source: str = "file") -> bool:
        try:
            self.explorer.directions.load_file(path, source)
        except (OSError, ValueError) as e:
            self.show_error("Cannot use these directions", str(e))
            return False
        s = self.explorer.state
        self.explorer.edit(s.replace(direction=DirectionSpec(source=source, path=str(path)),
                                     direction_index=0))
        self.explorer.seal()
        self.settings.setValue("last_dir", str(Path(path).parent))
        return True

    # --- latent files ----------------------------------------------------------------------------
    def load_latent_a_dialog(self):
        self.load_latent_dialog("a")

    def load_latent_b_dialog(self):
        self.load_latent_dialog("b")

    def save_latent_a_dialog(self):
        self.save_latent_dialog("a")

    def save_latent_b_dialog(self):
        self.save_latent_dialog("b")

    def load_latent_dialog(self, which: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Load latent {which.upper()}",
                                              self._last_dir(), "Latents (*.npz)")
        if path:
            self._guarded(self.load_latent, path, f"Cannot load latent {which.upper()}", which)

    def save_latent_dialog(self, which: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Save latent {which.upper()}",
                                              self._last_dir(), "Latents (*.npz)")
        if path:
            path = path if path.lower().endswith(".npz") else path + ".npz"
            self._guarded(self.save_latent, path, f"Cannot save latent {which.upper()}", which)

    def save_latent(self, path: str, which: str = "a") -> None:
        """A: the ws of the image as shown (edits, mixing included); B: latent B's ws."""
        ex, s = self.explorer, self.explorer.state
        if ex.model is None:
            raise ValueError("no model is loaded")
        request = ex.request_for(s)
        if which == "b":
            request = request.replace(latent_a=request.latent_b, crossover=None, blend=None,
                                      offsets=None, direction=None)
        plain = request.crossover is None and request.blend is None and request.offsets is None
        stored = getattr(s, f"latent_{which}")
        seed = getattr(s, f"seed_{which}") if stored is None and plain else None
        ws = ex.engine.renderer.mapped_ws(request)                          # [num_ws, w_dim]
        tools.save_latent_file(path, ws, seed=seed, model_hash=ex.model.content_hash,
                               truncation_psi=s.psi if stored is None else None)
        self.status.showMessage(f"Saved latent {which.upper()} to {path}", 6000)

    def load_latent(self, path: str, which: str = "a") -> None:
        """Stored W (or z, or a seed) from a file; loading A also resets the per-layer edits, so
        a latent saved from an edited image looks the same again."""
        ex, model = self.explorer, self.explorer.model
        if model is None:
            raise ValueError("no model is loaded")
        lat, name = tools.read_latent_file(path), Path(path).name
        changes = {f"latent_{which}": None}
        if lat.w is not None:
            w = lat.w[0]
            if w.shape[-1] != model.w_dim or w.shape[0] not in (1, model.num_ws):
                raise ValueError(f"{name}: W is {w.shape}, the model needs "
                                 f"({model.num_ws}, {model.w_dim})")
            changes[f"latent_{which}"] = StoredLatent.from_array(w, "w", name)
        elif lat.z is not None:
            if lat.z.shape[-1] != model.z_dim:
                raise ValueError(f"{name}: z has {lat.z.shape[-1]} values, the model {model.z_dim}")
            changes[f"latent_{which}"] = StoredLatent.from_array(lat.z[0], "z", name)
        else:
            changes[f"seed_{which}"] = int(lat.seeds[0])
        state = ex.state.reset_layers() if which == "a" else ex.state   # A shows as it was saved
        ex.edit(state.replace(**changes))
        ex.seal()
        notes = [f"{len(lat)} latents in the file: using the first"] if len(lat) > 1 else []
        if lat.model_hash and model.content_hash and \
                not model.content_hash.startswith(lat.model_hash):
            notes.append("it was saved for another model")
        self.status.showMessage(f"Latent {which.upper()} from {name}"
                                + (f" ({'; '.join(notes)})" if notes else ""), 8000)

    # --- projection and video ------------------------------------------------------------------
    def project_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Project image", self._last_dir(), IMAGE_FILTER)
        if path:
            self.project_image(path)

    def project_image(self, path: str):
        """Open the projection dialog for an image (returns it; None if it cannot be read)."""
        from .projection_dialog import ProjectionDialog
        try:
            dlg = ProjectionDialog(self.explorer, path, self)
        except (OSError, ValueError) as e:
            self.show_error("Cannot project", str(e))
            return None
        dlg.projected.connect(self._on_projection_projected)
        if self.projection_dialog is not None:
            self.projection_dialog.close()
        self.projection_dialog = dlg
        dlg.show()
        return dlg

    def _on_projection_projected(self, result, label: str) -> None:
        ex = self.explorer                      # the projection itself, without earlier edits
        ex.edit(ex.state.reset_layers().replace(
            latent_a=StoredLatent.from_array(result.ws[0], "w", label)))
        ex.seal()

    def export_video_dialog(self):
        from .video_dialog import VideoDialog
        if self.explorer.model is None:
            return None
        if self.video_dialog is None:
            self.video_dialog = VideoDialog(self.explorer, self, self._last_dir())
            self.video_dialog.written.connect(
                lambda p, n: self.status.showMessage(f"Wrote {n} frames to {p}", 8000))
        self.video_dialog.show()
        self.video_dialog.raise_()
        return self.video_dialog

    def shutdown_jobs(self) -> None:
        """Cancel and join every background job (before the window and engine go)."""
        self.strips.shutdown()
        self.explorer.directions.shutdown()
        for dlg in (self.projection_dialog, self.video_dialog):
            if dlg is not None:
                dlg.close()
        for job in self.findChildren(Job):
            job.shutdown()
