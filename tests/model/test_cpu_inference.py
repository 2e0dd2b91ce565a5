"""Detection's folded oneDNN CNN on a CPU: the same outputs as the model's own CNN, used only
in eval mode without autograd or autocast, and never with weights it was not made from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.train.device import place_model

pytestmark = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="this torch has no oneDNN"
)


def _model(preset: str, n_mels: int, seed: int = 0) -> CRNN:
    """A ``preset`` model with batch norms whose statistics are not the identity's."""
    torch.manual_seed(seed)
    model = place_model(CRNN(config_from_preset(preset, n_mels, 5)), torch.device("cpu"))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1.0, 1.0)
                module.running_var.uniform_(0.3, 3.0)
                module.weight.uniform_(-1.5, 1.5)  # negative scales too
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.mark.parametrize(("preset", "n_mels"), [("paper", 40), ("fast", 64), ("fast", 80)])
def test_the_folded_cnn_gives_the_models_outputs(preset, n_mels):
    model = _model(preset, n_mels)
    features = torch.randn(3, 301, n_mels) * 2.0
    with torch.no_grad():
        own = model.convolve(features)
        model.prepare_cpu_inference()
        assert model._cpu_cnn is not None
        folded = model.convolve(features)
        assert model._uses_cpu_cnn(features.transpose(1, 2).unsqueeze(1))
        torch.testing.assert_close(folded, own, atol=1e-4, rtol=1e-4)
        assert own.abs().max() > 0.1  # not a vacuous comparison


def test_it_is_not_in_the_state_dict_and_not_used_while_training():
    model = _model("fast", 64)
    keys = set(model.state_dict())
    model.prepare_cpu_inference()
    assert set(model.state_dict()) == keys
    features = torch.randn(1, 50, 64)
    x = features.transpose(1, 2).unsqueeze(1)
    with torch.no_grad():
        assert model._uses_cpu_cnn(x)
        model.train()
        assert not model._uses_cpu_cnn(x)
        model.eval()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not model._uses_cpu_cnn(x)
    assert not model._uses_cpu_cnn(x)  # autograd on: training's validation would need it


@pytest.mark.parametrize("change", ["optimizer step", "load_state_dict"])
def test_weights_changed_after_it_was_made_are_used_not_the_stale_copy(change):
    model = _model("fast", 64)
    features = torch.randn(2, 120, 64)
    model.prepare_cpu_inference()
    if change == "optimizer step":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        model.convolve(features).square().mean().backward()
        optimizer.step()
        model.eval()
    else:
        model.load_state_dict(_model("fast", 64, seed=1).state_dict())
    x = features.transpose(1, 2).unsqueeze(1)
    with torch.no_grad():
        assert not model._uses_cpu_cnn(x)
        now = model.convolve(features)
        expected = model.cnn(x.contiguous(memory_format=torch.channels_last))
        expected = expected.permute(0, 3, 1, 2).reshape(2, 120, -1)
        torch.testing.assert_close(now, expected)
        model.prepare_cpu_inference()  # made again: used, and right
        assert model._uses_cpu_cnn(x)
        torch.testing.assert_close(model.convolve(features), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("background", [0.0, 50.0])
def test_detection_posteriors_are_the_same_with_it(background):
    # Both of detection's ways to the CNN: one convolution of a span shared by the windows
    # (per-band normalisation only) and a batch of windows each normalised on its own.
    from tfstudio.train.data import Normalizer
    from tfstudio.train.detect import posteriors

    model = _model("fast", 64)
    rng = np.random.default_rng(0)
    features = (rng.standard_normal((700, 64)) * 6.0 - 40.0).astype(np.float32)
    normalizer = Normalizer(
        np.full(64, -40.0, np.float32), np.full(64, 6.0, np.float32), background
    )
    assert normalizer.windowed == (background > 0)
    own = posteriors(model, features, normalizer, seq_len=256)
    model.prepare_cpu_inference()
    folded = posteriors(model, features, normalizer, seq_len=256)
    np.testing.assert_allclose(folded, own, atol=2e-5)
    assert own.std() > 1e-3


def test_a_copy_of_the_model_does_not_share_it():
    import copy

    model = _model("fast", 64)
    model.prepare_cpu_inference()
    twin = copy.deepcopy(model)
    assert twin._cpu_cnn is None and model._cpu_cnn is not None
    with torch.no_grad():
        for p in twin.cnn.parameters():
            p.add_(0.1)
        features = torch.randn(1, 80, 64)
        x = features.transpose(1, 2).unsqueeze(1)
        # Even handed the original's (as a shallow copy would be), it does not use it.
        twin._cpu_cnn = model._cpu_cnn
        assert not twin._uses_cpu_cnn(x) and model._uses_cpu_cnn(x)
        assert not torch.allclose(twin.convolve(features), model.convolve(features))
