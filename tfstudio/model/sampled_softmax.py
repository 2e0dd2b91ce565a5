"""Sampled softmax for label sets too large for a full softmax at every training frame.

For one label per frame out of many classes (syllable repertoires, large taxonomies), train
with a sampled softmax and evaluate and infer with the full softmax over the *same* weights
(:class:`SoftmaxOutput` does both). As in TensorFlow's ``sampled_softmax_loss``: candidates
are drawn once per call for the whole batch, without duplicates (draws with replacement
until ``num_sampled`` distinct ids are found), every logit is corrected by the log of its
expected count, and candidates that equal a row's true label ("accidental hits") are masked.

Two layers, as in torchaudio: stateless functions (``log_uniform_probabilities``,
``expected_counts``, ``sampled_softmax_loss``, ``full_softmax_loss``) and thin modules
(:class:`CandidateSampler`, :class:`SampledSoftmaxLoss`, :class:`SoftmaxOutput`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "CandidateSampler",
    "SampledSoftmaxLoss",
    "SoftmaxOutput",
    "expected_counts",
    "full_softmax_loss",
    "log_uniform_probabilities",
    "sampled_softmax_loss",
]

SAMPLERS = ("log-uniform", "frequency")


def log_uniform_probabilities(num_classes: int) -> Tensor:
    """Zipf-like P(k) = (log(k + 2) − log(k + 1)) / log(num_classes + 1), k = 0 … C − 1.

    This is TensorFlow's log-uniform sampler: rank 0 (the most frequent class) is likeliest.
    Float64, sums to 1.
    """
    k = torch.arange(num_classes, dtype=torch.float64)
    return (torch.log1p(1.0 / (k + 1.0))) / math.log(num_classes + 1.0)


def expected_counts(probabilities: Tensor, num_tries: int) -> Tensor:
    """Probability that a class turns up in ``num_tries`` draws with replacement.

    1 − (1 − p)^n, the expected count of a class in a set of distinct candidates found
    after n draws (computed as −expm1(n · log1p(−p)) so tiny p keep their precision).
    """
    return -torch.expm1(num_tries * torch.log1p(-probabilities))


def _flatten(hidden: Tensor, labels: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
    """(B, T, H) & (B, T) → (N, H) & (N,), dropping rows whose label is ``ignore_index``."""
    if hidden.dim() < 2 or hidden.shape[:-1] != labels.shape:
        raise ValueError(
            "hidden must be (..., H) and labels (...) with the same leading shape, got "
            f"{tuple(hidden.shape)} and {tuple(labels.shape)}"
        )
    if labels.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    hidden = hidden.reshape(-1, hidden.shape[-1])
    labels = labels.reshape(-1).long()
    keep = labels != ignore_index
    if not bool(keep.all()):
        hidden, labels = hidden[keep], labels[keep]
    return hidden, labels


def full_softmax_loss(
    hidden: Tensor, labels: Tensor, weight: Tensor, bias: Tensor, ignore_index: int = -100
) -> Tensor:
    """Mean cross-entropy of the full softmax over ``hidden @ weight.T + bias``.

    ``hidden`` (B, T, H) or (N, H); ``labels`` (B, T) or (N,) class indices; ``weight``
    (C, H); ``bias`` (C,). Rows labelled ``ignore_index`` (padding) are left out.
    """
    logits = F.linear(hidden, weight, bias)
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).long(), ignore_index=ignore_index
    )


def sampled_softmax_loss(
    hidden: Tensor,
    labels: Tensor,
    weight: Tensor,
    bias: Tensor,
    candidates: Tensor,
    candidate_log_counts: Tensor,
    true_log_counts: Tensor,
    *,
    remove_accidental_hits: bool = True,
    ignore_index: int = -100,
) -> Tensor:
    """Mean cross-entropy over [true class, candidates] with log expected counts subtracted.

    ``candidates`` (S,) sampled class ids shared by all rows; ``candidate_log_counts`` (S,)
    their log expected counts; ``true_log_counts`` (C,) the log expected count of every class,
    looked up for each row's true label. Accidental hits become −inf so they neither count
    as negatives nor receive gradient.
    """
    hidden, labels = _flatten(hidden, labels, ignore_index)
    true_logits = (hidden * weight[labels]).sum(-1) + bias[labels]
    true_logits = true_logits - true_log_counts.to(hidden.dtype)[labels]
    sampled_logits = F.linear(hidden, weight[candidates], bias[candidates])
    sampled_logits = sampled_logits - candidate_log_counts.to(hidden.dtype)
    if remove_accidental_hits:
        hits = labels.unsqueeze(1) == candidates.unsqueeze(0)
        sampled_logits = sampled_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([true_logits.unsqueeze(1), sampled_logits], dim=1)
    # The true class is column 0 of every row.
    return F.cross_entropy(logits, labels.new_zeros(labels.shape[0]))


class CandidateSampler:
    """Draws distinct class ids from a fixed distribution q over the classes.

    ``log-uniform``: Zipf over frequency ranks; with ``class_counts`` the most frequent class
    is rank 0, without them class id k is rank k (ids must already be sorted by frequency).
    ``frequency``: q ∝ (count + 1) (add-one, so unseen classes can still be negatives).
    It works on the CPU (a few hundred ids per batch); callers move the results.
    """

    def __init__(
        self, num_classes: int, sampler: str = "log-uniform", class_counts: Tensor | None = None
    ) -> None:
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
        counts = None
        if class_counts is not None:
            counts = torch.as_tensor(class_counts, dtype=torch.float64).flatten()
            if counts.numel() != num_classes:
                raise ValueError(
                    f"class_counts has {counts.numel()} entries for {num_classes} classes"
                )
            if bool((counts < 0).any()):
                raise ValueError("class_counts must be >= 0")
        if sampler == "frequency":
            if counts is None:
                raise ValueError("the 'frequency' sampler needs class_counts")
            probabilities = (counts + 1.0) / (counts + 1.0).sum()
        else:
            by_rank = log_uniform_probabilities(num_classes)
            if counts is None:
                probabilities = by_rank
            else:
                # Stable sort: ties keep id order, so equal counts fall back to ids.
                order = torch.sort(-counts, stable=True).indices
                probabilities = torch.empty_like(by_rank)
                probabilities[order] = by_rank
        self.num_classes = num_classes
        self.sampler = sampler
        self.probabilities = probabilities
        self.cdf = torch.cumsum(probabilities, 0)

    def draw(self, num_draws: int, generator: torch.Generator | None = None) -> Tensor:
        """``num_draws`` ids drawn with replacement from q (int64, CPU)."""
        uniform = torch.rand(num_draws, dtype=torch.float64, generator=generator)
        ids = torch.searchsorted(self.cdf, uniform * self.cdf[-1], right=True)
        return ids.clamp_(max=self.num_classes - 1)

    def sample_unique(
        self, num_sampled: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, int]:
        """``num_sampled`` distinct ids in draw order, and how many draws it took."""
        if not 0 < num_sampled < self.num_classes:
            raise ValueError(
                f"num_sampled must be in [1, {self.num_classes - 1}], got {num_sampled}"
            )
        seen = torch.zeros(self.num_classes, dtype=torch.bool)
        found: list[Tensor] = []
        count = tries = 0
        while count < num_sampled:
            chunk = max(64, 2 * (num_sampled - count))
            draws = self.draw(chunk, generator)
            # Keep a draw if it is its id's first appearance in this chunk and not seen before.
            first = torch.full((self.num_classes,), chunk, dtype=torch.int64)
            first.scatter_reduce_(0, draws, torch.arange(chunk), reduce="amin")
            new = (first[draws] == torch.arange(chunk)) & ~seen[draws]
            running = torch.cumsum(new, 0)
            need = num_sampled - count
            if int(running[-1]) >= need:
                stop = int(torch.searchsorted(running, need)) + 1
                draws, new = draws[:stop], new[:stop]
                tries += stop
            else:
                tries += chunk
            fresh = draws[new]
            seen[fresh] = True
            found.append(fresh)
            count += fresh.numel()
        return torch.cat(found), tries

    def sample(
        self, num_sampled: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates (S,), their log expected counts (S,), every class's log expected count (C,)."""
        candidates, tries = self.sample_unique(num_sampled, generator)
        log_counts = torch.log(expected_counts(self.probabilities, tries))
        return candidates, log_counts[candidates], log_counts

    def __repr__(self) -> str:
        return f"CandidateSampler(num_classes={self.num_classes}, sampler={self.sampler!r})"


