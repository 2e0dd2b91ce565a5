"""The Drossos et al. 2019 CRNN for sound event detection, trained with teacher forcing.

A CNN turns log-mel frames into per-frame features; one GRU layer steps through time with
the previous frame's class activities appended to its input; a linear layer gives logits.

Only the recurrent part is stepped in Python, and only without autograd. The input-to-hidden
projection of the CNN features is one matrix multiply over all frames, the feedback (ground
truth or the model's own binarised prediction, chosen per sequence with ``torch.where`` on a
mask drawn once per forward) is a small (B, C) × (C, 3H) product per step, and no step loops
over the batch. In training, that stepped pass runs under ``no_grad`` only to decide what
each step is fed (the feedback carries no gradient); the outputs the loss sees then come from
one fused GRU call over [features, feedback] (issue 12's two-pass scheme).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tfstudio.model.presets import PRESETS

__all__ = [
    "CRNN",
    "PRESETS",
    "CRNNConfig",
    "bce_loss",
    "config_from_preset",
    "gru_step",
    "teacher_forcing_mask",
]


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

    def __post_init__(self) -> None:
        self.pools = tuple(int(p) for p in self.pools)
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
    hidden_weight_t: Tensor,
    hidden_bias: Tensor,
    output_weight_t: Tensor,
    output_bias: Tensor,
) -> tuple[Tensor, Tensor]:
    """One GRU step (``nn.GRUCell`` maths, gates r, z, n) followed by the output layer.

    ``input_gates`` is the precomputed W_ih[:, :D] x_t + b_ih (B, 3H); the feedback's share
    W_ih[:, D:] f_t is added here. Weights come transposed so every product is one addmm.
    Returns (new hidden (B, H), logits (B, C)). Pure tensor code, so ``torch.compile`` can
    fuse it.
    """
    gi = torch.addmm(input_gates, feedback, feedback_weight_t)
    gh = torch.addmm(hidden_bias, hidden, hidden_weight_t)
    size = hidden.shape[-1]
    rz = torch.sigmoid(gi[:, : 2 * size] + gh[:, : 2 * size])
    reset, update = rz[:, :size], rz[:, size:]
    candidate = torch.tanh(gi[:, 2 * size :] + reset * gh[:, 2 * size :])
    hidden = candidate + update * (hidden - candidate)
    logits = torch.addmm(output_bias, hidden, output_weight_t)
    return hidden, logits


class ConvBlock(nn.Sequential):
    """Conv2d k×k → BatchNorm → ReLU → MaxPool over frequency only → Dropout."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, pool: int, dropout: float
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(1, pool), stride=(1, pool)),
            nn.Dropout(dropout),
        )


