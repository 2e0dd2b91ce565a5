"""Runs as the history shows them: one summary per run (settings, outcome, best scores) and its
stored curves as arrays."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfstudio.session.stream import ema, finite
from tfstudio.store import Project, Run


@dataclass(frozen=True)
class RunSummary:
    """What the history shows about a run; ``None`` where the run has not said yet."""

    id: int
    name: str
    status: str
    message: str
    preset: str
    schedule: str
    epochs: int | None
    lr: float | None
    batch_size: int | None
    device: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    epochs_done: int
    best_val_loss: float | None
    best_epoch: int | None
    best_f1: float | None
    f1_at_best: float | None
    task: str = "multi-label"  # runs stored before the task existed are multi-label

    def duration(self, now: float | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            end = time.time() if now is None else now
        return max(0.0, end - self.started_at)

    @property
    def schedule_text(self) -> str:
        return self.schedule or "—"

    @property
    def label(self) -> str:
        """Short legend text: ``run 3 · drossos``."""
        return f"run {self.id} · {self.schedule}" if self.schedule else f"run {self.id}"


# Statuses ``train --resume`` goes on from (a finished run only when given more epochs).
RESUMABLE = ("stopped", "failed")


def can_resume(run: Run) -> bool:
    """Whether ``train --resume`` continues ``run``: stopped or failed, from its last
    checkpoint, or, ended before its first one (stopped while its features were computed),
    from the beginning as the same run with its stored configuration."""
    return run.status in RESUMABLE and not run.imported and bool(run.last_checkpoint or run.config)


def resume_text(run: Run) -> str:
    """What resuming ``run`` does, for a button's tooltip."""
    if run.last_checkpoint:
        return f"Continue run {run.id} from its last checkpoint"
    return f"Start run {run.id} again from the beginning (it ended before its first checkpoint)"


def run_title(run: Run) -> str:
    """``run 3 · done · 14 May 10:32`` for choosers."""
    when = run.finished_at or run.started_at or run.created_at
    stamp = time.strftime("%d %b %H:%M", time.localtime(when)) if when else ""
    return " · ".join(part for part in (run.name or f"run {run.id}", run.status, stamp) if part)


def summarise(project: Project, run: Run) -> RunSummary:
    """The summary of ``run``, reading its per-epoch metrics."""
    config = run.config_dict
    best_val = best_f1 = f1_at_best = None
    best_epoch = None
    epochs_done = 0
    for row in project.metrics(run.id, "epoch"):
        epochs_done = max(epochs_done, int(row["epoch"]))
        val = finite(row.get("val_loss"))
        f1 = finite(row.get("f1"))
        if val is not None and (best_val is None or val < best_val):
            best_val, best_epoch, f1_at_best = val, int(row["epoch"]), f1
        if f1 is not None and (best_f1 is None or f1 > best_f1):
            best_f1 = f1
    return RunSummary(
        id=run.id,
        name=run.name,
        status=run.status,
        message=run.message or "",
        preset=str(config.get("preset") or ""),
        task=str(config.get("task") or "multi-label"),
        schedule=_schedule_name(config),
        epochs=_int(config.get("epochs")),
        lr=finite(config.get("lr", config.get("learning_rate"))),
        batch_size=_int(config.get("batch_size")),
        device=run.device or str(config.get("device") or ""),
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        epochs_done=epochs_done,
        best_val_loss=best_val,
        best_epoch=best_epoch,
        best_f1=best_f1,
        f1_at_best=f1_at_best,
    )


def _schedule_name(config: dict[str, Any]) -> str:
    schedule = config.get("schedule")
    if isinstance(schedule, dict):  # tolerate a nested {"name": ...} form
        schedule = schedule.get("name")
    return str(schedule or "")


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def format_lr(lr: float | None) -> str:
    if lr is None or not math.isfinite(lr):
        return "—"
    return f"{lr:.3g}"


@dataclass(frozen=True)
class RunCurves:
    """A run's stored metrics as arrays (NaN where a value is missing or not finite)."""

    iteration: np.ndarray
    tf_prob: np.ndarray
    loss: np.ndarray
    loss_smooth: np.ndarray
    epoch: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    f1: np.ndarray
    er: np.ndarray


def load_curves(project: Project, run_id: int, *, ema_alpha: float = 0.05) -> RunCurves:
    """Read ``run_id``'s batch and epoch metrics from the store."""
    batches = sorted(project.metrics(run_id, "batch"), key=lambda r: r["iteration"])
    epochs = sorted(project.metrics(run_id, "epoch"), key=lambda r: r["epoch"])

    def column(rows: list[dict[str, Any]], *keys: str) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        for i, row in enumerate(rows):
            for key in keys:
                value = finite(row.get(key))
                if value is not None:
                    out[i] = value
                    break
        return out

    loss = column(batches, "loss")
    finite_loss = loss[np.isfinite(loss)]
    smooth = np.full_like(loss, np.nan)
    smooth[np.isfinite(loss)] = ema(finite_loss.tolist(), ema_alpha)
    return RunCurves(
        iteration=column(batches, "iteration"),
        tf_prob=column(batches, "tf_prob"),
        loss=loss,
        loss_smooth=smooth,
        epoch=column(epochs, "epoch"),
        # The engine stores an epoch's mean training loss as "loss" (train_loss in the stream).
        train_loss=column(epochs, "train_loss", "loss"),
        val_loss=column(epochs, "val_loss"),
        f1=column(epochs, "f1"),
        er=column(epochs, "er"),
    )
