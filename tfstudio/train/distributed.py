"""Training under ``torchrun``: which process this is, and what the processes share.

``torchrun --nproc_per_node=N -m tfstudio train …`` starts N processes with RANK, WORLD_SIZE
and LOCAL_RANK in their environment. They train one model with DistributedDataParallel; rank
0 alone computes the feature cache, validates, writes the store and the checkpoints and
speaks, and the others learn its decisions through :meth:`Distributed.broadcast`. Without
torchrun there is one process, of rank 0, and every collective here is a no-op.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["Distributed", "distributed_rank"]


def distributed_rank() -> int:
    """This process's rank under torchrun (0 when not distributed)."""
    return int(os.environ.get("RANK", "0"))


@dataclass
class Distributed:
    """This process's place among torchrun's, and the collectives the training loop uses."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @classmethod
    def from_env(cls) -> Distributed:
        return cls(
            rank=int(os.environ.get("RANK", "0")),
            world_size=int(os.environ.get("WORLD_SIZE", "1")),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        )

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def init(self, device: torch.device) -> None:
        """Join the process group (NCCL on CUDA, else gloo), unless one exists already."""
        if not self.active or dist.is_initialized():
            return
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        # Rank 0 computes every feature file while the others wait at a barrier.
        dist.init_process_group(backend, timeout=datetime.timedelta(hours=2))
        self.owns_group = True

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.active:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def share(self, items: Sequence[Any]) -> list[Any]:
        """This rank's items: those at positions i with i % world_size == rank."""
        return list(items[self.rank :: self.world_size])

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.active:
            return [value]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        """Each of ``values`` summed over the ranks (in float64)."""
        if not self.active:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()

    def close(self) -> None:
        """Leave the process group, if :meth:`init` made it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False
