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

Speed: the sampled loss gathers only the rows in play (the batch's labels and the
candidates) in one lookup, so its backward touches only those rows. With
``sparse_grad=True`` the weight's gradient is a sparse tensor of those rows instead of a dense
(C, H) one; then step with :class:`LazyAdam` (Adam that updates only the rows a sparse
gradient touches) and clip with :func:`clip_grad_norm_` (torch's rejects sparse gradients).
At C = 100 000, H = 512 on two CPU cores a dense Adam step over the weight alone costs more
than the whole sampled forward and backward (``tfstudio bench softmax`` measures both).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "CandidateSampler",
    "LazyAdam",
    "SampledSoftmaxLoss",
    "SoftmaxOutput",
    "clip_grad_norm_",
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
    sparse_grad: bool = False,
) -> Tensor:
    """Mean cross-entropy over [true class, candidates] with log expected counts subtracted.

    ``candidates`` (S,) sampled class ids shared by all rows; ``candidate_log_counts`` (S,)
    their log expected counts; ``true_log_counts`` (C,) the log expected count of every class,
    looked up for each row's true label. Accidental hits become −inf so they neither count
    as negatives nor receive gradient. Only the rows of ``weight`` and ``bias`` in play (the
    labels and the candidates) are read, and only they get gradient; ``sparse_grad``: the
    weight's gradient is a sparse (C, H) tensor of those rows (see :class:`LazyAdam`).
    """
    hidden, labels = _flatten(hidden, labels, ignore_index)
    return _sampled_loss(
        hidden,
        labels,
        weight,
        bias,
        candidates,
        candidate_log_counts,
        true_log_counts[labels],
        remove_accidental_hits=remove_accidental_hits,
        sparse_grad=sparse_grad,
    )


def _sampled_loss(
    hidden: Tensor,
    labels: Tensor,
    weight: Tensor,
    bias: Tensor,
    candidates: Tensor,
    candidate_log_counts: Tensor,
    label_log_counts: Tensor,
    *,
    remove_accidental_hits: bool,
    sparse_grad: bool,
) -> Tensor:
    """The loss of flat rows: ``hidden`` (N, H), ``labels`` (N,), ``label_log_counts`` (N,)."""
    n = labels.shape[0]
    # One lookup of the N + S rows in play: its backward adds into those rows only (a dense
    # (C, H) zero gradient plus N + S rows, or with sparse_grad just the N + S rows).
    ids = torch.cat([labels, candidates.to(labels.device)])
    rows = F.embedding(ids, weight, sparse=sparse_grad)
    biases = bias.index_select(0, ids)
    true_logits = (hidden * rows[:n]).sum(-1) + biases[:n]
    true_logits = true_logits - label_log_counts.to(true_logits.dtype)
    sampled_logits = F.linear(hidden, rows[n:], biases[n:])
    sampled_logits = sampled_logits - candidate_log_counts.to(sampled_logits.dtype)
    if remove_accidental_hits:
        hits = labels.unsqueeze(1) == ids[n:].unsqueeze(0)
        sampled_logits = sampled_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([true_logits.unsqueeze(1).to(sampled_logits.dtype), sampled_logits], dim=1)
    # The true class is column 0 of every row.
    return F.cross_entropy(logits, labels.new_zeros(n))


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
        # log(1 − q) once: a class's expected count after n tries is −expm1(n · log(1 − q)).
        self._log_miss = torch.log1p(-probabilities)
        self._log_miss_on: dict[torch.device, Tensor] = {}

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

    def log_expected_counts(self, ids: Tensor, num_tries: int) -> Tensor:
        """log of the expected count of classes ``ids`` (any shape, any device) after
        ``num_tries`` draws: what :meth:`sample` gives for every class, for these only
        (float64, on ``ids``' device)."""
        log_miss = self._log_miss_on.get(ids.device)
        if log_miss is None:
            log_miss = self._log_miss_on[ids.device] = self._log_miss.to(ids.device)
        return torch.log(-torch.expm1(num_tries * log_miss[ids]))

    def sample(
        self, num_sampled: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates (S,), their log expected counts (S,), every class's log expected count (C,)."""
        candidates, tries = self.sample_unique(num_sampled, generator)
        log_counts = torch.log(-torch.expm1(tries * self._log_miss))
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
        *,
        sparse_grad: bool = False,
    ) -> None:
        super().__init__()
        if not 0 < num_sampled < num_classes:
            raise ValueError(f"num_sampled must be in [1, {num_classes - 1}], got {num_sampled}")
        self.num_classes = num_classes
        self.num_sampled = num_sampled
        self.remove_accidental_hits = remove_accidental_hits
        self.ignore_index = ignore_index
        self.sparse_grad = sparse_grad
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
        hidden, labels = _flatten(hidden, labels, self.ignore_index)
        # The same draws as sampler.sample(), but log expected counts of the rows in play
        # only (not of all C classes).
        candidates, tries = self.sampler.sample_unique(self.num_sampled, generator)
        candidates = candidates.to(weight.device, non_blocking=True)
        return _sampled_loss(
            hidden,
            labels,
            weight,
            bias,
            candidates,
            self.sampler.log_expected_counts(candidates, tries),
            self.sampler.log_expected_counts(labels, tries),
            remove_accidental_hits=self.remove_accidental_hits,
            sparse_grad=self.sparse_grad,
        )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, num_sampled={self.num_sampled}, "
            f"sampler={self.sampler.sampler!r}, "
            f"remove_accidental_hits={self.remove_accidental_hits}, sparse_grad={self.sparse_grad}"
        )


