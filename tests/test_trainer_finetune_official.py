"""Fine-tuning from an official (NVIDIA-named) StyleGAN2 file through the importers."""
import numpy as np
import pytest
import torch

from trainer.loop import Trainer
from trainer_tiny import tiny_config


def test_fine_tune_starts_from_official_weights(tmp_path, reference_dir):
    pytest.importorskip("ganstudio.core.importers")        # written on another branch
    from safetensors.torch import save_file
    state = {k: torch.from_numpy(np.array(v)) for k, v in
             np.load(reference_dir / "stylegan2_res64" / "g_ema_state.npz").items()}
    official = tmp_path / "official_g_ema.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(official))

    trainer = Trainer(tiny_config("stylegan2", tmp_path / "tune", res=8, batch=2,
                                  resume=str(official)))
    assert trainer.config.res == 64 and trainer.G.img_resolution == 64
    assert trainer.G.z_dim == 512 and trainer.G.num_ws == 10
    for name, value in state.items():
        assert torch.equal(trainer.G_ema.state_dict()[name], value), name
    before = trainer.G.mapping.fc0.weight.detach().clone()
    out = trainer.step()
    assert out["resolution"] == 64 and np.isfinite(out["loss_G"])
    assert not torch.equal(trainer.G.mapping.fc0.weight, before)
