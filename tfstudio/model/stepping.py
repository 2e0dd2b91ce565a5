"""How many CPU threads a loop of small per-step products runs on (the fed-back GRU's
stepped passes, forward and backward)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["ONE_THREAD_STEP_VALUES", "step_threads"]

# A stepped pass on a CPU runs on one thread while its step's weights are this small (values):
# each step is a few small products, and waking the other OpenMP threads for every one of them
# cost more than it gave. Measured on the 2 cores with other work beside (load 4.5), the no-grad
# stepped pass of a (B 8, T 512) paper-preset batch took 1.82 s on 2 threads and 0.37 s on one;
# fast preset (B 16, T 256) 0.53 vs 0.12 s. A 100 000-class single-label head keeps its threads.
ONE_THREAD_STEP_VALUES = 1 << 20


@contextlib.contextmanager
def step_threads(device: torch.device, step_values: int) -> Iterator[None]:
    """One intra-op thread on a CPU for a stepped loop whose step weights are small."""
    before = torch.get_num_threads()
    if device.type != "cpu" or before == 1 or step_values > ONE_THREAD_STEP_VALUES:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
