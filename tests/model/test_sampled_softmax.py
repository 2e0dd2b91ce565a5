"""Sampled softmax: the sampler's distribution, the loss's corrections, training with it."""

import math
from copy import deepcopy

import pytest
import torch
from torch import nn

from tfstudio.model.sampled_softmax import (
    CandidateSampler,
    LazyAdam,
    SampledSoftmaxLoss,
    SoftmaxOutput,
    clip_grad_norm_,
    expected_counts,
    full_softmax_loss,
    log_uniform_probabilities,
    sampled_softmax_loss,
)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the candidate distribution ------------------------------------------------------------


def test_log_uniform_probabilities_by_hand():
    # C = 3: log(C + 1) = log 4; P(0) = log 2 / log 4 = 0.5,
    # P(1) = log(3/2) / log 4 = 0.292481, P(2) = log(4/3) / log 4 = 0.207519.
    expected = torch.tensor(
        [0.5, math.log(1.5) / math.log(4), math.log(4 / 3) / math.log(4)], dtype=torch.float64
    )
    torch.testing.assert_close(log_uniform_probabilities(3), expected)
    assert log_uniform_probabilities(10_000).sum().item() == pytest.approx(1.0)


def test_expected_counts_formula():
    p = torch.tensor([0.5, 0.1, 1e-12], dtype=torch.float64)
    # 1 − (1 − p)^n: 1 − 0.5^3 = 0.875; 1 − 0.9^3 = 0.271; 1 − (1 − 1e-12)^10 ≈ 1e-11.
    counts = expected_counts(p, 3)
    assert counts[0].item() == pytest.approx(0.875)
    assert counts[1].item() == pytest.approx(0.271)
    assert expected_counts(p, 10)[2].item() == pytest.approx(1e-11, rel=1e-6)


def test_log_uniform_draws_follow_the_distribution():
    sampler = CandidateSampler(10, "log-uniform")
    draws = sampler.draw(200_000, seeded(0))
    frequency = torch.bincount(draws, minlength=10).double() / draws.numel()
    torch.testing.assert_close(frequency, log_uniform_probabilities(10), atol=5e-3, rtol=0)


def test_log_uniform_ranks_classes_by_count():
    # Class 1 is the most frequent (rank 0), then class 2 (rank 1), then class 0 (rank 2).
    sampler = CandidateSampler(3, "log-uniform", class_counts=torch.tensor([1, 100, 10]))
    by_rank = log_uniform_probabilities(3)
    torch.testing.assert_close(sampler.probabilities, by_rank[[2, 0, 1]])


def test_frequency_sampler_uses_add_one_counts():
    sampler = CandidateSampler(3, "frequency", class_counts=torch.tensor([0, 1, 2]))
    torch.testing.assert_close(
        sampler.probabilities, torch.tensor([1 / 6, 2 / 6, 3 / 6], dtype=torch.float64)
    )


def test_sample_unique_gives_distinct_ids_and_counts_tries():
    sampler = CandidateSampler(50, "log-uniform")
    ids, tries = sampler.sample_unique(30, seeded(1))
    assert ids.shape == (30,) and ids.unique().numel() == 30
    assert bool((ids >= 0).all()) and bool((ids < 50).all())
    assert tries >= 30
    again, tries_again = sampler.sample_unique(30, seeded(1))
    assert torch.equal(ids, again) and tries == tries_again


def test_sample_unique_counts_tries_exactly():
    # The same generator replays the same draws: ``tries`` draws contain exactly the ids.
    sampler = CandidateSampler(20, "log-uniform")
    ids, tries = sampler.sample_unique(10, seeded(2))
    generator = seeded(2)
    first_chunk = sampler.draw(64, generator)  # the sampler's first chunk is 64 draws
    assert tries <= first_chunk.numel()
    replay = first_chunk[:tries]
    assert set(replay.tolist()) == set(ids.tolist())
    assert replay[-1].item() not in set(replay[:-1].tolist())  # the last try found a new id


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(num_classes=1), ValueError, "num_classes"),
        (dict(num_classes=5, sampler="uniform"), ValueError, "sampler"),
        (dict(num_classes=5, sampler="frequency"), ValueError, "class_counts"),
        (dict(num_classes=5, class_counts=torch.ones(4)), ValueError, "4 entries"),
        (dict(num_classes=2, class_counts=torch.tensor([1, -1])), ValueError, ">= 0"),
    ],
)
def test_sampler_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        CandidateSampler(**kwargs)


