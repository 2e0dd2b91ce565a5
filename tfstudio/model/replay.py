"""The fed-back GRU's gradient from the states a no-grad pass already computed.

Training's first pass steps the GRU without autograd to decide what each step is fed back
(ground truth or the model's own binarised prediction: no gradient either way). Once it has
run, every step's input ``x_t = [features_t, feedback_t]`` and every state ``h_t`` are known,
so the forward need not be run again: :class:`GRUReplay` takes the input gates of all steps
(``W_ih x + b_ih``, one matrix product with autograd, outside), the first pass's states, and
gives back those states with a gradient. Its forward recomputes each step's gates from
``h_{t−1}`` for all steps at once (one product, ``W_hh h_{t−1} + b_hh`` over B × T rows, no
loop); its backward is back-propagation through time with the loop cut down to what truly
depends on the step before:

    dh_t      = dL/dh_t + carry_t
    carry_t−1 = dh_t ⊙ z_t + (dh_t · [a_r, a_z, a_n ⊙ r]_t) W_hh      (one addmm a step)

where ``a_n = (1 − z)(1 − n²)``, ``a_z = (h_{t−1} − n) z (1 − z)`` and
``a_r = a_n ⊙ (W_hn h_{t−1} + b_hn) ⊙ r (1 − r)`` are computed for all steps before the loop;
the gradients of the input gates, of ``W_hh`` and ``b_hh`` are then products over all steps
at once. So the recurrent part costs the first pass plus a backward loop of four small
operations a step, instead of the first pass plus a fused GRU's forward and backward.

Why not the fused GRU (cuDNN / oneDNN) for the gradient, as issue 12 first planned: on a CPU
the fused kernel's own forward repeats the first pass's recurrence, and its small per-step
products are no faster than ours. Measured on 2 CPU cores, quiet, forward + backward of the
recurrent part against one plain ``nn.GRU`` of the same sizes: paper preset (B 8, T 512,
16 classes) 202–207 ms against the fused GRU's 179–237 ms, where the first pass + fused GRU
took 255–291 ms; fast preset (B 8, T 256) 28 ms against 36–38 ms (first pass + fused 52 ms).
On CUDA the fused path stays the default (cuDNN's kernel is one launch; this backward is four
launches a step), see :attr:`tfstudio.model.crnn.CRNN.recurrence`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from tfstudio.model.stepping import gru_cell, step_threads

__all__ = ["GRUReplay", "gru_replay", "gru_states", "replayed_gru"]


class GRUReplay(torch.autograd.Function):
    """``hidden = GRUReplay.apply(input_gates, weight_hh, bias_hh, states)``: the GRU's states
    (B, T, H) over ``input_gates`` (B, T, 3H) = ``W_ih x + b_ih`` (gates r, z, n, as
    ``nn.GRU``), where ``states`` are those states as a no-grad pass computed them (only
    ``h_{t−1}`` of each step is read, as a constant). The returned states are recomputed
    from the gates (equal to ``states`` up to rounding) and carry the exact gradient of the
    GRU with respect to ``input_gates``, ``weight_hh`` and ``bias_hh``; the initial state is
    zeros."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, input_gates: Tensor, weight_hh: Tensor, bias_hh: Tensor, states: Tensor
    ) -> Tensor:
        batch, frames, three = input_gates.shape
        size = three // 3
        if states.shape != (batch, frames, size):
            raise ValueError(
                f"states must be {(batch, frames, size)} for input gates "
                f"{tuple(input_gates.shape)}, got {tuple(states.shape)}"
            )
        previous = torch.cat([states.new_zeros(batch, 1, size), states[:, :-1]], dim=1)
        hidden_gates = F.linear(previous, weight_hh, bias_hh)
        rz = (input_gates[..., : 2 * size] + hidden_gates[..., : 2 * size]).sigmoid_()
        reset, update = rz[..., :size], rz[..., size:]
        candidate_hidden = hidden_gates[..., 2 * size :]
        candidate = torch.addcmul(input_gates[..., 2 * size :], reset, candidate_hidden).tanh_()
        ctx.save_for_backward(weight_hh, previous, reset, update, candidate, candidate_hidden)
        return torch.lerp(candidate, previous, update)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:  # type: ignore[override]
        weight_hh, previous, reset, update, candidate, candidate_hidden = ctx.saved_tensors
        batch, frames, size = grad.shape
        grad = grad.contiguous()
        # What each step's dh_t multiplies into its gates' pre-activations (see the module).
        a_n = (1 - update) * (1 - candidate * candidate)
        a_z = (previous - candidate) * update * (1 - update)
        a_r = a_n * candidate_hidden * reset * (1 - reset)
        to_hidden_gates = torch.stack([a_r, a_z, a_n * reset], dim=2)  # (B, T, 3, H)
        # Views made once: the loop is mostly per-operation cost.
        coefficients = to_hidden_gates.unbind(1)
        updates = update.unbind(1)
        grads = grad.unbind(1)
        dh_all = torch.empty_like(grad)
        dhs = dh_all.unbind(1)
        carry = grad.new_zeros(batch, size)
        with step_threads(grad.device, weight_hh.numel()):
            for t in range(frames - 1, -1, -1):
                dh = torch.add(grads[t], carry, out=dhs[t])
                gates = (dh.unsqueeze(1) * coefficients[t]).view(batch, 3 * size)
                carry = torch.addmm(dh * updates[t], gates, weight_hh)
        d_hidden_gates = (dh_all.unsqueeze(2) * to_hidden_gates).view(batch, frames, 3 * size)
        d_input_gates = torch.cat([d_hidden_gates[..., : 2 * size], dh_all * a_n], dim=-1)
        rows = d_hidden_gates.reshape(-1, 3 * size)
        d_weight = rows.t() @ previous.reshape(-1, size)
        return d_input_gates, d_weight, rows.sum(0), None


