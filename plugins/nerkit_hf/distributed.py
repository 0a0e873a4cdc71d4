"""Data-parallel training under ``torchrun`` / ``accelerate launch``.

The launcher starts one process per device and tells each its place through the
environment (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``/``PORT``);
nothing here launches processes. Every process runs the same nerkit command: the
training loop wraps the model in ``DistributedDataParallel`` (gradients averaged by
``torch.distributed``: gloo on CPU, NCCL on GPUs), gives each process its share of
every epoch's batches, and takes rank 0's dev scores for early stopping so that all
processes stop together. Only rank 0 stores the run (see ``nerkit run``).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn


def world_size() -> int:
    """Processes the launcher started (1 when not launched by one)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def active() -> bool:
    return world_size() > 1


def setup(device: torch.device) -> None:
    """Join the process group the launcher prepared (once per process)."""
    import torch.distributed as dist

    if not active() or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when launched with several processes,
    else ``model`` itself."""
    if not active():
        return model
    setup(device)
    ids = [device.index] if device.type == "cuda" and device.index is not None else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def from_rank0(value: Any) -> Any:
    """Rank 0's ``value`` on every process (a no-op in a single process)."""
    if not active():
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard(count: int) -> tuple[int, int, int]:
    """``(rank, world_size, usable)``: each process takes every ``world_size``-th of
    ``count`` batches, starting at its rank; ``usable`` drops the last few so that all
    processes take the same number of steps."""
    size = world_size()
    return rank(), size, count - count % size if size > 1 else count
