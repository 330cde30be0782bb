"""Direction sets of the loaded model, by recipe: computed off the GUI thread (PCA, SeFa) or read
from files, cached, and turned into the one direction the rows move along.

`active(state)` answers at once: the direction, or None while a set is being computed (the job
starts on first demand; newest demand wins) or when it failed (`listing(spec).status` says why).
`changed` fires when a set arrives or fails, so the explorer submits again.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from ganstudio.render import tools
from ganstudio.render.qt_jobs import Job

from .directions import COMPUTED, FILES, ActiveDirection, DirectionSpec, random_active

VALUE_LABELS = {"explained_variance_ratio": "var", "eigenvalue": "λ", "train_accuracy": "acc",
                "train_r2": "R²"}


@dataclass(frozen=True)
class DirectionListing:
    """What the picker shows: one entry per direction, the layer range and a status line."""
    names: tuple = ()
    values: tuple = ()               # text per entry, e.g. "λ 12.3"
    first: int = 0
    last: int = 0
    status: str = ""
    busy: bool = False


class DirectionLibrary(QObject):
    changed = pyqtSignal()

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.model = None
        self._sets: dict[tuple, object] = {}        # key → core Direction (numpy values)
        self._errors: dict[tuple, str] = {}
        self._actives: dict[tuple, ActiveDirection] = {}
        self._job: Job | None = None
        self._job_key: tuple | None = None
        self._wanted: tuple | None = None           # newest demanded key not yet computed
        self._closed = False

    def set_model(self, info) -> None:
        self.model = info
        self._sets.clear()
        self._errors.clear()
        self._actives.clear()
        self._wanted = None

    def key(self, spec: DirectionSpec) -> tuple | None:
        if self.model is None or spec.source == "random":
            return None
        first, last = spec.layer_range(int(self.model.num_ws))
        if spec.source in COMPUTED:
            extra = (spec.seed, spec.samples) if spec.source == "pca" else ()
            return (self.model.model_id, spec.source, spec.k, first, last) + extra
        return (self.model.model_id, spec.source, spec.path)

    # --- sets ------------------------------------------------------------------------------------
    def direction_set(self, spec: DirectionSpec):
        """The core Direction for a recipe, or None (being computed, or failed)."""
        key = self.key(spec)
        if key is None or key in self._errors:
            return None
        if key in self._sets:
            return self._sets[key]
        if spec.source in FILES:
            try:
                self.load_file(spec.path, spec.source)
            except ValueError as e:
                self._errors[key] = str(e)
                return None
            return self._sets[key]
        self._demand(key, spec)
        return None

    def load_file(self, path: str, source: str = "file"):
        """Read and check a directions file for the loaded model (ValueError says why not)."""
        if self.model is None:
            raise ValueError("no model is loaded")
        d = tools.read_direction_file(path, int(self.model.num_ws), int(self.model.w_dim),
                                      labelled=source == "labelled")
        key = self.key(DirectionSpec(source=source, path=str(path)))
        self._sets[key] = d
        self._errors.pop(key, None)
        return d

    def _demand(self, key: tuple, spec: DirectionSpec) -> None:
        if key == self._job_key:
            return
        self._wanted = (key, spec)
        if self._job is None:
            self._start_wanted()

    def _start_wanted(self) -> None:
        if self._wanted is None or self._closed:
            return
        (key, spec), self._wanted = self._wanted, None
        renderer, model_id = self.engine.renderer, self.model.model_id
        first, last = spec.layer_range(int(self.model.num_ws))

        def work(progress, preview, should_stop):
            return tools.compute_directions(renderer, model_id, spec.source, k=spec.k,
                                            layers=(first, last), seed=spec.seed,
                                            num_samples=spec.samples)
        self._job, self._job_key = Job(work, self, f"directions {spec.source}"), key
        self._job.finished.connect(lambda d: self._on_job_done(key, d, ""))
        self._job.failed.connect(lambda msg: self._on_job_done(key, None, msg))
        self._job.start()

    def _on_job_done(self, key: tuple, d, error: str) -> None:
        self._job.deleteLater()
        self._job, self._job_key = None, None
        if self.model is not None and key[0] == self.model.model_id:
            if d is not None:
                self._sets[key] = d
            else:
                self._errors[key] = error
        self._start_wanted()
        self.changed.emit()

    # --- the direction in use --------------------------------------------------------------------
    def active(self, state) -> ActiveDirection | None:
        if self.model is None:
            return None
        num_ws, w_dim = int(self.model.num_ws), int(self.model.w_dim)
        if state.direction.source == "random":
            return random_active(state.direction_seed, num_ws, w_dim)
        d = self.direction_set(state.direction)
        if d is None:
            return None
        index = min(max(int(state.direction_index), 0), d.k - 1)
        key = (self.key(state.direction), index)
        if key not in self._actives:
            first, last = d.layers
            last = num_ws - 1 if last == -1 else min(last, num_ws - 1)
            self._actives[key] = ActiveDirection.from_array(d.vectors[index], first, last,
                                                            d.component_names[index])
        return self._actives[key]

    def actives(self, state) -> list[ActiveDirection]:
        """Every direction of the state's set (one for "random"), for preview strips."""
        if state.direction.source == "random":
            a = self.active(state)
            return [] if a is None else [a]
        d = self.direction_set(state.direction)
        return [] if d is None else [self.active(state.replace(direction_index=i))
                                     for i in range(d.k)]

    def listing(self, state) -> DirectionListing:
        if self.model is None:
            return DirectionListing(status="no model")
        spec, n = state.direction, int(self.model.num_ws)
        if spec.source == "random":
            return DirectionListing((f"random per layer · seed {state.direction_seed}",), ("",),
                                    0, n - 1, "one random unit vector per W input")
        key = self.key(spec)
        d = self.direction_set(spec)
        if d is None:
            busy = key not in self._errors
            status = (f"computing {spec.source.upper() if spec.source == 'pca' else 'SeFa'}…"
                      if busy else self._errors[key])
            first, last = spec.layer_range(n)
            return DirectionListing(first=first, last=last, status=status, busy=busy)
        label = VALUE_LABELS.get(d.values_label, d.values_label)
        values = tuple(f"{label} {v:.3g}" if label else f"{v:.3g}" for v in d.values)
        a = self.active(state)
        where = f" · {Path(spec.path).name}" if spec.source in FILES else ""
        status = f"{d.k} {d.method} direction{'s' * (d.k > 1)} · w{a.first}–w{a.last}{where}"
        return DirectionListing(tuple(d.component_names), values, a.first, a.last, status)

    def shutdown(self) -> None:
        """Join a running job; no new ones start."""
        self._closed = True
        if self._job is not None:
            self._job.shutdown()
