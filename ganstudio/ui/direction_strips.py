"""Preview strips for the direction picker: per direction, the current image moved −2σ … +2σ along
it on its layer range, rendered small off the GUI thread.

Strips depend on the image without row offsets and on the direction set, so dragging a row slider
does not redo them; any other change does, a moment after the last edit, and a newer round cancels
the older one (latest wins). The 0σ frame is the same for every direction and is rendered once.
"""
from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from ganstudio.render import tools
from ganstudio.render.qt_jobs import Job

AMOUNTS = (-2.0, -1.0, 0.0, 1.0, 2.0)
THUMB = 40                        # pixels
DELAY_MS = 250


class DirectionStrips(QObject):
    stripReady = pyqtSignal(int, object)     # direction index, list of len(AMOUNTS) uint8 images
    roundFinished = pyqtSignal()             # every strip of the newest round is out

    def __init__(self, explorer, parent=None):
        super().__init__(parent)
        self.explorer = explorer
        self._key = None
        self._job: Job | None = None
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._start)
        explorer.stateChanged.connect(lambda _: self.refresh())
        explorer.directions.changed.connect(self.refresh)

    def refresh(self) -> None:
        self._timer.start()

    def _round(self):
        """(key, center request, per-direction request lists) for the current state, or None."""
        ex = self.explorer
        if ex.model is None:
            return None
        state = ex.state
        base = state.replace(offsets=(0.0,) * state.num_ws, zoom=0, direction_index=0)
        actives = ex.directions.actives(state)
        if not actives:
            return None
        key = (ex.model.model_id, base, ex.directions.key(state.direction), len(actives))
        center = base.to_request(ex.model, actives[0]).replace(size=THUMB)
        strips = []
        for a in actives:
            reqs = []
            for amount in AMOUNTS:
                offsets = tuple(amount if a.covers(i) else 0.0 for i in range(state.num_ws))
                reqs.append(None if amount == 0 else
                            base.replace(offsets=offsets).to_request(ex.model, a).replace(size=THUMB))
            strips.append(reqs)
        return key, center, strips

    def _start(self) -> None:
        if self._closed:
            return
        made = self._round()
        if made is None or made[0] == self._key:
            return
        self._key, center, strips = made
        if self._job is not None:
            self._job.cancel()                 # it stops before its next frame; results ignored
        renderer = self.explorer.engine.renderer

        def work(progress, preview, should_stop):
            mid = []
            tools.render_requests(renderer, [center], lambda i, r: mid.append(r.image),
                                  should_stop)
            for i, reqs in enumerate(strips):
                images = []
                for req in reqs:
                    if req is None:
                        images.append(mid[0])
                    else:
                        tools.render_requests(renderer, [req],
                                              lambda _, r: images.append(r.image), should_stop)
                preview((i, images))
        job = Job(work, self, "direction strips")
        job.previewReady.connect(lambda v, job=job: self._on_job_preview(job, v))
        for signal in (job.finished, job.cancelled, job.failed):
            signal.connect(lambda *_, job=job: self._on_job_ended(job))
        self._job = job
        job.start()

    def _on_job_preview(self, job: Job, value) -> None:
        if job is self._job:
            index, images = value
            self.stripReady.emit(index, images)

    def _on_job_ended(self, job: Job) -> None:
        if job is self._job:
            self._job = None
            self.roundFinished.emit()
        job.deleteLater()

    def forget(self) -> None:
        """Make the next refresh render again (e.g. the picker rebuilt its list)."""
        self._key = None

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        for job in self.findChildren(Job):
            job.shutdown()
