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
    run_id: int, status: str, epochs: int, begun: int, asked: int | None
) -> str | None:
    """Why resuming run ``run_id`` (``status``, ``epochs`` its own number, ``begun`` as
    :func:`epochs_begun`) with ``--epochs asked`` (None: not given) is refused; None when it
    goes on."""
    if status == "done" and (asked is None or asked < fewest_epochs(status, begun)):
        if begun >= epochs:
            # It has trained all its epochs: going on would only rewrite its checkpoints and
            # tuning (the model its detections came from) and change nothing else.
            return (
                f"run {run_id} has finished its {epochs} epoch(s); --resume goes on with "
                "a stopped or killed run, or with a finished one given more --epochs. Start a "
                "new run to train again"
            )
        # Early stopping ended it: more epochs than it trained let it go on.
        return (
            f"run {run_id} stopped early after {begun} of its {epochs} epoch(s); --resume "
            f"goes on with a finished run given more --epochs than the {begun} it trained. "
            "Start a new run to train again"
        )
    if asked is not None and asked < begun:
        return (
            f"--epochs {asked} is fewer than the {begun} epoch(s) run {run_id} "
            f"has begun; give more (its own number is {epochs}), or leave --epochs out"
        )
    return None


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
