"""Which recordings to label next: those a run's model is least sure about.

Labelling is the expensive part of the loop, and on sounds unlike the ones it learnt from the
detector gains most from new labels (benchmarks/README.md: one review round of 30 clips of
never-heard sources is worth more than any change to the recipe). Of many unlabelled
recordings, the ones to label first are those where the model wavers: uncertainty sampling
(Settles, *Active Learning Literature Survey*, 2009), measured on the real-sounds benchmark
against taking recordings in name order (benchmarks/README.md, 2026-12-01 second session).

A frame's uncertainty for a class is how close its posterior lies to the class's threshold,
on the scale of the side it is on: 1 on the threshold, 0 at 0 or 1
(:func:`frame_uncertainty`). A frame counts its most uncertain class, and a recording the
mean over its frames (:func:`recording_uncertainty`), so a recording full of sounds the
model half-knows ranks above one it is sure of either way, whatever its length. The run's
thresholds are the ones detection uses (tuned per class on val, or as the review's sliders
set them), so "uncertain" means "near a decision the review would see".

Torch-free: the scores come from the posteriors ``detect`` saved
(:func:`~tfstudio.session.detections.saved_posteriors`); recordings without them are not
scored (``tfstudio suggest`` runs the model on those first). :class:`UncertaintyModel` keeps
the scores of the active run for the app's Recordings list, worked out a few at a time as
detection saves posteriors, so the list stays responsive over thousands of recordings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from tfstudio.session.deferred import Deferred, Schedule, run_now
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.detections import RunInfo, saved_posteriors
from tfstudio.store import Project, Recording
from tfstudio.train.layout import posteriors_dir

__all__ = [
    "Suggestion",
    "UncertaintyModel",
    "frame_uncertainty",
    "rank_by_uncertainty",
    "recording_uncertainty",
    "run_thresholds",
]


@dataclass(frozen=True)
class Suggestion:
    """A recording with its model's uncertainty (0: sure of every frame, 1: every frame on a
    threshold) and the second of its most uncertain stretch (``peak_s``, the middle of the
    most uncertain second: where to look first)."""

    recording: Recording
    uncertainty: float
    peak_s: float


def run_thresholds(info: RunInfo) -> np.ndarray:
    """Each posterior column's threshold, as detection uses it."""
    return np.array(
        [info.class_thresholds.get(name, info.threshold) for name in info.classes],
        dtype=np.float32,
    )


def frame_uncertainty(post: np.ndarray, thresholds: Sequence[float] | np.ndarray) -> np.ndarray:
    """(frames,) uncertainty of (frames, classes) posteriors: for each frame, the largest over
    classes of 1 − |p − t| / t below the threshold t and 1 − (p − t) / (1 − t) above it."""
    post = np.asarray(post, dtype=np.float32)
    if post.ndim != 2:
        raise ValueError("posteriors must be a (frames, classes) array")
    t = np.clip(np.asarray(thresholds, dtype=np.float32), 1e-6, 1 - 1e-6)
    if t.shape != (post.shape[1],):
        raise ValueError(f"{post.shape[1]} posterior columns but {t.size} thresholds")
    if not len(post) or not post.shape[1]:
        return np.zeros(len(post), dtype=np.float32)
    below = post < t
    distance = np.where(below, (t - post) / t, (post - t) / (1 - t))
    return np.asarray(1.0 - np.clip(distance, 0.0, 1.0).min(axis=1), dtype=np.float32)


def recording_uncertainty(
    post: np.ndarray, thresholds: Sequence[float] | np.ndarray, hop_s: float
) -> tuple[float, float]:
    """A recording's uncertainty (the mean of :func:`frame_uncertainty`) and the middle, in
    seconds, of its most uncertain second; (0, 0) for a recording without frames."""
    per_frame = frame_uncertainty(post, thresholds)
    if not len(per_frame):
        return 0.0, 0.0
    width = max(1, min(len(per_frame), round(1.0 / hop_s)))
    sums = np.convolve(per_frame, np.ones(width, dtype=np.float32), mode="valid")
    start = int(np.argmax(sums))
    return float(per_frame.mean()), (start + width / 2) * hop_s


def rank_by_uncertainty(
    project: Project, info: RunInfo, recordings: Iterable[Recording]
) -> list[Suggestion]:
    """``recordings`` with saved posteriors of the run, most uncertain first (ties by name,
    then id, so the order never depends on the store's)."""
    thresholds = run_thresholds(info)
    out = []
    for recording, post in saved_posteriors(project, info, recordings):
        score, peak = recording_uncertainty(post, thresholds, info.hop_s)
        out.append(Suggestion(recording, score, peak))
    out.sort(key=lambda s: (-s.uncertainty, s.recording.name, s.recording.id))
    return out


