"""RenderEngine: worker thread, latest wins, stamps, errors as signals, previews, shutdown."""
import gc
import tracemalloc

import numpy as np
import pytest
from render_models import save_tiny

from ganstudio.render.qt_engine import RenderEngine
from ganstudio.render.request import LatentSource, RenderRequest

TIMEOUT = 20000


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_tiny(path)
    return path


@pytest.fixture
def engine(qtbot, model_path):
    eng = RenderEngine("cpu", threads=1)
    with qtbot.waitSignal(eng.modelLoaded, timeout=TIMEOUT):
        eng.load_model(str(model_path))
    yield eng
    eng.shutdown()
    assert not eng.is_running


def test_submit_returns_stamps_and_result_carries_them(qtbot, engine):
    req = RenderRequest(latent_a=LatentSource(3))
    with qtbot.waitSignal(engine.resultReady, timeout=TIMEOUT) as blocker:
        stamp = engine.submit(req)
    res = blocker.args[0]
    assert stamp > 0 and res.stamp == stamp and res.error is None
    assert res.image.shape == (32, 32, 3)
    assert engine.device == "cpu"
    assert engine.submit(req) == stamp + 1


def test_burst_of_1000_submits_renders_at_most_twice_and_memory_stays_flat(qtbot, engine):
    base = RenderRequest(latent_a=LatentSource(1))
    with qtbot.waitSignal(engine.resultReady, timeout=TIMEOUT):
        engine.submit(base)
    tracemalloc.start()
    try:
        gc.collect()      # empties CPython's free lists (e.g. 2,000 cached argument tuples),
        before_mem = tracemalloc.get_traced_memory()[0]    # which are not requests kept alive
        before = engine.render_count
        n = engine.renderer.render_calls
        # Hold the renderer: the worker can take at most one request, then has to wait, so every
        # other submit of the burst lands in the one-slot mailbox while it is busy.
        with engine.renderer.lock:
            stamps = []
            for i in range(1000):
                blend = tuple(float((i + j) % 7) / 7 for j in range(8))    # a distinct payload
                stamps.append(engine.submit(base.replace(latent_b=LatentSource(i), blend=blend)))
                assert engine.pending_count <= 1
        with qtbot.waitSignal(engine.resultReady, timeout=TIMEOUT,
                              check_params_cb=lambda r: r.stamp == stamps[-1]) as blocker:
            pass
        qtbot.waitUntil(lambda: engine.pending_count == 0, timeout=TIMEOUT)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before_mem
    finally:
        tracemalloc.stop()
    assert blocker.args[0].error is None
    assert engine.render_count - before <= 2
    assert engine.renderer.render_calls - n <= 2
    assert grown < 300_000, grown          # 1,000 requests of ~1 kB each would be ~1 MB


def test_results_arrive_newest_last_and_never_out_of_order(qtbot, engine):
    got = []
    engine.resultReady.connect(lambda r: got.append(r.stamp))
    stamps = [engine.submit(RenderRequest(latent_a=LatentSource(i))) for i in range(5)]
    qtbot.waitUntil(lambda: bool(got) and got[-1] == stamps[-1], timeout=TIMEOUT)
    assert got == sorted(got) and len(set(got)) == len(got)


def test_bad_checkpoint_is_an_error_signal_and_previous_model_stays(qtbot, engine, tmp_path):
    before = engine.renderer.current.model_id
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with qtbot.waitSignal(engine.errorOccurred, timeout=TIMEOUT) as blocker:
        engine.load_model(str(bad))
    assert "broken.safetensors" in blocker.args[0] and "\n" not in blocker.args[0]
    assert engine.renderer.current.model_id == before
    with qtbot.waitSignal(engine.resultReady, timeout=TIMEOUT) as res:
        engine.submit(RenderRequest())
    assert res.args[0].error is None and res.args[0].image is not None


def test_render_error_comes_back_in_the_result(qtbot, engine):
    with qtbot.waitSignal(engine.resultReady, timeout=TIMEOUT) as blocker:
        engine.submit(RenderRequest(model_id="not-loaded"))
    assert blocker.args[0].image is None and "not loaded" in blocker.args[0].error


def test_preview_then_full_frame_at_rest(qtbot, model_path):
    eng = RenderEngine("cpu", threads=1, preview="always", rest_ms=10)
    try:
        with qtbot.waitSignal(eng.modelLoaded, timeout=TIMEOUT):
            eng.load_model(str(model_path))
        with qtbot.waitSignal(eng.resultReady, timeout=TIMEOUT):
            eng.submit(RenderRequest(latent_a=LatentSource(1)))
        seen = []
        eng.resultReady.connect(seen.append)
        stamp = eng.submit(RenderRequest(latent_a=LatentSource(2), preview=True))
        qtbot.waitUntil(lambda: any(not r.is_preview for r in seen), timeout=TIMEOUT)
        assert seen[0].is_preview and seen[0].image.shape[0] < 32 and seen[0].stamp == stamp
        full = seen[-1]
        assert full.stamp == stamp and full.image.shape == (32, 32, 3)
        assert np.array_equal(full.image, eng.render_now(RenderRequest(latent_a=LatentSource(2))).image)
    finally:
        eng.shutdown()


def test_synchronous_mode_renders_in_the_calling_thread(qtbot, model_path):
    eng = RenderEngine("cpu", synchronous=True, threads=1)
    loaded, results = [], []
    eng.modelLoaded.connect(loaded.append)
    eng.resultReady.connect(results.append)
    eng.load_model(str(model_path))
    assert loaded and loaded[0].num_ws == 8
    stamp = eng.submit(RenderRequest(latent_a=LatentSource(4)))
    assert [r.stamp for r in results] == [stamp]
    assert not eng.is_running
    eng.shutdown()
    eng.shutdown()


def test_shutdown_is_idempotent_and_stops_the_thread(qtbot, model_path):
    eng = RenderEngine("cpu", threads=1)
    assert eng.is_running
    eng.load_model(str(model_path))
    eng.submit(RenderRequest())
    eng.shutdown()
    assert not eng.is_running
    eng.shutdown()
    eng.submit(RenderRequest())                 # ignored, no crash
    assert not eng.is_running
