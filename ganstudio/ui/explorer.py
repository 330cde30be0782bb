"""The explorer's model: current state, undo history, loaded model, and the render engine.

Widgets edit through `edit(state, key)`; the Explorer records the edit, tells every view
(`stateChanged`) and, on the next turn of the event loop, submits one request for the newest
state. Several edits in one turn make one request; the engine renders only the newest request,
so the GUI thread never waits for rendering.
"""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from ganstudio.render.models import companion_directions

from .direction_library import DirectionLibrary
from .directions import DirectionSpec
from .documents import read_document, write_png, write_session
from .history import History
from .state import ExplorerState

DEFAULT_MODEL = "builtin:default"


class Explorer(QObject):
    stateChanged = pyqtSignal(object)      # ExplorerState
    modelChanged = pyqtSignal(object)      # ModelInfo
    frameReady = pyqtSignal(object)        # RenderResult of the newest request
    loadFailed = pyqtSignal(str)           # a refused model or document; the model stays
    message = pyqtSignal(str)              # one-line notes for the status bar

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.model = None                  # ModelInfo of the loaded model
        self.history = History(ExplorerState())
        self.last_result = None
        self.last_stamp = -1               # stamp of the newest submitted request
        self._last_request = None
        self._loading: str | None = None   # source being loaded
        self._pending_state: ExplorerState | None = None
        self._expected_hash = ""           # content hash a session expects of its model
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._submit)
        self.directions = DirectionLibrary(engine, self)     # what the rows move along
        self.directions.changed.connect(self._on_directions_changed)
        engine.resultReady.connect(self._on_engine_resultReady)
        engine.modelLoaded.connect(self._on_engine_modelLoaded)
        engine.errorOccurred.connect(self._on_engine_errorOccurred)

    @property
    def state(self) -> ExplorerState:
        return self.history.present

    # --- edits -------------------------------------------------------------------------------
    def edit(self, state: ExplorerState, key: str | None = None) -> None:
        """Make `state` current; edits with the same key merge into one undo step until seal()."""
        if state == self.state:
            return
        if state.latent_a is not None and state.seed_a != self.state.seed_a:
            state = state.replace(latent_a=None)          # a new seed A replaces a stored A
        if state.latent_b is not None and state.seed_b != self.state.seed_b:
            state = state.replace(latent_b=None)
        if self.model is not None:
            state = state.fit(int(self.model.num_ws))
        self.history.push(state, key)
        self._changed()

    def set_zoom(self, zoom: int) -> None:
        """Zoom is part of the state (sessions keep it) but not an undo step."""
        self.history.present = self.state.replace(zoom=max(0, min(int(zoom), 32)))
        self.stateChanged.emit(self.state)

    def seal(self) -> None:
        self.history.seal()

    def undo(self) -> None:
        if self.history.can_undo():
            zoom = self.state.zoom
            self.history.undo()
            self.history.present = self.state.replace(zoom=zoom)    # the view is not an edit
            self._changed()

    def redo(self) -> None:
        if self.history.can_redo():
            zoom = self.state.zoom
            self.history.redo()
            self.history.present = self.state.replace(zoom=zoom)
            self._changed()

    def reset(self) -> None:
        """Undo every per-layer edit and the mixing (seeds and ψ stay): one undo step."""
        self.edit(self.state.reset_layers())
        self.seal()

    def _changed(self) -> None:
        self.stateChanged.emit(self.state)
        self._timer.start()

    # --- models and documents ----------------------------------------------------------------
    def open_model(self, source: str, state: ExplorerState | None = None) -> None:
        """Load a model in the engine; `state` (e.g. from a session) applies once it is loaded."""
        self._loading, self._pending_state, self._expected_hash = str(source), state, ""
        self.message.emit(f"Loading {source} …")
        self.engine.load_model(str(source))

    def open_document(self, path) -> None:
        """Restore a session .json or a PNG saved by the explorer (loading its model if needed)."""
        try:
            doc = read_document(path)
        except ValueError as e:
            self.loadFailed.emit(str(e))
            return
        same = self.model is not None and (
            (doc.content_hash and doc.content_hash == self.model.content_hash)
            or (not doc.content_hash and doc.model_path == self.model.path) or not doc.model_path)
        if same:
            self.edit(doc.state)
            self.seal()
        else:
            self.open_model(doc.model_path, doc.state)
            self._expected_hash = doc.content_hash

    def save_session(self, path) -> None:
        write_session(path, self.state, self.model)

    def save_png(self, path) -> None:
        """The current state rendered afresh (not a preview), with the state in a text chunk."""
        write_png(path, self.render_state(self.state), self.state, self.model)

    def render_state(self, state: ExplorerState) -> np.ndarray:
        """Blocking render of a state (exports only); ValueError with the reason on failure."""
        if self.model is None:
            raise ValueError("no model is loaded")
        result = self.engine.render_now(self.request_for(state))
        if result.error or result.image is None:
            raise ValueError(result.error or "the renderer returned no image")
        return result.image

    def request_for(self, state: ExplorerState):
        """A state's full render request, with the direction its rows move along."""
        return state.to_request(self.model, self.directions.active(state))

    def current_request(self):
        """The live request: previews allowed, the engine follows up with the full frame."""
        if self.model is None:
            return None
        return self.request_for(self.state).replace(preview=True)

    def frame_is_current(self) -> bool:
        """True when the shown frame belongs to the newest submitted request."""
        return (not self._timer.isActive() and self.last_result is not None
                and self.last_result.stamp == self.last_stamp and not self.last_result.is_preview)

    # --- engine --------------------------------------------------------------------------------
    def _submit(self) -> None:
        request = self.current_request()
        if request is None or request == self._last_request:
            return
        self._last_request = request
        self.last_stamp = self.engine.submit(request)

    def _on_engine_modelLoaded(self, info) -> None:
        state = self._pending_state if self._pending_state is not None else self.state
        companion = companion_directions(info.path)
        if self._pending_state is None and companion and state.direction.source == "random":
            state = state.replace(direction=DirectionSpec(source="labelled", path=companion),
                                  direction_index=0)
        self._loading, self._pending_state = None, None
        self.model, self._last_request = info, None
        self.directions.set_model(info)
        self.history.reset(state.fit(int(info.num_ws)))
        expected, self._expected_hash = self._expected_hash, ""
        self.modelChanged.emit(info)
        if expected and expected != info.content_hash:
            self.message.emit(f"{info.path} changed since the session was saved "
                              "(content hash differs): the image may differ")
        else:
            self.message.emit(f"Loaded {info.path or info.model_id}")
        self._changed()

    def _on_directions_changed(self) -> None:
        """A direction set arrived (or failed): views update, the frame follows."""
        self._changed()

    def _on_engine_resultReady(self, result) -> None:
        if result.error:
            self.message.emit(f"Render failed: {result.error}")
            return
        self.last_result = result
        self.frameReady.emit(result)

    def _on_engine_errorOccurred(self, text: str) -> None:
        if self._loading is None:
            self.message.emit(text)
            return
        failed, self._loading, self._pending_state = self._loading, None, None
        self.loadFailed.emit(text)
        if self.model is None and failed != DEFAULT_MODEL:
            self.open_model(DEFAULT_MODEL)        # nothing loaded yet: fall back to the default
