"""Progressive growing: the schedule by images shown, and a real PGGAN run growing 4² → 8²."""
import pytest
import torch

from ganstudio.core.checkpoint import load_native_generator, read_checkpoint
from trainer.config import preset
from trainer.loop import Trainer
from trainer.schedule import GrowthSchedule
from trainer_tiny import tiny_config


def test_schedule_phases_alpha_and_batch():
    cfg = preset("stylegan", 32, phase_kimg=1, transition_kimg=2, batch=8,
                 batch_per_res={4: 32, 8: 16})
    s = GrowthSchedule(cfg)
    assert s.resolutions() == [4, 8, 16, 32]
    assert s.at(0) == s.at(999)
    assert (s.at(0).resolution, s.at(0).alpha, s.at(0).batch) == (4, 1.0, 32)
    start8 = s.at(1000)
    assert (start8.resolution, start8.alpha, start8.in_transition, start8.batch) == (8, 0.0, True, 16)
    assert s.at(2000).alpha == pytest.approx(0.5)
    assert (s.at(3000).resolution, s.at(3000).alpha, s.at(3000).in_transition) == (8, 1.0, False)
    assert (s.at(4000).resolution, s.at(4000).alpha, s.at(4000).batch) == (16, 0.0, 8)
    assert s.full_resolution_nimg() == 1000 + 3000 * 2 + 2000
    final = s.at(10 ** 9)
    assert (final.resolution, final.alpha) == (32, 1.0)
    alphas = [s.at(n).alpha for n in range(1000, 3000, 50)]
    assert alphas == sorted(alphas) and alphas[0] == 0.0 and alphas[-1] < 1.0


def test_stylegan2_trains_at_full_resolution():
    s = GrowthSchedule(preset("stylegan2", 64, phase_kimg=1, transition_kimg=1))
    assert s.resolutions() == [64]
    assert {(s.at(n).resolution, s.at(n).alpha) for n in (0, 1500, 10 ** 7)} == {(64, 1.0)}
    assert "no growing" in s.describe()


def test_a_growing_architecture_started_at_its_target_does_not_grow():
    s = GrowthSchedule(preset("stylegan", 64, start_res=64, phase_kimg=1, transition_kimg=1))
    assert s.resolutions() == [64] and s.full_resolution_nimg() == 0
    assert {(s.at(n).resolution, s.at(n).alpha) for n in (0, 1500, 10 ** 7)} == {(64, 1.0)}
    assert "no growing" in s.describe() and "fade-in" not in s.describe()


def test_pggan_run_grows_from_4_to_8_with_alpha_rising(tmp_path):
    trainer = Trainer(tiny_config("pggan", tmp_path / "run"))
    seen = [trainer.step() for _ in range(14)]   # 4 steps at 4², 8 of fade-in, 2 at 8²
    assert [s["resolution"] for s in seen] == [4] * 4 + [8] * 10
    fade = [s["alpha"] for s in seen[4:12]]
    assert fade[0] == 0.0 and all(a < b for a, b in zip(fade, fade[1:])) and fade[-1] < 1.0
    assert [s["alpha"] for s in seen[12:]] == [1.0, 1.0]
    assert trainer.G.current_resolution == trainer.D.current_resolution == 8
    assert trainer.preview().shape == (2 * 8, 2 * 8, 3)


def test_checkpoint_mid_fade_in_carries_growth_state(tmp_path):
    trainer = Trainer(tiny_config("stylegan", tmp_path / "run"))
    for _ in range(7):                            # 4 steps at 4², 3 into the fade-in to 8²
        last = trainer.step()
    path = trainer.save()
    growth = read_checkpoint(path).meta["growth"]
    assert growth["resolution"] == 8 and 0 < growth["alpha"] < 1
    assert growth["alpha"] == pytest.approx(last["alpha"]) == pytest.approx(2 / 8)
    G = load_native_generator(path)
    assert (G.current_resolution, G.alpha) == (8, pytest.approx(growth["alpha"]))
    img = G(torch.zeros([1, G.z_dim]))
    assert img.shape == (1, 3, 8, 8) and torch.isfinite(img).all()
