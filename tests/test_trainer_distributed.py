"""Two CPU processes under torchrun (gloo): both ranks end with identical weights."""
import os
import subprocess
import sys
from pathlib import Path

from ganstudio.core.checkpoint import read_checkpoint

HERE = Path(__file__).resolve().parent


def test_two_processes_keep_identical_weights(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "trainer_ddp_worker.py"), str(tmp_path), "3"]
    proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True,
                          timeout=180)
    written = sorted(p.name for p in tmp_path.glob("rank*.txt"))
    assert proc.returncode == 0, (f"rc {proc.returncode}, wrote {written}\n"
                                  + proc.stderr[:2000] + "\n…\n" + proc.stderr[-2000:])
    ranks = [(tmp_path / f"rank{r}.txt").read_text().split() for r in (0, 1)]
    assert [r[0] for r in ranks] == ["2", "2"]
    assert ranks[0][1] == ranks[1][1]            # same start (seeded build / broadcast)
    assert ranks[0][2] == ranks[1][2]            # same weights after 3 averaged steps
    assert ranks[0][2] != ranks[0][1]            # and they did train
    ckpt = read_checkpoint(tmp_path / "run" / "latest.safetensors")
    assert ckpt.meta["train"]["world_size"] == 2 and ckpt.meta["train"]["cur_nimg"] == 12
    rng = ckpt.group("rng")
    assert {"r0.data", "r1.data", "r0.train", "r1.train"} <= set(rng)
    assert not bool((rng["r0.data"] == rng["r1.data"]).all())   # each rank its own data stream
