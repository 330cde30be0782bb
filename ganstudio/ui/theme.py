"""A dark Fusion theme: neutral greys, one accent, compact controls."""
from __future__ import annotations

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

ACCENT = "#4a8fe0"

STYLE = f"""
QMainWindow, QWidget {{ font-size: 9pt; }}
#section {{ border-bottom: 1px solid #2c2f34; }}
#sectionTitle {{ color: #8d96a3; font-weight: 600; font-size: 8pt; letter-spacing: 1px; }}
#groupHeader {{ background: #2a2e35; border-top: 1px solid #3a3f47; }}
#groupTitle {{ font-weight: 600; color: #e4e8ee; }}
#styleRow:hover {{ background: #25282d; }}
#valueLabel, #statusField {{ color: #aab3bf; font-family: monospace; }}
#tickLabel {{ color: #7c8591; font-size: 7pt; }}
#infoValue {{ color: #d6dbe2; }}
#imageView, #imageCanvas {{ background: #141518; border: none; }}
QSplitter::handle {{ background: #2c2f34; }}
QSlider::groove:horizontal {{ height: 4px; background: #3a3f47; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: #3a5f8f; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: #d8dde4; width: 10px; margin: -5px 0; border-radius: 5px; }}
QSlider::handle:horizontal:hover {{ background: {ACCENT}; }}
QSlider::groove:vertical {{ width: 4px; background: #3a3f47; border-radius: 2px; }}
QSlider::add-page:vertical {{ background: #b0703a; border-radius: 2px; }}
QSlider::handle:vertical {{ background: #d8dde4; height: 8px; margin: 0 -4px; border-radius: 4px; }}
QSlider::handle:horizontal:disabled, QSlider::handle:vertical:disabled {{ background: #555a61; }}
QSlider::sub-page:horizontal:disabled, QSlider::add-page:vertical:disabled {{ background: #3a3f47; }}
QScrollArea {{ border: none; }}
QCheckBox::indicator {{ width: 11px; height: 11px; border: 1px solid #5d646e; border-radius: 2px;
                        background: #17191c; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QCheckBox::indicator:indeterminate {{ background: #2d4f78; border-color: {ACCENT}; }}
QCheckBox::indicator:disabled {{ background: #25282d; border-color: #3a3f47; }}
#columnCaption {{ color: #7c8591; font-size: 7pt; }}
#directionList {{ background: #17191c; border: 1px solid #2c2f34; border-radius: 3px; }}
#directionList::item:selected {{ background: #2d4f78; }}
#directionList::item:hover:!selected {{ background: #22252a; }}
#thumb {{ background: #141518; }}
QToolBar {{ background: #1b1d21; border: none; border-bottom: 1px solid #2c2f34; spacing: 2px;
           padding: 2px 6px; }}
QToolBar QToolButton {{ padding: 3px 8px; border-radius: 3px; color: #c9d0d9; }}
QToolBar QToolButton:hover {{ background: #2f333a; }}
QToolBar QToolButton:disabled {{ color: #555a61; }}
QToolBar::separator {{ background: #33373e; width: 1px; margin: 4px 6px; }}
QMenuBar {{ background: #1b1d21; }}
QStatusBar {{ background: #1b1d21; color: #aab3bf; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QTabWidget::pane {{ border: none; }}
QTabBar {{ background: #1b1d21; qproperty-drawBase: 0; }}
QTabWidget::tab-bar {{ left: 0; }}
QTabBar::tab {{ background: #1b1d21; color: #8d96a3; padding: 5px 18px; border: none;
               border-bottom: 2px solid transparent; font-weight: 600; }}
QTabBar::tab:selected {{ color: #e4e8ee; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover:!selected {{ color: #c9d0d9; }}
QPushButton {{ background: #2a2d33; border: 1px solid #3a3f47; border-radius: 3px; padding: 4px 12px;
              color: #d6dbe2; }}
QPushButton:hover {{ background: #31353c; }}
QPushButton:disabled {{ color: #555a61; background: #24272c; border-color: #2e3238; }}
#primaryButton {{ background: {ACCENT}; border-color: {ACCENT}; color: #ffffff; font-weight: 600; }}
#primaryButton:hover {{ background: #5b9ce6; }}
#primaryButton:disabled {{ background: #2a3a50; border-color: #2a3a50; color: #7c8a9c; }}
QProgressBar {{ background: #17191c; border: 1px solid #2c2f34; border-radius: 3px; height: 16px;
               text-align: center; color: #d6dbe2; }}
QProgressBar::chunk {{ background: #3a5f8f; border-radius: 2px; }}
#trainState {{ color: #8d96a3; font-weight: 600; }}
#trainState[state="running"] {{ color: #7cc46a; }}
#trainState[state="paused"] {{ color: #e0b03a; }}
#trainState[state="stopping"], #trainState[state="waiting"] {{ color: #e08a3a; }}
#valueLabel[error="true"] {{ color: #e3735e; }}
#trainThumb {{ background: #141518; }}
#trainNote {{ color: #8d96a3; }}
QCheckBox::indicator:checked:disabled {{ background: #34465e; border-color: #34465e; }}
"""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#1f2125", QPalette.ColorRole.WindowText: "#d6dbe2",
        QPalette.ColorRole.Base: "#17191c", QPalette.ColorRole.AlternateBase: "#22252a",
        QPalette.ColorRole.Text: "#d6dbe2", QPalette.ColorRole.Button: "#2a2d33",
        QPalette.ColorRole.ButtonText: "#d6dbe2", QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2a2d33",
        QPalette.ColorRole.ToolTipText: "#e4e8ee", QPalette.ColorRole.PlaceholderText: "#6c737d",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, c in colors.items():
        p.setColor(role, QColor(c))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#62686f"))
    app.setPalette(p)
    app.setStyleSheet(STYLE)
