"""The Train tab against the real trainer and render engine, with tiny networks at 16²."""
import json
import threading

import numpy as np
from event_loop import timer_lateness_ms
import pytest
import torch
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QMessageBox

from ganstudio.core.checkpoint import load_native_generator, read_checkpoint
from ganstudio.core.latents import z_from_seed
from ganstudio.render.qt_engine import RenderEngine
from ganstudio.ui.main_window import MainWindow
from trainer_tiny import TINY_MODEL

WAIT_MS = 60_000
DATA = "synthetic:faces?n=32"
# tiny networks, batch 4, a stats tick and a preview every few steps, no scheduled snapshot
TINY = dict(model=dict(TINY_MODEL), batch=4, batch_per_res={}, tick_kimg=0.016,
            preview_kimg=0.016, snapshot_kimg=1000.0, r1_interval=2, pl_interval=2,
            preview_grid=(2, 2), seed=3)


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(synchronous=True):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(RenderEngine(device="cpu", synchronous=synchronous, threads=1),
                         settings=settings)
        # never leave a training thread behind, and never ask while closing after a failure
        qtbot.addWidget(win, before_close_func=lambda w: w.train_panel.controller.shutdown())
        win.show()
        return win

    return make


def setup_run(qtbot, win, folder, data=DATA, arch="stylegan2", kimg=1000.0, res=16, **extra):
    """Fill the form for a tiny run (test hook `extra` sets the tiny networks)."""
    panel = win.train_panel
    win.show_train()
    opts = panel.options
    opts.arch.setCurrentIndex(opts.arch.findData(arch))
    opts.res.setCurrentIndex(opts.res.findData(res))
    opts.kimg.setValue(kimg)
    panel.run_box.set_path(str(folder))
    panel.extra = {**TINY, **extra}
    panel.dataset_box.set_spec(data)
    qtbot.waitUntil(lambda: (panel.controller.summary is not None
                             and panel.controller.summary.spec == data), timeout=WAIT_MS)
    return panel


def record(signal):
    values = []
    signal.connect(values.append)
    return values


def start(qtbot, panel):
    qtbot.mouseClick(panel.controls.start, Qt.MouseButton.LeftButton)


def python_threads():
    """Threads started from Python (the scan thread, TensorBoard's writer…). A QThread that ran
    Python code shows up as a never-removed _DummyThread: its end is checked with is_running()."""
    return {t for t in threading.enumerate() if type(t).__name__ != "_DummyThread"}


