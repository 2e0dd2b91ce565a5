"""The GRU's gradient replayed from a no-grad pass's states (tfstudio.model.replay)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tfstudio.model.crnn import CRNN, RECURRENCES
from tfstudio.model.replay import GRUReplay, gru_replay, replayed_gru

from .test_crnn import tiny_config


def _gru(inputs: int = 5, hidden: int = 4, dtype: torch.dtype = torch.float32) -> nn.GRU:
    torch.manual_seed(0)
    return nn.GRU(inputs, hidden, batch_first=True, dtype=dtype)


def test_replayed_states_and_gradients_are_those_of_nn_gru():
    gru = _gru()
    x = torch.randn(3, 17, 5, requires_grad=True)
    with torch.no_grad():
        states, _ = gru(x)
    weights = [gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]
    out_grad = torch.randn(3, 17, 4)

    replayed = gru_replay(x, states, *weights)
    replayed.backward(out_grad)
    ours = [x.grad.clone(), *(w.grad.clone() for w in weights)]
    for tensor in (x, *weights):
        tensor.grad = None
    reference, _ = gru(x)
    reference.backward(out_grad)
    theirs = [x.grad, *(w.grad for w in weights)]

    torch.testing.assert_close(replayed, reference, rtol=1e-5, atol=1e-6)
    for name, a, b in zip(["x", "w_ih", "w_hh", "b_ih", "b_hh"], ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_replay_backward_passes_gradcheck():
    gru = _gru(dtype=torch.float64)
    gates = torch.randn(2, 6, 12, dtype=torch.float64, requires_grad=True)
    weight = gru.weight_hh_l0.detach().clone().requires_grad_(True)
    bias = gru.bias_hh_l0.detach().clone().requires_grad_(True)

    def run(gates: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        # The states a no-grad pass would give for these very gates, stepped as GRUCell does.
        with torch.no_grad():
            hidden = gates.new_zeros(2, 4)
            states = []
            for t in range(6):
                gh = hidden @ weight.t() + bias
                r = torch.sigmoid(gates[:, t, :4] + gh[:, :4])
                z = torch.sigmoid(gates[:, t, 4:8] + gh[:, 4:8])
                n = torch.tanh(gates[:, t, 8:] + r * gh[:, 8:])
                hidden = (1 - z) * n + z * hidden
                states.append(hidden)
        return GRUReplay.apply(gates, weight, bias, torch.stack(states, 1))

    assert torch.autograd.gradcheck(run, (gates, weight, bias))


def test_states_of_the_wrong_shape_are_refused():
    gates = torch.randn(2, 6, 12)
    with pytest.raises(ValueError, match=r"states must be \(2, 6, 4\).*got \(2, 5, 4\)"):
        GRUReplay.apply(gates, torch.randn(12, 4), torch.randn(12), torch.randn(2, 5, 4))


def test_recurrence_is_checked_and_auto_replays_on_a_cpu():
    model = CRNN(tiny_config())
    assert model.recurrence == "auto" and "replay" in RECURRENCES
    assert model._training_recurrence(torch.device("cpu")) == "replay"
    assert model._training_recurrence(torch.device("cuda")) == "fused"
    model.recurrence = "fused"
    assert model._training_recurrence(torch.device("cpu")) == "fused"
    with pytest.raises(ValueError, match="recurrence must be one of auto, replay, fused, stepped"):
        model.recurrence = "cudnn"


@pytest.mark.parametrize("bidirectional", [True, False])
def test_a_replayed_context_gru_is_nn_gru_with_its_gradients(bidirectional):
    torch.manual_seed(3)
    gru = nn.GRU(6, 4, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(2, 13, 6, requires_grad=True)
    out_grad = torch.randn(2, 13, 8 if bidirectional else 4)

    replayed = replayed_gru(gru, x)
    replayed.backward(out_grad)
    ours = [x.grad.clone(), *(p.grad.clone() for p in gru.parameters())]
    x.grad = None
    gru.zero_grad()
    reference, _ = gru(x)
    reference.backward(out_grad)
    theirs = [x.grad, *(p.grad for p in gru.parameters())]

    torch.testing.assert_close(replayed, reference, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_only_one_layer_batch_first_grus_are_replayed():
    with pytest.raises(ValueError, match="one-layer, batch-first"):
        replayed_gru(nn.GRU(3, 2, num_layers=2, batch_first=True), torch.randn(1, 4, 3))
    with pytest.raises(ValueError, match="one-layer, batch-first"):
        replayed_gru(nn.GRU(3, 2), torch.randn(4, 1, 3))


def test_the_model_replays_its_context_gru_only_when_training_with_gradients():
    model = CRNN(tiny_config(context_hidden=4)).train()
    assert model.context is not None
    calls: list[str] = []
    hook = model.context.register_forward_hook(lambda *_: calls.append("nn.GRU"))
    features = torch.randn(2, 9, 40)
    model.encode(features)  # training, gradients on, on a CPU: replayed
    assert calls == []
    with torch.no_grad():
        model.encode(features)
    model.recurrence = "fused"
    model.encode(features)
    model.recurrence = "auto"
    model.eval()
    model.encode(features)
    assert calls == ["nn.GRU"] * 3
    hook.remove()
