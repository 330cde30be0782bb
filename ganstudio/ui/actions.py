"""Menus, actions and keyboard shortcuts of the main window (the one table of shortcuts)."""
from __future__ import annotations

from PyQt6.QtGui import QAction, QKeySequence

# name, menu, text, shortcuts, MainWindow method
ACTIONS = [
    ("open", "File", "&Open model…", ["Ctrl+O"], "open_model_dialog"),
    ("open_document", "File", "Open session or &PNG…", ["Ctrl+Shift+O"], "open_document_dialog"),
    ("save_session", "File", "Save &session…", ["Ctrl+Shift+S"], "save_session_dialog"),
    ("save_image", "File", "&Save image…", ["Ctrl+S"], "save_image_dialog"),
    ("grid", "File", "Export style-mixing &grid…", ["Ctrl+G"], "export_grid_dialog"),
    ("video", "File", "Export &video…", ["Ctrl+E"], "export_video_dialog"),
    ("load_latent_a", "File", "&Load latent A (.npz)…", ["Ctrl+L"], "load_latent_a_dialog"),
    ("load_latent_b", "File", "Load latent B (.npz)…", ["Ctrl+Shift+L"], "load_latent_b_dialog"),
    ("save_latent_a", "File", "Save latent A (.npz)…", [], "save_latent_a_dialog"),
    ("save_latent_b", "File", "Save latent B (.npz)…", [], "save_latent_b_dialog"),
    ("project", "File", "&Project image…", ["Ctrl+P"], "project_image_dialog"),
    ("quit", "File", "&Quit", ["Ctrl+Q"], "close"),
    ("undo", "Edit", "&Undo", ["Ctrl+Z"], "undo"),
    ("redo", "Edit", "&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], "redo"),
    ("copy_image", "Edit", "&Copy image", ["Ctrl+C"], "copy_image"),
    ("reset", "Edit", "Reset &edits (rows, mixing)", ["Ctrl+R"], "reset"),
    ("next_seed", "Edit", "Next seed A", ["]"], "next_seed"),
    ("prev_seed", "Edit", "Previous seed A", ["["], "prev_seed"),
    ("next_seed_b", "Edit", "Next seed B", ["Ctrl+]"], "next_seed_b"),
    ("prev_seed_b", "Edit", "Previous seed B", ["Ctrl+["], "prev_seed_b"),
    ("fit", "View", "&Fit to window", ["Ctrl+0"], "zoom_fit"),
    ("actual", "View", "&Actual pixels (1×)", ["Ctrl+1"], "zoom_actual"),
    ("zoom_in", "View", "Zoom &in", ["Ctrl+=", "Ctrl++"], "zoom_in"),
    ("zoom_out", "View", "Zoom &out", ["Ctrl+-"], "zoom_out"),
    ("smooth", "View", "&Smooth enlarging", ["Ctrl+Shift+0"], "set_smooth_enlarging"),
]

CHECKABLE = {"smooth"}

# the toolbar above the image: action name → short label (None: separator)
TOOLBAR = [("open", "Open"), ("save_image", "Save"), ("copy_image", "Copy"), None,
           ("undo", "Undo"), ("redo", "Redo"), ("reset", "Reset"), None,
           ("fit", "Fit"), ("actual", "1×"), ("zoom_out", "−"), ("zoom_in", "+"), None,
           ("grid", "Mixing grid")]


def install_actions(window) -> dict[str, QAction]:
    """Create the menu bar and return the actions by name."""
    bar = window.menuBar()
    menus, actions = {}, {}
    for name, menu, text, keys, method in ACTIONS:
        if menu not in menus:
            menus[menu] = bar.addMenu("&" + menu)
        if name == "quit":
            window.recent_menu = menus[menu].addMenu("Open &recent")
            menus[menu].addSeparator()
        act = QAction(text, window)
        act.setShortcuts([QKeySequence(k) for k in keys])
        plain = text.replace('&', '').rstrip('…')
        act.setToolTip(f"{plain} ({keys[0]})" if keys else plain)
        act.setCheckable(name in CHECKABLE)
        act.triggered.connect(getattr(window, method))
        menus[menu].addAction(act)
        window.addAction(act)             # shortcuts work wherever the focus is
        actions[name] = act
        if name in ("video", "project", "copy_image", "prev_seed_b", "zoom_out"):
            menus[menu].addSeparator()
    bar = window.addToolBar("Main")
    bar.setObjectName("mainToolbar")
    bar.setMovable(False)
    for item in TOOLBAR:
        if item is None:
            bar.addSeparator()
            continue
        name, label = item
        actions[name].setIconText(label)
        bar.addAction(actions[name])
    return actions


def shortcut_table() -> str:
    """Markdown table of the shortcuts, for the README."""
    lines = ["| Action | Shortcut |", "|---|---|"]
    for _, _, text, keys, _ in ACTIONS:
        lines.append(f"| {text.replace('&', '').rstrip('…')} | {' / '.join(keys) or '—'} |")
    return "\n".join(lines)