def core_render(path, seed, psi):
    """The EMA generator of a checkpoint, straight through the core: uint8 [H, W, 3]."""
    G = load_native_generator(path)
    with torch.no_grad():
        ws = G.mapping(z_from_seed(seed, G.z_dim), None, truncation_psi=psi)
        img = G.synthesis(ws, noise_mode="const")                          # [1, 3, H, W]
    return (img[0] * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def test_train_from_the_panel_then_explore_the_snapshot(qtbot, make_window, tmp_path):
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run")
    assert panel.dataset_box.headline.text().startswith("32 usable images at 16²")
    assert panel.dataset_box.thumbnail_count() == 8
    c = panel.controller
    progress, previews, stats = record(c.progressChanged), record(c.previewReady), record(c.statsReady)
    panel.options.fields["g_lr"].setValue(0.0015)                  # an Advanced value
    start(qtbot, panel)
    qtbot.waitUntil(lambda: len(progress) >= 2 and bool(previews and stats), timeout=WAIT_MS)
    assert c.state == "running" and win.tabs.tabText(1).startswith("Train · ")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["g_lr"] == 0.0015 and saved["res"] == 16 and saved["data"] == DATA
    assert progress[-1]["kimg"] > progress[0]["kimg"] and progress[0]["resolution"] == 16
    assert panel.controls.bar.text().startswith(f"{progress[-1]['kimg']:.2f} / 1000 kimg")
    assert "ETA" in panel.controls.detail.text()
    assert "16×16" in panel.controls.detail.text()
    assert previews[0].shape == (32, 32, 3) and panel.preview.grid.cell() == 16
    assert panel.plots.points("loss_G") >= 1 and panel.plots.points("images_per_s") >= 1

    # the preview is enlarged by a whole number with crisp pixels: a block of equal pixels
    grid = panel.preview.grid
    s = grid.scale()
    assert s >= 2 and s == int(s)
    shot, image = grid.grab().toImage(), grid.image
    side = round(16 * s)
    x0 = (grid.width() - (2 * side + 3)) // 2
    y0 = (grid.height() - (2 * side + 3)) // 2
    for px, py in ((0, 0), (5, 9), (15, 15)):
        for dx, dy in ((0, 0), (int(s) - 1, int(s) - 1)):
            color = shot.pixelColor(x0 + int(px * s) + dx, y0 + int(py * s) + dy)
            assert (color.red(), color.green(), color.blue()) == tuple(image[py, px])

    qtbot.mouseClick(panel.controls.stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)
    latest = tmp_path / "run" / "latest.safetensors"
    assert latest.is_file() and c.latest == str(latest)
    assert read_checkpoint(latest).meta["train"]["step"] >= 2
    assert panel.run_box.resuming() and panel.controls.start.text() == "Resume run"

    with qtbot.waitSignal(win.engine.resultReady, timeout=WAIT_MS):
        qtbot.mouseClick(panel.controls.explore, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(win.explorer.frame_is_current, timeout=WAIT_MS)
    assert win.tabs.currentIndex() == 0 and win.explorer.model.path == str(latest)
    img = win.view.image
    ref = core_render(latest, win.explorer.state.seed_a, win.explorer.state.psi)
    assert img.shape == (16, 16, 3) and np.abs(img.astype(int) - ref).max() <= 1


def test_pause_really_pauses_and_explore_saves_while_paused(qtbot, make_window, tmp_path):
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run")
    c = panel.controller
    progress = record(c.progressChanged)
    start(qtbot, panel)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=WAIT_MS)
    worker = c.worker
    with qtbot.waitSignal(c.stateChanged, timeout=WAIT_MS, check_params_cb=lambda s: s == "paused"):
        qtbot.mouseClick(panel.controls.pause, Qt.MouseButton.LeftButton)
    assert panel.controls.pause.text() == "Resume" and win.tabs.tabText(1) == "Train · paused"
    step = progress[-1]["step"]
    with qtbot.assertNotEmitted(worker.progressChanged, wait=700):
        # explore while paused: the trainer writes latest.safetensors between two steps
        with qtbot.waitSignal(win.engine.resultReady, timeout=WAIT_MS):
            qtbot.mouseClick(panel.controls.explore, Qt.MouseButton.LeftButton)
    latest = tmp_path / "run" / "latest.safetensors"
    assert win.explorer.model.path == str(latest)
    assert read_checkpoint(latest).meta["train"]["step"] == step        # nothing trained
    assert c.state == "paused" and progress[-1]["step"] == step

    with qtbot.waitSignal(c.progressChanged, timeout=WAIT_MS):
        qtbot.mouseClick(panel.controls.pause, Qt.MouseButton.LeftButton)
    assert progress[-1]["step"] > step and c.state == "running"
    qtbot.mouseClick(panel.controls.stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)
    stopped = read_checkpoint(latest).meta["train"]["step"]

    # "Resume run" continues the same run from its checkpoint, with its curves kept
    points = panel.plots.points("loss_G")
    assert panel.controls.start.text() == "Resume run" and points >= 1
    progress.clear()
    start(qtbot, panel)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=WAIT_MS)
    assert progress[0]["step"] == stopped + 1
    assert panel.plots.points("loss_G") >= points
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)