def test_num_sampled_must_leave_a_negative_out():
    with pytest.raises(ValueError, match="num_sampled"):
        SampledSoftmaxLoss(10, 10)
    with pytest.raises(ValueError, match="num_sampled"):
        SampledSoftmaxLoss(10, 0)


# --- the loss ------------------------------------------------------------------------------


def test_loss_by_hand_with_accidental_hit_removed():
    # Two rows, H = 1, C = 4: logit of class k for row x is x·w_k + b_k.
    hidden = torch.tensor([[1.0], [2.0]])
    labels = torch.tensor([0, 3])
    weight = torch.tensor([[1.0], [0.5], [-1.0], [2.0]])
    bias = torch.tensor([0.0, 0.1, 0.2, 0.3])
    candidates = torch.tensor([3, 1])  # class 3 is row 1's own label: an accidental hit
    log_counts = torch.log(torch.tensor([0.4, 0.5, 0.6, 0.7]))
    loss = sampled_softmax_loss(
        hidden, labels, weight, bias, candidates, log_counts[candidates], log_counts
    )
    # Row 0: true 1·1 + 0 − log 0.4; candidates 3: 2 + 0.3 − log 0.7, 1: 0.5 + 0.1 − log 0.5.
    row0 = [1.0 - math.log(0.4), 2.3 - math.log(0.7), 0.6 - math.log(0.5)]
    # Row 1: true 2·2 + 0.3 − log 0.7; candidate 3 removed; 1: 1.0 + 0.1 − log 0.5.
    row1 = [4.3 - math.log(0.7), 1.1 - math.log(0.5)]

    def cross_entropy(logits):
        return -logits[0] + math.log(sum(math.exp(v) for v in logits))

    expected = (cross_entropy(row0) + cross_entropy(row1)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)

    kept = sampled_softmax_loss(
        hidden,
        labels,
        weight,
        bias,
        candidates,
        log_counts[candidates],
        log_counts,
        remove_accidental_hits=False,
    )
    row1_with_hit = [4.3 - math.log(0.7), 4.3 - math.log(0.7), 1.1 - math.log(0.5)]
    assert kept.item() == pytest.approx((cross_entropy(row0) + cross_entropy(row1_with_hit)) / 2)


def test_accidental_hits_get_no_gradient():
    torch.manual_seed(0)
    hidden = torch.randn(1, 4, requires_grad=True)
    weight = torch.randn(5, 4, requires_grad=True)
    bias = torch.zeros(5, requires_grad=True)
    labels = torch.tensor([2])
    candidates = torch.tensor([2, 4])
    zeros = torch.zeros(5)
    loss = sampled_softmax_loss(hidden, labels, weight, bias, candidates, zeros[:2], zeros)
    loss.backward()
    # Only one class competes with the truth; class 2 is the truth, not a negative.
    assert loss.item() > 0
    torch.testing.assert_close(bias.grad[[0, 1, 3]], torch.zeros(3))
    assert bias.grad[2].item() < 0 < bias.grad[4].item()
    assert bias.grad[2].item() == pytest.approx(-bias.grad[4].item())


def test_sampled_equals_full_when_all_other_classes_are_candidates():
    torch.manual_seed(1)
    hidden, weight, bias = torch.randn(6, 8), torch.randn(7, 8), torch.randn(7)
    labels = torch.full((6,), 3)
    others = torch.tensor([0, 1, 2, 4, 5, 6])
    zeros = torch.zeros(7)  # equal expected counts cancel out
    sampled = sampled_softmax_loss(hidden, labels, weight, bias, others, zeros[:6], zeros)
    torch.testing.assert_close(sampled, full_softmax_loss(hidden, labels, weight, bias))


