"""Run by test_trainer_distributed under torchrun: a few steps, then each rank writes a hash of
its weights (and rank 0 the checkpoint). Not a test module."""
import hashlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_tiny import tiny_config  # noqa: E402

from trainer import distributed as dist  # noqa: E402
from trainer.loop import Trainer  # noqa: E402


def weights_hash(trainer) -> str:
    h = hashlib.sha256()
    for m in (trainer.G, trainer.G_ema, trainer.D):
        for k, v in sorted(m.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main() -> None:
    torch.set_num_threads(1)
    out, steps = Path(sys.argv[1]), int(sys.argv[2])
    env = dist.env_from_torchrun()
    trainer = Trainer(tiny_config("stylegan2", out / "run", batch=4), dist_env=env)
    start = weights_hash(trainer)
    for _ in range(steps):
        trainer.step()
    trainer.save()
    (out / f"rank{env.rank}.txt").write_text(f"{env.world_size} {start} {weights_hash(trainer)}")
    dist.shutdown()
    dist.exit_process(0)


if __name__ == "__main__":
    main()
