"""The teacher-forced CRNN: configuration, shapes, GRU maths, feedback paths, training."""

import json

import pytest
import torch
from torch import nn

from tfstudio.model.crnn import (
    CRNN,
    PRESETS,
    CRNNConfig,
    bce_loss,
    config_from_preset,
    teacher_forcing_mask,
)


def tiny_config(**overrides) -> CRNNConfig:
    values = dict(n_mels=40, n_classes=3, channels=4, gru_hidden=8, dropout=0.0)
    return CRNNConfig(**{**values, **overrides})


def freeze_batchnorm(model: CRNN) -> None:
    """Batch statistics couple the sequences of a batch; running statistics do not."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def random_batch(batch=2, frames=6, n_mels=40, n_classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(batch, frames, n_mels, generator=generator)
    targets = (torch.rand(batch, frames, n_classes, generator=generator) > 0.5).float()
    return features, targets


# --- configuration -------------------------------------------------------------------------


def test_config_paper_defaults_and_frequency_reduction():
    config = CRNNConfig(n_classes=6)
    assert (config.channels, config.kernel, config.pools) == (256, 5, (5, 4, 2))
    assert (config.gru_hidden, config.dropout) == (256, 0.25)
    assert config.freq_sizes == (40, 8, 2, 1)
    assert config.cnn_features == 256


def test_config_floor_divides_other_mel_counts():
    assert CRNNConfig(n_mels=64, n_classes=2).freq_sizes == (64, 12, 3, 1)
    assert CRNNConfig(n_mels=128, n_classes=2).cnn_features == 256 * 3  # 128 → 25 → 6 → 3


def test_config_rejects_pools_that_reduce_frequency_to_zero():
    with pytest.raises(ValueError, match=r"reduce 20 mel bands to 0 \(20 → 4 → 1 → 0\)"):
        CRNNConfig(n_mels=20, n_classes=2)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (dict(n_classes=0), "n_classes"),
        (dict(kernel=4), "odd"),
        (dict(pools=()), "pools"),
        (dict(dropout=1.0), "dropout"),
        (dict(channels=0), "channels"),
        (dict(context_hidden=-1), "context_hidden"),
    ],
)
def test_config_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        CRNNConfig(**{"n_classes": 2, **overrides})


def test_config_round_trips_through_json():
    config = config_from_preset("fast", n_mels=64, n_classes=5, dropout=0.1)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["pools"] == [5, 4, 2]
    assert CRNNConfig.from_dict(data) == config


def test_config_from_dict_rejects_unknown_keys():
    data = {**CRNNConfig(n_classes=2).to_dict(), "layers": 3}
    with pytest.raises(ValueError, match="layers"):
        CRNNConfig.from_dict(data)


def test_presets():
    assert set(PRESETS) == {"paper", "fast"}
    assert config_from_preset("paper", 40, 6) == CRNNConfig(n_mels=40, n_classes=6)
    fast = config_from_preset("fast", 40, 6)
    assert fast.channels < 256 and fast.gru_hidden < 256
    with pytest.raises(ValueError, match="unknown CRNN preset 'huge'"):
        config_from_preset("huge", 40, 6)


# --- shapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["paper", "fast"])
def test_shapes_for_presets(preset):
    torch.manual_seed(0)
    model = CRNN(config_from_preset(preset, n_mels=40, n_classes=4))
    features, targets = random_batch(batch=2, frames=3, n_classes=4)
    assert model.encode(features).shape == (2, 3, model.config.cnn_features)
    assert model(features, targets, tf_prob=0.5).shape == (2, 3, 4)
    probabilities = model.predict(features)
    assert probabilities.shape == (2, 3, 4)
    assert bool(((probabilities >= 0) & (probabilities <= 1)).all())
    assert model.training  # predict restores the mode


def _time_mel_cnn(model: CRNN) -> nn.Sequential:
    """The CNN as written before it ran on (mel, time): plain Conv2d over (B, 1, T, mel),
    pooling (1, p); loaded from ``model``'s own state dict (the keys did not change)."""
    config = model.config
    blocks, channels = [], 1
    for pool in config.pools:
        blocks.append(
            nn.Sequential(
                nn.Conv2d(channels, config.channels, config.kernel, padding=config.kernel // 2),
                nn.BatchNorm2d(config.channels),
                nn.ReLU(),
                nn.MaxPool2d((1, pool), (1, pool)),
                nn.Dropout(config.dropout),
            )
        )
        channels = config.channels
    reference = nn.Sequential(*blocks)
    reference.load_state_dict(model.cnn.state_dict())
    return reference


@pytest.mark.parametrize("preset", ["paper", "fast"])
def test_cnn_on_mel_time_equals_the_time_mel_cnn_with_the_same_weights(preset):
    # The CNN runs on (mel, time) for speed; its weights, outputs and gradients are those of
    # the (time, mel) CNN, so checkpoints from before give the same detections.
    torch.manual_seed(4)
    model = CRNN(config_from_preset(preset, n_mels=40, n_classes=4, dropout=0.0))
    for module in model.cnn.modules():
        if isinstance(module, nn.BatchNorm2d):  # non-trivial running statistics
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.normal_()
    reference = _time_mel_cnn(model)
    features, _ = random_batch(batch=2, frames=37, n_mels=40)
    for training in (True, False):
        model.train(training)
        reference.train(training)
        encoded = model.encode(features)
        x = reference(features.unsqueeze(1))  # (B, C, T, F')
        expected = x.permute(0, 2, 1, 3).reshape(encoded.shape)
        torch.testing.assert_close(encoded, expected, rtol=1e-4, atol=1e-5)
    grad = torch.randn_like(encoded)
    encoded.backward(grad)
    expected.backward(grad)
    for (name, mine), theirs in zip(model.cnn.named_parameters(), reference.parameters()):
        assert mine.grad is not None and theirs.grad is not None, name
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-3, atol=1e-4, msg=name)