def test_sampled_close_to_full_with_c_minus_1_uniform_samples():
    torch.manual_seed(2)
    num_classes = 20
    # Moderate logits, so no single class holds most of the probability mass.
    hidden, weight = 0.3 * torch.randn(64, 8), torch.randn(num_classes, 8)
    bias = 0.3 * torch.randn(num_classes)
    labels = torch.randint(0, num_classes, (64,))
    full = full_softmax_loss(hidden, labels, weight, bias).item()
    uniform = SampledSoftmaxLoss(
        num_classes, num_classes - 1, "frequency", class_counts=torch.ones(num_classes)
    )
    for seed in range(5):
        sampled = uniform(hidden, labels, weight, bias, generator=seeded(seed)).item()
        # At most one negative is missing per row, so the estimate can only be a little low.
        assert full - 0.15 < sampled <= full + 1e-5


def test_log_uniform_loss_tracks_the_full_loss():
    torch.manual_seed(3)
    num_classes = 30
    weight, bias = torch.randn(num_classes, 8), torch.zeros(num_classes)
    labels = torch.randint(0, num_classes, (32,))
    loss = SampledSoftmaxLoss(num_classes, num_classes - 1)
    full, sampled = [], []
    for scale in [0.1, 0.3, 1.0, 2.0, 4.0]:
        hidden = scale * torch.randn(32, 8)
        full.append(full_softmax_loss(hidden, labels, weight, bias).item())
        sampled.append(loss(hidden, labels, weight, bias, generator=seeded(0)).item())
    correlation = torch.corrcoef(torch.tensor([full, sampled]))[0, 1].item()
    assert correlation > 0.95
    assert all(math.isfinite(v) for v in sampled)


def test_three_dimensional_input_is_flattened():
    torch.manual_seed(4)
    hidden, labels = torch.randn(2, 5, 8), torch.randint(0, 50, (2, 5))
    weight, bias = torch.randn(50, 8), torch.randn(50)
    loss = SampledSoftmaxLoss(50, 10)
    torch.testing.assert_close(
        loss(hidden, labels, weight, bias, generator=seeded(0)),
        loss(hidden.reshape(10, 8), labels.reshape(10), weight, bias, generator=seeded(0)),
    )
    torch.testing.assert_close(
        full_softmax_loss(hidden, labels, weight, bias),
        full_softmax_loss(hidden.reshape(10, 8), labels.reshape(10), weight, bias),
    )


def test_ignore_index_leaves_padding_out():
    torch.manual_seed(5)
    hidden, weight, bias = torch.randn(2, 4, 8), torch.randn(40, 8), torch.randn(40)
    labels = torch.randint(0, 40, (2, 4))
    padded = labels.clone()
    padded[1, 2:] = -100
    loss = SampledSoftmaxLoss(40, 8)
    keep = padded != -100
    torch.testing.assert_close(
        loss(hidden, padded, weight, bias, generator=seeded(0)),
        loss(hidden[keep], labels[keep], weight, bias, generator=seeded(0)),
    )
    torch.testing.assert_close(
        full_softmax_loss(hidden, padded, weight, bias),
        full_softmax_loss(hidden[keep], labels[keep], weight, bias),
    )


def test_labels_must_be_class_indices():
    loss = SampledSoftmaxLoss(10, 3)
    with pytest.raises(TypeError, match="class indices"):
        loss(torch.randn(4, 8), torch.zeros(4), torch.randn(10, 8), torch.randn(10))
    with pytest.raises(ValueError, match="same leading shape"):
        loss(
            torch.randn(4, 8), torch.zeros(3, dtype=torch.long), torch.randn(10, 8), torch.randn(10)
        )
    with pytest.raises(ValueError, match="weight must be"):
        loss(torch.randn(4, 8), torch.zeros(4, dtype=torch.long), torch.randn(9, 8), torch.randn(9))


