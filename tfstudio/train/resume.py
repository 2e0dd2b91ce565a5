"""Which runs ``train --resume`` goes on with, and up to how many epochs (no torch).

One rule for the training loop (so the command line) and the app's Resume and Train further:
the loop asks it with what the run's last checkpoint says, the app with what the store says
(the same numbers for a finished run, whose last checkpoint is its last epoch's end).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "checkpoint_refusal",
    "epochs_begun",
    "epochs_refusal",
    "fewest_epochs",
    "stored_path",
]


def epochs_begun(epoch: int, batch_in_epoch: int) -> int:
    """The epochs a run has begun: its last checkpoint's ``epoch`` (completed), and the one
    after it when that checkpoint was taken mid-epoch."""
    return int(epoch) + (1 if int(batch_in_epoch) else 0)


def fewest_epochs(status: str, begun: int) -> int:
    """The fewest ``--epochs`` a resume of a run takes: a finished ("done") run one more than
    it has begun (it has nothing left to do at its own number), any other the epochs it has
    begun (fewer would end it at once and store a number below what it trained)."""
    return begun + 1 if status == "done" else max(1, begun)


def epochs_refusal(
    run_id: int,
    status: str,
    epochs: int,
    begun: int,
    asked: int | None,
    *,
    patience: int | None = None,
    without_better: int = 0,
) -> str | None:
    """Why resuming run ``run_id`` (``status``, ``epochs`` its own number, ``begun`` as
    :func:`epochs_begun`) with ``--epochs asked`` and ``--patience patience`` (None: not
    given) is refused; None when it goes on. ``without_better`` is the early-stopping count
    it ended with (the epochs since its best one: its checkpoint's ``bad_epochs``).

    A run that early stopping ended goes on up to its own epochs when given only a patience
    above that count. The count goes on from where it was, so a patience no higher leaves it
    no epoch to wait: it is refused (the loop would train one more epoch and end again unless
    that one were better, which is not what asking for more patience means)."""
    early_stopped = status == "done" and begun < epochs
    if early_stopped and asked is None and patience is not None:
        if patience > without_better:
            return None
        return (
            f"run {run_id} stopped early after {begun} of its {epochs} epoch(s), "
            f"{_gone(without_better)}; --patience {patience} leaves it no epoch to wait: give "
            f"--patience {without_better + 1} or more to go on up to its {epochs} epochs"
        )
    if status == "done" and (asked is None or asked < fewest_epochs(status, begun)):
        if not early_stopped:
            # It has trained all its epochs: going on would only rewrite its checkpoints and
            # tuning (the model its detections came from) and change nothing else.
            return (
                f"run {run_id} has finished its {epochs} epoch(s); --resume goes on with "
                "a stopped or killed run, or with a finished one given more --epochs. Start a "
                "new run to train again"
            )
        # Early stopping ended it: more patience, or more epochs than it trained, let it go on.
        more_patience = f"--patience {without_better + 1} or more (up to its {epochs} epochs)"
        if asked is None:
            return (
                f"run {run_id} stopped early after {begun} of its {epochs} epoch(s), "
                f"{_gone(without_better)}; to go on, give {more_patience} or --epochs "
                f"{begun + 1} or more"
            )
        return (
            f"run {run_id} stopped early after {begun} of its {epochs} epoch(s); --epochs "
            f"{asked} is not more than it trained: give --epochs {begun + 1} or more, or leave "
            f"--epochs out and give {more_patience}"
        )
    if asked is not None and asked < begun:
        return (
            f"--epochs {asked} is fewer than the {begun} epoch(s) run {run_id} "
            f"has begun; give more (its own number is {epochs}), or leave --epochs out"
        )
    return None


def _gone(without_better: int) -> str:
    return f"the last {without_better} without a better validation loss"


def stored_path(root: Path, stored: str) -> Path:
    """A checkpoint path as the store keeps it (relative to the project folder, or absolute)."""
    path = Path(stored)
    return path if path.is_absolute() else root / path


def checkpoint_refusal(run_id: int, status: str, last: Path, best: Path | None) -> str | None:
    """Why run ``run_id`` cannot go on from its checkpoint files: its ``last`` one is
    missing, or, for a finished run, its ``best`` one (None: it names none). None when they
    are there."""
    if not last.exists():
        return f"run {run_id}: last checkpoint is missing: {last}"
    if status == "done" and (best is None or not best.exists()):
        # Going on would keep the best score of a model that is gone: the run would end with
        # no best model unless a later epoch beat it.
        where = f": {best}" if best is not None else ""
        return (
            f"run {run_id}: best checkpoint is missing{where}; restore it, or start a new run "
            "(trained further, the run would end without a best model unless a later epoch "
            "beat the one that is gone)"
        )
    return None