@pytest.mark.parametrize("bf16", [False, True])
def test_pooling_before_the_relu_is_exactly_the_relu_before_the_pooling(bf16):
    from tfstudio.model.crnn import ConvBlock

    torch.manual_seed(5)
    block = ConvBlock(3, 8, 5, 4, dropout=0.0).train()
    conv, norm, pool, relu, drop = block
    assert isinstance(pool, nn.MaxPool2d) and isinstance(relu, nn.ReLU)
    relu_first = nn.Sequential(conv, norm, nn.ReLU(), pool, drop)
    x = torch.randn(2, 3, 40, 30)
    x[0, :, :8] = -5.0  # whole pooling windows below zero (their maximum rectified away)
    outs, grads = [], []
    for net in (block, relu_first):
        net.zero_grad()
        inputs = x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(inputs)
        out.float().backward(torch.linspace(-1, 1, out.numel()).view(out.shape))
        outs.append(out.detach())
        grads.append([inputs.grad, conv.weight.grad, norm.weight.grad, norm.bias.grad])
    assert (outs[0] == 0).any() and (outs[0] > 0).any()
    assert torch.equal(outs[0], outs[1])
    for mine, theirs in zip(*grads, strict=True):
        assert torch.equal(mine, theirs)


def test_context_gru_sizes_the_fed_back_gru_input():
    config = tiny_config(context_hidden=5)
    assert config.encoded_features == 10 and tiny_config().encoded_features == 4
    model = CRNN(config)
    assert model.gru.input_size == 10 + 3
    features, targets = random_batch(batch=2, frames=6)
    assert model.encode(features).shape == (2, 6, 10)
    assert model(features, targets, tf_prob=0.5).shape == (2, 6, 3)
    # A checkpoint written before the option existed reads as the paper's model.
    old = {k: v for k, v in tiny_config().to_dict().items() if k != "context_hidden"}
    assert CRNNConfig.from_dict(old).context_hidden == 0


@pytest.mark.parametrize("context_hidden", [0, 6])
def test_only_the_context_gru_lets_a_frame_see_far_ahead(context_hidden):
    # The CNN sees ±6 frames (three 5-wide kernels) and the fed-back GRU only the past, so
    # without the context GRU frame 0 cannot depend on frame 40; with it, it does.
    torch.manual_seed(3)
    model = CRNN(tiny_config(context_hidden=context_hidden)).eval()
    features, _ = random_batch(batch=1, frames=48)
    changed = features.clone()
    changed[:, 40] += 5.0
    with torch.no_grad():
        before, after = model(features), model(changed)
    assert torch.equal(before[:, :30], after[:, :30]) == (context_hidden == 0)
    assert not torch.equal(before[:, 40:], after[:, 40:])


def test_rejects_wrong_feature_and_target_shapes():
    model = CRNN(tiny_config())
    with pytest.raises(ValueError, match="40 mel bands"):
        model(torch.zeros(1, 5, 32))
    with pytest.raises(ValueError, match="targets must be"):
        model(torch.zeros(1, 5, 40), torch.zeros(1, 5, 2), tf_prob=0.5)
    with pytest.raises(ValueError, match="tf_prob"):
        model(torch.zeros(1, 5, 40), torch.zeros(1, 5, 3), tf_prob=1.5)


