"""The explorer window against the real render engine, on tiny models saved to tmp_path."""
import threading

import numpy as np
from event_loop import timer_lateness_ms
import pytest
import torch
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QMessageBox

from ganstudio.core.checkpoint import load_native_generator, save_generator
from ganstudio.core.latents import style_mix, z_from_seed
from ganstudio.core.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from ganstudio.render.qt_engine import RenderEngine
from ganstudio.ui.documents import read_document
from ganstudio.ui.main_window import MainWindow

WAIT_MS = 30_000


def _stylegan2(path, **cfg):
    g = torch.Generator().manual_seed(1)
    G = StyleGAN2Generator(StyleGAN2Config(z_dim=16, w_dim=16, mapping_layers=1, **cfg))
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.5)                      # noise visible, so its switches matter
            elif name.endswith("bias") and "synthesis" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    save_generator(path, G)
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {
        "small": _stylegan2(d / "small.safetensors", img_resolution=32, channel_base=256,
                            channel_max=8),
        "other": _stylegan2(d / "other.safetensors", img_resolution=16, channel_base=128,
                            channel_max=8),
        "1024": _stylegan2(d / "big1024.safetensors", img_resolution=1024, channel_base=4096,
                           channel_max=4),
    }


def make_window(qtbot, tmp_path, model, synchronous=True):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(RenderEngine(device="cpu", synchronous=synchronous, threads=1),
                     settings=settings)
    qtbot.addWidget(win)
    win.show()
    win.open_path(model)
    wait_frame(qtbot, win)
    return win


def wait_frame(qtbot, win):
    qtbot.waitUntil(win.explorer.frame_is_current, timeout=WAIT_MS)
    return win.view.image.copy()


@pytest.fixture
def window(qtbot, tmp_path, models):
    win = make_window(qtbot, tmp_path, models["small"])
    yield win
    win.close()


