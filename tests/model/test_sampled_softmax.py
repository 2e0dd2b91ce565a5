"""Sampled softmax: the sampler's distribution, the loss's corrections, training with it."""

import math

import pytest
import torch
from torch import nn

from tfstudio.model.sampled_softmax import (
    CandidateSampler,
    SampledSoftmaxLoss,
    SoftmaxOutput,
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