# --- the recurrent maths -------------------------------------------------------------------


def reference_logits(model: CRNN, features: torch.Tensor, inputs_feedback: torch.Tensor):
    """torch.nn.GRU over [CNN features ; feedback] with the model's own weights."""
    gru = nn.GRU(model.gru.input_size, model.gru.hidden_size, batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(model.gru.weight_ih)
        gru.weight_hh_l0.copy_(model.gru.weight_hh)
        gru.bias_ih_l0.copy_(model.gru.bias_ih)
        gru.bias_hh_l0.copy_(model.gru.bias_hh)
        encoded = model.encode(features)
        hidden, _ = gru(torch.cat([encoded, inputs_feedback], dim=-1))
        return model.classifier(hidden)


@pytest.mark.parametrize("tf_prob", [1.0, torch.tensor(1.0)], ids=["float", "tensor"])
def test_full_teacher_forcing_equals_torch_gru(tf_prob):
    torch.manual_seed(0)
    model = CRNN(tiny_config())
    features, targets = random_batch(batch=3, frames=7)
    # Step t is fed frame t − 1's truth; step 0 is fed zeros.
    shifted = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], dim=1)
    expected = reference_logits(model, features, shifted)
    logits = model(features, targets, tf_prob=tf_prob)
    torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)


def test_free_running_equals_torch_gru_fed_its_own_binarised_predictions():
    torch.manual_seed(1)
    model = CRNN(tiny_config()).eval()
    features, _ = random_batch(batch=2, frames=6)
    logits = model(features)
    own = (torch.sigmoid(logits) > 0.5).float()
    shifted = torch.cat([torch.zeros_like(own[:, :1]), own[:, :-1]], dim=1)
    torch.testing.assert_close(
        logits, reference_logits(model, features, shifted), atol=1e-5, rtol=1e-5
    )


def test_no_teacher_forcing_in_training_equals_inference():
    torch.manual_seed(2)
    model = CRNN(tiny_config())
    freeze_batchnorm(model)
    features, targets = random_batch(batch=2, frames=6)
    trained_float = model(features, targets, tf_prob=0.0)
    trained_tensor = model(features, targets, tf_prob=torch.tensor(0.0))
    inferred = model.eval()(features)
    torch.testing.assert_close(trained_float, inferred)
    torch.testing.assert_close(trained_tensor, inferred)


def test_eval_mode_ignores_targets():
    torch.manual_seed(3)
    model = CRNN(tiny_config()).eval()
    features, targets = random_batch()
    torch.testing.assert_close(model(features, targets, tf_prob=1.0), model(features))


def test_teacher_forcing_changes_the_output():
    torch.manual_seed(4)
    model = CRNN(tiny_config())
    freeze_batchnorm(model)
    features, targets = random_batch(batch=2, frames=8)
    assert not torch.allclose(model(features, targets, 1.0), model(features, targets, 0.0))


# --- per-sequence masking ------------------------------------------------------------------


def test_mask_is_drawn_per_sequence_and_step():
    generator = torch.Generator().manual_seed(0)
    mask = teacher_forcing_mask(16, 50, 0.5, generator=generator)
    assert mask.shape == (16, 50, 1) and mask.dtype == torch.bool
    # At one step, some sequences are forced and others are not.
    mixed_steps = [t for t in range(50) if 0 < int(mask[:, t].sum()) < 16]
    assert len(mixed_steps) == 50
    assert 0.4 < mask.float().mean().item() < 0.6


def test_mask_accepts_a_tensor_probability():
    assert bool(teacher_forcing_mask(4, 3, torch.tensor(1.0)).all())
    assert not bool(teacher_forcing_mask(4, 3, torch.tensor(0.0)).any())


def test_each_sequence_follows_its_own_mask():
    torch.manual_seed(5)
    model = CRNN(tiny_config())
    freeze_batchnorm(model)
    features, targets = random_batch(batch=2, frames=8)
    mask = torch.tensor([[True] * 8, [False] * 8])
    mixed = model(features, targets, teacher_mask=mask)
    forced = model(features, targets, tf_prob=1.0)
    free = model(features, targets, tf_prob=0.0)
    torch.testing.assert_close(mixed[0], forced[0])
    torch.testing.assert_close(mixed[1], free[1])


