"""Where a run keeps its files: one place for every path under ``runs/run-N/`` (no torch).

The store owns the folder itself (:meth:`tfstudio.store.Project.run_dir`, never reused);
this module names what training and detection put in it, so the CLI, the GUI and the tests
agree without importing torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfstudio.store import Project, ProjectError, Recording, Run
from tfstudio.train.config import TrainError

__all__ = [
    "STITCHING",
    "checkpoint_paths",
    "decisions_file",
    "posteriors_dir",
    "posteriors_file",
    "posteriors_stamp",
    "read_posteriors_stamp",
    "saved_posteriors_current",
    "select_run",
]


def checkpoint_paths(project: Project, run_id: int) -> tuple[Path, Path]:
    """(best, last) checkpoint files of a run."""
    folder = project.run_dir(run_id)
    return folder / "best.pt", folder / "last.pt"


def posteriors_dir(project: Project, run_id: int) -> Path:
    """The folder of a run's saved posteriors."""
    return project.run_dir(run_id) / "posteriors"


def posteriors_file(project: Project, run_id: int, recording: Recording) -> Path:
    """Where ``detect`` keeps a recording's posteriors (float32 (frames, classes) .npy), for
    redrawing detections at another threshold without running the model again. Named by the
    audio's content hash, so a renamed or moved file keeps its posteriors."""
    return posteriors_dir(project, run_id) / f"{recording.content_hash}.npy"


def decisions_file(project: Project, run_id: int, recording: Recording) -> Path:
    """Where ``detect`` keeps a single-label run's decisions for a recording (float32
    (frames, 2): class id and probability, :mod:`tfstudio.train.postprocess`), beside the
    posteriors folder's other files and cleared with them; a name of its own, so nothing
    reads it as (frames, classes) posteriors."""
    return posteriors_dir(project, run_id) / f"{recording.content_hash}.decisions.npy"


def posteriors_stamp(project: Project, run_id: int) -> Path:
    """Which model made the saved posteriors (JSON: stitching, checkpoint, epoch, iteration,
    classes, features); saved posteriors of another model are stale."""
    return posteriors_dir(project, run_id) / "model.json"


# How detection joins a recording's overlapping windows (tfstudio.train.detect.posteriors):
# posteriors saved by a version that joined them another way are stale, for ``detect`` (which
# makes them again) and for the review's sliders (which must not redraw detections from them).
STITCHING = "crossfade"


def read_posteriors_stamp(project: Project, run_id: int) -> dict[str, Any] | None:
    """The saved posteriors' stamp, or None when there is none or it cannot be read."""
    try:
        stamp = json.loads(posteriors_stamp(project, run_id).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def saved_posteriors_current(project: Project, run_id: int, classes: Sequence[str]) -> bool:
    """True when the run's saved posteriors were made the way ``detect`` makes them now, for
    these classes in this order: what the review may redraw detections from. Checked without
    torch, so not the checkpoint's epoch: ``detect`` itself does that before reusing them."""
    stamp = read_posteriors_stamp(project, run_id)
    return (
        stamp is not None
        and stamp.get("stitching") == STITCHING
        and stamp.get("classes") == list(classes)
    )


def select_run(project: Project, run_id: int | None = None) -> Run:
    """The named run, or the latest finished one; TrainError when there is none."""
    if run_id is None:
        run = project.latest_run()
        if run is None:
            raise TrainError(
                "no finished training run with a checkpoint yet; run 'tfstudio train' first"
            )
        return run
    try:
        return project.run(run_id)
    except ProjectError as exc:  # no such run
        raise TrainError(str(exc)) from None
