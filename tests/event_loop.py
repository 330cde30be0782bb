"""Measuring how late a 10 ms QTimer fires while other work runs: the GUI's responsiveness."""
from PyQt6.QtCore import QElapsedTimer, Qt, QTimer


def timer_lateness_ms(qtbot, duration_ms: int, timeout_ms: int, interval_ms: int = 10) -> list[float]:
    """Lateness of each tick of a precise `interval_ms` timer over `duration_ms` of event loop."""
    clock, lateness, last = QElapsedTimer(), [], [None]
    clock.start()

    def tick():
        now = clock.elapsed()
        if last[0] is not None:
            lateness.append(now - last[0] - interval_ms)
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(interval_ms)
    qtbot.waitUntil(lambda: clock.elapsed() > duration_ms, timeout=timeout_ms)
    timer.stop()
    return lateness