def test_gradients_reach_only_the_rows_in_play():
    torch.manual_seed(6)
    output = SoftmaxOutput(8, 100, num_sampled=5)
    hidden = torch.randn(3, 8, requires_grad=True)
    labels = torch.tensor([1, 2, 3])
    output.loss(hidden, labels, generator=seeded(0)).backward()
    candidates, _, _ = output.sampled.sampler.sample(5, seeded(0))
    in_play = set(candidates.tolist()) | {1, 2, 3}
    touched = set(torch.nonzero(output.weight.grad.abs().sum(1)).flatten().tolist())
    assert touched == in_play
    assert set(torch.nonzero(output.bias.grad).flatten().tolist()) == in_play
    assert hidden.grad is not None and bool(hidden.grad.abs().sum() > 0)


# --- the output layer used both ways -------------------------------------------------------


def test_softmax_output_uses_full_softmax_in_eval_mode():
    torch.manual_seed(7)
    output = SoftmaxOutput(8, 30, num_sampled=5)
    hidden, labels = torch.randn(2, 3, 8), torch.randint(0, 30, (2, 3))
    full = full_softmax_loss(hidden, labels, output.weight, output.bias)
    assert output.loss(hidden, labels).item() != pytest.approx(full.item())
    output.eval()
    torch.testing.assert_close(output.loss(hidden, labels), full)
    probabilities = output.predict(hidden)
    assert probabilities.shape == (2, 3, 30)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(2, 3))
    assert "num_classes=30" in repr(output)


def test_softmax_output_without_sampling_is_a_full_softmax_layer():
    output = SoftmaxOutput(4, 6)
    hidden, labels = torch.randn(5, 4), torch.randint(0, 6, (5,))
    torch.testing.assert_close(
        output.loss(hidden, labels), full_softmax_loss(hidden, labels, output.weight, output.bias)
    )


@pytest.mark.parametrize("sampler", ["log-uniform", "frequency"])
def test_training_with_sampled_loss_lowers_the_full_loss(sampler):
    torch.manual_seed(8)
    num_classes, dim = 300, 16
    # Zipf-like labels, so frequent ids are low ids as the log-uniform sampler assumes.
    labels = torch.multinomial(log_uniform_probabilities(num_classes).float(), 256, True)
    counts = torch.bincount(labels, minlength=num_classes)
    inputs = torch.randn(num_classes, dim)[labels] + 0.3 * torch.randn(256, dim)
    encoder = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())
    output = SoftmaxOutput(dim, num_classes, num_sampled=20, sampler=sampler, class_counts=counts)
    optimiser = torch.optim.Adam([*encoder.parameters(), *output.parameters()], lr=0.03)

    def full_loss() -> float:
        with torch.no_grad():
            return full_softmax_loss(encoder(inputs), labels, output.weight, output.bias).item()

    before = full_loss()
    generator = seeded(0)
    for _ in range(60):
        optimiser.zero_grad()
        output.loss(encoder(inputs), labels, generator=generator).backward()
        optimiser.step()
    after = full_loss()
    assert after < 0.3 * before, (before, after)


# --- the theory the tests of issue 13 ask for ------------------------------------------------


def test_expected_counts_match_the_draws():
    # The chance that a class turns up among n draws with replacement from q is 1 − (1 − q)^n:
    # count, over many independent sets of n draws, how often each class is among them.
    sampler = CandidateSampler(12, "log-uniform")
    generator = seeded(10)
    sets, n = 20_000, 6
    draws = sampler.draw(sets * n, generator).reshape(sets, n)
    present = torch.zeros(sets, 12, dtype=torch.bool)
    present.scatter_(1, draws, True)
    observed = present.double().mean(0)
    torch.testing.assert_close(
        observed, expected_counts(sampler.probabilities, n), atol=0.012, rtol=0
    )


def test_sample_gives_the_log_expected_counts_of_its_tries():
    sampler = CandidateSampler(1_000, "log-uniform")
    candidates, candidate_log_counts, log_counts = sampler.sample(50, seeded(11))
    again, tries = sampler.sample_unique(50, seeded(11))
    assert torch.equal(candidates, again)
    expected = torch.log(expected_counts(log_uniform_probabilities(1_000), tries))
    torch.testing.assert_close(log_counts, expected)
    torch.testing.assert_close(candidate_log_counts, expected[candidates])
    ids = torch.tensor([[0, 999], [5, 5]])
    torch.testing.assert_close(sampler.log_expected_counts(ids, tries), expected[ids])