def gru_replay(
    inputs: Tensor,
    states: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor,
    bias_hh: Tensor,
) -> Tensor:
    """The GRU's states (B, T, H) over ``inputs`` (B, T, input size) with a gradient, given
    ``states`` as a no-grad pass over the same inputs computed them (:class:`GRUReplay`)."""
    input_gates = F.linear(inputs, weight_ih, bias_ih)
    return GRUReplay.apply(input_gates, weight_hh, bias_hh, states.detach())


def gru_states(input_gates: Tensor, weight_hh: Tensor, bias_hh: Tensor) -> Tensor:
    """The states (B, T, H) of a plain GRU (no feedback) over ``input_gates`` (B, T, 3H) =
    ``W_ih x + b_ih``, stepped without autograd from zeros (:func:`gru_cell`, as the fed-back
    pass steps): what :class:`GRUReplay` replays."""
    batch, _frames, three = input_gates.shape
    size = three // 3
    with torch.no_grad():
        # b_hh's reset and update parts fold into the input gates, once for all steps.
        gates = input_gates + torch.cat([bias_hh[: 2 * size], bias_hh.new_zeros(size)])
        weights = (weight_hh[: 2 * size].t(), weight_hh[2 * size :].t(), bias_hh[2 * size :])
        hidden = input_gates.new_zeros(batch, size)
        states = []
        with step_threads(input_gates.device, weight_hh.numel()):
            for step in gates.unbind(1):
                hidden = gru_cell(step, hidden, *weights)
                states.append(hidden)
    return torch.stack(states, dim=1)


def replayed_gru(gru: nn.GRU, inputs: Tensor) -> Tensor:
    """``gru(inputs)[0]`` for a one-layer, batch-first ``nn.GRU`` (either direction count),
    with the gradient by replay: each direction stepped without autograd, then
    :class:`GRUReplay` over its states (the reverse direction on the time-flipped input).

    The context GRU's training pass on a CPU: fast preset (B 8, T 256, 256 → 2 × 32), forward
    and backward 33 ms against oneDNN's bidirectional GRU's 79-83 ms (same outputs within
    4e-7, gradients within 3e-5)."""
    if gru.num_layers != 1 or not gru.batch_first or gru.proj_size:
        raise ValueError("replayed_gru takes a one-layer, batch-first GRU without projection")
    outputs = []
    for suffix, flip in (("", False), ("_reverse", True))[: 2 if gru.bidirectional else 1]:
        weight_ih = getattr(gru, f"weight_ih_l0{suffix}")
        weight_hh = getattr(gru, f"weight_hh_l0{suffix}")
        bias_ih = getattr(gru, f"bias_ih_l0{suffix}")
        bias_hh = getattr(gru, f"bias_hh_l0{suffix}")
        x = inputs.flip(1) if flip else inputs
        input_gates = F.linear(x, weight_ih, bias_ih)
        states = gru_states(input_gates.detach(), weight_hh, bias_hh)
        out = GRUReplay.apply(input_gates, weight_hh, bias_hh, states)
        outputs.append(out.flip(1) if flip else out)
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
