"""The single-label task's frame labels, overlap check and frame scores (numpy only, no torch).

In a single-label run every frame has exactly one class: a label's class where a label lies
(frames as :func:`frame_span` counts them, the convention of the multi-label targets), the
background (id 0) elsewhere; class ``k`` of the run's class list is id ``k + 1``. Two labels
of different classes that would claim a frame are an error listed before training
(:func:`find_overlaps`, :func:`overlap_message`), never settled by picking one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BACKGROUND_ID",
    "FrameScores",
    "Overlap",
    "find_overlaps",
    "frame_scores",
    "frame_span",
    "label_ids",
    "overlap_message",
]

BACKGROUND_ID = 0
# Overlaps shown in an error message; the rest are counted.
SHOWN_OVERLAPS = 20


def frame_span(onset: float, offset: float, hop_s: float) -> tuple[int, int]:
    """Frames ``[start, stop)`` a label lights: ``round(onset / hop)`` up to
    ``round(offset / hop)``, at least one frame for a label of positive length (not yet
    clipped to the recording)."""
    start = math.floor(onset / hop_s + 0.5)
    stop = math.floor(offset / hop_s + 0.5)
    if stop <= start and offset > onset:
        stop = start + 1  # a label shorter than half a frame still lights one frame
    return start, stop


@dataclass(frozen=True)
class Overlap:
    """Two labels of different classes in one recording that claim the same frames."""

    recording: str
    first: tuple[float, float, str]  # (onset s, offset s, class) of the earlier label
    second: tuple[float, float, str]

    @property
    def start(self) -> float:
        return max(self.first[0], self.second[0])

    @property
    def stop(self) -> float:
        return min(self.first[1], self.second[1])

    def describe(self) -> str:
        (a_on, a_off, a), (b_on, b_off, b) = self.first, self.second
        return (
            f"{self.recording}: {self.start:.3f}–{max(self.stop, self.start):.3f} s: "
            f"{a} ({a_on:.3f}–{a_off:.3f} s) and {b} ({b_on:.3f}–{b_off:.3f} s)"
        )


def find_overlaps(
    recording: str, labels: Iterable[tuple[float, float, str]], hop_s: float
) -> list[Overlap]:
    """Pairs of labels of different classes whose frames (:func:`frame_span`) meet, in time
    order. Labels of the same class may overlap: the frames still have one class."""
    spans = sorted(
        (frame_span(on, off, hop_s), (float(on), float(off), str(name))) for on, off, name in labels
    )
    found: list[Overlap] = []
    active: list[tuple[int, tuple[float, float, str]]] = []  # (stop frame, label)
    for (start, stop), label in spans:
        if stop <= start:
            continue
        active = [(end, other) for end, other in active if end > start]
        found += [Overlap(recording, other, label) for _, other in active if other[2] != label[2]]
        active.append((stop, label))
    return found


def overlap_message(overlaps: Sequence[Overlap], shown: int = SHOWN_OVERLAPS) -> str:
    """The error a single-label run gives for overlapping labels: one line per overlap."""
    lines = [
        f"{len(overlaps)} overlapping label pair(s): a single-label run needs exactly one class "
        "per frame. Shorten or remove one label of each pair, or train with --task multi-label:"
    ]
    lines += [f"  {o.describe()}" for o in overlaps[:shown]]
    if len(overlaps) > shown:
        lines.append(f"  … and {len(overlaps) - shown} more")
    return "\n".join(lines)


def label_ids(
    labels: Iterable[tuple[float, float, str]],
    n_frames: int,
    index: Mapping[str, int],
    hop_s: float,
) -> np.ndarray:
    """(n_frames,) int64 class ids: ``index[class] + 1`` on a label's frames, 0 elsewhere.
    Labels of classes not in ``index`` are left out; two classes on one frame raise
    ValueError (:func:`find_overlaps` lists them first)."""
    ids = np.zeros(n_frames, dtype=np.int64)
    for onset, offset, name in labels:
        if name not in index:
            continue
        start, stop = frame_span(onset, offset, hop_s)
        start, stop = max(0, start), min(n_frames, stop)
        if stop <= start:
            continue
        value = index[name] + 1
        taken = ids[start:stop]
        if np.any((taken != BACKGROUND_ID) & (taken != value)):
            raise ValueError(f"label {name!r} at {onset:.3f}–{offset:.3f} s overlaps another class")
        taken[:] = value
    return ids


@dataclass(frozen=True)
class FrameScores:
    """Frame accuracy (background frames included) and the macro F1 over the classes that
    occur in the reference or the decisions (background left out; NaN when none does)."""

    accuracy: float
    macro_f1: float
    frames: int
    classes: int


def frame_scores(
    reference: Sequence[np.ndarray], decided: Sequence[np.ndarray], n_classes: int
) -> FrameScores:
    """Scores of decided class ids against reference ids, one pair of (frames,) arrays per
    recording; ``n_classes`` counts the background."""
    ref = np.concatenate([np.asarray(r, dtype=np.int64) for r in reference] or [np.zeros(0, int)])
    est = np.concatenate([np.asarray(d, dtype=np.int64) for d in decided] or [np.zeros(0, int)])
    if ref.shape != est.shape:
        raise ValueError("reference and decisions must have the same frames")
    if ref.size == 0:
        return FrameScores(math.nan, math.nan, 0, 0)
    accuracy = float(np.mean(ref == est))
    tp = np.bincount(ref[ref == est], minlength=n_classes)
    n_ref = np.bincount(ref, minlength=n_classes)
    n_est = np.bincount(est, minlength=n_classes)
    present = (n_ref + n_est) > 0
    present[BACKGROUND_ID] = False
    if not present.any():
        return FrameScores(accuracy, math.nan, int(ref.size), 0)
    f1 = 2.0 * tp[present] / (n_ref[present] + n_est[present])
    return FrameScores(accuracy, float(f1.mean()), int(ref.size), int(present.sum()))
