"""The CPU dropout: nn.Dropout's distribution, scaling, gradient and layout, from 16 random
bits an element."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tfstudio.model.crnn import CRNN
from tfstudio.model.dropout import Dropout, keep_mask

from .test_crnn import tiny_config


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.9])
def test_each_element_is_kept_with_probability_one_minus_p_and_scaled(p):
    torch.manual_seed(0)
    x = torch.rand(1_000_000) + 0.5  # never 0: a zero out is a dropped element
    out = Dropout(p).train()(x)
    kept = out != 0
    n = x.numel()
    sd = math.sqrt(p * (1 - p) / n)
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * sd
    # Scaled by the rate it keeps at (p to 1/65 536: E[out] = x exactly).
    torch.testing.assert_close(out[kept], x[kept] / (1 - round(p * 65536) / 65536))
    # Independent elements, also the four that share one 64-bit draw: a kept element's
    # neighbours are kept at the same rate as any element.
    pairs = kept.view(-1, 4)
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):
        both = (pairs[:, a] & pairs[:, b]).float().mean().item()
        assert abs(both - (1 - p) ** 2) < 5 * math.sqrt((1 - p) ** 2 / (n / 4))


def test_the_gradient_is_the_same_mask_and_scale():
    torch.manual_seed(1)
    x = (torch.rand(4, 3, 20, 6) + 0.5).requires_grad_()
    out = Dropout(0.25).train()(x)
    out.backward(torch.full_like(out, 2.0))
    kept = out.detach() != 0
    assert x.grad is not None
    torch.testing.assert_close(x.grad, kept.float() * 2.0 / 0.75)


def test_channels_last_stays_channels_last_and_masks_by_element():
    torch.manual_seed(2)
    x = (torch.rand(2, 8, 30, 5) + 0.5).to(memory_format=torch.channels_last)
    out = Dropout(0.25).train()(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    mask = keep_mask(x, 0.25)
    assert mask.shape == x.shape and mask.stride() == x.stride()
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / 0.75)
    # A view that is neither layout (a transpose) is masked by element too.
    view = x.transpose(1, 3)
    out = Dropout(0.25).train()(view)
    kept = out != 0
    assert out.shape == view.shape and 0 < kept.float().mean() < 1
    torch.testing.assert_close(out[kept], view[kept] / 0.75)


def test_bfloat16_stays_bfloat16():
    x = torch.rand(8, 16, dtype=torch.bfloat16) + 0.5
    out = Dropout(0.25).train()(x)
    assert out.dtype == torch.bfloat16
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / 0.75)


def test_the_same_seed_gives_the_same_mask_and_another_another():
    x = torch.ones(1000)
    masks = []
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        masks.append(Dropout(0.25).train()(x) != 0)
    assert torch.equal(masks[0], masks[1]) and not torch.equal(masks[0], masks[2])


def test_eval_zero_and_one_behave_as_nn_dropout():
    x = torch.rand(100) + 0.5
    assert torch.equal(Dropout(0.25).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    dropped = Dropout(1.0).train()(x)
    assert torch.equal(dropped, torch.zeros_like(x))  # all dropped, no 0 × inf
    assert torch.equal(dropped, nn.Dropout(1.0).train()(x))
    # A p that rounds to 1 at 16 bits drops everything too, rather than dividing by zero.
    assert torch.equal(Dropout(1 - 1e-6).train()(x), torch.zeros_like(x))


def test_the_crnn_drops_with_it_and_checkpoints_are_unchanged():
    model = CRNN(tiny_config(dropout=0.25, context_hidden=4))
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert drops and all(isinstance(m, Dropout) for m in drops)
    # No state of its own: a model saved before loads as it was.
    assert not any("drop" in key for key in model.state_dict())
