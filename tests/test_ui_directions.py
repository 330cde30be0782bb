"""Direction picker, stored latents, projection and video export in the explorer window, against
the real render engine on a tiny StyleGAN2 saved to tmp_path."""
import numpy as np
import pytest
import torch
from PIL import Image
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from ganstudio.core.checkpoint import load_native_generator, save_generator
from ganstudio.core.directions import (Direction, pca_directions, save_direction,
                                       sefa_directions)
from ganstudio.core.latent_files import load_latents
from ganstudio.core.latents import z_from_seed
from ganstudio.render.qt_engine import RenderEngine
from ganstudio.render.request import LatentSource, RenderRequest
from ganstudio.ui.directions import DirectionSpec
from ganstudio.ui.documents import read_document
from ganstudio.ui.main_window import MainWindow
from ganstudio.ui.state import ExplorerState
from ganstudio.ui.stored_latent import StoredLatent

from tiny_models import tiny_stylegan2

WAIT_MS = 60_000
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """16² StyleGAN2 with 6 W inputs (coarse w0–w3, middle w4–w5), images inside [-1, 1]."""
    path = tmp_path_factory.mktemp("model") / "tiny16.safetensors"
    save_generator(path, tiny_stylegan2(res=16, dim=32))
    return str(path)


@pytest.fixture
def win(qtbot, tmp_path, model):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(RenderEngine(device="cpu", synchronous=True, threads=1), settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.open_path(model)
    wait_frame(qtbot, w)
    yield w
    w.close()


def wait_frame(qtbot, w):
    qtbot.waitUntil(w.explorer.frame_is_current, timeout=WAIT_MS)
    return w.view.image.copy()


def choose_source(qtbot, w, source):
    """What a user's pick in the Source combo does."""
    panel = w.direction_panel
    panel.source.activated.emit(panel.source.findData(source))


def psnr_uint8(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def core_render(G, ws):
    with torch.no_grad():
        img = G.synthesis(ws, noise_mode="const")                            # [1, 3, H, W]
    return (img[0] * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def test_state_keeps_direction_recipe_and_stored_latents_in_json():
    ws = np.random.default_rng(0).standard_normal((6, 32)).astype(np.float32)
    s = ExplorerState(direction=DirectionSpec(source="sefa", k=5, first=1, last=3),
                      direction_index=2, latent_a=StoredLatent.from_array(ws, "w", "p.png"),
                      latent_b=StoredLatent.from_array(ws[0], "z")).fit(6)
    back = ExplorerState.from_json(s.to_json())
    assert back == s and np.array_equal(back.latent_a.array(), ws)       # float32, bit for bit
    assert "vectors" not in s.to_json()
    with pytest.raises(ValueError, match="direction source"):
        ExplorerState.from_dict({"direction": {"source": "magic"}})


def test_sefa_fills_the_picker_and_rows_move_along_the_chosen_direction(qtbot, win, model):
    panel, ex = win.direction_panel, win.explorer
    panel.k.setValue(4)
    with qtbot.waitSignal(ex.directions.changed, timeout=WAIT_MS):
        choose_source(qtbot, win, "sefa")
    assert ex.state.direction.source == "sefa" and panel.list.count() == 4
    d = ex.directions.direction_set(ex.state.direction)
    np.testing.assert_allclose(np.linalg.norm(d.vectors, axis=1), 1.0, atol=1e-5)
    G = load_native_generator(model)
    np.testing.assert_allclose(d.vectors, sefa_directions(G, k=4).vectors, atol=1e-6)
    assert all(r.slider.isEnabled() for r in win.rows_panel.rows)       # SeFa over all layers

    strips = {}
    win.strips.stripReady.connect(lambda i, images: strips.__setitem__(i, images))
    with qtbot.waitSignal(win.strips.roundFinished, timeout=WAIT_MS):
        panel.list.setCurrentRow(2)
    assert ex.state.direction_index == 2
    before = wait_frame(qtbot, win)
    row = win.rows_panel.rows[3]
    row.slider.setValue(row.slider.value() + 200)                       # +2σ on w3
    img = wait_frame(qtbot, win)
    assert ex.state.offsets == (0.0, 0.0, 0.0, 2.0, 0.0, 0.0)
    assert np.abs(img.astype(int) - before).mean() > 0.5

    v = d.vectors[2]
    direct = win.engine.render_now(RenderRequest(
        model_id=ex.model.model_id, latent_a=LatentSource(seed=0), latent_b=LatentSource(seed=1),
        direction=(tuple(float(x) for x in v),), offsets=(0.0, 0.0, 0.0, 2.0, 0.0, 0.0)))
    assert np.array_equal(img, direct.image)
    # the same edit straight through the core: σ = std of mapped W along v over 1,000 seeded z
    with torch.no_grad():
        z = torch.randn([1000, G.z_dim], generator=torch.Generator().manual_seed(0))
        sigma = (G.mapping(z, None)[:, 0] @ torch.from_numpy(v)).std()
        ws = G.mapping(z_from_seed(0, G.z_dim), None)
        ws[:, 3] += 2 * sigma * torch.from_numpy(v)
    ref = core_render(G, ws)
    assert np.abs(img.astype(int) - ref).max() <= 1 and (img != ref).mean() < 0.02

    # preview strips: one per direction; the middle frame is the unedited image, the ends move
    assert sorted(strips) == [0, 1, 2, 3] and all(e.has_images() for e in panel.list.entries)
    assert all(np.array_equal(strips[i][2], strips[0][2]) for i in range(4))
    plus2 = win.engine.render_now(RenderRequest(
        model_id=ex.model.model_id, direction=(tuple(float(x) for x in d.vectors[1]),),
        offsets=(2.0,) * 6, size=strips[1][4].shape[0])).image
    assert np.array_equal(strips[1][4], plus2)
    assert not np.array_equal(strips[1][0], strips[1][2])


def test_pca_follows_the_panel_parameters(qtbot, win, model):
    panel, ex = win.direction_panel, win.explorer
    panel.k.setValue(3)
    panel.samples.setValue(600)
    with qtbot.waitSignal(ex.directions.changed, timeout=WAIT_MS):
        choose_source(qtbot, win, "pca")
    with qtbot.waitSignal(ex.directions.changed, timeout=WAIT_MS):
        panel.last.setValue(3)                                 # a new layer range: a new set
    spec = ex.state.direction
    assert (spec.source, spec.k, spec.samples, spec.first, spec.last) == ("pca", 3, 600, 0, 3)
    d = ex.directions.direction_set(spec)
    ref = pca_directions(load_native_generator(model), k=3, num_samples=600, seed=0,
                         layers=(0, 3))
    np.testing.assert_allclose(d.vectors, ref.vectors, atol=1e-5)
    assert panel.list.count() == 3 and panel.list.entries[0].value.text().startswith("var")
    assert [r.slider.isEnabled() for r in win.rows_panel.rows] == [True] * 4 + [False] * 2
    panel.amount.setValue(panel.amount.value() + 100)          # "Move": every row in range
    assert ex.state.offsets == (1.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    wait_frame(qtbot, win)


def test_direction_file_and_its_layer_range(qtbot, win, model, tmp_path, monkeypatch):
    G = load_native_generator(model)
    d = sefa_directions(G, k=3, layers=(2, 4))
    save_direction(tmp_path / "mid.npz", d)
    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: errors.append(args[2]))
    chosen = [str(tmp_path / "mid.npz")]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen[0], ""))
    choose_source(qtbot, win, "file")
    ex, panel, rows = win.explorer, win.direction_panel, win.rows_panel
    assert ex.state.direction == DirectionSpec(source="file", path=chosen[0]) and not errors
    assert panel.list.count() == 3 and "w2–w4" in panel.status.text()
    assert [r.slider.isEnabled() for r in rows.rows] == [False, False, True, True, True, False]
    assert "w2–w4" in rows.rows[0].slider.toolTip()

    rows.headers["coarse"].slider.setValue(rows.headers["coarse"].slider.value() + 100)
    rows.headers["middle"].slider.setValue(rows.headers["middle"].slider.value() + 100)
    img = wait_frame(qtbot, win)
    assert ex.state.offsets == (0.0, 0.0, 1.0, 1.0, 1.0, 0.0)       # only rows in range moved
    direct = win.engine.render_now(RenderRequest(
        model_id=ex.model.model_id, direction=(tuple(float(x) for x in d.vectors[0]),),
        offsets=(0.0, 0.0, 1.0, 1.0, 1.0, 0.0)))
    assert np.array_equal(img, direct.image)

    # bad files: one clear line each, the current directions stay
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    save_direction(tmp_path / "wide.npz", Direction(name="wide", method="sefa",
                                                    vectors=np.eye(2, 64), layers=(0, -1),
                                                    values=[1, 1]))
    for bad in ("other.npz", "wide.npz", "missing.npz"):
        chosen[0] = str(tmp_path / bad)
        choose_source(qtbot, win, "file")
    assert len(errors) == 3 and all("\n" not in e for e in errors)
    assert "w_dim 64" in errors[1] and ex.state.direction.path == str(tmp_path / "mid.npz")
    # a labelled direction needs its classifier
    chosen[0] = str(tmp_path / "mid.npz")
    choose_source(qtbot, win, "labelled")
    assert "not a labelled direction" in errors[-1]
    weight = np.random.default_rng(0).standard_normal(32)        # a classifier made elsewhere
    save_direction(tmp_path / "smile.npz", Direction(
        name="smile", method="logistic", vectors=(weight / np.linalg.norm(weight))[None],
        layers=(0, -1), values=[0.93], values_label="train_accuracy", component_names=("smile",),
        arrays={"weight": weight, "bias": np.array([0.1])}))
    chosen[0] = str(tmp_path / "smile.npz")
    choose_source(qtbot, win, "labelled")
    assert ex.state.direction.source == "labelled" and panel.list.entries[0].name.text() == "smile"
    assert all(r.slider.isEnabled() for r in rows.rows)


def test_directions_shipped_beside_a_model_are_offered_when_it_opens(qtbot, tmp_path):
    """NAME.directions.npz beside NAME.safetensors (how the demo model ships its face factors)
    becomes the picker's set on opening, and the rows move along its first direction."""
    save_generator(tmp_path / "faces.safetensors", tiny_stylegan2(res=16, dim=32))
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((2, 32))
    save_direction(tmp_path / "faces.directions.npz", Direction(
        name="face factors", method="labelled",
        vectors=weight / np.linalg.norm(weight, axis=1, keepdims=True), layers=(0, -1),
        values=[0.9, 0.8], values_label="fit", component_names=("smile", "glasses"),
        arrays={"weight": weight, "bias": np.zeros(2)}))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(RenderEngine(device="cpu", synchronous=True, threads=1), settings=settings)
    qtbot.addWidget(w)
    w.open_path(str(tmp_path / "faces.safetensors"))
    start = wait_frame(qtbot, w)
    spec = w.explorer.state.direction
    assert spec.source == "labelled" and spec.path == str(tmp_path / "faces.directions.npz")
    qtbot.waitUntil(lambda: len(w.direction_panel.list.entries) == 2, timeout=WAIT_MS)
    assert [e.name.text() for e in w.direction_panel.list.entries] == ["smile", "glasses"]
    row = w.rows_panel.rows[0]
    row.slider.setValue(row.slider.value() + 200)
    assert not np.array_equal(wait_frame(qtbot, w), start)
    w.close()


def test_projection_from_the_ui_sets_latent_a(qtbot, win, tmp_path):
    ex = win.explorer
    target = win.engine.render_now(RenderRequest(model_id=ex.model.model_id,
                                                 latent_a=LatentSource(seed=7))).image
    Image.fromarray(target).save(tmp_path / "target.png")
    row = win.rows_panel.rows[2]
    row.slider.setValue(row.slider.value() + 100)          # an edit the projection replaces
    start = wait_frame(qtbot, win)
    dlg = win.project_image(str(tmp_path / "target.png"))
    dlg.steps.setValue(150)
    with qtbot.waitSignal(dlg.projected, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.start_button, LEFT)
    result = blocker.args[0]
    print(f"projection W+ 150 steps: PSNR {result.psnr:.2f} dB (start {psnr_uint8(start, target):.2f})")
    assert result.psnr > 25 and result.steps_done == 150 and not result.stopped
    assert dlg.progress.value() == 150 and not dlg.render_view.pixmap().isNull()
    assert ex.state.latent_a.label == "projected target.png" and ex.state.offsets == (0.0,) * 6
    img = wait_frame(qtbot, win)
    assert psnr_uint8(img, target) > 25 > psnr_uint8(start, target) + 5
    assert win.latent_files_panel.labels["a"].text() == "projected target.png"
    dlg.save_latent(str(tmp_path / "proj.npz"))
    lat = load_latents(tmp_path / "proj.npz")
    assert lat.w.shape == (1, 6, 32) and np.array_equal(lat.w, result.ws) and lat.space == "w+"

    # Stop ends early and still hands over what it found
    dlg.steps.setValue(5000)
    with qtbot.waitSignal(dlg.projected, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.start_button, LEFT)
        qtbot.waitUntil(lambda: dlg.progress.value() >= 10, timeout=WAIT_MS)
        qtbot.mouseClick(dlg.stop_button, LEFT)
    stopped = blocker.args[0]
    assert stopped.stopped and 10 <= stopped.steps_done < 5000
    assert np.array_equal(ex.state.latent_a.array()[None], stopped.ws)


def test_projection_dialog_remembers_its_vgg16_file_and_says_why_it_is_unusable(qtbot, win,
                                                                               tmp_path):
    ex = win.explorer
    target = win.engine.render_now(RenderRequest(model_id=ex.model.model_id,
                                                 latent_a=LatentSource(seed=7))).image
    Image.fromarray(target).save(tmp_path / "target.png")
    (tmp_path / "vgg16.pth").write_bytes(b"not weights")
    before = ex.state.latent_a
    dlg = win.project_image(str(tmp_path / "target.png"))
    assert dlg.vgg16.text() == ""                                     # none by default
    dlg.vgg16.setText(str(tmp_path / "vgg16.pth"))
    dlg.steps.setValue(2)
    qtbot.mouseClick(dlg.start_button, LEFT)
    qtbot.waitUntil(lambda: dlg.job is None, timeout=WAIT_MS)
    assert "perceptual loss" in dlg.status.text() and "vgg16.pth" in dlg.status.text()
    assert ex.state.latent_a == before and dlg.start_button.isEnabled()
    dlg.close()
    again = win.project_image(str(tmp_path / "target.png"))
    assert again.vgg16.text() == str(tmp_path / "vgg16.pth")
    again.close()


def test_latent_files_round_trip(qtbot, win, tmp_path, monkeypatch):
    ex = win.explorer
    win.latent_panel.seed_a.setValue(3)
    row = win.rows_panel.rows[1]
    row.slider.setValue(row.slider.value() + 150)
    shown = wait_frame(qtbot, win)
    win.save_latent(str(tmp_path / "a.npz"), "a")
    lat = load_latents(tmp_path / "a.npz")
    assert lat.w.shape == (1, 6, 32) and lat.w.dtype == np.float32           # NVIDIA layout
    assert np.array_equal(lat.w[0], ex.last_result.ws) and lat.seeds is None  # edited: no seed
    assert lat.model_hash == ex.model.content_hash[:16]

    win.actions["reset"].trigger()
    win.latent_panel.seed_a.setValue(9)
    win.rows_panel.rows[4].slider.setValue(700)                             # loading A resets it
    assert not np.array_equal(wait_frame(qtbot, win), shown)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(tmp_path / "a.npz"), ""))
    win.actions["load_latent_a"].trigger()
    assert np.array_equal(wait_frame(qtbot, win), shown)                      # same image back
    assert ex.state.latent_a.label == "a.npz" and ex.state.offsets == (0.0,) * 6
    win.explorer.save_session(tmp_path / "s.json")
    assert read_document(tmp_path / "s.json").state == ex.state

    # latent B: a plain seed is saved with its seed; NVIDIA-style files (only `w`) load too
    win.save_latent(str(tmp_path / "b.npz"), "b")
    b = load_latents(tmp_path / "b.npz")
    assert list(b.seeds) == [ex.state.seed_b] and b.space == "w"
    np.savez(tmp_path / "nv.npz", w=b.w)
    win.load_latent(str(tmp_path / "nv.npz"), "a")
    plain_b = win.engine.render_now(RenderRequest(model_id=ex.model.model_id,
                                                  latent_a=LatentSource(seed=ex.state.seed_b)))
    assert np.array_equal(wait_frame(qtbot, win), plain_b.image)
    win.latent_panel.seed_a.setValue(4)                    # a new seed A replaces the stored A
    assert ex.state.latent_a is None and ex.state.seed_a == 4


