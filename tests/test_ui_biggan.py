"""The explorer on a tiny BigGAN (native .safetensors): chunk rows, class picker, class
interpolation, truncation by resampling, noise controls off with the reason."""
import numpy as np
import pytest
import torch
from biggan_models import CLASS_NAMES, save_tiny_biggan
from PyQt6.QtCore import QSettings

from ganstudio.core.latents import z_from_seed
from ganstudio.render.qt_engine import RenderEngine
from ganstudio.render.renderer import to_uint8_image
from ganstudio.ui.main_window import MainWindow

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("biggan_ui")
    named, plain = d / "named.safetensors", d / "plain.safetensors"
    G = save_tiny_biggan(named)
    save_tiny_biggan(plain, class_names=())
    return {"named": str(named), "plain": str(plain), "G": G}


def wait_frame(qtbot, win):
    qtbot.waitUntil(win.explorer.frame_is_current, timeout=WAIT_MS)
    return win.view.image.copy()


@pytest.fixture
def win(qtbot, tmp_path, models):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(RenderEngine(device="cpu", synchronous=True, threads=1), settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.open_path(models["named"])
    wait_frame(qtbot, w)
    yield w
    w.close()


def core_image(G, seed: int, c, ws=None) -> np.ndarray:
    with torch.no_grad():
        ws = G.mapping(z_from_seed(seed, G.z_dim)) if ws is None else ws
        return to_uint8_image(G.synthesis(ws, c))


def test_one_row_per_chunk_class_picker_and_biggan_controls(win):
    rows = win.rows_panel.rows
    assert [r.label.text() for r in rows] == ["z0 · linear · 4²", "z1 · blocks.0 · 8²",
                                              "z2 · blocks.1 · 16²", "z3 · blocks.2 · 32²"]
    assert list(win.rows_panel.headers) == ["coarse", "middle"]
    assert all(h.isVisible() for h in win.rows_panel.headers.values())
    assert win.rows_title.text() == "STYLES · 4 Z CHUNKS"
    assert win.class_section.isVisible()
    picker = win.class_panel.class_a
    assert [picker.itemText(i) for i in range(picker.count())] == [
        f"{n} ({i})" for i, n in enumerate(CLASS_NAMES)]
    lp = win.latent_panel
    assert lp.trunc_on.isVisible() and not lp.psi.isVisible() and not lp.cutoff.isVisible()
    for w in (win.noise_panel.mode, win.noise_panel.strength, rows[0].noise):
        assert not w.isEnabled() and "BigGAN has no noise" in w.toolTip()
    assert win.mixing_panel.isEnabled() and lp.seed_b.isEnabled()


def test_changing_class_changes_the_image(qtbot, win, models):
    before = win.view.image.copy()
    assert np.array_equal(before, core_image(models["G"], 0, torch.tensor([0])))
    win.class_panel.class_a.setCurrentIndex(2)
    after = wait_frame(qtbot, win)
    assert win.explorer.state.class_index == 2
    assert not np.array_equal(after, before)
    assert np.array_equal(after, core_image(models["G"], 0, torch.tensor([2])))
    win.undo()
    assert np.array_equal(wait_frame(qtbot, win), before)
    assert win.class_panel.class_a.currentIndex() == 0


def test_moving_one_row_moves_its_chunk_only(qtbot, win, models):
    before, ws0 = win.view.image.copy(), win.explorer.last_result.ws.copy()
    win.rows_panel.rows[2].slider.setValue(800)                 # +3σ along the direction
    after = wait_frame(qtbot, win)
    ws1 = win.explorer.last_result.ws
    assert not np.array_equal(after, before)
    assert np.array_equal(ws1[[0, 1, 3]], ws0[[0, 1, 3]]) and not np.array_equal(ws1[2], ws0[2])
    ws = torch.from_numpy(ws1)[None]
    assert np.array_equal(after, core_image(models["G"], 0, torch.tensor([0]), ws))  # class kept


def test_class_interpolation_slider(qtbot, win):
    images = {}
    for cls in (0, 3):
        win.class_panel.class_a.setCurrentIndex(cls)
        images[cls] = wait_frame(qtbot, win)
    win.class_panel.class_a.setCurrentIndex(0)
    win.class_panel.class_b.setCurrentIndex(3)
    assert np.array_equal(wait_frame(qtbot, win), images[0])    # t = 0: class A
    win.class_panel.mix.setValue(100)
    assert np.array_equal(wait_frame(qtbot, win), images[3])    # t = 1: class B exactly
    assert win.explorer.state.class_mix == 1.0 and win.class_panel.mix_label.text() == "1.00"
    win.class_panel.mix.setValue(50)
    half = wait_frame(qtbot, win)
    assert not np.array_equal(half, images[0]) and not np.array_equal(half, images[3])


def test_truncation_threshold_resamples(qtbot, win):
    before = win.view.image.copy()
    win.latent_panel.trunc_on.setChecked(True)
    after = wait_frame(qtbot, win)
    assert win.explorer.state.truncation == 1.0
    assert np.abs(win.explorer.last_result.ws).max() < 1.0
    assert not np.array_equal(after, before)
    assert win.latent_panel.threshold_label.text() == "±1.00"
    win.latent_panel.trunc_on.setChecked(False)
    assert np.array_equal(wait_frame(qtbot, win), before)


def test_indices_without_class_names_and_no_picker_for_unconditional(qtbot, win, models,
                                                                     tmp_path):
    win.open_path(models["plain"])
    qtbot.waitUntil(lambda: win.explorer.model.path == models["plain"], timeout=WAIT_MS)
    picker = win.class_panel.class_a
    assert [picker.itemText(i) for i in range(picker.count())] == ["0", "1", "2", "3"]
    from render_models import save_tiny
    save_tiny(tmp_path / "sg2.safetensors")
    win.open_path(str(tmp_path / "sg2.safetensors"))
    qtbot.waitUntil(lambda: win.explorer.model.arch == "stylegan2", timeout=WAIT_MS)
    wait_frame(qtbot, win)
    assert not win.class_section.isVisible() and win.latent_panel.psi.isVisible()
    assert not win.latent_panel.trunc_on.isVisible()


def test_state_request_and_json_for_biggan(win):
    from ganstudio.ui.state import ExplorerState
    info = win.explorer.model
    s = ExplorerState(psi=0.5, cutoff=2, truncation=0.8, class_index=1, class_b=9, class_mix=0.25,
                      crossover=2)
    r = s.to_request(info)
    assert (r.truncation_psi, r.truncation_cutoff, r.truncation_threshold) == (1.0, None, 0.8)
    assert (r.class_index, r.class_b, r.class_mix, r.crossover) == (1, 3, 0.25, 2)
    assert ExplorerState.from_json(s.to_json()) == s
    plain = ExplorerState(class_b=2).to_request(info)               # no mix: class B unused
    assert (plain.class_b, plain.class_mix, plain.truncation_threshold) == (None, 0.0, None)
