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
scored (``tfstudio suggest`` runs the model on those first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tfstudio.session.detections import RunInfo, saved_posteriors
from tfstudio.store import Project, Recording

__all__ = [
    "Suggestion",
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
