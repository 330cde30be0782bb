"""Undo/redo as a stack of immutable states; consecutive edits of one control make one step."""
from __future__ import annotations


class History:
    """Past states, the present one, and undone states.

    `push(state, key)` records an edit. Edits carrying the same non-None key as the previous one
    merge into it until `seal()` (e.g. slider release), so a whole drag is one undo step.
    """

    def __init__(self, state, limit: int = 500):
        self._past: list = []
        self._future: list = []
        self.present = state
        self._key = None
        self._limit = limit

    def push(self, state, key: str | None = None) -> None:
        if state == self.present:
            return
        if key is None or key != self._key:
            self._past.append(self.present)
            del self._past[:-self._limit]
        self.present = state
        self._future.clear()
        self._key = key

    def seal(self) -> None:
        """End the current gesture: the next edit starts a new undo step."""
        self._key = None

    def reset(self, state) -> None:
        """Forget everything (a new model was opened)."""
        self._past.clear()
        self._future.clear()
        self.present, self._key = state, None

    def can_undo(self) -> bool:
        return bool(self._past)

    def can_redo(self) -> bool:
        return bool(self._future)

    def undo(self):
        if self._past:
            self._future.append(self.present)
            self.present = self._past.pop()
        self._key = None
        return self.present

    def redo(self):
        if self._future:
            self._past.append(self.present)
            self.present = self._future.pop()
        self._key = None
        return self.present