@pytest.mark.parametrize("sparse_grad", [False, True])
def test_every_class_sampled_gives_the_full_loss_and_gradients(sparse_grad):
    # Candidates = all C classes (each row's own label among them is an accidental hit and is
    # removed), equal expected counts: the sampled softmax is the full softmax exactly.
    torch.manual_seed(12)
    num_classes, dim = 9, 5
    labels = torch.randint(0, num_classes, (2, 7))
    hidden = torch.randn(2, 7, dim)
    weight, bias = torch.randn(num_classes, dim), torch.randn(num_classes)
    candidates = torch.randperm(num_classes)
    log_counts = torch.full((num_classes,), -0.7)

    def run(sampled: bool):
        h = hidden.clone().requires_grad_(True)
        w = weight.clone().requires_grad_(True)
        b = bias.clone().requires_grad_(True)
        if sampled:
            loss = sampled_softmax_loss(
                h, labels, w, b, candidates, log_counts[candidates], log_counts,
                sparse_grad=sparse_grad,
            )  # fmt: skip
        else:
            loss = full_softmax_loss(h, labels, w, b)
        loss.backward()
        grad_w = w.grad.to_dense() if w.grad.is_sparse else w.grad
        return loss, h.grad, grad_w, b.grad

    for sampled, full in zip(run(True), run(False)):
        torch.testing.assert_close(sampled, full)


def test_accidental_hits_never_count_as_negatives():
    # Every row's loss must be the cross-entropy over its true class and the candidates that
    # are not its own label, whichever other rows' labels the candidates hit.
    torch.manual_seed(13)
    num_classes, dim = 12, 4
    hidden, weight, bias = torch.randn(6, dim), torch.randn(num_classes, dim), torch.randn(12)
    labels = torch.tensor([0, 3, 3, 7, 11, 5])
    candidates = torch.tensor([3, 5, 9, 0, 2])  # hits rows 0, 1, 2 and 5
    log_counts = torch.log(torch.linspace(0.1, 0.9, num_classes))
    loss = sampled_softmax_loss(
        hidden, labels, weight, bias, candidates, log_counts[candidates], log_counts
    )
    expected = []
    for row in range(6):
        label = int(labels[row])
        ids = [label] + [c for c in candidates.tolist() if c != label]
        logits = hidden[row] @ weight[ids].T + bias[ids] - log_counts[ids]
        expected.append(torch.logsumexp(logits, 0) - logits[0])
    torch.testing.assert_close(loss, torch.stack(expected).mean())
    # Row 0's own class (0) is a candidate: its bias gets only row 0's positive gradient
    # (−(1 − p_true) / N), never a negative's push from row 0.
    b = bias.clone().requires_grad_(True)
    single = sampled_softmax_loss(
        hidden[:1], labels[:1], weight, b, candidates, log_counts[candidates], log_counts
    )
    single.backward()
    assert b.grad[0].item() < 0
    torch.testing.assert_close(b.grad.sum(), torch.tensor(0.0), atol=1e-6, rtol=0)


def test_sampled_loss_module_equals_the_function_on_its_draws():
    # The module computes log expected counts of the rows in play only; it must give what the
    # function gives with the sampler's full table.
    torch.manual_seed(14)
    hidden, labels = torch.randn(3, 4, 8), torch.randint(0, 500, (3, 4))
    weight, bias = torch.randn(500, 8), torch.randn(500)
    module = SampledSoftmaxLoss(500, 40)
    drawn = module.sampler.sample(40, seeded(3))
    torch.testing.assert_close(
        module(hidden, labels, weight, bias, generator=seeded(3)),
        sampled_softmax_loss(hidden, labels, weight, bias, *drawn),
    )


# --- sparse gradients and the optimiser ----------------------------------------------------


