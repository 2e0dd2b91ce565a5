"""Training's first pass as a CUDA graph (tfstudio.model.graphs): the captured body on a CPU,
the capture itself where CUDA is."""

from __future__ import annotations

import pytest
import torch

from tfstudio.model.crnn import CRNN, bce_loss, softmax_loss
from tfstudio.model.graphs import SteppedPassGraph, graph_key

from . import test_crnn_single_label as single
from .test_crnn import freeze_batchnorm, random_batch, tiny_config

CUDA = torch.cuda.is_available()


def _inputs(model: CRNN, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(encoded features, targets: multi-hot or a single-label model's ids, a step mask)."""
    make = single.random_batch if model.config.single_label else random_batch
    features, targets = make(batch=3, frames=20, seed=seed)
    encoded = model.encode(features).detach()
    mask = torch.rand(3, 20, 1, generator=torch.Generator().manual_seed(seed)) < 0.5
    return encoded, targets, mask


@pytest.mark.parametrize("keep_states", [False, True])
def test_the_graphs_body_on_static_buffers_is_the_stepped_pass(keep_states):
    torch.manual_seed(0)
    model = CRNN(tiny_config()).train()
    encoded, targets, mask = _inputs(model, 1)
    graph = SteppedPassGraph(model, encoded, targets, mask, keep_states=keep_states, capture=False)
    for seed in (2, 3):
        # New values in the same shapes, and weights changed in place, as training goes on.
        encoded, targets, mask = _inputs(model, seed)
        ours = graph(model, encoded, targets, mask)
        with torch.no_grad():
            theirs = model._stepped(encoded, targets, mask.unbind(1), keep_states=keep_states)
        for a, b in zip(ours, theirs, strict=True):
            if b is None:
                assert a is None
            else:
                assert torch.equal(a, b)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01)


@pytest.mark.parametrize("forced", [True, False])
def test_a_single_label_graphs_body_is_the_stepped_label_pass(forced):
    torch.manual_seed(0)
    model = CRNN(single.tiny_config()).train()
    encoded, labels, mask = _inputs(model, 1)
    truth, mask = (labels, mask) if forced else (None, None)
    graph = SteppedPassGraph(model, encoded, truth, mask, keep_states=True, capture=False)
    fed_before = None
    for seed in (2, 3):
        encoded, labels, new_mask = _inputs(model, seed)
        truth, mask = (labels, new_mask) if forced else (None, None)
        hidden, fed = graph(model, encoded, truth, mask)
        with torch.no_grad():
            steps = model._stepped_labels(encoded, truth, None if mask is None else mask.unbind(1))
        assert torch.equal(hidden, steps.hidden) and torch.equal(fed, steps.fed)
        assert fed.dtype == torch.long and fed[:, 0].eq(-1).all()  # step 0 is fed nothing
        assert fed_before is None or not torch.equal(fed, fed_before)  # new inputs, new ids
        fed_before = fed
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01)


def test_the_key_changes_where_a_capture_would_be_stale():
    model = CRNN(tiny_config())
    encoded, targets, _ = _inputs(model, 1)
    key = graph_key(model, encoded, targets, True, True)
    assert graph_key(model, encoded, targets, True, True) == key
    assert graph_key(model, encoded[:2], targets, True, True) != key  # another batch size
    assert graph_key(model, encoded, None, False, True) != key  # nothing forced
    with torch.no_grad():
        model.gru.weight_hh.data = model.gru.weight_hh.data.clone()  # new storage
    assert graph_key(model, encoded, targets, True, True) != key
    labelled = CRNN(single.tiny_config(n_classes=3, embedding=3))
    labelled.load_state_dict(model.state_dict(), strict=False)
    assert (
        graph_key(labelled, encoded, targets, True, True)[0]
        != graph_key(model, encoded, targets, True, True)[0]
    )


def _trains_alike(device: torch.device, labels: bool, recurrence: str) -> None:
    """Three Adam steps of a model with a captured first pass and of an eager copy: the same
    outputs and weights (the capture, then replays after in-place updates)."""
    config = single.tiny_config() if labels else tiny_config()
    torch.manual_seed(0)
    eager = CRNN(config).to(device).train()
    graphed = CRNN(config).to(device).train()
    graphed.load_state_dict(eager.state_dict())
    for model in (eager, graphed):
        model.recurrence = recurrence
        freeze_batchnorm(model)
    graphed.cuda_graphs = True
    optimisers = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in (eager, graphed)]
    for seed in range(3):
        make = single.random_batch if labels else random_batch
        features, targets = (t.to(device) for t in make(batch=3, frames=20, seed=seed))
        mask = (torch.rand(3, 20, generator=torch.Generator().manual_seed(seed)) < 0.5).to(device)
        outs = []
        for model, optimiser in zip((eager, graphed), optimisers, strict=True):
            optimiser.zero_grad()
            if labels:
                out = model(features, targets, teacher_mask=mask, return_hidden=True)
                softmax_loss(model.classifier, out, targets).backward()
            else:
                out = model(features, targets, teacher_mask=mask)
                bce_loss(out, targets).backward()
            outs.append(out.detach())
            optimiser.step()
        torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    assert graphed.cuda_graphs  # the capture did not fall back
    for a, b in zip(eager.parameters(), graphed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
@pytest.mark.parametrize("labels", [False, True], ids=["multi", "single"])
@pytest.mark.parametrize("recurrence", ["replay", "fused"])
def test_the_captured_pass_trains_as_the_eager_one(labels, recurrence):
    _trains_alike(torch.device("cuda"), labels, recurrence)


@pytest.mark.parametrize("labels", [False, True], ids=["multi", "single"])
def test_a_failed_capture_warns_and_steps_eagerly_from_then_on(labels, monkeypatch):
    from tfstudio.model import graphs

    # A capture that fails as CUDA's do (an operation not allowed while capturing); no CPU
    # can fail one for real.
    def fail(self, model):
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(graphs.SteppedPassGraph, "_capture", fail)
    torch.manual_seed(0)
    model = CRNN(single.tiny_config() if labels else tiny_config()).train()
    model.cuda_graphs = True
    encoded, truth, mask = _inputs(model, 1)
    with pytest.warns(RuntimeWarning, match="capturing the first pass as a CUDA graph failed"):
        if labels:
            ours = graphs.stepped_labels_pass(model, encoded, truth, mask.unbind(1))
        else:
            ours = graphs.stepped_pass(model, encoded, truth, mask.unbind(1), keep_states=True)
    assert model.cuda_graphs is False
    with torch.no_grad():
        if labels:
            steps = model._stepped_labels(encoded, truth, mask.unbind(1))
            theirs: tuple = (steps.hidden, steps.fed)
        else:
            theirs = model._stepped(encoded, truth, mask.unbind(1), keep_states=True)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)