class SoftmaxOutput(nn.Module):
    """Output layer (weight (C, H), bias (C,)) for a large label set, trained either way.

    ``forward(hidden)`` gives full logits. ``loss(hidden, labels)`` is the sampled softmax in
    training mode when ``num_sampled`` is set, and the full softmax otherwise (eval mode or
    no sampling), so validation and inference always see the true distribution.
    ``sparse_grad``: the sampled loss gives the weight a sparse gradient (step with
    :class:`LazyAdam`, clip with :func:`clip_grad_norm_`).
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
        *,
        sparse_grad: bool = False,
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
                sparse_grad=sparse_grad,
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


def _scalar_dtype() -> torch.dtype:
    # What torch.optim.Adam keeps its step count in.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class LazyAdam(torch.optim.Adam):
    """Adam that, for a sparse gradient, updates only the rows it holds ("lazy" Adam).

    Dense gradients get ``torch.optim.Adam`` unchanged. A sparse gradient (such as the weight's
    under ``sparse_grad=True``: the rows of the batch's labels and candidates) updates only
    its rows: their second moments and values, with the bias correction of the parameter's
    step count; rows not in play keep their moments and values (as TensorFlow's LazyAdam and
    ``torch.optim.SparseAdam``). One optimiser for a whole model, with Adam's options
    (``weight_decay`` applies to the touched rows) and state keys, so learning-rate
    schedulers, ``state_dict`` and a later switch to dense gradients keep working.

    ``sparse_beta1`` (default 0: no momentum) is β1 for the rows of sparse gradients; None
    uses the group's. A rare class's row is in play once in a while: with momentum it would
    get only 1 − β1 (a tenth) of each step at once, and the rest only when it is next in
    play, where a dense Adam spends it over the following steps. On the Zipf task of
    ``tfstudio bench softmax`` (100 000 classes) that momentum cost the sampled head about
    8 points of accuracy against the full softmax; without it the gap is within 2.

    Why not a dense Adam: at C = 100 000, H = 512 its step reads and writes four (C, H)
    tensors every batch, which alone costs more than the whole sampled forward and backward
    on a CPU. Why not ``SparseAdam``: it takes only sparse gradients (a model needs a second
    optimiser for every other parameter), keeps the momentum, and its masked sparse adds are
    slower than row gathers (``tfstudio bench softmax`` prints the step times).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        sparse_beta1: float | None = 0.0,
        **kwargs: Any,
    ) -> None:
        if sparse_beta1 is not None and not 0.0 <= sparse_beta1 < 1.0:
            raise ValueError(f"sparse_beta1 must be in [0, 1), got {sparse_beta1}")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, **kwargs)
        self.sparse_beta1 = sparse_beta1

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        sparse: list[tuple[Tensor, Tensor]] = []
        try:
            for group in self.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None or not grad.is_sparse:
                        continue
                    self._sparse_step(param, grad, group)
                    # Hidden from the dense step below, which rejects sparse gradients.
                    sparse.append((param, grad))
                    param.grad = None
            _adam_step(self)
        finally:
            for param, grad in sparse:
                param.grad = grad
        return loss

    def _sparse_step(self, param: Tensor, grad: Tensor, group: dict[str, Any]) -> None:
        if group["amsgrad"]:
            raise ValueError("LazyAdam: amsgrad is not supported for sparse gradients")
        if grad.sparse_dim() != 1:
            raise ValueError("LazyAdam: a sparse gradient must be sparse in its first dimension")
        grad = grad.coalesce()
        rows = grad.indices()[0]
        values = grad.values()
        if group["maximize"]:
            values = -values
        if rows.numel() == 0:
            return
        state = self.state[param]
        if len(state) == 0:
            state["step"] = torch.tensor(0.0, dtype=_scalar_dtype())
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["step"] = state["step"] + 1
        step = float(state["step"])
        beta1, beta2 = group["betas"]
        if self.sparse_beta1 is not None:
            beta1 = self.sparse_beta1
        lr = float(group["lr"])
        if group["weight_decay"]:
            values = values.add(param.index_select(0, rows), alpha=group["weight_decay"])
        exp_avg_sq = state["exp_avg_sq"].index_select(0, rows).mul_(beta2)
        exp_avg_sq.addcmul_(values, values, value=1 - beta2)
        state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)
        if beta1 > 0:
            exp_avg = state["exp_avg"].index_select(0, rows).lerp_(values, 1 - beta1)
            state["exp_avg"].index_copy_(0, rows, exp_avg)
        else:
            exp_avg = values.clone()
        # The parameter's step count, not the row's: as in a dense Adam, a row first in play
        # at step t has a small second moment and moves by about sqrt(t) · lr.
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        denom = exp_avg_sq.sqrt_().div_(math.sqrt(bias_correction2)).add_(group["eps"])
        param.index_add_(0, rows, exp_avg.div_(denom), alpha=-lr / bias_correction1)


