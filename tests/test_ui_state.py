"""Explorer state, undo history, documents and the mixing grid: no window, no rendering."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from ganstudio.render.request import Capabilities
from ganstudio.ui.directions import random_directions
from ganstudio.ui.documents import mixing_grid, read_document, write_png, write_session
from ganstudio.ui.grid_dialog import parse_seeds
from ganstudio.ui.history import History
from ganstudio.ui.state import ExplorerState


def info(num_ws=18, w_dim=16, c_dim=0, w_space=True, noise=True):
    caps = Capabilities(num_ws=num_ws, w_dim=w_dim, z_dim=w_dim, c_dim=c_dim, img_resolution=1024,
                        has_noise=noise, has_w_space=w_space, arch="stylegan2")
    return SimpleNamespace(model_id="m", path="/tmp/m.safetensors", arch="stylegan2",
                           source_format="ganstudio", img_resolution=1024, num_ws=num_ws,
                           w_dim=w_dim, z_dim=w_dim, c_dim=c_dim, num_params=1, device="cpu",
                           content_hash="ab" * 32, capabilities=caps)


def test_default_state_makes_a_plain_request():
    r = ExplorerState(seed_a=3, seed_b=9, psi=0.7).to_request(info())
    assert (r.latent_a.seed, r.latent_b.seed, r.truncation_psi) == (3, 9, 0.7)
    assert r.offsets is None and r.direction is None and r.blend is None
    assert r.noise_mask is None and r.crossover is None and r.model_id == "m"


def test_one_offset_sets_only_that_layer_and_directions():
    s = ExplorerState().fit(18).with_layers("offsets", [6], 1.5)
    r = s.to_request(info())
    assert r.offsets == tuple(1.5 if i == 6 else 0.0 for i in range(18))
    d = np.array(r.direction)
    assert d.shape == (18, 16)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, rtol=1e-5)


def test_directions_depend_only_on_the_seed():
    a, b = random_directions(0, 18, 16), random_directions(0, 18, 16)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, random_directions(1, 18, 16))
    assert not np.allclose(a[0], a[1])            # one direction per layer


def test_mixing_and_noise_fields():
    s = ExplorerState(crossover=8).fit(18).with_layers("noise_on", [3], False)
    s = s.with_layers("blend", [2], 0.25)
    r = s.to_request(info())
    assert r.crossover == 8 and r.blend[2] == 0.25 and sum(r.blend) == 0.25
    assert r.noise_mask == tuple(i != 3 for i in range(18))
    assert [s.b_fraction(i) for i in (0, 2, 7, 8, 17)] == [0.0, 0.25, 0.0, 1.0, 1.0]


def test_pggan_request_has_no_mixing_or_noise_mask():
    s = ExplorerState(crossover=0).fit(1).replace(blend=(1.0,), noise_on=(False,))
    r = s.to_request(info(num_ws=1, w_space=False, noise=False))
    assert r.crossover is None and r.blend is None and r.noise_mask is None


def test_class_index_only_for_conditional_models():
    assert ExplorerState(class_index=5).to_request(info()).class_index is None
    assert ExplorerState(class_index=5).to_request(info(c_dim=3)).class_index == 2
    assert ExplorerState().to_request(info(c_dim=3)).class_index == 0


def test_fit_resizes_per_layer_fields():
    s = ExplorerState(crossover=10, cutoff=12).fit(18).with_layers("offsets", [17], 2.0)
    small = s.fit(8)
    assert small.offsets == (0.0,) * 8 and small.crossover is None and small.cutoff is None
    assert small.fit(18).noise_on == (True,) * 18


def test_json_round_trip_and_errors():
    s = ExplorerState(seed_a=5, psi=0.5, crossover=4, noise_mode="random", zoom=3).fit(6)
    s = s.with_layers("offsets", [1], -2.5).with_layers("noise_on", [0], False)
    assert ExplorerState.from_json(s.to_json()) == s
    with pytest.raises(ValueError, match="noise mode"):
        ExplorerState.from_dict({"noise_mode": "loud"})
    with pytest.raises(ValueError, match="psi"):
        ExplorerState.from_dict({"psi": "high"})
    with pytest.raises(ValueError, match="JSON"):
        ExplorerState.from_json("{nope")


def test_history_coalesces_a_gesture_into_one_step():
    s0 = ExplorerState().fit(4)
    h = History(s0)
    for v in (0.1, 0.2, 0.3):                       # one drag
        h.push(s0.with_layers("offsets", [1], v), "offset:1")
    h.seal()
    h.push(h.present.with_layers("offsets", [1], 0.5), "offset:1")   # a second drag
    h.push(h.present.replace(seed_a=7))            # a click
    assert h.undo().seed_a == 0 and h.present.offset(1) == 0.5
    assert h.undo().offset(1) == 0.3
    assert h.undo() == s0 and not h.can_undo()
    assert h.redo().offset(1) == 0.3
    h.push(h.present.replace(seed_b=3))
    assert not h.can_redo()


def test_session_and_png_documents_round_trip(tmp_path):
    s = ExplorerState(seed_a=11, crossover=3).fit(18).with_layers("offsets", [2], 1.0)
    write_session(tmp_path / "s.json", s, info())
    doc = read_document(tmp_path / "s.json")
    assert doc.state == s and doc.model_path == "/tmp/m.safetensors"
    assert doc.content_hash == "ab" * 32
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    write_png(tmp_path / "i.png", img, s, info())
    assert read_document(tmp_path / "i.png").state == s
    from PIL import Image
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "i.png")), img)


def test_bad_documents_say_why(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a GANStudio explorer session"):
        read_document(tmp_path / "x.json")
    write_png(tmp_path / "plain.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="no GANStudio explorer state"):
        read_document(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="cannot read"):
        read_document(tmp_path / "missing.json")


def test_mixing_grid_layout():
    def render(s):      # encodes the request in the pixels: (seed A, seed B or 255, crossover)
        r = s.to_request(info())
        mixed = r.crossover is not None
        return np.full((2, 2, 3), [r.latent_a.seed, r.latent_b.seed if mixed else 255,
                                   r.crossover if mixed else 255], np.uint8)
    g = mixing_grid(render, ExplorerState(psi=0.5).fit(18), [1, 2], [7, 8, 9], 4)
    assert g.shape == (6, 8, 3)
    assert (g[0, 0] == 255).all()                                  # blank corner
    assert list(g[0, 2]) == [7, 255, 255] and list(g[2, 0]) == [1, 255, 255]
    assert list(g[4, 6]) == [2, 9, 4]                              # row A=2, column B=9


def test_parse_seeds():
    assert parse_seeds("1, 5-7") == [1, 5, 6, 7]
    with pytest.raises(ValueError, match="x"):
        parse_seeds("1,x")
