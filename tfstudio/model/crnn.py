"""The Drossos et al. 2019 CRNN for sound event detection, trained with teacher forcing.

A CNN turns log-mel frames into per-frame features; one GRU layer steps through time with
the previous frame's class activities appended to its input; a linear layer gives logits.

Only the recurrent part is stepped in Python, and only without autograd. The input-to-hidden
projection of the CNN features is one matrix multiply over all frames, the feedback (ground
truth or the model's own binarised prediction, chosen per sequence with ``torch.where`` on a
mask drawn once per forward) is a small (B, C) × (C, 3H) product per step, and no step loops
over the batch. In training, that stepped pass runs under ``no_grad`` to decide what each
step is fed (the feedback carries no gradient); the outputs the loss sees then get their
gradient from that pass's own states (:mod:`tfstudio.model.replay`, on a CPU) or from one
fused GRU call over [features, feedback] (issue 12's two-pass scheme; on CUDA), see
:attr:`CRNN.recurrence`.

Single-label task (``task="single-label"``): exactly one class per frame, class 0 being the
background; the output layer is a :class:`~tfstudio.model.sampled_softmax.SoftmaxOutput`
(softmax over every class, or a sampled softmax while training), and the feedback is the
previous frame's label id (the truth's, or the model's own argmax) looked up in an embedding
table: ``embedding(id)`` is ``one_hot(id) @ embedding.weight``, so 100 000 classes never make a
100 000-wide GRU input. The two passes are the same: the first (no gradient) decides each
step's fed-back id, the second replays its states or runs the fused GRU over [features,
embedding(ids)].
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tfstudio.model.cpu_inference import FoldedCNN
from tfstudio.model.dropout import Dropout
from tfstudio.model.graphs import stepped_labels_pass, stepped_pass
from tfstudio.model.presets import PRESETS
from tfstudio.model.replay import gru_replay, replayed_gru
from tfstudio.model.sampled_softmax import SampledSoftmaxLoss, SoftmaxOutput
from tfstudio.model.stepping import gru_cell, step_threads

__all__ = [
    "CRNN",
    "PRESETS",
    "RECURRENCES",
    "TASKS",
    "CRNNConfig",
    "LabelDecisions",
    "bce_loss",
    "config_from_preset",
    "gru_step",
    "softmax_loss",
    "teacher_forcing_mask",
]

# As tfstudio.train.config.TASKS (a test holds them equal).
TASKS = ("multi-label", "single-label")

# How training computes the fed-back GRU's gradient: see CRNN.recurrence.
RECURRENCES = ("auto", "replay", "fused", "stepped")

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _float32(method: _Method) -> _Method:
    """Run a recurrent entry point ``method(self, encoded, ...)`` in float32, also under
    autocast (:meth:`CRNN.contextualise`, :meth:`CRNN.recur`, :meth:`CRNN.decide_encoded`:
    every path from the CNN's output into a GRU).

    The fed-back decisions (a logit's sign, an argmax) must not flip with rounding, and
    training's two passes must decide alike, so only the CNN runs in bf16 / fp16 when mixed
    precision is on; at the paper preset it is the cost. The context GRU stays in float32
    too: in bf16 it was slower on the CPU (fast preset, B 8 × T 256, forward + backward 100
    → 126 ms) while the CNN got faster (170 → 138 ms; paper preset 4.9 → 2.7 s).
    """

    @functools.wraps(method)
    def wrapper(self: Any, encoded: Tensor, *args: Any, **kwargs: Any) -> Any:
        device_type = encoded.device.type
        if not torch.is_autocast_enabled(device_type):
            return method(self, encoded, *args, **kwargs)
        with torch.autocast(device_type, enabled=False):
            return method(self, encoded.float(), *args, **kwargs)

    return cast(_Method, wrapper)


@dataclass(kw_only=True)
class CRNNConfig:
    """Everything needed to rebuild a :class:`CRNN`; stored in checkpoints as plain JSON."""

    n_mels: int = 40
    n_classes: int
    channels: int = 256
    kernel: int = 5
    pools: tuple[int, ...] = (5, 4, 2)
    gru_hidden: int = 256
    dropout: float = 0.25
    # > 0: a bidirectional GRU of this size (per direction) over the CNN features, before the
    # fed-back GRU, so every frame's input already summarises the whole window, past and
    # future. The fed-back GRU alone is causal: it cannot see an onset coming or a sound's
    # later, more typical part. 0 is the paper's model.
    context_hidden: int = 0
    # "multi-label" (sigmoid outputs, multi-hot feedback: the paper's) or "single-label"
    # (softmax over n_classes, class 0 the background, the fed-back label embedded).
    task: str = "multi-label"
    # Single-label: the size of the fed-back label's embedding (None: min(n_classes,
    # gru_hidden)); a multi-label model feeds back its n_classes activities as they are.
    embedding: int | None = None

    def __post_init__(self) -> None:
        self.pools = tuple(int(p) for p in self.pools)
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.embedding is not None and self.embedding < 1:
            raise ValueError(f"embedding must be >= 1, got {self.embedding}")
        if self.task == "single-label" and self.n_classes < 2:
            raise ValueError("a single-label model needs at least 2 classes (background included)")
        for name in ("n_mels", "n_classes", "channels", "gru_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.context_hidden < 0:
            raise ValueError(f"context_hidden must be >= 0, got {self.context_hidden}")
        if self.kernel < 1 or self.kernel % 2 == 0:
            # An even kernel with padding k//2 would change the number of frames.
            raise ValueError(f"kernel must be a positive odd number, got {self.kernel}")
        if not self.pools or any(p < 1 for p in self.pools):
            raise ValueError(f"pools must be a non-empty sequence of ints >= 1, got {self.pools}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.freq_out < 1:
            raise ValueError(
                f"frequency pools {self.pools} reduce {self.n_mels} mel bands to 0 "
                f"({self.n_mels} → {' → '.join(str(f) for f in self.freq_sizes[1:])}); "
                "use more mel bands or smaller pools"
            )

    @property
    def freq_sizes(self) -> tuple[int, ...]:
        """Mel bands before the CNN and after each pooling (floor division, as MaxPool2d)."""
        sizes = [self.n_mels]
        for p in self.pools:
            sizes.append(sizes[-1] // p)
        return tuple(sizes)

    @property
    def freq_out(self) -> int:
        """Frequency bins left after the last pooling."""
        return self.freq_sizes[-1]

    @property
    def cnn_features(self) -> int:
        """Size of the per-frame CNN output, channels × remaining frequency bins."""
        return self.channels * self.freq_out

    @property
    def time_margin(self) -> int:
        """How many frames on each side one frame's CNN output depends on (each k×k
        convolution adds k // 2; pooling is over frequency only)."""
        return (self.kernel // 2) * len(self.pools)

    @property
    def single_label(self) -> bool:
        return self.task == "single-label"

    @property
    def feedback_size(self) -> int:
        """Width of the fed-back part of the GRU input: the class activities (multi-label) or
        the label embedding (single-label)."""
        if not self.single_label:
            return self.n_classes
        return self.embedding or min(self.n_classes, self.gru_hidden)

    @property
    def encoded_features(self) -> int:
        """Size of the per-frame input to the fed-back GRU (CNN output or context GRU's)."""
        return 2 * self.context_hidden if self.context_hidden else self.cnn_features

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (pools as a list)."""
        data = dataclasses.asdict(self)
        data["pools"] = list(self.pools)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CRNNConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, not silently dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown CRNNConfig key(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))


class LabelDecisions(NamedTuple):
    """A single-label model's inference: per frame, the class id it decided (0: background),
    that class's probability and, when labels were given, the labelled class's
    log-probability."""

    ids: Tensor
    probs: Tensor
    truth_log_prob: Tensor | None = None


class _LabelSteps(NamedTuple):
    hidden: Tensor  # (B, T, H)
    fed: Tensor  # (B, T) the id fed at each step (−1: nothing, step 0)
    own: Tensor  # (B, T) the argmax at each step
    lse: Tensor | None  # (B, T) log-sum-exp of the logits
    top: Tensor | None  # (B, T) the largest logit


def config_from_preset(name: str, n_mels: int, n_classes: int, **overrides: Any) -> CRNNConfig:
    """A :class:`CRNNConfig` from a named preset (``paper`` or ``fast``) plus overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown CRNN preset {name!r}; choose one of {', '.join(PRESETS)}")
    return CRNNConfig(**{**PRESETS[name], "n_mels": n_mels, "n_classes": n_classes, **overrides})


def bce_loss(logits: Tensor, targets: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean binary cross-entropy with logits; ``mask`` (B, T) or (B, T, C) marks valid frames."""
    loss = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    if mask is None:
        return loss.mean()
    if mask.dim() == loss.dim() - 1:
        mask = mask.unsqueeze(-1)
    weight = mask.to(loss.dtype).expand_as(loss)
    return (loss * weight).sum() / weight.sum().clamp_min(1.0)


def softmax_loss(
    output: SoftmaxOutput, hidden: Tensor, labels: Tensor, weights: Tensor | None = None
) -> Tensor:
    """Weighted mean cross-entropy of a single-label head: sum(w · loss) / sum(w) over frames.

    ``hidden`` (B, T, H) or (N, H); ``labels`` (B, T) or (N,) class ids; ``weights`` (B, T) or
    (N,) per-frame weights (0: padding, left out; None: all 1). The full softmax, unless
    ``output`` is training with a sampled head: then each group of frames of equal weight
    gets the sampled loss (:class:`SampledSoftmaxLoss` averages), weighted as the full loss
    would weight it.
    """
    hidden = hidden.reshape(-1, hidden.shape[-1]).float()
    labels = labels.reshape(-1).long()
    if weights is None:
        weights = hidden.new_ones(labels.shape)
    weights = weights.reshape(-1).to(hidden.dtype)
    if not (output.training and output.sampled is not None):
        losses = F.cross_entropy(output(hidden), labels, reduction="none")
        return (losses * weights).sum() / weights.sum().clamp_min(1.0)
    keep = weights > 0
    hidden, labels, weights = hidden[keep], labels[keep], weights[keep]
    total = weights.sum()
    if hidden.shape[0] == 0:
        return (output.weight.sum() + output.bias.sum()) * 0.0
    loss = hidden.new_zeros(())
    for value in torch.unique(weights).tolist():
        rows = weights == value
        group = output.loss(hidden[rows], labels[rows])
        loss = loss + group * (value * rows.sum())
    return loss / total


def teacher_forcing_mask(
    batch: int,
    steps: int,
    probability: float | Tensor,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Bool (batch, steps, 1): True where sequence b is fed the ground truth at step t.

    Each (b, t) is an independent Bernoulli draw, so sequences are forced independently.
    ``probability`` may be a 0-d tensor on the device; comparing against it needs no host sync.
    """
    if isinstance(probability, Tensor):
        device = probability.device if device is None else device
    uniform = torch.rand(batch, steps, 1, device=device, generator=generator)
    return uniform < probability


def gru_step(
    input_gates: Tensor,
    feedback: Tensor,
    hidden: Tensor,
    feedback_weight_t: Tensor,
    gates_weight_t: Tensor,
    candidate_weight_t: Tensor,
    candidate_bias: Tensor,
    output_weight_t: Tensor,
    output_bias: Tensor,
) -> tuple[Tensor, Tensor]:
    """One GRU step (``nn.GRUCell`` maths, gates r, z, n) followed by the output layer.

    ``input_gates`` is the precomputed W_ih[:, :D] x_t + b_ih, plus b_hh's reset and update
    parts (B, 3H); the feedback's share W_ih[:, D:] f_t is added here. ``gates_weight_t`` is
    W_hh's reset and update rows, ``candidate_weight_t`` and ``candidate_bias`` its candidate
    part (b_hn stays inside the reset gate's product, as in the GRU). Weights come transposed
    so every product is one addmm. Returns (new hidden (B, H), logits (B, C)). Pure tensor
    code, so ``torch.compile`` can fuse it.

    Written for few dispatches a step, since on a CPU the stepped pass is mostly per-operation
    overhead: 14 operations instead of 20 (lerp for the update, addcmul for the candidate, the
    reset and update biases folded into ``input_gates``).
    """
    gi = torch.addmm(input_gates, feedback, feedback_weight_t)
    hidden = gru_cell(gi, hidden, gates_weight_t, candidate_weight_t, candidate_bias)
    logits = torch.addmm(output_bias, hidden, output_weight_t)
    return hidden, logits


class FreqTimeConv(nn.Conv2d):
    """A square-kernel ``nn.Conv2d`` whose weight is stored (out, in, time, mel), as the CNN
    always stored it, applied to (B, C, mel, time) inputs: the same outputs, transposed.

    Why the CNN runs on (mel, time) rather than (time, mel): oneDNN's CPU kernels block the
    innermost spatial axis, which here is long (frames) instead of a handful of pooled bands.
    Paper preset, 2 CPU cores, same weights (outputs equal within 1e-6): forward + backward
    of B 8 × T 512 frames 5.17 → 4.62 s, forward 1.96 → 1.58 s; one recording of 3 000
    frames 1.49 → 1.01 s; the fast preset's CNN unchanged (0.14 s). Checkpoints load as before.
    """

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight.transpose(2, 3), self.bias)


class ConvBlock(nn.Sequential):
    """Conv2d k×k → BatchNorm → ReLU → MaxPool over frequency only → Dropout, on
    (B, C, mel, time) inputs (see :class:`FreqTimeConv`).

    The ReLU runs after the pooling: max and ReLU commute (both orders give the same values,
    and the same gradients: the pooled maximum's element, zero where it is not positive), and
    after the pooling it has 1/pool of the elements to rectify, forward and backward. The
    modules keep their indices, so checkpoints are unchanged."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, pool: int, dropout: float
    ) -> None:
        super().__init__(
            FreqTimeConv(in_channels, out_channels, kernel, padding=kernel // 2),
            nn.BatchNorm2d(out_channels),
            nn.MaxPool2d(kernel_size=(pool, 1), stride=(pool, 1)),
            nn.ReLU(inplace=True),
            Dropout(dropout),
        )


class CRNN(nn.Module):
    """Drossos et al. 2019 CRNN: CNN over (time, mel) → one GRU with class feedback → Linear.

    ``forward(features (B, T, n_mels), targets (B, T, C) | None, tf_prob)`` returns logits
    (B, T, C). In training mode with targets, each sequence is fed the ground truth of the
    previous frame with probability ``tf_prob`` at each step, otherwise its own binarised
    prediction; without targets or in eval mode it always feeds its own predictions.

    Single-label (``config.task``): ``targets`` are (B, T) class ids (0 the background), the
    fed-back label is the truth's id or the model's argmax, embedded; ``return_hidden=True``
    gives the GRU states (B, T, H) instead of the logits, for :func:`softmax_loss` (a sampled
    softmax must never compute the full logits).
    """

    def __init__(self, config: CRNNConfig) -> None:
        super().__init__()
        self.config = config
        blocks = []
        in_channels = 1
        for pool in config.pools:
            blocks.append(
                ConvBlock(in_channels, config.channels, config.kernel, pool, config.dropout)
            )
            in_channels = config.channels
        self.cnn = nn.Sequential(*blocks)
        self.context: nn.GRU | None = None
        if config.context_hidden:
            self.context = nn.GRU(
                config.cnn_features, config.context_hidden, batch_first=True, bidirectional=True
            )
            self.context_dropout = Dropout(config.dropout)
        self.gru = nn.GRUCell(config.encoded_features + config.feedback_size, config.gru_hidden)
        self.classifier: nn.Linear | SoftmaxOutput
        self.embedding: nn.Embedding | None = None
        if config.single_label:
            self.classifier = SoftmaxOutput(config.gru_hidden, config.n_classes)
            # one_hot(id) @ embedding.weight, as a lookup.
            self.embedding = nn.Embedding(config.n_classes, config.feedback_size)
        else:
            self.classifier = nn.Linear(config.gru_hidden, config.n_classes)
        self._step = gru_step
        self._recurrence = "auto"
        # Training's first pass on CUDA as one captured CUDA graph (tfstudio.model.graphs);
        # off until a GPU has measured it.
        self.cuda_graphs = False
        # Detection's faster CNN on a CPU (prepare_cpu_inference); not a submodule.
        self._cpu_cnn: FoldedCNN | None = None

    @property
    def recurrence(self) -> str:
        """How a training forward computes the fed-back GRU's gradient (one of
        :data:`RECURRENCES`). Every way first steps the GRU without autograd to decide what
        each step is fed back, except ``stepped``, which steps it with autograd (the
        reference the others are tested against); then ``replay`` back-propagates through
        that pass's own states (:class:`~tfstudio.model.replay.GRUReplay`; the context GRU,
        if any, is stepped and replayed too), ``fused`` runs one fused GRU (cuDNN / oneDNN)
        forward and backward over [features, feedback] (and ``nn.GRU`` for the context).
        ``auto`` (the default): ``replay`` on a CPU, where it measured fastest, ``fused``
        elsewhere. Pure teacher forcing (nothing to decide) is one fused GRU in every way."""
        return self._recurrence

    @recurrence.setter
    def recurrence(self, value: str) -> None:
        if value not in RECURRENCES:
            raise ValueError(f"recurrence must be one of {', '.join(RECURRENCES)}, got {value!r}")
        self._recurrence = value

    def _training_recurrence(self, device: torch.device) -> str:
        """:attr:`recurrence` with ``auto`` resolved for ``device``."""
        if self._recurrence != "auto":
            return self._recurrence
        return "replay" if device.type == "cpu" else "fused"

    @property
    def softmax_output(self) -> SoftmaxOutput:
        """A single-label model's output layer (full softmax; sampled while training, if
        :meth:`use_sampled_softmax` set it so)."""
        if not isinstance(self.classifier, SoftmaxOutput):
            raise ValueError("a multi-label model has no softmax output")
        return self.classifier

    def use_sampled_softmax(
        self, num_sampled: int, sampler: str = "log-uniform", class_counts: Tensor | None = None
    ) -> None:
        """Train the single-label head with a sampled softmax of ``num_sampled`` candidates
        (training only: evaluation and inference always use the full softmax, same weights).
        ``class_counts`` (n_classes,) rank the classes for "log-uniform" and give the
        "frequency" sampler its distribution."""
        if not isinstance(self.classifier, SoftmaxOutput):
            raise ValueError("a sampled softmax needs a single-label model")
        self.classifier.sampled = SampledSoftmaxLoss(
            self.config.n_classes,
            num_sampled,
            sampler,
            class_counts,
            remove_accidental_hits=True,
            ignore_index=self.classifier.ignore_index,
            # Only the rows in play get a gradient: with LazyAdam the step touches K rows, not
            # the whole (n_classes × hidden) weight (bench softmax: 84× at 100 000 classes).
            sparse_grad=True,
        )

    def embed(self, ids: Tensor) -> Tensor:
        """The fed-back input of label ids (..., ): ``one_hot(id) @ embedding.weight``, and
        zeros where the id is negative (step 0, which has no previous frame)."""
        assert self.embedding is not None
        vectors = self.embedding(ids.clamp_min(0))
        return vectors * (ids >= 0).unsqueeze(-1).to(vectors.dtype)

    def compile_step(self, **options: Any) -> None:
        """Replace the recurrent step with ``torch.compile(gru_step, **options)``.

        Compiling the step, not the unrolled loop (which takes very long to compile at
        1024 frames), lets the gate arithmetic fuse. Meant for GPUs: on a CPU the compiled
        step measured slower than the eager one (``python -m tfstudio.model.bench``).
        """
        self._step = torch.compile(gru_step, **options)

    def encode(self, features: Tensor) -> Tensor:
        """(B, T, n_mels) log-mel → (B, T, encoded_features): the CNN, then the context GRU."""
        return self.contextualise(self.convolve(features))

    def convolve(self, features: Tensor) -> Tensor:
        """(B, T, n_mels) log-mel → (B, T, cnn_features), the CNN alone: frame t depends only
        on frames t ± ``config.time_margin``, so a long recording may be convolved in pieces
        that overlap by that much (detection does)."""
        if features.dim() != 3 or features.shape[-1] != self.config.n_mels:
            raise ValueError(
                f"features must be (batch, frames, {self.config.n_mels} mel bands), "
                f"got {tuple(features.shape)}"
            )
        x = features.transpose(1, 2).unsqueeze(1)
        last_weight = cast(Tensor, cast(ConvBlock, self.cnn[-1])[0].weight)
        if last_weight.is_contiguous(memory_format=torch.channels_last):
            # A model placed channels-last (on a CPU: tfstudio.train.device.place_model) gets
            # its input so too, or the convolutions run NCHW whatever the weights' layout.
            x = x.contiguous(memory_format=torch.channels_last)
        if self._uses_cpu_cnn(x):
            assert self._cpu_cnn is not None
            x = self._cpu_cnn(x)
        else:
            x = self.cnn(x)  # (B, channels, F', T)
        batch, _, _, frames = x.shape
        # (B, T, channels, F') flattened: each frame's features ordered as they always were.
        return x.permute(0, 3, 1, 2).reshape(batch, frames, self.config.cnn_features)

    def prepare_cpu_inference(self) -> None:
        """Let :meth:`convolve` use a folded oneDNN copy of the CNN (:mod:`.cpu_inference`)
        in eval mode on a CPU, without autograd or autocast, while the weights are the ones
        it was made from. ``tfstudio bench detect --seconds 600``, 2 AVX2 cores (no native
        bf16), float32: paper preset 50–52× → 66–72× real time, fast 168× → 186–217×."""
        if not torch.backends.mkldnn.is_available():
            return
        try:
            self._cpu_cnn = FoldedCNN(self.cnn)
        except (AttributeError, RuntimeError, ValueError):  # another torch: its own CNN
            self._cpu_cnn = None

    def _uses_cpu_cnn(self, x: Tensor) -> bool:
        folded = self._cpu_cnn
        return (
            folded is not None
            and not self.training
            and not torch.is_grad_enabled()
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
            and folded.current(self.cnn)
        )

    @_float32
    def contextualise(self, convolved: Tensor) -> Tensor:
        """The context GRU over a window's CNN output, if the model has one (it sees the
        whole window both ways, so it runs per window)."""
        if self.context is None:
            return convolved
        if (
            self.training
            and torch.is_grad_enabled()
            and self._training_recurrence(convolved.device) == "replay"
        ):
            # As the fed-back GRU's second pass: stepped without autograd, gradient replayed
            # (on a CPU: fast preset 33 against oneDNN's 79-83 ms, forward and backward).
            encoded = replayed_gru(self.context, convolved)
        else:
            encoded, _ = self.context(convolved)
        return self.context_dropout(encoded)

    def forward(
        self,
        features: Tensor,
        targets: Tensor | None = None,
        tf_prob: float | Tensor = 0.0,
        *,
        teacher_mask: Tensor | None = None,
        return_hidden: bool = False,
    ) -> Tensor:
        """Logits (B, T, C); see the class docstring for when the ground truth is fed back.

        ``teacher_mask`` (B, T) or (B, T, 1) bool overrides the Bernoulli draw from
        ``tf_prob``: True feeds the ground truth of frame t − 1 at step t. ``return_hidden``
        (single-label only): the GRU states (B, T, H), which the classifier turns into logits.
        """
        return self.recur(
            self.encode(features),
            targets,
            tf_prob,
            teacher_mask=teacher_mask,
            return_hidden=return_hidden,
        )

    @_float32
    def recur(
        self,
        encoded: Tensor,
        targets: Tensor | None = None,
        tf_prob: float | Tensor = 0.0,
        *,
        teacher_mask: Tensor | None = None,
        return_hidden: bool = False,
    ) -> Tensor:
        """:meth:`forward` after :meth:`encode`: the fed-back GRU and the output layer over
        ``encoded`` (B, T, encoded_features)."""
        if self.config.single_label:
            return self._forward_labels(encoded, targets, tf_prob, teacher_mask, return_hidden)
        if return_hidden:
            raise ValueError("return_hidden is for single-label models")
        batch, frames, _ = encoded.shape
        n_classes = self.config.n_classes

        # truth: the previous frame's targets to feed back; mask: per (sequence, step) choice
        # between truth and own prediction (None: truth everywhere).
        if self.training and targets is not None and targets.shape != (batch, frames, n_classes):
            raise ValueError(
                f"targets must be {(batch, frames, n_classes)}, got {tuple(targets.shape)}"
            )
        forced, mask_steps = self._forcing(targets, tf_prob, teacher_mask, batch, frames, encoded)
        truth = targets.to(encoded.dtype) if forced and targets is not None else None

        if truth is not None and mask_steps is None:
            # Pure teacher forcing: step t is fed frame t − 1's truth (zeros at step 0).
            fed = torch.cat([truth.new_zeros(batch, 1, n_classes), truth[:, :-1]], dim=1)
            return self._fused(encoded, fed)
        if self._training_recurrence(encoded.device) == "stepped" or not torch.is_grad_enabled():
            # Inference, or the stepped reference: one pass with autograd (if enabled).
            return self._stepped(encoded, truth, mask_steps)[0]
        return self.classifier(self._trained_hidden(encoded, truth, mask_steps))

    def _trained_hidden(
        self, encoded: Tensor, truth: Tensor | None, mask_steps: tuple[Tensor, ...] | None
    ) -> Tensor:
        """A multi-label training forward's GRU states (B, T, H) with autograd, fed back as
        ``truth`` and ``mask_steps`` say (as :meth:`_stepped`).

        The fed-back input carries no gradient (ground truth, or a detached comparison), so
        a no-grad stepped pass decides it for every (sequence, frame); the states' gradient
        then comes from that pass's own states (``replay``) or from one fused GRU over
        [features, feedback] (``fused``), see :attr:`recurrence`. Same outputs and gradients
        as the stepped pass with autograd (tested), at a fraction of its cost."""
        replay = self._training_recurrence(encoded.device) == "replay"
        if self.cuda_graphs and encoded.device.type == "cuda":
            _, fed, states = stepped_pass(
                self, encoded.detach(), truth, mask_steps, keep_states=replay
            )
        else:
            with torch.no_grad():
                _, fed, states = self._stepped(
                    encoded.detach(), truth, mask_steps, keep_states=replay
                )
        return self._hidden_over(encoded, fed, states)

    def _forcing(
        self,
        targets: Tensor | None,
        tf_prob: float | Tensor,
        teacher_mask: Tensor | None,
        batch: int,
        frames: int,
        encoded: Tensor,
    ) -> tuple[bool, tuple[Tensor, ...] | None]:
        """(whether the truth is fed back at all, each step's (B, 1) mask: None where the
        truth is fed at every step)."""
        if not (self.training and targets is not None):
            return False, None
        if teacher_mask is not None:
            return True, teacher_mask.reshape(batch, frames, 1).to(torch.bool).unbind(1)
        if isinstance(tf_prob, Tensor):
            mask = teacher_forcing_mask(batch, frames, tf_prob.to(encoded.device))
            return True, mask.unbind(1)
        if not 0.0 <= tf_prob <= 1.0:
            raise ValueError(f"tf_prob must be in [0, 1], got {tf_prob}")
        if tf_prob > 0.0:
            # A plain 0 needs neither draws nor a torch.where per step; a plain 1 no draws.
            if tf_prob < 1.0:
                mask = teacher_forcing_mask(batch, frames, tf_prob, device=encoded.device)
                return True, mask.unbind(1)
            return True, None
        return False, None

    def _forward_labels(
        self,
        encoded: Tensor,
        targets: Tensor | None,
        tf_prob: float | Tensor,
        teacher_mask: Tensor | None,
        return_hidden: bool,
    ) -> Tensor:
        """The single-label forward: as the multi-label one, with label ids fed back."""
        batch, frames, _ = encoded.shape
        if self.training and targets is not None:
            if targets.shape != (batch, frames):
                raise ValueError(
                    f"single-label targets must be class ids {(batch, frames)}, "
                    f"got {tuple(targets.shape)}"
                )
            if targets.dtype.is_floating_point or targets.dtype == torch.bool:
                raise TypeError(f"single-label targets must be integer ids, got {targets.dtype}")
        forced, mask_steps = self._forcing(targets, tf_prob, teacher_mask, batch, frames, encoded)
        truth = targets.long() if forced and targets is not None else None
        if truth is not None and mask_steps is None:
            # Step t is fed frame t − 1's label; step 0 nothing (id −1, a zero input).
            fed = torch.cat([truth.new_full((batch, 1), -1), truth[:, :-1]], dim=1)
            hidden = self._fused_hidden(encoded, self.embed(fed))
        elif self._training_recurrence(encoded.device) == "stepped" or not torch.is_grad_enabled():
            hidden = self._stepped_labels(encoded, truth, mask_steps).hidden
        else:
            # Pass 1 decides the fed-back ids (no gradient: an id is a choice); the states'
            # gradient comes from its own states or a fused GRU over [features,
            # embedding(ids)], as the multi-label forward's (:meth:`_trained_hidden`).
            if self.cuda_graphs and encoded.device.type == "cuda":
                states, fed = stepped_labels_pass(self, encoded.detach(), truth, mask_steps)
            else:
                with torch.no_grad():
                    steps = self._stepped_labels(encoded.detach(), truth, mask_steps)
                states, fed = steps.hidden, steps.fed
            replay = self._training_recurrence(encoded.device) == "replay"
            hidden = self._hidden_over(encoded, self.embed(fed), states if replay else None)
        return hidden if return_hidden else self.classifier(hidden)

    def _step_inputs(self, encoded: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """The features' share of the input gates for every frame at once (one matmul, not
        T), and the weights each step takes after (input gates, feedback, hidden), as
        :func:`gru_step` wants them."""
        width = encoded.shape[-1]
        size = self.config.gru_hidden
        gru = self.gru
        w_ih, w_hh, b_hh = gru.weight_ih, gru.weight_hh, gru.bias_hh
        # b_hh's reset and update parts add to the input gates; its candidate part does not
        # (the reset gate multiplies W_hn h + b_hn).
        bias = gru.bias_ih + torch.cat([b_hh[: 2 * size], b_hh.new_zeros(size)])
        input_gates = F.linear(encoded, w_ih[:, :width], bias)
        weights = (
            w_ih[:, width:].t(),
            w_hh[: 2 * size].t(),
            w_hh[2 * size :].t(),
            b_hh[2 * size :],
            self.classifier.weight.t(),
            self.classifier.bias,
        )
        return input_gates, weights

    def _step_values(self) -> int:
        """How many weight values one recurrent step multiplies with (GRU and output)."""
        hidden = self.config.gru_hidden
        return 3 * hidden * (hidden + self.config.feedback_size) + hidden * self.config.n_classes

    def _stepped(
        self,
        encoded: Tensor,
        truth: Tensor | None,
        mask_steps: tuple[Tensor, ...] | None,
        *,
        keep_states: bool = False,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Step the fed-back GRU through time: (logits (B, T, C), the feedback each step was
        fed (B, T, C), with ``keep_states`` the GRU states (B, T, H), else None). Without
        ``truth`` it feeds its own binarised predictions; with it and ``mask_steps``, the
        truth where a step's mask is set."""
        batch, frames, _width = encoded.shape
        n_classes = self.config.n_classes
        input_gates, step_weights = self._step_inputs(encoded)

        hidden = encoded.new_zeros(batch, self.config.gru_hidden)
        # Step 0 sees zeros, forced or not.
        feedback = encoded.new_zeros(batch, n_classes)
        outputs, fed, states = [], [], []
        # Views made once, not one indexing a step (the loop is mostly per-operation cost).
        gates = input_gates.unbind(1)
        forced = truth is not None and mask_steps is not None
        truths = truth.unbind(1) if forced and truth is not None else ()
        with step_threads(encoded.device, self._step_values()):
            for t in range(frames):
                fed.append(feedback)
                hidden, logits = self._step(gates[t], feedback, hidden, *step_weights)
                outputs.append(logits)
                if keep_states:
                    states.append(hidden)
                # sigmoid(x) > 0.5 ⇔ x > 0; a comparison carries no gradient.
                own = logits > 0
                if forced and t + 1 < frames:
                    assert mask_steps is not None
                    # Step t + 1 is fed frame t: the truth where its mask is set, else own
                    # (torch.where makes the comparison's bools the truth's floats).
                    feedback = torch.where(mask_steps[t + 1], truths[t], own)
                else:
                    feedback = own.to(encoded.dtype)
        return (
            torch.stack(outputs, dim=1),
            torch.stack(fed, dim=1),
            torch.stack(states, dim=1) if keep_states else None,
        )

    def _stepped_labels(
        self,
        encoded: Tensor,
        truth: Tensor | None,
        mask_steps: tuple[Tensor, ...] | None,
        *,
        stats: bool = False,
    ) -> _LabelSteps:
        """Step the single-label GRU through time, feeding back label ids: the truth's where a
        step's mask is set (with ``truth``), else the model's own argmax. With ``stats``, each
        frame's log-sum-exp and top logit too (what inference reports without keeping the
        (B, T, C) logits)."""
        batch, frames, _width = encoded.shape
        input_gates, step_weights = self._step_inputs(encoded)

        hidden = encoded.new_zeros(batch, self.config.gru_hidden)
        ids = torch.full((batch,), -1, dtype=torch.long, device=encoded.device)
        feedback = encoded.new_zeros(batch, self.config.feedback_size)
        hiddens, fed, own_ids, lse, top = [], [], [], [], []
        with step_threads(encoded.device, self._step_values()):
            for t in range(frames):
                fed.append(ids)
                hidden, logits = self._step(input_gates[:, t], feedback, hidden, *step_weights)
                hiddens.append(hidden)
                scores = logits.detach()
                own = scores.argmax(-1)
                own_ids.append(own)
                if stats:
                    lse.append(torch.logsumexp(scores.float(), -1))
                    top.append(scores.gather(1, own.unsqueeze(1)).squeeze(1).float())
                if truth is not None and mask_steps is not None and t + 1 < frames:
                    ids = torch.where(mask_steps[t + 1][:, 0], truth[:, t], own)
                else:
                    ids = own
                feedback = self.embed(ids).to(encoded.dtype)
        return _LabelSteps(
            torch.stack(hiddens, dim=1),
            torch.stack(fed, dim=1),
            torch.stack(own_ids, dim=1),
            torch.stack(lse, dim=1) if stats else None,
            torch.stack(top, dim=1) if stats else None,
        )

    def _fused(self, encoded: Tensor, fed: Tensor) -> Tensor:
        """Logits (B, T, C) of the GRU over ``encoded`` with ``fed`` (B, T, C) as each step's
        feedback, in one fused call (the GRUCell's own weights, so checkpoints are as before)."""
        return self.classifier(self._fused_hidden(encoded, fed))

    def _hidden_over(self, encoded: Tensor, fed: Tensor, states: Tensor | None) -> Tensor:
        """The GRU states (B, T, H) over ``encoded`` with ``fed`` (B, T, feedback_size) as
        each step's feedback, with autograd: replayed from ``states`` (a no-grad pass's over
        the same input) where given, else one fused GRU call."""
        if states is None:
            return self._fused_hidden(encoded, fed)
        gru = self.gru
        inputs = torch.cat([encoded, fed.to(encoded.dtype)], dim=-1)
        return gru_replay(inputs, states, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh)

    def _fused_hidden(self, encoded: Tensor, fed: Tensor) -> Tensor:
        """The GRU states (B, T, H) over ``encoded`` with ``fed`` (B, T, feedback_size) as
        each step's feedback, in one fused call."""
        gru = self.gru
        inputs = torch.cat([encoded, fed.to(encoded.dtype)], dim=-1)
        h0 = encoded.new_zeros(1, encoded.shape[0], self.config.gru_hidden)
        # nn.GRU's own kernel (cuDNN / oneDNN), called with the cell's parameters: the same
        # maths as nn.GRUCell, stepped inside the kernel.
        out, _ = torch._VF.gru(  # type: ignore[attr-defined]
            inputs,
            h0,
            [gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh],
            True,  # has biases
            1,  # layers
            0.0,  # dropout
            self.training,
            False,  # bidirectional
            True,  # batch first
        )
        return out

    @torch.no_grad()
    def decide(self, features: Tensor, labels: Tensor | None = None) -> LabelDecisions:
        """Single-label inference (eval mode): each frame's most probable class id, fed back
        as it goes, and its probability; with ``labels`` (B, T) the log-probability of the
        labelled class too (the full softmax's cross-entropy is its negative). Never holds the
        (B, T, C) logits."""
        if not self.config.single_label:
            raise ValueError("decide is for single-label models")
        was_training = self.training
        self.eval()
        try:
            return self.decide_encoded(self.encode(features), labels)
        finally:
            self.train(was_training)

    @torch.no_grad()
    @_float32
    def decide_encoded(self, encoded: Tensor, labels: Tensor | None = None) -> LabelDecisions:
        """:meth:`decide` over already encoded windows (B, T, encoded_features), in the mode
        the model is in (eval, for inference)."""
        if not self.config.single_label:
            raise ValueError("decide is for single-label models")
        steps = self._stepped_labels(encoded, None, None, stats=True)
        assert steps.lse is not None and steps.top is not None
        truth = None
        if labels is not None:
            ids = labels.long().clamp_min(0)
            weight = self.classifier.weight
            logit = torch.einsum("bth,bth->bt", steps.hidden.float(), weight[ids].float())
            truth = logit + self.classifier.bias[ids].float() - steps.lse
        return LabelDecisions(steps.own, torch.exp(steps.top - steps.lse), truth)

    @torch.no_grad()
    def predict(self, features: Tensor) -> Tensor:
        """Class probabilities (B, T, C), feeding back its own predictions (eval mode): sigmoids,
        or a single-label model's softmax.

        Switches to eval mode for the call and restores the previous mode afterwards.
        """
        was_training = self.training
        self.eval()
        try:
            if self.config.single_label:
                return torch.softmax(self(features), dim=-1)
            return torch.sigmoid(self(features))
        finally:
            self.train(was_training)
