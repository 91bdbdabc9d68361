"""Data-parallel evaluation: under ``accelerate launch --num_processes N`` each process runs every
N-th batch of the very batches a single process would run, and every process gets all results.

So per-case outputs, log-likelihoods, scores and verdicts are those of a single-process run:
the batches (their members, padding and order) do not depend on N, only which process runs them.
Outside a distributed launch these are no-ops.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) outside a distributed launch."""
    # A process group exists only if torch.distributed was imported (and initialised): asking must not
    # import torch, which is slow and, inside pytester's in-process runs, cannot be imported twice.
    dist = sys.modules.get("torch.distributed")
    if dist is None:
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return world()[0] == 0


def init_from_launcher() -> bool:
    """Join the process group ``accelerate launch`` (or torchrun) prepared; False when not launched so.

    accelerate's ``PartialState`` picks the backend (gloo on CPU, NCCL on GPUs)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    from accelerate import PartialState

    PartialState()
    return True


def mine(batch_index: int) -> bool:
    rank, size = world()
    return batch_index % size == rank


def gather_filled(values: list[Any]) -> list[Any]:
    """Every process's results merged: each position from the process that computed it (not None there)."""
    rank, size = world()
    if size == 1:
        return values
    import torch.distributed as dist

    parts: list[list[Any]] = [[] for _ in range(size)]
    dist.all_gather_object(parts, values)
    return [next((p[i] for p in parts if p[i] is not None), None) for i in range(len(values))]


def gather_sum(values: list[float]) -> list[float]:
    """Element-wise sum over processes (each request's total is built by exactly one of them)."""
    rank, size = world()
    if size == 1:
        return values
    import torch.distributed as dist

    parts: list[list[float]] = [[] for _ in range(size)]
    dist.all_gather_object(parts, values)
    return [sum(p[i] for p in parts) for i in range(len(values))]


def barrier() -> None:
    """Wait for every process (no-op outside a distributed launch)."""
    if world()[1] > 1:
        import torch.distributed as dist

        dist.barrier()
