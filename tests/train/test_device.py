"""Placing the model on its device (tfstudio.train.device.place_model)."""

from __future__ import annotations

import copy
import io

import torch

from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.train.device import place_model


def _model() -> CRNN:
    torch.manual_seed(0)
    return CRNN(config_from_preset("fast", 40, 3)).eval()


def test_a_cpu_model_convolves_channels_last_with_the_same_outputs():
    plain = _model()
    placed = place_model(copy.deepcopy(plain), torch.device("cpu"))
    weights = [m.weight for m in placed.cnn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights[1:])
    layouts: list[bool] = []
    placed.cnn[0][0].register_forward_hook(
        lambda _m, _i, out: layouts.append(out.is_contiguous(memory_format=torch.channels_last))
    )
    features = torch.randn(2, 50, 40)
    torch.testing.assert_close(placed.encode(features), plain.encode(features))
    # The input follows the weights: the convolutions run NHWC, not reordered back to NCHW.
    assert layouts == [True]
    assert not plain.cnn[0][0](torch.randn(1, 1, 40, 9)).is_contiguous(
        memory_format=torch.channels_last
    )


def test_checkpoints_hold_the_same_values_either_way():
    placed = place_model(_model(), torch.device("cpu"))
    buffer = io.BytesIO()
    torch.save(placed.state_dict(), buffer)
    buffer.seek(0)
    plain = _model()
    with torch.no_grad():
        for p in plain.parameters():
            p.zero_()
    plain.load_state_dict(torch.load(buffer, weights_only=True))
    for (name, a), (_, b) in zip(
        placed.state_dict().items(), plain.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