# One turn of the event loop scores recordings for at most this long (then lets the GUI breathe).
CHUNK_S = 0.025
# While scoring, ``changed`` is emitted at most this often (and once at the end).
EMIT_S = 0.3


class UncertaintyModel:
    """The active run's :class:`Suggestion` for each recording it has posteriors of, by
    recording id, for the Recordings list.

    Scores are made with the thresholds stored with the run (those ``detect`` uses: a slider
    counts once released), from the files in the run's posteriors folder: a recording is
    scored again only when its file changed, so a detection pass or an accepted detection
    costs a look at the folder, not a read of every file. The work goes a few recordings at a
    time through ``schedule`` (the GUI's event loop; at once without one); ``changed`` is
    emitted after each batch that changed a score.
    """

    changed = Signal()

    def __init__(self, detections: DetectionModel, *, schedule: Schedule = run_now):
        self.detections = detections
        self.workspace = detections.workspace
        self._scores: dict[int, Suggestion] = {}
        self._made: dict[int, int] = {}  # recording id -> mtime_ns of the file it was scored from
        self._key: tuple[object, ...] | None = None
        self._todo: list[Recording] = []
        self._unsaid = False  # scores made since ``changed`` was last emitted
        self._said_at = 0.0
        self._refresh_soon = Deferred(self._refresh, schedule)
        self._step_soon = Deferred(self._step, schedule)
        events = detections.events
        events.run_info.connect(self._refresh_soon.start)
        events.thresholds.connect(self._refresh_soon.start)
        events.applied.connect(self._refresh_soon.start)
        self.workspace.events.detections.connect(self._refresh_soon.start)
        self.workspace.events.recordings.connect(self._refresh_soon.start)
        self._refresh()

    def get(self, recording_id: int) -> Suggestion | None:
        """The recording's score, None until its posteriors have been read (or without any)."""
        return self._scores.get(recording_id)

    def __len__(self) -> int:
        return len(self._scores)

    @property
    def run_id(self) -> int | None:
        info = self.detections.info
        return info.run_id if info is not None else None

    def busy(self) -> bool:
        """True while recordings wait to be scored."""
        return bool(self._todo)

    def _refresh(self) -> None:
        project, info = self.workspace.project, self.detections.info
        key = None
        if project is not None and info is not None:
            key = (id(project), info.run_id, info.classes, tuple(run_thresholds(info).tolist()))
        if key != self._key:
            self._key = key
            cleared = bool(self._scores)
            self._scores, self._made, self._todo = {}, {}, []
            if cleared:
                self.changed.emit()
        if project is None or info is None:
            return
        files = _folder_times(posteriors_dir(project, info.run_id))
        todo, gone = [], False
        known = set()
        for rec in self.workspace.recordings():
            known.add(rec.id)
            mtime = files.get(f"{rec.content_hash}.npy") or files.get(
                f"{rec.content_hash}.decisions.npy"
            )
            if mtime is None:
                if self._scores.pop(rec.id, None) is not None:
                    gone = True
                self._made.pop(rec.id, None)
            elif self._made.get(rec.id) != mtime:
                self._made[rec.id] = mtime
                todo.append(rec)
        for rid in set(self._scores) - known:  # recordings removed
            del self._scores[rid]
            self._made.pop(rid, None)
            gone = True
        self._todo = todo
        if gone:
            self.changed.emit()
        if todo:
            self._step_soon.start()

    def _step(self) -> None:
        project, info = self.workspace.project, self.detections.info
        if project is None or info is None or not self._todo:
            self._todo = []
            return
        thresholds = run_thresholds(info)
        started = time.perf_counter()
        while self._todo and time.perf_counter() - started < CHUNK_S:
            batch, self._todo = self._todo[:16], self._todo[16:]
            for rec, post in saved_posteriors(project, info, batch):
                score, peak = recording_uncertainty(post, thresholds, info.hop_s)
                self._scores[rec.id] = Suggestion(rec, score, peak)
                self._unsaid = True
        # The list rebuilds its rows on each: told a few times a second, and when done.
        now = time.perf_counter()
        if self._unsaid and (not self._todo or now - self._said_at >= EMIT_S):
            self._unsaid, self._said_at = False, now
            self.changed.emit()
        if self._todo:
            self._step_soon.start()


def _folder_times(folder: os.PathLike[str] | str) -> dict[str, int]:
    """File name -> mtime_ns of the files in ``folder`` ({} when there is none)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name: e.stat().st_mtime_ns for e in entries if e.name.endswith(".npy")}
    except OSError:
        return {}
