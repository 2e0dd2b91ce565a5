"""The CNN of a trained model, made faster for detection on a CPU.

Each block's batch norm is folded into its convolution (``torch.nn.utils.fusion``: in eval
mode a batch norm is a per-channel affine map, so the folded convolution gives the same
values up to rounding), and the layers run on oneDNN's own blocked tensors with the weights
reordered for it once (``torch.mkldnn_convolution`` on a weight from
``mkldnn_reorder_conv2d_weight``) instead of at every call. Paper preset, one recording of
3 000 frames, 2 CPU cores (AVX2, no AVX-512), float32: the CNN 0.84–0.95 s → 0.63–0.68 s,
outputs equal within 1e-5 (the batch-norm fold alone: 0.77 s). ``torch.utils.mkldnn`` and
``torch.jit.optimize_for_inference`` do the same (0.62–0.64 s), but both are TorchScript,
deprecated (importing the first warns), so the same two ops are called here directly; where
they are missing (another torch) the model keeps its own CNN. Used only where it applies:
float32 on a CPU, eval mode, no autograd, no autocast (a CPU with native bf16 detects faster
in bf16 through the model's own CNN).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["FoldedCNN"]


class _Layer(NamedTuple):
    weight: Tensor  # oneDNN's, reordered for the convolution
    bias: Tensor  # oneDNN's
    padding: tuple[int, int]
    pool: tuple[int, int]


class FoldedCNN:
    """A folded oneDNN copy of a CRNN's CNN (``nn.Sequential`` of ConvBlocks: convolution,
    batch norm, max-pool over frequency, ReLU, dropout), held outside the model's modules so
    that it is in no state dict; :meth:`current` says whether the model's weights are still
    the ones it was made from."""

    def __init__(self, cnn: nn.Sequential):
        self.source = cnn
        self.versions = self._versions(cnn)
        self.layers: list[_Layer] = []
        reorder = torch._C._nn.mkldnn_reorder_conv2d_weight
        for block in cnn:
            assert isinstance(block, nn.Sequential)
            conv, norm, pool = block[0], block[1], block[2]
            if not (
                isinstance(conv, nn.Conv2d)
                and isinstance(norm, nn.BatchNorm2d)
                and isinstance(pool, nn.MaxPool2d)
                and isinstance(block[3], nn.ReLU)
                and conv.stride == (1, 1)
                and conv.dilation == (1, 1)
                and conv.groups == 1
            ):
                raise ValueError(f"not a block this folds: {block}")
            # The model's convolutions (FreqTimeConv) store their weight (out, in, time, mel)
            # and transpose it at each call: the plain one holds it as applied.
            plain = nn.Conv2d(conv.in_channels, conv.out_channels, 1)
            with torch.no_grad():
                plain.weight = nn.Parameter(conv.weight.detach().transpose(2, 3).contiguous())
                bias = conv.bias.detach() if conv.bias is not None else None
                plain.bias = nn.Parameter(
                    bias.clone() if bias is not None else torch.zeros(conv.out_channels)
                )
            fused = fuse_conv_bn_eval(plain.eval(), copy.deepcopy(norm).eval())
            padding = (int(conv.padding[0]), int(conv.padding[1]))  # type: ignore[index]
            kernel = pool.kernel_size
            size = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
            if pool.stride != pool.kernel_size or pool.padding not in (0, (0, 0)):
                raise ValueError(f"not a pooling this folds: {pool}")
            self.layers.append(
                _Layer(
                    reorder(
                        fused.weight.detach().float().to_mkldnn(),
                        list(padding),
                        [1, 1],
                        [1, 1],
                        1,
                    ),
                    fused.bias.detach().float().to_mkldnn(),  # type: ignore[union-attr]
                    padding,
                    (int(size[0]), int(size[1])),
                )
            )

    @staticmethod
    def _versions(cnn: nn.Module) -> tuple[int, ...]:
        # A tensor's version counter moves with every in-place change (an optimiser step,
        # load_state_dict's copy); its storage, with a move to another device.
        tensors = [*cnn.parameters(), *cnn.buffers()]
        return tuple(t._version for t in tensors) + tuple(t.data_ptr() for t in tensors)

    def current(self, cnn: nn.Module) -> bool:
        """Whether ``cnn`` is the CNN this copy was made from, with the same weights."""
        return cnn is self.source and self._versions(cnn) == self.versions

    def __deepcopy__(self, memo: dict[int, object]) -> None:
        # A copy of the model (the mean teacher's, the weight average's) has its own weights:
        # it makes its own folded copy if it wants one.
        return None

    def __call__(self, x: Tensor) -> Tensor:
        """(B, 1, mel, time) float32 on the CPU → (B, channels, mel', time), as the CNN."""
        y = x.float().contiguous().to_mkldnn()
        for layer in self.layers:
            y = torch.mkldnn_convolution(
                y, layer.weight, layer.bias, layer.padding, (1, 1), (1, 1), 1
            )
            # Max-pool, then ReLU, as the model does (they commute).
            y = torch.relu(F.max_pool2d(y, layer.pool, layer.pool))
        return y.to_dense()