class CRNN(nn.Module):
    """Drossos et al. 2019 CRNN: CNN over (time, mel) → one GRU with class feedback → Linear.

    ``forward(features (B, T, n_mels), targets (B, T, C) | None, tf_prob)`` returns logits
    (B, T, C). In training mode with targets, each sequence is fed the ground truth of the
    previous frame with probability ``tf_prob`` at each step, otherwise its own binarised
    prediction; without targets or in eval mode it always feeds its own predictions.
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
            self.context_dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRUCell(config.encoded_features + config.n_classes, config.gru_hidden)
        self.classifier = nn.Linear(config.gru_hidden, config.n_classes)
        self._step = gru_step
        # Training passes use the fused two-pass forward; False steps with autograd (the
        # reference the fused one is tested against).
        self.fused = True

    def compile_step(self, **options: Any) -> None:
        """Replace the recurrent step with ``torch.compile(gru_step, **options)``.

        Compiling the step, not the unrolled loop (which takes very long to compile at
        1024 frames), lets the gate arithmetic fuse. Meant for GPUs: on a CPU the compiled
        step measured slower than the eager one (``python -m tfstudio.model.bench``).
        """
        self._step = torch.compile(gru_step, **options)

    def encode(self, features: Tensor) -> Tensor:
        """(B, T, n_mels) log-mel → (B, T, encoded_features): the CNN, then the context GRU."""
        if features.dim() != 3 or features.shape[-1] != self.config.n_mels:
            raise ValueError(
                f"features must be (batch, frames, {self.config.n_mels} mel bands), "
                f"got {tuple(features.shape)}"
            )
        x = self.cnn(features.unsqueeze(1))  # (B, channels, T, F')
        batch, _, frames, _ = x.shape
        encoded = x.permute(0, 2, 1, 3).reshape(batch, frames, self.config.cnn_features)
        if self.context is not None:
            encoded, _ = self.context(encoded)
            encoded = self.context_dropout(encoded)
        return encoded

    def forward(
        self,
        features: Tensor,
        targets: Tensor | None = None,
        tf_prob: float | Tensor = 0.0,
        *,
        teacher_mask: Tensor | None = None,
    ) -> Tensor:
        """Logits (B, T, C); see the class docstring for when the ground truth is fed back.

        ``teacher_mask`` (B, T) or (B, T, 1) bool overrides the Bernoulli draw from
        ``tf_prob``: True feeds the ground truth of frame t − 1 at step t.
        """
        encoded = self.encode(features)
        batch, frames, _ = encoded.shape
        n_classes = self.config.n_classes

        # truth: the previous frame's targets to feed back; mask: per (sequence, step) choice
        # between truth and own prediction (None: truth everywhere).
        truth: Tensor | None = None
        mask_steps: tuple[Tensor, ...] | None = None
        if self.training and targets is not None:
            if targets.shape != (batch, frames, n_classes):
                raise ValueError(
                    f"targets must be {(batch, frames, n_classes)}, got {tuple(targets.shape)}"
                )
            if teacher_mask is not None:
                truth = targets.to(encoded.dtype)
                mask_steps = teacher_mask.reshape(batch, frames, 1).to(torch.bool).unbind(1)
            elif isinstance(tf_prob, Tensor):
                truth = targets.to(encoded.dtype)
                mask = teacher_forcing_mask(batch, frames, tf_prob.to(encoded.device))
                mask_steps = mask.unbind(1)
            elif not 0.0 <= tf_prob <= 1.0:
                raise ValueError(f"tf_prob must be in [0, 1], got {tf_prob}")
            elif tf_prob > 0.0:
                # A plain 0 needs neither draws nor a torch.where per step; a plain 1 no draws.
                truth = targets.to(encoded.dtype)
                if tf_prob < 1.0:
                    mask = teacher_forcing_mask(batch, frames, tf_prob, device=encoded.device)
                    mask_steps = mask.unbind(1)

        if truth is not None and mask_steps is None:
            # Pure teacher forcing: step t is fed frame t − 1's truth (zeros at step 0).
            fed = torch.cat([truth.new_zeros(batch, 1, n_classes), truth[:, :-1]], dim=1)
            return self._fused(encoded, fed)
        if not (self.fused and torch.is_grad_enabled()):
            # Inference, or the stepped reference: one pass with autograd (if enabled).
            return self._stepped(encoded, truth, mask_steps)[0]
        # Training: the fed-back input carries no gradient (ground truth, or a detached
        # comparison), so a no-grad stepped pass decides it for every (sequence, frame) and
        # one fused GRU over [features, feedback] then computes the outputs with autograd.
        # Same outputs and gradients as the stepped pass (tested), at the cost of a cuDNN or
        # oneDNN GRU instead of T autograd-recorded steps.
        with torch.no_grad():
            _, fed = self._stepped(encoded.detach(), truth, mask_steps)
        return self._fused(encoded, fed)

    def _stepped(
        self,
        encoded: Tensor,
        truth: Tensor | None,
        mask_steps: tuple[Tensor, ...] | None,
    ) -> tuple[Tensor, Tensor]:
        """Step the fed-back GRU through time: (logits (B, T, C), the feedback each step was
        fed (B, T, C)). Without ``truth`` it feeds its own binarised predictions; with it
        and ``mask_steps``, the truth where a step's mask is set."""
        batch, frames, width = encoded.shape
        n_classes = self.config.n_classes
        w_ih, b_ih = self.gru.weight_ih, self.gru.bias_ih
        # The features' share of the input gates for every frame at once: one matmul, not T.
        input_gates = F.linear(encoded, w_ih[:, :width], b_ih)
        feedback_weight_t = w_ih[:, width:].t()
        hidden_weight_t = self.gru.weight_hh.t()
        output_weight_t = self.classifier.weight.t()

        hidden = encoded.new_zeros(batch, self.config.gru_hidden)
        # Step 0 sees zeros, forced or not.
        feedback = encoded.new_zeros(batch, n_classes)
        outputs, fed = [], []
        for t in range(frames):
            fed.append(feedback)
            hidden, logits = self._step(
                input_gates[:, t],
                feedback,
                hidden,
                feedback_weight_t,
                hidden_weight_t,
                self.gru.bias_hh,
                output_weight_t,
                self.classifier.bias,
            )
            outputs.append(logits)
            # sigmoid(x) > 0.5 ⇔ x > 0; a comparison carries no gradient, i.e. it is detached.
            own = (logits.detach() > 0).to(encoded.dtype)
            if truth is not None and mask_steps is not None and t + 1 < frames:
                # Step t + 1 is fed frame t: the truth where its mask is set, else own.
                feedback = torch.where(mask_steps[t + 1], truth[:, t], own)
            else:
                feedback = own
        return torch.stack(outputs, dim=1), torch.stack(fed, dim=1)

    def _fused(self, encoded: Tensor, fed: Tensor) -> Tensor:
        """Logits (B, T, C) of the GRU over ``encoded`` with ``fed`` (B, T, C) as each step's
        feedback, in one fused call (the GRUCell's own weights, so checkpoints are as before)."""
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
        return self.classifier(out)

    @torch.no_grad()
    def predict(self, features: Tensor) -> Tensor:
        """Class probabilities (B, T, C), feeding back its own predictions (eval mode).

        Switches to eval mode for the call and restores the previous mode afterwards.
        """
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self(features))
        finally:
            self.train(was_training)