def test_sparse_grad_is_the_dense_gradient_of_the_rows_in_play():
    torch.manual_seed(15)
    hidden, labels = torch.randn(10, 6), torch.randint(0, 200, (10,))
    grads = []
    for sparse in (False, True):
        output = SoftmaxOutput(6, 200, num_sampled=20, sparse_grad=sparse)
        torch.manual_seed(16)
        nn.init.normal_(output.weight)
        output.loss(hidden, labels, generator=seeded(4)).backward()
        assert output.weight.grad.is_sparse == sparse
        assert not output.bias.grad.is_sparse
        grads.append(output.weight.grad.to_dense())
    torch.testing.assert_close(grads[0], grads[1])
    candidates, _ = SampledSoftmaxLoss(200, 20).sampler.sample_unique(20, seeded(4))
    sparse_rows = output.weight.grad.coalesce().indices()[0]
    assert set(sparse_rows.tolist()) == set(candidates.tolist()) | set(labels.tolist())
    # Evaluation mode (and so validation) is the full softmax: a dense gradient.
    output.eval()
    output.weight.grad = None
    output.loss(hidden, labels).backward()
    assert not output.weight.grad.is_sparse
    assert "sparse_grad=True" in repr(output.sampled)


def _sparse_rows(param: torch.Tensor, rows: list[int], values: torch.Tensor) -> torch.Tensor:
    """The sparse gradient an embedding lookup of ``rows`` gives ``param`` when the rows'
    outputs get gradient ``values`` (a row looked up twice: summed)."""
    leaf = param.detach().requires_grad_(True)
    (torch.nn.functional.embedding(torch.tensor(rows), leaf, sparse=True) * values).sum().backward()
    return leaf.grad


def test_lazy_adam_with_momentum_is_adam_when_every_row_is_touched():
    torch.manual_seed(17)
    start = torch.randn(5, 3)
    dense = nn.Parameter(start.clone())
    lazy = nn.Parameter(start.clone())
    adam = torch.optim.Adam([dense], lr=0.1, weight_decay=0.01)
    lazy_adam = LazyAdam([lazy], lr=0.1, weight_decay=0.01, sparse_beta1=None)
    for _ in range(4):
        grad = torch.randn(5, 3)
        dense.grad = grad.clone()
        # Rows given out of order and twice (summed): the sparse gradient of an embedding.
        lazy.grad = _sparse_rows(
            lazy, [4, 0, 1, 2, 3, 0], torch.cat([grad[[4, 0, 1, 2, 3]], 0 * grad[:1]])
        )
        adam.step()
        lazy_adam.step()
        assert lazy.grad.is_sparse  # handed back after the step
    torch.testing.assert_close(lazy.detach(), dense.detach())


