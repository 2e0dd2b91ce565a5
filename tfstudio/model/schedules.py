"""Teacher-forcing probability schedules (scheduled sampling).

Every schedule answers ``probability(iteration) -> float`` in [0, 1]. ``iteration`` counts
optimiser steps (batches) from 0. Drossos et al. 2019 (dr-costas/SEDLM) advanced their
counter once per *time step*, which collapses p_tf within the first epoch; that behaviour is
available only on request, through ``make_schedule(..., unit="step")``.

Schedules are frozen dataclasses: their ``repr`` names every parameter, so it can be logged
next to the run, and two schedules built from the same parameters compare equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "SCHEDULE_NAMES",
    "ClippedSchedule",
    "ConstantSchedule",
    "DrossosSchedule",
    "ExponentialSchedule",
    "InverseSigmoidSchedule",
    "LinearSchedule",
    "NoTeacherForcing",
    "Schedule",
    "StepUnitSchedule",
    "make_schedule",
]

SCHEDULE_NAMES = ("drossos", "linear", "exponential", "inverse-sigmoid", "constant", "none")
SCHEDULE_UNITS = ("batch", "step")

# math.exp overflows a float above ~709.78; past this a logistic term is 0 or 1 anyway.
_EXP_LIMIT = 700.0


def _clip01(p: float) -> float:
    return min(1.0, max(0.0, p))


def _check_iteration(iteration: int) -> None:
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


class Schedule:
    """Base class: subclasses implement ``_raw``; ``probability`` validates and clips."""

    def probability(self, iteration: int) -> float:
        """Teacher-forcing probability at ``iteration`` (batches seen so far), in [0, 1]."""
        _check_iteration(iteration)
        return _clip01(self._raw(iteration))

    def _raw(self, iteration: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class DrossosSchedule(Schedule):
    """Drossos et al. 2019: p = min(p_max, 1 − min(1 − p_min, 2/(1 + e^β) − 1)), β = −γ·i/N_b.

    Starts at ``p_max`` (i = 0) and decays towards ``p_min``; larger ``gamma`` decays faster.
    ``batches_per_epoch`` is N_b, so ``gamma`` reads as "per epoch".
    """

    gamma: float
    p_min: float = 0.05
    p_max: float = 0.9
    batches_per_epoch: int = field(kw_only=True)

    def __post_init__(self) -> None:
        if not self.gamma > 0:
            raise ValueError(f"gamma must be > 0, got {self.gamma}")
        if self.batches_per_epoch < 1:
            raise ValueError(f"batches_per_epoch must be >= 1, got {self.batches_per_epoch}")
        _check_probability("p_min", self.p_min)
        _check_probability("p_max", self.p_max)
        if self.p_min > self.p_max:
            raise ValueError(f"p_min ({self.p_min}) must not exceed p_max ({self.p_max})")

    def _raw(self, iteration: int) -> float:
        beta = -self.gamma * iteration / self.batches_per_epoch
        # β <= 0, so e^β is in (0, 1] and cannot overflow.
        decay = 2.0 / (1.0 + math.exp(beta)) - 1.0
        return min(self.p_max, 1.0 - min(1.0 - self.p_min, decay))


@dataclass(frozen=True)
class LinearSchedule(Schedule):
    """Bengio et al. 2015, linear decay: max(ε, k − c·i)."""

    k: float = 1.0
    c: float = field(kw_only=True)
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        _check_probability("k", self.k)
        _check_probability("epsilon", self.epsilon)
        if self.c < 0:
            raise ValueError(f"c (decrease per iteration) must be >= 0, got {self.c}")

    def _raw(self, iteration: int) -> float:
        return max(self.epsilon, self.k - self.c * iteration)


@dataclass(frozen=True)
class ExponentialSchedule(Schedule):
    """Bengio et al. 2015, exponential decay: k^i with 0 < k < 1."""

    k: float

    def __post_init__(self) -> None:
        if not 0.0 < self.k < 1.0:
            raise ValueError(f"k must be in (0, 1) for an exponential schedule, got {self.k}")

    def _raw(self, iteration: int) -> float:
        return self.k**iteration


@dataclass(frozen=True)
class InverseSigmoidSchedule(Schedule):
    """Bengio et al. 2015, inverse sigmoid decay: k / (k + e^(i/k)) with k >= 1."""

    k: float

    def __post_init__(self) -> None:
        if not self.k >= 1.0:
            raise ValueError(f"k must be >= 1 for an inverse-sigmoid schedule, got {self.k}")

    def _raw(self, iteration: int) -> float:
        return _inverse_sigmoid(self.k, iteration)


@dataclass(frozen=True)
class ConstantSchedule(Schedule):
    """The same probability at every iteration."""

    p: float

    def __post_init__(self) -> None:
        _check_probability("p", self.p)

    def _raw(self, iteration: int) -> float:
        return self.p


@dataclass(frozen=True)
class NoTeacherForcing(Schedule):
    """Always 0: the network is fed only its own predictions."""

    def _raw(self, iteration: int) -> float:
        return 0.0


@dataclass(frozen=True)
class ClippedSchedule(Schedule):
    """Another schedule held inside [low, high]."""

    schedule: Schedule
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        _check_probability("low", self.low)
        _check_probability("high", self.high)
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")

    def _raw(self, iteration: int) -> float:
        return min(self.high, max(self.low, self.schedule.probability(iteration)))


@dataclass(frozen=True)
class StepUnitSchedule(Schedule):
    """Another schedule whose counter advances once per time step, not once per batch.

    This reproduces the public SEDLM code, where the sampler's counter was incremented at
    every recurrent step: batch ``i`` sees ``schedule.probability(i * steps_per_batch)``,
    the value that code used at the first step of that batch.
    """

    schedule: Schedule
    steps_per_batch: int

    def __post_init__(self) -> None:
        if self.steps_per_batch < 1:
            raise ValueError(f"steps_per_batch must be >= 1, got {self.steps_per_batch}")

    def _raw(self, iteration: int) -> float:
        return self.schedule.probability(iteration * self.steps_per_batch)


def _inverse_sigmoid(k: float, iteration: float) -> float:
    # k / (k + e^(i/k)) = 1 / (1 + e^(i/k − ln k)), which stays finite for any i.
    x = iteration / k - math.log(k)
    return 0.0 if x > _EXP_LIMIT else 1.0 / (1.0 + math.exp(x))


def _inverse_sigmoid_k(iteration: float, target: float) -> float:
    """The k >= 1 at which k / (k + e^(iteration/k)) equals ``target`` (bisection)."""
    # At a fixed iteration the value rises with k (slower decay), so bracket and bisect.
    lo, hi = 1.0, 2.0
    if _inverse_sigmoid(lo, iteration) >= target:
        return lo
    while _inverse_sigmoid(hi, iteration) < target:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _inverse_sigmoid(mid, iteration) < target:
            lo = mid
        else:
            hi = mid
    return hi


def make_schedule(
    name: str,
    *,
    batches_per_epoch: int,
    gamma: float | None = None,
    p_min: float = 0.05,
    p_max: float = 0.9,
    unit: str = "batch",
    steps_per_batch: int = 1,
    decay_epochs: float = 50.0,
    **kw: float,
) -> Schedule:
    """Build a schedule by name with defaults that suit a few hundred epochs of training.

    Names and defaults (``i`` counts batches, E = ``decay_epochs`` · ``batches_per_epoch``):

    - ``drossos``: ``DrossosSchedule(gamma=0.125, p_min, p_max)``; 0.125 is the paper's value
      for the synthetic data set (they used 10/120 for real recordings). Starts at p_max and
      reaches p_min after about 29 epochs.
    - ``linear``: from p_max down to p_min in a straight line over E batches (k = p_max,
      c = (p_max − p_min)/E, ε = p_min).
    - ``exponential``: k^i with k chosen so that k^E = p_min, held inside [p_min, p_max].
    - ``inverse-sigmoid``: k/(k + e^(i/k)) with k chosen so the value at E is p_min, held
      inside [p_min, p_max].
    - ``constant``: p = p_max at every iteration.
    - ``none``: always 0 (no teacher forcing).

    Extra keywords (``k``, ``c``, ``epsilon``, ``p``) override the schedule's own parameters.
    ``unit="step"`` makes the counter advance ``steps_per_batch`` times per batch (usually the
    sequence length), as the original SEDLM code did; it is never the default.
    """
    if name not in SCHEDULE_NAMES:
        raise ValueError(
            f"unknown teacher-forcing schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}"
        )
    if unit not in SCHEDULE_UNITS:
        raise ValueError(f"unit must be 'batch' or 'step', got {unit!r}")
    if batches_per_epoch < 1:
        raise ValueError(f"batches_per_epoch must be >= 1, got {batches_per_epoch}")
    if steps_per_batch < 1:
        raise ValueError(f"steps_per_batch must be >= 1, got {steps_per_batch}")
    if not decay_epochs > 0:
        raise ValueError(f"decay_epochs must be > 0, got {decay_epochs}")
    _check_probability("p_min", p_min)
    _check_probability("p_max", p_max)
    if p_min > p_max:
        raise ValueError(f"p_min ({p_min}) must not exceed p_max ({p_max})")
    allowed = {
        "drossos": set(),
        "linear": {"k", "c", "epsilon"},
        "exponential": {"k"},
        "inverse-sigmoid": {"k"},
        "constant": {"p"},
        "none": set(),
    }[name]
    unknown = set(kw) - allowed
    if unknown:
        raise ValueError(
            f"schedule {name!r} takes no parameter(s) {', '.join(sorted(unknown))}"
            + (f"; it accepts {', '.join(sorted(allowed))}" if allowed else "")
        )
    if gamma is not None and name != "drossos":
        raise ValueError(f"gamma applies only to the 'drossos' schedule, not {name!r}")

    horizon = decay_epochs * batches_per_epoch
    schedule: Schedule
    if name == "drossos":
        schedule = DrossosSchedule(
            0.125 if gamma is None else gamma,
            p_min,
            p_max,
            batches_per_epoch=batches_per_epoch,
        )
    elif name == "linear":
        schedule = LinearSchedule(
            kw.get("k", p_max),
            c=kw.get("c", (p_max - p_min) / horizon),
            epsilon=kw.get("epsilon", p_min),
        )
    elif name == "exponential":
        if "k" not in kw and p_min <= 0:
            raise ValueError("the default exponential schedule needs p_min > 0 (or pass k)")
        k = kw["k"] if "k" in kw else min(p_min ** (1.0 / horizon), 1.0 - 1e-12)
        schedule = ClippedSchedule(ExponentialSchedule(k), p_min, p_max)
    elif name == "inverse-sigmoid":
        if "k" not in kw and p_min <= 0:
            raise ValueError("the default inverse-sigmoid schedule needs p_min > 0 (or pass k)")
        k = kw["k"] if "k" in kw else _inverse_sigmoid_k(horizon, p_min)
        schedule = ClippedSchedule(InverseSigmoidSchedule(k), p_min, p_max)
    elif name == "constant":
        schedule = ConstantSchedule(kw.get("p", p_max))
    else:
        schedule = NoTeacherForcing()

    if unit == "step":
        schedule = StepUnitSchedule(schedule, steps_per_batch)
    return schedule