def test_step_mask_selects_truth_only_where_set():
    torch.manual_seed(6)
    model = CRNN(tiny_config())
    freeze_batchnorm(model)
    features, targets = random_batch(batch=1, frames=6)
    # Force only step 3 (fed frame 2's truth): identical to free running before step 3.
    mask = torch.zeros(1, 6, dtype=torch.bool)
    mask[0, 3] = True
    partly = model(features, targets, teacher_mask=mask)
    free = model(features, targets, tf_prob=0.0)
    torch.testing.assert_close(partly[:, :3], free[:, :3])


def test_half_probability_mixes_truth_and_predictions_across_the_batch():
    torch.manual_seed(7)
    model = CRNN(tiny_config())
    freeze_batchnorm(model)
    features, targets = random_batch(batch=8, frames=10)
    forced = model(features, targets, tf_prob=1.0)
    free = model(features, targets, tf_prob=0.0)
    torch.manual_seed(123)
    half = model(features, targets, tf_prob=0.5)
    torch.manual_seed(123)
    mask = teacher_forcing_mask(8, 10, 0.5)
    torch.testing.assert_close(half, model(features, targets, teacher_mask=mask))
    assert not torch.allclose(half, forced) and not torch.allclose(half, free)


# --- training ------------------------------------------------------------------------------


def test_gradient_reaches_every_parameter():
    torch.manual_seed(8)
    model = CRNN(tiny_config(dropout=0.25))
    features, targets = random_batch(batch=2, frames=6)
    bce_loss(model(features, targets, tf_prob=0.5), targets).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name
    # The truth fed back reaches the feedback columns of the input weights.
    assert bool(model.gru.weight_ih.grad[:, -3:].abs().sum() > 0)


def test_gradient_reaches_the_context_gru():
    torch.manual_seed(8)
    model = CRNN(tiny_config(context_hidden=4))
    features, targets = random_batch(batch=2, frames=6)
    bce_loss(model(features, targets, tf_prob=0.5), targets).backward()
    assert model.context is not None
    for name, parameter in model.context.named_parameters():
        assert parameter.grad is not None and bool(parameter.grad.abs().sum() > 0), name


def test_bce_loss_mask():
    logits = torch.tensor([[[2.0], [-1.0], [5.0]]])
    targets = torch.tensor([[[1.0], [0.0], [0.0]]])
    mask = torch.tensor([[True, True, False]])
    expected = nn.functional.binary_cross_entropy_with_logits(logits[:, :2], targets[:, :2])
    torch.testing.assert_close(bce_loss(logits, targets, mask), expected)
    torch.testing.assert_close(
        bce_loss(logits, targets), nn.functional.binary_cross_entropy_with_logits(logits, targets)
    )


def test_overfits_a_tiny_batch_quickly():
    torch.manual_seed(9)
    model = CRNN(tiny_config(n_mels=20, pools=(5, 4), channels=8, gru_hidden=16))
    features, _ = random_batch(batch=4, frames=16, n_mels=20)
    # Learnable targets: class c is active where band group c is loud, held one frame longer.
    loud = features[..., :18].reshape(4, 16, 3, 6).mean(-1) > 0
    targets = (loud | torch.roll(loud, 1, dims=1)).float()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        optimiser.zero_grad()
        loss = bce_loss(model(features, targets, tf_prob=0.5), targets)
        loss.backward()
        optimiser.step()
        first = loss.item() if first is None else first
    final = bce_loss(model.eval()(features), targets).item()
    assert final < 0.5 * first, (first, final)