class SampledSoftmaxLoss(nn.Module):
    """Sampled-softmax training loss; the output layer's ``weight`` and ``bias`` are passed in.

    ``forward(hidden (B, T, H) | (N, H), labels (B, T) | (N,) int64, weight (C, H), bias (C,))``
    returns the mean cross-entropy over the true class plus ``num_sampled`` candidates.
    Use :func:`full_softmax_loss` (or :class:`SoftmaxOutput`) for validation and inference.
    """

    def __init__(
        self,
        num_classes: int,
        num_sampled: int,
        sampler: str = "log-uniform",
        class_counts: Tensor | None = None,
        remove_accidental_hits: bool = True,
        ignore_index: int = -100,
    ) -> None:
        super().__init__()
        if not 0 < num_sampled < num_classes:
            raise ValueError(f"num_sampled must be in [1, {num_classes - 1}], got {num_sampled}")
        self.num_classes = num_classes
        self.num_sampled = num_sampled
        self.remove_accidental_hits = remove_accidental_hits
        self.ignore_index = ignore_index
        self.sampler = CandidateSampler(num_classes, sampler, class_counts)

    def forward(
        self,
        hidden: Tensor,
        labels: Tensor,
        weight: Tensor,
        bias: Tensor,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        if weight.shape[0] != self.num_classes or bias.shape != (self.num_classes,):
            raise ValueError(
                f"weight must be ({self.num_classes}, H) and bias ({self.num_classes},), got "
                f"{tuple(weight.shape)} and {tuple(bias.shape)}"
            )
        candidates, candidate_log_counts, true_log_counts = self.sampler.sample(
            self.num_sampled, generator
        )
        device = weight.device
        return sampled_softmax_loss(
            hidden,
            labels,
            weight,
            bias,
            candidates.to(device),
            candidate_log_counts.to(device),
            true_log_counts.to(device),
            remove_accidental_hits=self.remove_accidental_hits,
            ignore_index=self.ignore_index,
        )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, num_sampled={self.num_sampled}, "
            f"sampler={self.sampler.sampler!r}, "
            f"remove_accidental_hits={self.remove_accidental_hits}"
        )