def test_growing_pggan_shows_fade_in_and_previews_at_the_current_resolution(
        qtbot, make_window, tmp_path):
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run", arch="pggan", phase_kimg=0.008,
                      transition_kimg=0.024)
    c = panel.controller
    progress, previews = record(c.progressChanged), record(c.previewReady)
    cells = []                                    # the preview's sample size, per preview
    panel.controller.previewReady.connect(lambda _: cells.append(panel.preview.grid.cell()))
    assert panel.plots.plots["reg"].titleLabel.text == "Gradient penalty (WGAN-GP)"
    start(qtbot, panel)
    qtbot.waitUntil(lambda: any(0 < p["alpha"] < 1 for p in progress), timeout=WAIT_MS)
    fading = next(p for p in progress if 0 < p["alpha"] < 1)
    assert progress[0]["resolution"] == 4 and fading["resolution"] == 8
    qtbot.waitUntil(lambda: 8 in cells or 16 in cells, timeout=WAIT_MS)
    assert cells[0] == 4 and previews[0].shape == (8, 8, 3)             # 2×2 samples of 4²
    assert any(previews[i].shape[0] == 2 * cells[i] for i in range(len(cells)))
    assert "fade-in α" in panel.controls.detail.text()
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)


def test_biggan_trains_from_the_panel_and_opens_with_its_classes(qtbot, make_window, tmp_path):
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run", arch="biggan", res=32,
                      model=dict(ch=4, d_ch=4, z_dim=20, shared_dim=8, attn_resolutions=(16,),
                                 d_attn_resolutions=(16,)))
    fields = panel.options.fields                   # the Advanced rows BigGAN uses, only
    assert fields["r1_gamma"].isHidden() and not fields["model.ch"].isHidden()
    c = panel.controller
    previews = record(c.previewReady)
    start(qtbot, panel)
    qtbot.waitUntil(lambda: bool(previews), timeout=WAIT_MS)
    rows, cols = panel.preview.grid.rows, panel.preview.grid.cols      # BigGAN: a row per class
    assert previews[0].shape == (rows * 32, cols * 32, 3) and panel.preview.grid.cell() == 32
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)
    with qtbot.waitSignal(win.engine.resultReady, timeout=WAIT_MS):
        qtbot.mouseClick(panel.controls.explore, Qt.MouseButton.LeftButton)
    assert win.explorer.model.arch == "biggan" and win.explorer.model.c_dim > 1
    assert win.view.image.shape == (32, 32, 3)


def _bad_folder(path, kind):
    path.mkdir()
    if kind == "corrupt":
        (path / "a.png").write_bytes(b"this is not a picture")
        png = (path / "b.png")
        from PIL import Image
        Image.new("RGB", (64, 64), (200, 10, 10)).save(png)
        png.write_bytes(png.read_bytes()[:60])                            # truncated
        (path / "notes.txt").write_text("hello")
    return str(path)


@pytest.mark.parametrize("kind", ["empty", "corrupt"])
def test_bad_dataset_shows_the_report_instead_of_starting(qtbot, make_window, tmp_path, kind):
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run")
    bad = _bad_folder(tmp_path / "bad", kind)
    panel.dataset_box.edit.setText(bad)           # typed, not yet read: Start reads it first
    refused = record(panel.controller.refused)
    start(qtbot, panel)
    qtbot.waitUntil(lambda: bool(refused), timeout=WAIT_MS)
    c = panel.controller
    assert c.worker is None and c.state == "idle" and not (tmp_path / "run").exists()
    assert panel.controls.detail.text().startswith("Not started:")
    head, details = panel.dataset_box.headline.text(), panel.dataset_box.details.text()
    if kind == "empty":
        assert "empty" in head and "bad" in head
    else:
        assert "no usable images" in head
        assert "not an image" in details and "a.png" in details
        assert "corrupt image" in details and "b.png" in details
        assert "unsupported file type" in details and "notes.txt" in details
    assert panel.dataset_box.thumbnail_count() == 0
    assert panel.controls.start.isEnabled()