def core_mixing(path, seed_a, seed_b, psi, crossover):
    """Style mixing straight through the core: ws [num_ws, w_dim] and the uint8 image."""
    G = load_native_generator(path)
    with torch.no_grad():
        wa = G.mapping(z_from_seed(seed_a, G.z_dim), None, truncation_psi=psi)
        wb = G.mapping(z_from_seed(seed_b, G.z_dim), None, truncation_psi=psi)
        ws = style_mix(wa, wb, crossover)                                   # [1, num_ws, w_dim]
        img = G.synthesis(ws, noise_mode="const")                           # [1, 3, H, W]
    img = (img[0] * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return ws[0].numpy(), img


def test_window_shows_one_row_per_w_input(qtbot, tmp_path, models):
    win = make_window(qtbot, tmp_path, models["1024"])
    rows = win.rows_panel.rows
    assert len(rows) == 18 == win.explorer.model.num_ws
    assert rows[6].label.text() == "w6 · 32² · middle"
    assert list(win.rows_panel.headers) == ["coarse", "middle", "fine"]
    assert win.view.image.shape == (1024, 1024, 3)
    assert win.info_panel.values["W inputs"].text() == "18"
    win.close()


def test_row_slider_changes_image_and_only_its_layer(qtbot, window):
    before_img, before = wait_frame(qtbot, window), window.explorer.state
    row = window.rows_panel.rows[3]
    row.slider.setValue(row.slider.value() + 200)                 # +2σ
    img = wait_frame(qtbot, window)
    after = window.explorer.state
    assert after.offsets == tuple(2.0 if i == 3 else 0.0 for i in range(len(after.offsets)))
    assert after.replace(offsets=before.offsets) == before
    assert np.abs(img.astype(int) - before_img).mean() > 0.5


def test_group_header_moves_its_rows(qtbot, window):
    header = window.rows_panel.headers["middle"]
    header.slider.setValue(header.slider.value() + 100)
    wait_frame(qtbot, window)
    groups = {r.index: s.group for r, s in zip(window.rows_panel.rows, window.rows_panel._specs)}
    offsets = window.explorer.state.offsets
    assert all((offsets[i] == 1.0) == (g == "middle") for i, g in groups.items())


def test_layer_noise_switch_changes_image(qtbot, window):
    before = wait_frame(qtbot, window)
    box = window.rows_panel.rows[2].noise
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    img = wait_frame(qtbot, window)
    assert window.explorer.state.noise_on[2] is False
    assert sum(window.explorer.state.noise_on) == len(window.explorer.state.noise_on) - 1
    assert not np.array_equal(img, before)


def test_crossover_reproduces_core_style_mixing(qtbot, window, models):
    window.latent_panel.seed_a.setValue(3)
    window.latent_panel.seed_b.setValue(8)
    plain = wait_frame(qtbot, window)
    window.mixing_panel.crossover.setValue(4)
    img = wait_frame(qtbot, window)
    state = window.explorer.state
    assert (state.seed_a, state.seed_b, state.crossover) == (3, 8, 4)
    ws, ref = core_mixing(models["small"], 3, 8, state.psi, 4)
    assert np.array_equal(window.explorer.last_result.ws, ws)      # the same ws, bit for bit
    # the renderer's fast kernels round differently from the core's reference ops in the last
    # float bit, which can move a pixel across a uint8 boundary
    assert np.abs(img.astype(int) - ref).max() <= 1 and (img != ref).mean() < 0.01
    assert not np.array_equal(img, plain)
    markers = [r.marker.text() for r in window.rows_panel.rows]
    assert markers == ["A"] * 4 + ["B"] * (len(markers) - 4)


def test_a_drag_is_one_undo_step_and_undo_restores_the_image(qtbot, window):
    img0 = wait_frame(qtbot, window)
    slider = window.rows_panel.rows[1].slider
    slider.setSliderDown(True)
    for step in (50, 100, 150, 300):
        slider.setValue(500 + step)
    slider.setSliderDown(False)
    img1 = wait_frame(qtbot, window)
    assert window.explorer.state.offset(1) == 3.0 and not np.array_equal(img0, img1)
    window.actions["undo"].trigger()
    assert np.array_equal(wait_frame(qtbot, window), img0)
    assert window.explorer.state.offset(1) == 0.0
    window.actions["redo"].trigger()
    assert np.array_equal(wait_frame(qtbot, window), img1)


def test_session_round_trip_reloads_its_model(qtbot, window, tmp_path, models):
    window.latent_panel.seed_a.setValue(5)
    window.mixing_panel.crossover.setValue(2)
    window.rows_panel.rows[0].slider.setValue(600)
    saved_img, saved = wait_frame(qtbot, window), window.explorer.state
    window.explorer.save_session(tmp_path / "s.json")
    window.open_path(models["other"])                         # another model, other state
    qtbot.waitUntil(lambda: window.explorer.model.path == models["other"], timeout=WAIT_MS)
    window.latent_panel.seed_a.setValue(9)
    wait_frame(qtbot, window)
    window.open_path(str(tmp_path / "s.json"))
    qtbot.waitUntil(lambda: window.explorer.model.path == models["small"], timeout=WAIT_MS)
    assert np.array_equal(wait_frame(qtbot, window), saved_img)
    assert window.explorer.state == saved


def test_png_carries_the_state_and_restores_it(qtbot, window, tmp_path):
    window.latent_panel.seed_a.setValue(7)
    window.noise_panel.mode.setCurrentText("random")
    window.rows_panel.rows[4].slider.setValue(300)
    img, state = wait_frame(qtbot, window), window.explorer.state
    window.explorer.save_png(tmp_path / "shot.png")
    from PIL import Image
    assert np.array_equal(np.asarray(Image.open(tmp_path / "shot.png")), img)
    assert read_document(tmp_path / "shot.png").state == state
    window.actions["reset"].trigger()
    window.latent_panel.seed_a.setValue(1)
    assert not np.array_equal(wait_frame(qtbot, window), img)
    window.open_path(str(tmp_path / "shot.png"))
    assert np.array_equal(wait_frame(qtbot, window), img)
    assert window.explorer.state == state


def test_mixing_grid_export(qtbot, window, tmp_path):
    window.export_grid(tmp_path / "grid.png", [0, 1], [2, 3, 4], 3)
    from PIL import Image
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (3 * 32, 4 * 32, 3)
    window.latent_panel.seed_a.setValue(1)
    window.latent_panel.seed_b.setValue(3)
    window.mixing_panel.crossover.setValue(3)
    assert np.array_equal(grid[64:96, 64:96], wait_frame(qtbot, window))   # row A=1, column B=3


def test_bad_file_gives_a_dialog_and_keeps_the_model(qtbot, window, tmp_path, monkeypatch,
                                                     models):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args[1:]))
    img = wait_frame(qtbot, window)
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    window.open_path(str(bad))
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    title, text = shown[0]
    assert "broken.safetensors" in text and "\n" not in text
    assert window.explorer.model.path == models["small"]
    assert window.info_panel.values["File"].text() == "small.safetensors"
    assert np.array_equal(window.view.image, img)
    window.rows_panel.rows[0].slider.setValue(700)                # the old model still renders
    assert not np.array_equal(wait_frame(qtbot, window), img)


