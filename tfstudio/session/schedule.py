"""The teacher-forcing schedule as the Train dialog previews it: p_tf against epochs before
training knows its batches per epoch, and the curve in one sentence."""

from __future__ import annotations

import math

import numpy as np

from tfstudio.model.schedules import make_schedule

PREVIEW_POINTS = 400


def schedule_curve(
    name: str,
    *,
    epochs: int,
    gamma: float,
    p_min: float,
    p_max: float,
    decay_epochs: float,
    unit: str = "batch",
    steps_per_batch: int = 1,
    points: int = PREVIEW_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    """p_tf against epochs for a schedule: ``(epochs_axis, probability)``.

    Every schedule here depends on iteration/batches-per-epoch only (with ``unit="step"``,
    on that times the sequence length), so a nominal number of batches per epoch gives the
    exact curve in epochs before the real number is known.
    """
    per_epoch = max(1, math.ceil(points / max(1, epochs)))
    schedule = make_schedule(
        name,
        batches_per_epoch=per_epoch,
        gamma=gamma if name == "drossos" else None,
        p_min=p_min,
        p_max=p_max,
        decay_epochs=decay_epochs,
        unit=unit,
        steps_per_batch=steps_per_batch if unit == "step" else 1,
    )
    iterations = np.arange(epochs * per_epoch + 1)
    p = np.array([schedule.probability(int(i)) for i in iterations])
    return iterations / per_epoch, p


def describe_schedule_curve(x: np.ndarray, p: np.ndarray) -> str:
    """``p_tf 0.90 → 0.05; below 0.5 from epoch 9`` for the schedule summary line."""
    if len(p) == 0:
        return ""
    text = f"p_tf {p[0]:.2f} at the start → {p[-1]:.2f} after epoch {x[-1]:.0f}"
    below = np.nonzero(p < 0.5)[0]
    if len(below) and p[0] >= 0.5:
        text += f"; below 0.5 from epoch {_epoch_text(x[below[0]])}"
    floor = np.nonzero(p <= p.min() + 1e-3)[0]
    if p.min() < p[0] and floor[0] < len(p) - 1:
        text += f"; at {p.min():.2f} from epoch {_epoch_text(x[floor[0]])}"
    return text + "."


def _epoch_text(epoch: float) -> str:
    return f"{epoch:.0f}" if epoch >= 10 else f"{epoch:.2g}"