def test_video_dialog_writes_gifs_with_the_expected_frames(qtbot, win, tmp_path):
    shown = wait_frame(qtbot, win)
    dlg = win.export_video_dialog()
    dlg.path.setText(str(tmp_path / "ab.gif"))
    dlg.frames.setValue(7)
    with qtbot.waitSignal(dlg.written, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.start_button, LEFT)
    assert blocker.args == [str(tmp_path / "ab.gif"), 7] and dlg.progress.value() == 7
    gif = Image.open(tmp_path / "ab.gif")
    assert gif.n_frames == 7
    frames = []
    for i in range(7):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB")).astype(int))
    b = win.engine.render_now(RenderRequest(model_id=win.explorer.model.model_id,
                                            latent_a=LatentSource(seed=1))).image
    assert np.abs(frames[0] - shown).mean() < 3 and np.abs(frames[-1] - b).mean() < 3

    dlg.motion.setCurrentIndex(dlg.motion.findData("walk"))
    dlg.path.setText(str(tmp_path / "walk.gif"))
    dlg.frames.setValue(5)
    with qtbot.waitSignal(dlg.written, timeout=WAIT_MS):
        qtbot.mouseClick(dlg.start_button, LEFT)
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.n_frames == 5
    gif.seek(2)                                            # −2σ, −1σ, 0, +1σ, +2σ
    assert np.abs(np.asarray(gif.convert("RGB")).astype(int) - shown).mean() < 3