def test_pggan_has_one_z_row_and_no_mixing(qtbot, tmp_path):
    from ganstudio.core.pggan import PGGANConfig, PGGANGenerator
    path = tmp_path / "pg.safetensors"
    save_generator(path, PGGANGenerator(PGGANConfig(img_resolution=16, z_dim=16,
                                                    channel_base=128, channel_max=16)))
    win = make_window(qtbot, tmp_path, str(path))
    assert len(win.rows_panel.rows) == 1
    assert win.rows_panel.rows[0].label.text().startswith("z")
    assert not win.mixing_panel.isEnabled() and "W space" in win.mixing_panel.toolTip()
    noise = win.rows_panel.rows[0].noise
    assert noise.isVisible() and not noise.isEnabled() and "W space" in noise.toolTip()
    assert not win.latent_panel.seed_b.isEnabled()
    before = win.view.image.copy()
    win.rows_panel.rows[0].slider.setValue(800)
    assert not np.array_equal(wait_frame(qtbot, win), before)
    win.close()


def test_closing_the_window_stops_the_render_thread(qtbot, tmp_path, models):
    threads_before = set(threading.enumerate())
    win = make_window(qtbot, tmp_path, models["small"], synchronous=False)
    engine = win.engine
    assert engine.is_running
    win.rows_panel.rows[0].slider.setValue(900)                   # close while work is queued
    win.close()
    assert not engine.is_running
    assert set(threading.enumerate()) <= threads_before


def test_gui_stays_responsive_while_rendering_a_large_model(qtbot, tmp_path):
    path = _stylegan2(tmp_path / "large.safetensors", img_resolution=256, channel_base=16384,
                      channel_max=64)
    win = make_window(qtbot, tmp_path, path, synchronous=False)
    ex = win.explorer
    # keep the worker busy: every finished frame asks for the next seed
    ex.frameReady.connect(lambda _: ex.edit(ex.state.replace(seed_a=ex.state.seed_a + 1)))
    ex.edit(ex.state.replace(seed_a=1))
    renders_before = win.engine.render_count
    lateness = timer_lateness_ms(qtbot, 1000, WAIT_MS)
    assert win.engine.render_count - renders_before >= 2          # it really was rendering
    p95 = float(np.percentile(lateness, 95))
    assert p95 < 50, f"timer lateness p95 {p95:.1f} ms"
    win.close()


def test_dropped_file_opens_and_is_remembered(qtbot, window, models):
    from PyQt6.QtCore import QMimeData, QPointF, QUrl
    from PyQt6.QtGui import QDropEvent
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(models["other"])])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.view.dropEvent(event)
    qtbot.waitUntil(lambda: window.explorer.model.path == models["other"], timeout=WAIT_MS)
    assert wait_frame(qtbot, window).shape == (16, 16, 3)
    assert window.recent_files()[:2] == [models["other"], models["small"]]
    assert [a.text() for a in window.recent_menu.actions()][:1] == [models["other"]]


def test_integer_zoom_and_fit(qtbot, window):
    window.actions["zoom_in"].trigger()
    z = window.explorer.state.zoom
    assert z >= 2 and window.view.canvas.size().width() == 32 * z
    window.actions["fit"].trigger()
    assert window.explorer.state.zoom == 0 and window.view.widgetResizable()
    assert not window.explorer.history.can_undo()                 # zoom is not an edit