def _adam_step(optimizer: torch.optim.Adam) -> None:
    """``torch.optim.Adam.step`` without the step hooks that torch adds to each optimiser
    class (LazyAdam's own step already ran them once)."""
    step = torch.optim.Adam.step
    if getattr(step, "hooked", False):
        step = step.__wrapped__  # type: ignore[attr-defined]
    step(optimizer)


def clip_grad_norm_(parameters: Any, max_norm: float) -> Tensor:
    """``torch.nn.utils.clip_grad_norm_`` (2-norm) that also takes sparse gradients.

    Sparse gradients are coalesced in place (a row given twice counts once, summed), then
    every gradient is scaled by ``max_norm / total norm`` when that is below 1. Returns the
    total norm (a 0-d tensor; non-finite if any gradient is).
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    dense: list[Tensor] = []
    sparse_values: list[Tensor] = []
    for param in params:
        if param.grad is None:
            continue
        if param.grad.is_sparse:
            param.grad = param.grad.coalesce()
            sparse_values.append(param.grad._values())
        else:
            dense.append(param.grad)
    if not dense and not sparse_values:
        return torch.tensor(0.0)
    if not sparse_values:
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    grads = dense + sparse_values
    device = grads[0].device
    norms = [torch.linalg.vector_norm(g.float()).to(device) for g in grads]
    total = torch.linalg.vector_norm(torch.stack(norms))
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.to(g.device, g.dtype))
    return total
