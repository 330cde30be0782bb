"""Several processes / GPUs through `torchrun --nproc_per_node N` (torch.distributed).

Backend: nccl when training on CUDA, gloo otherwise. Every rank builds the same networks from the
run seed (and rank 0's weights are broadcast anyway); each step every rank draws its own share of
the global minibatch from its own random streams (seeded by run seed and rank — the data is
sharded by rank), gradients are all-reduced and averaged, so every rank takes the same optimizer
step. Buffers that learn from data (mapping w_avg, the path-length mean) are averaged too. Only
rank 0 writes files; the checkpoint it writes holds every rank's RNG states, gathered each save.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import NoReturn

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = DistEnv()


def env_from_torchrun() -> DistEnv:
    """Rank and world size from the variables torchrun sets (single process when absent)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    return DistEnv(rank=int(os.environ.get("RANK", "0")), world_size=world,
                   local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def init(env: DistEnv, device: torch.device) -> None:
    """Join the process group (idempotent); the backend follows the device."""
    if not env.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size)


def shutdown() -> None:
    """Leave the process group after a normal run. The barrier first: a gloo rank that tears its
    connections down while its peer is still finishing (rank 0 saving) can abort at exit with
    "terminate called without an active exception" (see `exit_process` for what remains)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def exit_process(code: int) -> NoReturn:
    """End a torchrun worker once `shutdown()` has run and every file is written: flush, then
    leave without the interpreter's teardown. Even after the barrier and destroy, a gloo rank
    occasionally aborts while C++ objects are destroyed at interpreter exit ("terminate called
    without an active exception", SIGABRT): CI saw it twice under load, 33 local runs never did.
    torchrun then reports a failed run whose checkpoint is complete; skipping the teardown, which
    has nothing left to do, avoids that."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def device_for(env: DistEnv, device: torch.device) -> torch.device:
    """One GPU per local rank."""
    if env.enabled and device.type == "cuda" and device.index is None:
        return torch.device("cuda", env.local_rank)
    return device


def all_reduce_grads(params, env: DistEnv) -> None:
    """Average gradients over ranks in one flat buffer (parameters without a grad are skipped —
    every rank is at the same growth stage, so every rank skips the same ones)."""
    if not env.enabled:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= env.world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset: offset + n].view_as(g))
        offset += n


def mean(t: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Average of a tensor over ranks (identity on one process)."""
    if not env.enabled:
        return t
    t = t.detach().clone()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t / env.world_size


def average_buffer_(buf: torch.Tensor, env: DistEnv) -> None:
    if env.enabled:
        buf.copy_(mean(buf, env))


def any_flag(flags: list[bool], env: DistEnv, device: torch.device) -> list[bool]:
    """Element-wise OR over ranks (stop requests, non-finite losses) so all ranks agree."""
    if not env.enabled:
        return list(flags)
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t.tolist()]


def broadcast_module(module: torch.nn.Module, env: DistEnv) -> None:
    if not env.enabled:
        return
    for t in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(t.data, src=0)


def gather_bytes(t: torch.Tensor, env: DistEnv) -> list[torch.Tensor]:
    """Every rank's uint8 tensor (e.g. an RNG state), on every rank; sizes may differ."""
    if not env.enabled:
        return [t]
    dev = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" \
        else torch.device("cpu")
    size = torch.tensor([t.numel()], device=dev)
    sizes = [torch.zeros_like(size) for _ in range(env.world_size)]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=torch.uint8, device=dev)
    padded[: t.numel()] = t.to(dev)
    out = [torch.zeros_like(padded) for _ in range(env.world_size)]
    dist.all_gather(out, padded)
    return [o[: int(s.item())].cpu() for o, s in zip(out, sizes)]


def barrier(env: DistEnv) -> None:
    if env.enabled:
        dist.barrier()