def _shown_colours(window) -> int:
    """How many distinct colours the canvas draws inside the image (4×-enlarged 32² frame)."""
    window.view.canvas.repaint()
    grab = window.view.canvas.grab().toImage()
    w, h = grab.width(), grab.height()
    inner = [grab.pixelColor(x, y).rgb() for x in range(w // 2 - 40, w // 2 + 40)
             for y in range(h // 2 - 40, h // 2 + 40)]
    return len(set(inner))


def test_smooth_enlarging_toggles_and_is_remembered(qtbot, window, tmp_path, models):
    """Enlarged 4×, crisp pixels show only the frame's own colours (each 4×4 block one colour);
    smooth enlarging interpolates between them. The choice survives a restart."""
    window.explorer.set_zoom(4)
    frame_colours = {tuple(c) for c in window.view.image.reshape(-1, 3)}
    assert window.actions["smooth"].isChecked()                     # the default
    smooth = _shown_colours(window)
    window.actions["smooth"].trigger()
    assert not window.actions["smooth"].isChecked() and not window.view.smooth
    crisp = _shown_colours(window)
    assert crisp <= min(len(frame_colours), 20 * 20) < smooth
    window.settings.sync()
    again = make_window(qtbot, tmp_path, models["small"])
    assert not again.actions["smooth"].isChecked() and not again.view.smooth
    again.close()


def test_shortcuts_and_copy(qtbot, window):
    window.activateWindow()
    window.rows_panel.rows[0].slider.setFocus()
    qtbot.keyClick(window.rows_panel.rows[0].slider, Qt.Key.Key_BracketRight)
    assert window.explorer.state.seed_a == 1
    img = wait_frame(qtbot, window)
    window.actions["copy_image"].trigger()
    from PyQt6.QtWidgets import QApplication
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (img.shape[1], img.shape[0])


def test_command_line_model_opens(qtbot, tmp_path, models):
    from ganstudio.ui.app import create_window
    settings = QSettings(str(tmp_path / "cli.ini"), QSettings.Format.IniFormat)
    win = create_window(models["other"], device="cpu", synchronous=True, settings=settings)
    qtbot.addWidget(win)
    wait_frame(qtbot, win)
    assert win.explorer.model.path == models["other"] and win.engine.device == "cpu"
    win.close()


def test_preview_frames_keep_the_zoomed_size(qtbot):
    from ganstudio.ui.image_view import ImageView
    view = ImageView()
    qtbot.addWidget(view)
    view.set_image(np.zeros((32, 32, 3), np.uint8))
    view.set_zoom(3)
    assert view.canvas.size().width() == 96
    view.set_image(np.full((8, 8, 3), 200, np.uint8), 32)           # a preview of the same frame
    assert view.canvas.size().width() == 96 and view.image.shape == (8, 8, 3)
    shot = view.canvas.grab().toImage()
    assert shot.pixelColor(90, 90).red() == 200                    # drawn over the full area


def _wheel(widget, dy=-120):
    from PyQt6.QtCore import QPoint, QPointF
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_wheel_over_an_unfocused_control_scrolls_the_panel_not_the_value(qtbot, window):
    """Scrolling the sidebar past the noise-mode box leaves it alone and scrolls the sidebar;
    once the box has the focus the wheel changes it (as it always did)."""
    window.resize(1000, 420)                       # short enough for the sidebar to scroll
    qtbot.waitUntil(lambda: window.side_scroll.verticalScrollBar().maximum() > 0)
    mode, bar = window.noise_panel.mode, window.side_scroll.verticalScrollBar()
    assert mode.focusPolicy() == Qt.FocusPolicy.StrongFocus
    before, top = mode.currentIndex(), bar.value()
    _wheel(mode)
    assert mode.currentIndex() == before and window.explorer.state.noise_mode == "const"
    assert bar.value() > top and not window.explorer.history.can_undo()
    mode.setFocus()
    qtbot.waitUntil(mode.hasFocus)
    _wheel(mode)
    assert mode.currentIndex() != before