@pytest.mark.parametrize("context", [0, 4], ids=["plain", "context-gru"])
@pytest.mark.parametrize("tf_prob", [0.0, 0.5, torch.tensor(0.5)], ids=["free", "half", "tensor"])
def test_runs_under_bfloat16_autocast(tf_prob, context):
    torch.manual_seed(10)
    model = CRNN(tiny_config(context_hidden=context))
    features, targets = random_batch(batch=2, frames=5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(features, targets, tf_prob)
    loss = bce_loss(logits.float(), targets)
    loss.backward()
    assert logits.shape == (2, 5, 3) and torch.isfinite(loss)
    assert logits.dtype == torch.float32  # the recurrence runs in float32
    assert model.cnn[0][0].weight.grad is not None


@pytest.mark.parametrize("recurrence", ["replay", "fused", "stepped"])
def test_autocast_leaves_the_recurrence_in_float32(recurrence):
    """Under autocast only the CNN runs in bf16: given the same CNN output, the fed-back
    decisions, logits and gradients are those of float32 exactly (training's two passes
    must decide alike; a bf16 sign flip would change what is fed back)."""
    torch.manual_seed(11)
    model = CRNN(tiny_config(context_hidden=4))
    model.recurrence = recurrence
    features, targets = random_batch(batch=3, frames=12)
    encoded = model.encode(features).detach()
    mask = torch.rand(3, 12, 1, generator=torch.Generator().manual_seed(1)) < 0.5

    def run(amp: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            logits = model.recur(encoded, targets, teacher_mask=mask)
        bce_loss(logits, targets).backward()
        return logits.detach(), [p.grad.clone() for p in model.gru.parameters()]

    plain, plain_grads = run(False)
    mixed, mixed_grads = run(True)
    assert mixed.dtype == torch.float32
    assert torch.equal(plain, mixed)
    assert all(torch.equal(a, b) for a, b in zip(plain_grads, mixed_grads, strict=True))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.encode(features).dtype == torch.float32  # the context GRU too
        assert model.convolve(features).dtype == torch.bfloat16  # the CNN alone is mixed


# --- the two-pass (fused) training forward -------------------------------------------------


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
@pytest.mark.parametrize("context_hidden", [0, 5])
@pytest.mark.parametrize("mode", ["mask", "truth", "free"])
def test_two_pass_training_forward_equals_the_stepped_one_with_gradients(
    mode, context_hidden, recurrence
):
    fused, stepped = _fused_and_stepped(
        tiny_config(context_hidden=context_hidden), recurrence=recurrence
    )
    features, targets = random_batch(batch=3, frames=40, seed=1)
    mask = torch.rand(3, 40, generator=torch.Generator().manual_seed(2)) < 0.5
    kwargs = {
        "mask": dict(targets=targets, teacher_mask=mask),
        "truth": dict(targets=targets, tf_prob=1.0),
        "free": dict(targets=targets, tf_prob=0.0),
    }[mode]
    outs = []
    for model in (fused, stepped):
        model.zero_grad(set_to_none=True)
        logits = model(features, **kwargs)
        bce_loss(logits, targets).backward()
        outs.append(logits.detach())
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    for (name, a), (_, b) in zip(fused.named_parameters(), stepped.named_parameters()):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("recurrence", ["replay", "fused"])
def test_two_pass_forward_is_fed_its_own_predictions_where_the_mask_is_off(recurrence):
    # With every step forced the output depends on the targets; with none forced, not at all.
    fused, _ = _fused_and_stepped(tiny_config(), recurrence=recurrence)
    features, targets = random_batch(batch=2, frames=30, seed=3)
    none = torch.zeros(2, 30, dtype=torch.bool)
    a = fused(features, targets, teacher_mask=none)
    b = fused(features, 1 - targets, teacher_mask=none)
    torch.testing.assert_close(a, b)
    every = torch.ones(2, 30, dtype=torch.bool)
    assert not torch.allclose(
        fused(features, targets, teacher_mask=every),
        fused(features, 1 - targets, teacher_mask=every),
    )


def test_inference_never_takes_the_fused_path():
    # Without autograd there is nothing to fuse for: predict steps once, as before.
    fused, stepped = _fused_and_stepped(tiny_config())
    features, _ = random_batch(batch=2, frames=25, seed=4)
    torch.testing.assert_close(fused.predict(features), stepped.predict(features))


@pytest.mark.parametrize("single_label", [False, True])
def test_a_small_stepped_pass_runs_on_one_thread_and_restores_the_count(single_label, monkeypatch):
    model = CRNN(tiny_config(task="single-label" if single_label else "multi-label")).eval()
    seen: list[int] = []
    step = model._step

    def counting_step(*args):
        seen.append(torch.get_num_threads())
        return step(*args)

    model._step = counting_step

    def infer():
        if single_label:
            return model.decide(features)[:2]
        return (model.predict(features),)

    features = torch.randn(1, 5, 40)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        expected = infer()
        assert seen == [1] * 5 and torch.get_num_threads() == 2
        # A step too big for one thread keeps every thread; the results are the same.
        seen.clear()
        monkeypatch.setattr(
            "tfstudio.model.stepping.ONE_THREAD_STEP_VALUES", model._step_values() - 1
        )
        again = infer()
        assert seen == [2] * 5 and torch.get_num_threads() == 2
        for a, b in zip(expected, again, strict=True):
            assert torch.equal(a, b)
    finally:
        torch.set_num_threads(before)
