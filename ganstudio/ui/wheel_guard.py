"""Scrolling a panel never edits a value by accident.

A mouse wheel over a combo box, spin box or slider that does not have the keyboard focus scrolls
the panel it sits in instead of changing the value (as in most design tools); click the control
first and the wheel changes it. Wheel focus is turned off for those controls as they appear, so
the first wheel turn cannot give them the focus either.
"""
from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PyQt6.QtWidgets import (QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox,
                             QScrollBar, QWidget)

VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    w = widget.parentWidget()
    while w is not None:
        if isinstance(w, QAbstractScrollArea) and not isinstance(w, VALUE_WIDGETS):
            return w
        w = w.parentWidget()
    return None


def _no_wheel_focus(widget: QWidget) -> None:
    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


class WheelGuard(QObject):
    """An application event filter acting on the value widgets inside `window`."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        for kind in VALUE_WIDGETS:                  # those built before the guard
            for w in window.findChildren(kind):
                if not isinstance(w, QScrollBar):
                    _no_wheel_focus(w)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.Wheel, QEvent.Type.Polish):
            return False
        if (not isinstance(obj, VALUE_WIDGETS) or isinstance(obj, QScrollBar)   # bars scroll
                or obj.window() is not self._window):
            return False
        if kind == QEvent.Type.Polish:
            _no_wheel_focus(obj)
            return False
        if obj.hasFocus():
            return False
        area = _scroll_area_of(obj)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event.clone())
        return True
