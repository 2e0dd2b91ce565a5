"""The single-label CRNN: softmax head, label ids fed back through an embedding, two passes."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tfstudio.model.crnn import CRNN, TASKS, CRNNConfig, softmax_loss
from tfstudio.model.sampled_softmax import SAMPLERS, SoftmaxOutput, full_softmax_loss
from tfstudio.train.config import SAMPLERS as CONFIG_SAMPLERS
from tfstudio.train.config import TASKS as CONFIG_TASKS

N_CLASSES = 7  # the background (0) and six sound types


def tiny_config(**overrides) -> CRNNConfig:
    values = dict(
        n_mels=40,
        n_classes=N_CLASSES,
        channels=4,
        gru_hidden=8,
        dropout=0.0,
        task="single-label",
        embedding=5,
    )
    return CRNNConfig(**{**values, **overrides})


def freeze_batchnorm(model: CRNN) -> None:
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def random_batch(batch=2, frames=6, n_mels=40, n_classes=N_CLASSES, seed=0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(batch, frames, n_mels, generator=generator)
    labels = torch.randint(0, n_classes, (batch, frames), generator=generator)
    return features, labels


def reference_logits(model: CRNN, features: torch.Tensor, fed: torch.Tensor) -> torch.Tensor:
    """Logits of an nn.GRU over [CNN features, one_hot(fed id) @ embedding.weight]: the
    one-hot feedback written out, with zeros where no id is fed (−1)."""
    one_hot = F.one_hot(fed.clamp_min(0), model.config.n_classes).float()
    one_hot = one_hot * (fed >= 0).unsqueeze(-1)
    assert model.embedding is not None
    feedback = one_hot @ model.embedding.weight
    with torch.no_grad():
        gru = nn.GRU(model.gru.input_size, model.gru.hidden_size, batch_first=True)
        gru.weight_ih_l0.copy_(model.gru.weight_ih)
        gru.weight_hh_l0.copy_(model.gru.weight_hh)
        gru.bias_ih_l0.copy_(model.gru.bias_ih)
        gru.bias_hh_l0.copy_(model.gru.bias_hh)
    hidden, _ = gru(torch.cat([model.encode(features), feedback], dim=-1))
    return model.classifier(hidden)


def test_samplers_and_tasks_agree_with_the_configuration():
    # The command line's parser reads the torch-free copies.
    assert tuple(CONFIG_SAMPLERS) == tuple(SAMPLERS)
    assert tuple(CONFIG_TASKS) == tuple(TASKS)


def test_config_sizes_and_validation():
    config = tiny_config(embedding=None, gru_hidden=8)
    assert config.single_label and config.feedback_size == min(N_CLASSES, 8)
    big = tiny_config(n_classes=100_001, embedding=None, gru_hidden=64)
    assert big.feedback_size == 64  # not 100 001 inputs
    model = CRNN(tiny_config())
    assert model.gru.input_size == model.config.encoded_features + 5
    assert isinstance(model.classifier, SoftmaxOutput)
    assert model.classifier.weight.shape == (N_CLASSES, 8)
    with pytest.raises(ValueError, match="task"):
        tiny_config(task="polyphonic")
    with pytest.raises(ValueError, match="embedding"):
        tiny_config(embedding=0)
    assert CRNNConfig.from_dict(tiny_config().to_dict()) == tiny_config()


def test_the_feedback_embedding_is_one_hot_times_its_weight():
    model = CRNN(tiny_config())
    ids = torch.tensor([[0, 3, 6, -1], [2, 2, 1, 5]])
    one_hot = F.one_hot(ids.clamp_min(0), N_CLASSES).float() * (ids >= 0).unsqueeze(-1)
    assert model.embedding is not None
    torch.testing.assert_close(model.embed(ids), one_hot @ model.embedding.weight)
    assert torch.equal(model.embed(ids)[0, 3], torch.zeros(5))  # step 0: nothing fed


@pytest.mark.parametrize("tf_prob", [1.0, torch.tensor(1.0)], ids=["float", "tensor"])
def test_full_teacher_forcing_feeds_the_previous_label_one_hot(tf_prob):
    torch.manual_seed(0)
    model = CRNN(tiny_config())
    features, labels = random_batch(batch=3, frames=7)
    fed = torch.cat([torch.full((3, 1), -1), labels[:, :-1]], dim=1)
    expected = reference_logits(model, features, fed)
    torch.testing.assert_close(model(features, labels, tf_prob=tf_prob), expected)


def test_free_running_feeds_its_own_argmax():
    torch.manual_seed(1)
    model = CRNN(tiny_config()).eval()
    features, _ = random_batch(batch=2, frames=9, seed=1)
    logits = model(features)
    own = logits.argmax(-1)
    fed = torch.cat([torch.full((2, 1), -1), own[:, :-1]], dim=1)
    torch.testing.assert_close(logits, reference_logits(model, features, fed))


def test_decide_matches_the_full_softmax():
    torch.manual_seed(2)
    model = CRNN(tiny_config()).eval()
    features, labels = random_batch(batch=2, frames=11, seed=2)
    probs = model.predict(features)
    decided = model.decide(features, labels)
    assert torch.equal(decided.ids, probs.argmax(-1))
    torch.testing.assert_close(decided.probs, probs.max(-1).values)
    log_probs = torch.log_softmax(model(features), -1)
    assert decided.truth_log_prob is not None
    torch.testing.assert_close(
        decided.truth_log_prob, log_probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    )
    assert model.decide(features).truth_log_prob is None


def _fused_and_stepped(
    config: CRNNConfig, seed: int = 0, recurrence: str = "auto"
) -> tuple[CRNN, CRNN]:
    torch.manual_seed(seed)
    fused = CRNN(config)
    fused.recurrence = recurrence
    stepped = CRNN(config)
    stepped.load_state_dict(fused.state_dict())
    stepped.recurrence = "stepped"
    for model in (fused, stepped):
        model.train()
        freeze_batchnorm(model)
    return fused, stepped


@pytest.mark.parametrize("recurrence", ["replay", "fused"])
@pytest.mark.parametrize("sampled", [False, True], ids=["full", "sampled"])
@pytest.mark.parametrize("context_hidden", [0, 5])
@pytest.mark.parametrize("mode", ["mask", "truth", "free"])
def test_two_pass_training_forward_equals_the_stepped_one(
    mode, context_hidden, sampled, recurrence
):
    fused, stepped = _fused_and_stepped(
        tiny_config(context_hidden=context_hidden), recurrence=recurrence
    )
    if sampled:
        for model in (fused, stepped):
            model.use_sampled_softmax(3, "log-uniform")
    features, labels = random_batch(batch=3, frames=30, seed=1)
    mask = torch.rand(3, 30, generator=torch.Generator().manual_seed(2)) < 0.5
    weights = torch.ones(3, 30)
    weights[0, 20:] = 0.0  # padding
    weights[1, :5] = 2.0  # a rejected detection's frames
    kwargs = {
        "mask": dict(targets=labels, teacher_mask=mask),
        "truth": dict(targets=labels, tf_prob=1.0),
        "free": dict(targets=labels, tf_prob=0.0),
    }[mode]
    outs = []
    for model in (fused, stepped):
        model.zero_grad(set_to_none=True)
        hidden = model(features, **kwargs, return_hidden=True)
        torch.manual_seed(5)  # the same candidates for both
        softmax_loss(model.classifier, hidden, labels, weights).backward()
        outs.append(hidden.detach())
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    for (name, a), (_, b) in zip(fused.named_parameters(), stepped.named_parameters()):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("recurrence", ["replay", "fused"])
def test_the_two_pass_forward_is_fed_its_own_argmax_where_the_mask_is_off(recurrence):
    fused, _ = _fused_and_stepped(tiny_config(), recurrence=recurrence)
    features, labels = random_batch(batch=2, frames=20, seed=3)
    other = (labels + 1) % N_CLASSES
    none = torch.zeros(2, 20, dtype=torch.bool)
    torch.testing.assert_close(
        fused(features, labels, teacher_mask=none), fused(features, other, teacher_mask=none)
    )
    every = torch.ones(2, 20, dtype=torch.bool)
    assert not torch.allclose(
        fused(features, labels, teacher_mask=every), fused(features, other, teacher_mask=every)
    )


def test_softmax_loss_weights_frames_and_leaves_padding_out():
    torch.manual_seed(4)
    output = SoftmaxOutput(6, N_CLASSES)
    hidden = torch.randn(2, 5, 6)
    labels = torch.randint(0, N_CLASSES, (2, 5))
    weights = torch.tensor([[1.0, 1.0, 2.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 2.0]])
    losses = F.cross_entropy(
        output(hidden).reshape(-1, N_CLASSES), labels.reshape(-1), reduction="none"
    )
    expected = (losses * weights.reshape(-1)).sum() / weights.sum()
    torch.testing.assert_close(softmax_loss(output, hidden, labels, weights), expected)
    ones = torch.ones(2, 5)
    torch.testing.assert_close(
        softmax_loss(output, hidden, labels, ones),
        full_softmax_loss(hidden, labels, output.weight, output.bias),
    )


def test_sampled_loss_groups_frames_by_weight():
    torch.manual_seed(5)
    model = CRNN(tiny_config())
    model.use_sampled_softmax(4, "frequency", torch.tensor([50, 1, 2, 3, 4, 5, 6]))
    output = model.classifier
    hidden = torch.randn(10, 8)
    labels = torch.randint(0, N_CLASSES, (10,))
    weights = torch.tensor([1.0] * 6 + [0.0] * 2 + [3.0] * 2)
    torch.manual_seed(6)
    got = softmax_loss(output, hidden, labels, weights)
    torch.manual_seed(6)  # the groups, by ascending weight, draw their candidates in turn
    first = output.loss(hidden[:6], labels[:6])
    second = output.loss(hidden[8:], labels[8:])
    torch.testing.assert_close(got, (6 * first + 3.0 * 2 * second) / 12.0)
    # Evaluation mode: the full softmax, whatever the sampled head.
    output.eval()
    losses = F.cross_entropy(output(hidden), labels, reduction="none")
    torch.testing.assert_close(
        softmax_loss(output, hidden, labels, weights), (losses * weights).sum() / weights.sum()
    )


def test_the_sampled_head_adds_no_weights():
    model = CRNN(tiny_config())
    keys = set(model.state_dict())
    model.use_sampled_softmax(3)
    assert set(model.state_dict()) == keys  # checkpoints load for inference without it
    with pytest.raises(ValueError, match="single-label"):
        CRNN(tiny_config(task="multi-label", n_classes=3)).use_sampled_softmax(2)


def test_rejects_multi_hot_targets_and_return_hidden_on_multi_label():
    model = CRNN(tiny_config())
    features, labels = random_batch(batch=2, frames=6)
    with pytest.raises(ValueError, match="class ids"):
        model(features, F.one_hot(labels, N_CLASSES).float(), tf_prob=1.0)
    with pytest.raises(TypeError, match="integer"):
        model(features, labels.float(), tf_prob=1.0)
    multi = CRNN(tiny_config(task="multi-label", n_classes=3))
    with pytest.raises(ValueError, match="single-label"):
        multi(features, return_hidden=True)
    with pytest.raises(ValueError, match="single-label"):
        multi.decide(features)


def test_a_large_vocabulary_never_makes_a_wide_gru_input():
    config = tiny_config(n_classes=100_001, embedding=16, gru_hidden=16)
    model = CRNN(config).eval()
    assert model.gru.input_size == config.encoded_features + 16
    features, _ = random_batch(batch=1, frames=4, n_classes=2)
    decided = model.decide(features)
    assert decided.ids.shape == (1, 4) and int(decided.ids.max()) < 100_001


def test_decisions_under_autocast_are_those_of_float32_given_the_same_cnn_output():
    """Single-label inference's recurrence (argmax fed back) runs in float32 under autocast:
    given the same encoded windows, the same ids, probabilities and truth log-probabilities."""
    torch.manual_seed(12)
    model = CRNN(tiny_config(context_hidden=4)).eval()
    features, labels = random_batch(batch=2, frames=10)
    encoded = model.encode(features)
    plain = model.decide_encoded(encoded, labels)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = model.decide_encoded(encoded, labels)
        assert model.decide(features).ids.shape == (2, 10)  # the whole path runs mixed
    assert torch.equal(plain.ids, mixed.ids) and torch.equal(plain.probs, mixed.probs)
    assert mixed.truth_log_prob is not None and plain.truth_log_prob is not None
    assert torch.equal(plain.truth_log_prob, mixed.truth_log_prob)
    assert mixed.probs.dtype == torch.float32