def test_cancelling_a_video_leaves_no_file(qtbot, win, tmp_path):
    dlg = win.export_video_dialog()
    out = tmp_path / "out" / "cancel.gif"
    out.parent.mkdir()
    dlg.path.setText(str(out))
    dlg.frames.setValue(50)
    lock = win.engine.renderer.lock
    lock.acquire()                           # the job's first frame waits here
    try:
        qtbot.mouseClick(dlg.start_button, LEFT)
        qtbot.waitUntil(lambda: any(out.parent.iterdir()), timeout=WAIT_MS)   # its temp file
        qtbot.mouseClick(dlg.cancel_button, LEFT)
    finally:
        with qtbot.waitSignal(dlg.cancelled, timeout=WAIT_MS):
            lock.release()
    assert list(out.parent.iterdir()) == []
    assert "Cancelled" in dlg.status.text() and dlg.job is None


def test_directions_that_cannot_be_computed_say_why(qtbot, tmp_path):
    from ganstudio.core.pggan import PGGANConfig, PGGANGenerator
    path = tmp_path / "pg.safetensors"
    save_generator(path, PGGANGenerator(PGGANConfig(img_resolution=16, z_dim=16,
                                                    channel_base=128, channel_max=16)))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(RenderEngine(device="cpu", synchronous=True, threads=1), settings=settings)
    qtbot.addWidget(w)
    w.open_path(str(path))
    before = wait_frame(qtbot, w)
    combo = w.direction_panel.source
    assert not combo.model().item(combo.findData("sefa")).isEnabled()    # no W space
    ex = w.explorer
    with qtbot.waitSignal(ex.directions.changed, timeout=WAIT_MS):      # e.g. from a session
        ex.edit(ex.state.replace(direction=DirectionSpec(source="sefa"), offsets=(2.0,)))
    assert "no W space" in w.direction_panel.status.text()
    assert np.array_equal(wait_frame(qtbot, w), before)       # no direction: the offset waits
    w.close()