class SoftmaxOutput(nn.Module):
    """Output layer (weight (C, H), bias (C,)) for a large label set, trained either way.

    ``forward(hidden)`` gives full logits. ``loss(hidden, labels)`` is the sampled softmax in
    training mode when ``num_sampled`` is set, and the full softmax otherwise (eval mode or
    no sampling), so validation and inference always see the true distribution.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        num_sampled: int | None = None,
        sampler: str = "log-uniform",
        class_counts: Tensor | None = None,
        remove_accidental_hits: bool = True,
        ignore_index: int = -100,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        self.bias = nn.Parameter(torch.zeros(num_classes))
        # As nn.Linear; the bias starts at 0 so the sampled correction alone sets the prior.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.ignore_index = ignore_index
        self.sampled: SampledSoftmaxLoss | None = None
        if num_sampled is not None:
            self.sampled = SampledSoftmaxLoss(
                num_classes,
                num_sampled,
                sampler,
                class_counts,
                remove_accidental_hits,
                ignore_index,
            )

    def extra_repr(self) -> str:
        num_classes, in_features = self.weight.shape
        return f"in_features={in_features}, num_classes={num_classes}"

    def forward(self, hidden: Tensor) -> Tensor:
        """Full logits (..., C)."""
        return F.linear(hidden, self.weight, self.bias)

    def loss(
        self, hidden: Tensor, labels: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Sampled-softmax loss while training (if sampling), full-softmax loss otherwise."""
        if self.training and self.sampled is not None:
            return self.sampled(hidden, labels, self.weight, self.bias, generator)
        return full_softmax_loss(hidden, labels, self.weight, self.bias, self.ignore_index)

    @torch.no_grad()
    def predict(self, hidden: Tensor) -> Tensor:
        """Class probabilities (..., C) from the full softmax."""
        return torch.softmax(self(hidden), dim=-1)