def test_lazy_adam_updates_only_the_rows_in_play_without_momentum():
    weight = nn.Parameter(torch.zeros(6, 2))
    bias = nn.Parameter(torch.zeros(6))
    optimiser = LazyAdam([weight, bias], lr=0.5)
    weight.grad = _sparse_rows(weight, [1, 4], torch.tensor([[2.0, -3.0], [0.5, 0.0]]))
    bias.grad = torch.tensor([0.0, 1.0, 0.0, 0.0, -1.0, 0.0])
    optimiser.step()
    # First step: −lr · g / |g| on the rows in play (0 where g is 0); the rest untouched.
    expected = torch.zeros(6, 2)
    expected[1] = torch.tensor([-0.5, 0.5])
    expected[4] = torch.tensor([-0.5, 0.0])
    torch.testing.assert_close(weight.detach(), expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(bias.detach(), torch.tensor([0, -0.5, 0, 0, 0.5, 0.0]))
    # Without momentum a row not in play stays where it is; the dense bias keeps moving.
    weight.grad = _sparse_rows(weight, [0], torch.tensor([[1.0, 1.0]]))
    bias.grad = torch.zeros(6)
    optimiser.step()
    torch.testing.assert_close(weight.detach()[1:], expected[1:], atol=1e-6, rtol=0)
    # Row 0, first in play at step 2: the parameter's bias correction, as a dense Adam would
    # give a row whose gradient was 0 until then (about sqrt(step) · lr).
    assert weight[0, 0].item() == pytest.approx(-0.5 / math.sqrt(0.001 / (1 - 0.999**2)))
    assert bias[1].item() < -0.5
    state = optimiser.state[weight]
    assert float(state["step"]) == 2 and state["exp_avg_sq"][1, 0].item() > 0
    with pytest.raises(ValueError, match="sparse_beta1"):
        LazyAdam([weight], sparse_beta1=1.0)


def test_clip_grad_norm_takes_sparse_gradients():
    weight, bias = nn.Parameter(torch.zeros(4, 2)), nn.Parameter(torch.zeros(3))
    weight.grad = _sparse_rows(
        weight, [1, 3, 1], torch.tensor([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
    )
    bias.grad = torch.tensor([0.0, 0.0, 12.0])
    total = clip_grad_norm_([weight, bias], 1.3)
    assert total.item() == pytest.approx(13.0)  # sqrt(3² + 4² + 12²)
    assert weight.grad.is_sparse
    assert weight.grad.to_dense()[1, 0].item() == pytest.approx(0.3, rel=1e-5)
    assert bias.grad[2].item() == pytest.approx(1.2, rel=1e-5)
    # Below the limit nothing changes; dense-only is torch's own.
    assert clip_grad_norm_([weight, bias], 100.0).item() == pytest.approx(1.3, rel=1e-5)
    assert bias.grad[2].item() == pytest.approx(1.2, rel=1e-5)
    dense = nn.Parameter(torch.zeros(2))
    dense.grad = torch.tensor([6.0, 8.0])
    assert clip_grad_norm_(dense, 5.0).item() == pytest.approx(10.0)
    torch.testing.assert_close(dense.grad, torch.tensor([3.0, 4.0]), rtol=1e-5, atol=0)


def test_training_with_sparse_gradients_and_lazy_adam_lowers_the_full_loss():
    torch.manual_seed(18)
    num_classes, dim = 300, 16
    labels = torch.multinomial(log_uniform_probabilities(num_classes).float(), 256, True)
    inputs = torch.randn(num_classes, dim)[labels] + 0.3 * torch.randn(256, dim)
    encoder = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())
    output = SoftmaxOutput(dim, num_classes, num_sampled=20, sparse_grad=True)
    optimiser = LazyAdam([*encoder.parameters(), *output.parameters()], lr=0.03)

    def full_loss() -> float:
        with torch.no_grad():
            return full_softmax_loss(encoder(inputs), labels, output.weight, output.bias).item()

    before = full_loss()
    generator = seeded(0)
    for _ in range(60):
        optimiser.zero_grad()
        output.loss(encoder(inputs), labels, generator=generator).backward()
        clip_grad_norm_([*encoder.parameters(), *output.parameters()], 5.0)
        optimiser.step()
    assert full_loss() < 0.3 * before


def test_lazy_adam_is_one_optimiser_step():
    # Step hooks run once (the dense part is Adam's step without its own hooks); the state
    # saves and loads as Adam's, and a loaded copy continues identically.
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])  # torch hooks Adam.step once one exists
    weight, bias = nn.Parameter(torch.randn(8, 3)), nn.Parameter(torch.randn(8))
    optimiser = LazyAdam([weight, bias], lr=0.1)
    calls = []
    optimiser.register_step_pre_hook(lambda *_: calls.append("pre"))
    optimiser.register_step_post_hook(lambda *_: calls.append("post"))

    def step(opt, w, b, rows):
        w.grad = _sparse_rows(w, rows, torch.ones(len(rows), 3))
        b.grad = torch.ones(8)
        opt.step()

    step(optimiser, weight, bias, [1, 2])
    assert calls == ["pre", "post"]
    copy_w, copy_b = nn.Parameter(weight.detach().clone()), nn.Parameter(bias.detach().clone())
    copy = LazyAdam([copy_w, copy_b], lr=0.1)
    copy.load_state_dict(deepcopy(optimiser.state_dict()))  # as if saved and loaded
    step(optimiser, weight, bias, [2, 5])
    step(copy, copy_w, copy_b, [2, 5])
    torch.testing.assert_close(copy_w.detach(), weight.detach())
    torch.testing.assert_close(copy_b.detach(), bias.detach())
