"""Progressive growing by images shown (PGGAN, StyleGAN v1); StyleGAN2 stays at full resolution.

Phases, counted in real images shown to D (`nimg`):

    4²: stable for phase_kimg
    8²: transition for transition_kimg (α 0→1), then stable for phase_kimg
    ...
    target²: transition, then stable until the end of training

α rises linearly with the images shown during a transition, so it moves a little every step
(smooth fade-in on G and D) and reaches exactly 1 when the transition ends.
The minibatch is chosen per resolution (`TrainConfig.batch_at`); during a transition it is the
new resolution's.

Optimizer state at growth — our choice: keep it. The networks are built at the target size from
the start, so the optimizers hold every parameter from step 0. Parameters of layers not yet in
use get no gradient (`grad is None`) and Adam leaves them alone: their moments and step count start
fresh the first time their layer takes part, while the layers that already trained keep their
moments. PGGAN's reference code reset the moments of all parameters at every growth; keeping them
avoids the large, poorly estimated first Adam steps of the old layers right when the network is
most fragile (α ≈ 0), needs no extra bookkeeping, and keeps one optimizer state that the checkpoint
stores and resumes exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig


@dataclass(frozen=True)
class GrowthState:
    resolution: int
    alpha: float          # 1 = the current resolution alone; < 1 = fading in from resolution/2
    phase: int            # 0 at start_res, +1 per new resolution
    in_transition: bool
    batch: int            # global minibatch at this point


class GrowthSchedule:
    def __init__(self, config: TrainConfig):
        self.config = config
        self.progressive = config.progressive
        self.target = config.res
        self.start = config.start_res if self.progressive else config.res
        self.phase_nimg = max(int(round(config.phase_kimg * 1000)), 0)
        self.trans_nimg = max(int(round(config.transition_kimg * 1000)), 0)

    def resolutions(self) -> list[int]:
        res, out = self.start, []
        while res <= self.target:
            out.append(res)
            res *= 2
        return out

    def phase_start_nimg(self, phase: int) -> int:
        """Images shown when phase `phase` begins (its transition, if any)."""
        if phase <= 0:
            return 0
        return self.phase_nimg + (phase - 1) * (self.trans_nimg + self.phase_nimg)

    def full_resolution_nimg(self) -> int:
        """Images shown when the target resolution is reached with α = 1."""
        n = len(self.resolutions()) - 1
        return 0 if n == 0 else self.phase_start_nimg(n) + self.trans_nimg

    def at(self, nimg: int) -> GrowthState:
        resolutions = self.resolutions()
        phase = 0
        for p in range(1, len(resolutions)):
            if nimg >= self.phase_start_nimg(p):
                phase = p
        res = resolutions[phase]
        alpha, in_transition = 1.0, False
        if phase > 0 and self.trans_nimg > 0:
            into = nimg - self.phase_start_nimg(phase)
            if into < self.trans_nimg:
                alpha, in_transition = into / self.trans_nimg, True
        return GrowthState(res, float(alpha), phase, in_transition, self.config.batch_at(res))

    def describe(self) -> str:
        if not self.progressive or self.start == self.target:
            return (f"full resolution {self.target}² from the start "
                    f"(batch {self.config.batch_at(self.target)}), no growing")
        parts = [f"{r}² (batch {self.config.batch_at(r)})" for r in self.resolutions()]
        return (f"grow {' → '.join(parts)}: {self.config.phase_kimg:g} kimg stable + "
                f"{self.config.transition_kimg:g} kimg fade-in per resolution; "
                f"full size after {self.full_resolution_nimg() / 1000:g} kimg")
