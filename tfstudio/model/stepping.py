"""What the stepped GRU passes share: one GRU step's arithmetic, and how many CPU threads a
loop of such small per-step products runs on (forward and backward)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = ["ONE_THREAD_STEP_VALUES", "gru_cell", "step_threads"]

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


def gru_cell(
    input_gates: Tensor,
    hidden: Tensor,
    gates_weight_t: Tensor,
    candidate_weight_t: Tensor,
    candidate_bias: Tensor,
) -> Tensor:
    """One GRU step (``nn.GRUCell`` maths, gates r, z, n): the new hidden state (B, H).

    ``input_gates`` (B, 3H) is W_ih x_t + b_ih plus b_hh's reset and update parts;
    ``gates_weight_t`` is W_hh's reset and update rows, transposed, ``candidate_weight_t`` and
    ``candidate_bias`` its candidate part (b_hn stays inside the reset gate's product, as in
    the GRU). Five operations, for few dispatches a step: lerp for the update, addcmul for the
    candidate, the biases folded where they can be."""
    size = hidden.shape[-1]
    rz = torch.addmm(input_gates[:, : 2 * size], hidden, gates_weight_t).sigmoid_()
    hn = torch.addmm(candidate_bias, hidden, candidate_weight_t)
    candidate = torch.addcmul(input_gates[:, 2 * size :], rz[:, :size], hn).tanh_()
    return torch.lerp(candidate, hidden, rz[:, size:])
