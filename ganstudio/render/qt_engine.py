"""RenderEngine: the Renderer on one worker QThread, newest request wins (the only Qt module here).

- `submit(request)` stores the request in a one-slot mailbox and returns its stamp at once; the
  worker renders whatever is newest when it gets to it, so a burst of submits costs at most the
  render in progress plus one. Memory stays flat: nothing queues up.
- Results travel back as values; a result older than one already delivered is dropped, and
  results for superseded requests are never rendered at all.
- Preview frames: when the renderer answered with a preview and no newer request arrives within
  `rest_ms`, the engine renders the full frame of the same request (same stamp). That full frame
  is abandoned between stages as soon as a newer request comes in.
- `synchronous=True` renders in the calling thread (tests); `shutdown()` stops and joins the
  worker and is idempotent.
"""
from __future__ import annotations

import threading

from PyQt6.QtCore import QCoreApplication, QObject, QThread, QTimer, pyqtSignal, pyqtSlot

from .renderer import Renderer
from .request import RenderRequest, RenderResult


class _Worker(QObject):
    rendered = pyqtSignal(object, bool)     # RenderResult, was a rest-time full frame
    loaded = pyqtSignal(object)             # ModelInfo
    failed = pyqtSignal(str)

    def __init__(self, engine: "RenderEngine"):
        super().__init__()
        self._engine = engine

    @pyqtSlot()
    def _on_engine_kick(self) -> None:
        self._engine._drain(self)


class RenderEngine(QObject):
    resultReady = pyqtSignal(object)        # RenderResult, newest only; stale stamps dropped
    modelLoaded = pyqtSignal(object)        # ModelInfo
    errorOccurred = pyqtSignal(str)         # e.g. a refused checkpoint; previous model stays loaded
    _kick = pyqtSignal()

    def __init__(self, device: str | None = None, synchronous: bool = False, parent=None, *,
                 renderer: Renderer | None = None, rest_ms: int = 150, **renderer_options):
        super().__init__(parent)
        self._renderer = renderer if renderer is not None else Renderer(device, **renderer_options)
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self._pending: RenderRequest | None = None
        self._pending_full = False          # the pending request is a rest-time full frame
        self._pending_load: str | None = None
        self._kicked = False
        self._stamp = 0                     # last stamp handed out
        self._delivered = -1                # last stamp emitted
        self._stopping = False
        self._render_count = 0
        self._rest_ms = int(rest_ms)
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.timeout.connect(self._on_rest_timer_timeout)
        self._rest_request: RenderResult | None = None   # the preview awaiting its full frame
        self._last_submitted: RenderRequest | None = None
        self._thread: QThread | None = None
        self._worker = _Worker(self)
        if synchronous:
            self._worker.rendered.connect(self._on_worker_rendered)
            self._worker.loaded.connect(self.modelLoaded)
            self._worker.failed.connect(self.errorOccurred)
        else:
            self._thread = QThread()
            self._thread.setObjectName("GANStudio render worker")
            self._worker.moveToThread(self._thread)
            self._kick.connect(self._worker._on_engine_kick)
            self._worker.rendered.connect(self._on_worker_rendered)
            self._worker.loaded.connect(self.modelLoaded)
            self._worker.failed.connect(self.errorOccurred)
            self._thread.start()
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.shutdown)

    # --- public API -----------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._renderer.device_name

    @property
    def renderer(self) -> Renderer:
        return self._renderer

    @property
    def render_count(self) -> int:
        """Renders the worker started (for tests: a burst of submits must not multiply them)."""
        return self._render_count

    @property
    def is_running(self) -> bool:
        """Whether the worker thread runs (False after shutdown and in synchronous mode)."""
        return self._thread is not None and self._thread.isRunning()

    @property
    def pending_count(self) -> int:
        """Requests waiting (0 or 1: the mailbox has one slot)."""
        return 0 if self._pending is None else 1

    def load_model(self, source: str) -> None:
        if self._stopping:
            return
        with self._lock:
            self._pending_load = source
        self._schedule()

    def submit(self, request: RenderRequest) -> int:
        with self._lock:
            self._stamp += 1
            stamp = self._stamp
            self._pending = request.replace(stamp=stamp)
            self._pending_full = False
            self._last_submitted = self._pending
        self._rest_timer.stop()
        if not self._stopping:
            self._schedule()
        return stamp

    def render_now(self, request: RenderRequest) -> RenderResult:
        """Blocking full render for exports; leaves the live frame's stored activations alone."""
        return self._renderer.render(request.replace(preview=False), use_cache=False)

    def shutdown(self) -> None:
        if self._stopping and (self._thread is None or not self._thread.isRunning()):
            return
        self._stopping = True
        self._rest_timer.stop()
        with self._lock:
            self._pending = None
            self._pending_load = None
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()

    # --- scheduling -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._synchronous:
            self._drain(self._worker)
            return
        with self._lock:
            if self._kicked:
                return
            self._kicked = True
        self._kick.emit()

    def _drain(self, worker: _Worker) -> None:
        """Worker side: load what is asked, then render the newest request; repeat until empty."""
        while not self._stopping:
            with self._lock:
                source, self._pending_load = self._pending_load, None
                request, self._pending = (None, self._pending) if source else (self._pending, None)
                full = self._pending_full and request is not None
                if source is None and request is None:
                    self._kicked = False
                    return
            if source is not None:
                try:
                    info = self._renderer.load(source)
                except Exception as e:  # noqa: BLE001 — never raise across the thread
                    worker.failed.emit(str(e).splitlines()[0] if str(e) else type(e).__name__)
                else:
                    worker.loaded.emit(info)
                continue
            self._render_count += 1
            abort = self._should_abort_full if full else self._should_abort
            result = self._renderer.render(request, should_abort=abort)
            if not result.details.get("aborted"):
                worker.rendered.emit(result, full)

    def _should_abort(self) -> bool:
        return self._stopping

    def _should_abort_full(self) -> bool:
        return self._stopping or self._pending is not None or self._pending_load is not None

    # --- GUI-thread side ------------------------------------------------------------------------
    @pyqtSlot(object, bool)
    def _on_worker_rendered(self, result: RenderResult, full: bool) -> None:
        if self._stopping:
            return
        stale = result.stamp < self._delivered or (result.stamp == self._delivered and not full)
        if stale:
            return
        self._delivered = result.stamp
        self.resultReady.emit(result)
        if result.is_preview and result.error is None and result.stamp == self._stamp:
            self._rest_request = result
            self._rest_timer.start(self._rest_ms)

    @pyqtSlot()
    def _on_rest_timer_timeout(self) -> None:
        done, self._rest_request = self._rest_request, None
        last = self._last_submitted
        if done is None or self._stopping or last is None or done.stamp != last.stamp:
            return
        with self._lock:
            if self._pending is not None:
                return
            self._pending = last.replace(preview=False)
            self._pending_full = True
        self._schedule()