def test_closing_while_training_asks_then_stops_and_saves(qtbot, make_window, tmp_path,
                                                        monkeypatch):
    threads_before = python_threads()
    win = make_window()
    panel = setup_run(qtbot, win, tmp_path / "run")
    c = panel.controller
    progress = record(c.progressChanged)
    start(qtbot, panel)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=WAIT_MS)
    worker, asked, answer = c.worker, [], [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1]) or answer[0])
    win.show_train()
    win.close()                                   # Cancel: keeps training
    assert len(asked) == 1 and win.isVisible() and c.state == "running"
    n = len(progress)
    qtbot.waitUntil(lambda: len(progress) > n, timeout=WAIT_MS)
    answer[0] = QMessageBox.StandardButton.Yes
    win.close()                                   # Yes: stop, save, then close
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=WAIT_MS)
    assert len(asked) == 2 and not worker.is_running() and c.worker is None
    assert read_checkpoint(tmp_path / "run" / "latest.safetensors").meta["train"]["step"] >= 2
    qtbot.waitUntil(lambda: python_threads() <= threads_before, timeout=WAIT_MS)

    # `ganstudio --train RUN_FOLDER` opens that run ready to continue, with its curves and preview
    from ganstudio.ui.app import create_window
    settings = QSettings(str(tmp_path / "again.ini"), QSettings.Format.IniFormat)
    again = create_window(device="cpu", synchronous=True, settings=settings,
                          train=str(tmp_path / "run"))
    qtbot.addWidget(again)
    p2 = again.train_panel
    assert again.tabs.currentWidget() is p2 and p2.run_box.resuming()
    assert p2.run_box.info.text().startswith("Holds a StyleGAN2 16² run at")
    assert p2.controls.start.text() == "Resume run" and not p2.options.arch.isEnabled()
    assert p2.plots.points("loss_G") >= 1 and p2.preview.grid.cell() == 16
    again.close()


def test_explorer_stays_responsive_while_training(qtbot, make_window, tmp_path):
    win = make_window(synchronous=False)
    panel = setup_run(qtbot, win, tmp_path / "run")
    c = panel.controller
    progress = record(c.progressChanged)
    start(qtbot, panel)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=WAIT_MS)
    with qtbot.waitSignal(win.explorer.modelChanged, timeout=WAIT_MS):
        qtbot.mouseClick(panel.controls.explore, Qt.MouseButton.LeftButton)
    ex = win.explorer
    qtbot.waitUntil(ex.frame_is_current, timeout=WAIT_MS)
    # keep the explorer busy: every finished frame asks for the next seed
    ex.frameReady.connect(lambda _: ex.edit(ex.state.replace(seed_a=ex.state.seed_a + 1)))
    ex.edit(ex.state.replace(seed_a=1))
    renders, steps = win.engine.render_count, len(progress)
    lateness = timer_lateness_ms(qtbot, 1500, WAIT_MS)
    assert win.engine.render_count - renders >= 2 and len(progress) - steps >= 2   # both busy
    p95 = float(np.percentile(lateness, 95))
    print(f"event-loop lateness while training and rendering: p95 {p95:.1f} ms, "
          f"max {max(lateness):.1f} ms over {len(lateness)} ticks")
    assert p95 < 50, f"timer lateness p95 {p95:.1f} ms"
    c.stop()
    qtbot.waitUntil(lambda: c.state == "idle", timeout=WAIT_MS)


@pytest.mark.parametrize("arch", ["pggan", "stylegan", "stylegan2", "biggan"])
def test_every_preset_makes_a_valid_config(arch):
    from ganstudio.ui.train_recipe import PRESETS, RESOLUTIONS, build_config, preset_config
    for name in PRESETS:
        for res in RESOLUTIONS[2:]:
            base = preset_config(arch, res, name)
            assert base.arch == arch and base.res == res
    cfg = build_config(arch=arch, res=64, preset_name="CPU · small networks", kimg=5.0,
                       advanced={"batch": 8}, data=" synthetic:faces ", out="runs/x")
    assert cfg.batch == 8 and cfg.batch_per_res == {} and cfg.data == "synthetic:faces"
    with pytest.raises(ValueError, match="dataset"):
        build_config(arch=arch, res=64, preset_name="CPU · small networks", kimg=5.0,
                     advanced={}, data="  ", out="runs/x")
