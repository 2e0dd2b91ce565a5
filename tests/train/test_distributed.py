"""torchrun's place of a process (tfstudio.train.distributed) without torchrun: rank 0 of 1,
every collective a no-op. DDP itself is trained in test_processes (two gloo processes)."""

from __future__ import annotations

import torch

from tfstudio.train.distributed import Distributed, distributed_rank


def test_the_place_comes_from_torchruns_variables(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    place = Distributed.from_env()
    assert (place.rank, place.world_size, place.local_rank) == (3, 4, 1)
    assert place.active and not place.main and distributed_rank() == 3


def test_one_process_is_rank_0_and_its_collectives_change_nothing(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    place = Distributed.from_env()
    assert place == Distributed() and place.main and not place.active
    assert distributed_rank() == 0
    cpu = torch.device("cpu")
    place.init(cpu)  # no process group for one process
    assert not place.owns_group and not torch.distributed.is_initialized()
    value = {"run": 4}
    assert place.broadcast(value) is value
    assert place.sum([1.0, 2.5], cpu) == [1.0, 2.5]
    place.barrier()
    place.close()


def test_the_loop_still_offers_distributed_rank():
    from tfstudio.train import loop

    assert loop.distributed_rank is distributed_rank
