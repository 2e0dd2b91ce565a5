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
from tfstudio.train.resume import checkpoint_refusal, epochs_refusal, fewest_epochs, stored_path


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


# Statuses "Train further" goes on from: a finished run, and one that stopped part-way.
EXTENDABLE = ("done", *RESUMABLE)


@dataclass(frozen=True)
class Extension:
    """Whether, and up to how many epochs, a run can be trained further (``train --resume N
    --epochs M``), as the store tells it; ``problem`` says why not ("" when it can)."""

    run_id: int
    status: str
    problem: str
    epochs: int = 0  # the run's own number
    begun: int = 0  # epochs it has begun (trained, for a finished run)
    minimum: int = 1  # the fewest --epochs the resume takes
    default: int = 1  # what the app proposes
    patience: int = 1
    # Epochs since its best one, as its early stopping counts them (the loop's bad_epochs).
    without_better: int = 0
    best_epoch: int | None = None
    best_val_loss: float | None = None
    next_epoch: int = 1  # the epoch it goes on in

    @property
    def possible(self) -> bool:
        return not self.problem

    @property
    def early_stopped(self) -> bool:
        return self.status == "done" and self.begun < self.epochs

    def refusal(self, epochs: int | None, patience: int | None = None) -> str | None:
        """Why ``--epochs epochs`` (and ``--patience patience``; None: not given) would be
        refused (the training loop's own words)."""
        return self.problem or epochs_refusal(
            self.run_id,
            self.status,
            self.epochs,
            self.begun,
            epochs,
            patience=patience,
            without_better=self.without_better,
        )

    def patience_text(self, patience: int) -> str:
        """What early stopping does when the run goes on with ``patience``: its count goes
        on from where it was (the checkpoint keeps it), it does not start again."""
        left = patience - self.without_better
        best = f"epoch {self.best_epoch}" if self.best_epoch else "its best epoch"
        since = (
            f"its last epoch was its best so far ({best})"
            if self.without_better == 0
            else f"it has gone {self.without_better} epoch(s) without a better validation "
            f"loss than {best}'s"
        )
        if left <= 0:
            then = (
                f"with patience {patience} it ends after the next epoch unless that one is "
                "better; raise the patience to give it more room"
            )
        else:
            then = (
                f"with patience {patience} it ends after {left} more epoch(s) without a better one"
            )
        return (
            f"Early stopping does not start again: {since}, so {then}. A better epoch starts "
            "the count afresh."
        )


def extension(project: Project, run: Run) -> Extension:
    """How far ``run`` can be trained further, from the store and its checkpoint files (the
    rule of :mod:`tfstudio.train.resume`, which the training loop applies too)."""

    def refuse(problem: str) -> Extension:
        return Extension(run.id, run.status, problem)

    if run.imported:
        return refuse(f"run {run.id} holds imported detections: no model was trained")
    if run.status in ("running", "queued"):
        return refuse(f"run {run.id} is still training")
    if run.status not in EXTENDABLE:
        return refuse(f"run {run.id} is {run.status}")
    if not run.last_checkpoint:
        return refuse(
            f"run {run.id} ended before its first checkpoint: Resume starts it again"
            if can_resume(run)
            else f"run {run.id} keeps no checkpoint to go on from"
        )
    last = stored_path(project.root, run.last_checkpoint)
    best = stored_path(project.root, run.best_checkpoint) if run.best_checkpoint else None
    problem = checkpoint_refusal(run.id, run.status, last, best)
    if problem:
        return refuse(problem)
    summary = summarise(project, run)
    config = run.config_dict
    epochs = summary.epochs or 0
    begun = summary.epochs_done
    mid_epoch = run.status != "done" and any(
        int(row.get("epoch") or 0) > begun for row in project.metrics(run.id, "batch")
    )
    if mid_epoch:
        begun += 1  # stopped part-way through the next epoch
    minimum = fewest_epochs(run.status, begun)
    # Half as many again as it trained (at least five), or its own number when early
    # stopping ended it before that.
    default = max(minimum, epochs if begun < epochs else begun + max(5, begun // 2))
    patience = _int(config.get("patience")) or 1
    best_epoch = summary.best_epoch
    return Extension(
        run.id,
        run.status,
        "",
        epochs=epochs,
        begun=begun,
        minimum=minimum,
        default=default,
        patience=patience,
        without_better=max(0, summary.epochs_done - best_epoch) if best_epoch else 0,
        best_epoch=best_epoch,
        best_val_loss=summary.best_val_loss,
        next_epoch=begun if mid_epoch else begun + 1,
    )


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
