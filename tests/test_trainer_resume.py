"""Resume is exact: 2N steps == N steps, save, a new Trainer from the file, N more (bit for bit)."""
import pytest
import torch

from ganstudio.core.checkpoint import read_checkpoint
from trainer.loop import Trainer
from trainer_tiny import tiny_config


def _state(trainer) -> dict[str, torch.Tensor]:
    out = {}
    for name, m in (("G", trainer.G), ("G_ema", trainer.G_ema), ("D", trainer.D)):
        out.update({f"{name}.{k}": v.detach().clone() for k, v in m.state_dict().items()})
    for name, opt in (("opt_G", trainer.nets.opt_G), ("opt_D", trainer.nets.opt_D)):
        for i, st in opt.state_dict()["state"].items():
            out.update({f"{name}.{i}.{k}": v.clone() for k, v in st.items()})
    out["pl_mean"] = trainer.pl_mean.clone()
    return out


# stylegan2: lazy R1 and path length every 2nd step, style mixing; stylegan: the resume point
# falls inside the 4² → 8² fade-in; pggan: WGAN-GP (random interpolation factors).
@pytest.mark.parametrize("arch,n", [("stylegan2", 3), ("stylegan", 5), ("pggan", 3)])
def test_resume_is_bit_identical(tmp_path, arch, n):
    straight = Trainer(tiny_config(arch, tmp_path / "a"))
    for _ in range(2 * n):
        straight.step()

    first = Trainer(tiny_config(arch, tmp_path / "b"))
    for _ in range(n):
        first.step()
    path = first.save()
    del first
    resumed = Trainer(tiny_config(arch, tmp_path / "b", resume="latest"))
    assert resumed.step_count == n and resumed.cur_nimg == 4 * n
    for _ in range(n):
        resumed.step()

    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert differ == []
    # and training did change the weights (the comparison is not vacuous)
    assert not torch.equal(a["G.mapping.fc0.weight" if arch != "pggan" else
                             "G.synthesis.b4.fc.weight"],
                           read_checkpoint(path).group("G")["mapping.fc0.weight" if arch != "pggan"
                                                             else "synthesis.b4.fc.weight"])


def test_fine_tune_from_a_file_starts_from_its_weights(tmp_path):
    source = Trainer(tiny_config("stylegan", tmp_path / "src"))
    for _ in range(2):
        source.step()
    path = source.save()
    tuned = Trainer(tiny_config("stylegan", tmp_path / "tuned", resume=str(path)))
    assert tuned.step_count == 0 and tuned.cur_nimg == 0
    for name in ("G", "G_ema", "D"):
        got = getattr(tuned, name).state_dict()
        want = read_checkpoint(path).group(name)
        assert all(torch.equal(got[k], want[k]) for k in want if not k.endswith("growth"))
    # a progressive model is fine-tuned at its full size from the first step
    assert tuned.step()["resolution"] == 8 and tuned.G.current_resolution == 8


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nothing to resume"):
        Trainer(tiny_config("stylegan2", tmp_path / "empty", resume="latest"))
