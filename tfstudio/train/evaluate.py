"""Scoring a run on a split: fresh detections against the labels, with DCASE metrics.

Detections are recomputed from the run's model with its post-processing defaults (and are
not stored), so the score does not depend on what ``detect`` last wrote or on reviews.
Labels of classes the run does not know are left out.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tfstudio.audio import content_hash
from tfstudio.features.cache import FeatureCache
from tfstudio.store import SPLITS, Project, Recording
from tfstudio.train import metrics as sed_metrics
from tfstudio.train.config import TrainError
from tfstudio.train.detect import load_run_model, recording_features, select_run
from tfstudio.train.single_label import find_overlaps, frame_scores, label_ids, overlap_message

__all__ = ["evaluate_run"]


def _num(value: float) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    )


def _rate(value: float, n_ref: int) -> float | None:
    """An error rate as a user reads it: undefined (None) where nothing was there to find but
    something was detected. sed_eval divides by ``Nref + eps``, which turns each insertion
    against no reference into about 4.5e15 (kept as is in ``segment`` / ``event``)."""
    return None if n_ref == 0 and value != 0 else _num(value)


def evaluate_run(
    project: Project,
    run_id: int | None = None,
    split: str = "test",
    *,
    device: str = "auto",
    threshold: float | None = None,
    class_thresholds: Mapping[str, float] | None = None,
    recording_ids: Sequence[int] | None = None,
    record: bool = True,
    progress: Callable[[int, int, Recording], None] | None = None,
) -> dict[str, Any]:
    """Segment-based (1 s) F1/ER and event-based F1 (200 ms collar, 20 % of length) of a run.

    Returns ``{"segment_f1", "segment_er", "event_f1", "per_class": {class: {...}}, ...}``
    (NaN as None). With ``record`` the overall scores are also stored as a ``test`` metric.

    A single-label run adds ``frame_accuracy`` and ``macro_f1`` (frames, against the labels
    as its training saw them; overlapping labels of two classes are a TrainError listing
    them), and its ``per_class`` holds only the classes with reference or detected events
    (the scores of the others are empty, and a vocabulary may have 100 000).

    Where the scored recordings hold no labels of the run's classes there is nothing to
    score against: the scores are None, ``note`` says why (every detection is an insertion;
    ``detected_events`` still counts them), and no metric is recorded. An error rate of a
    class with no reference events but detections is None too.
    """
    if split not in SPLITS:
        raise TrainError(f"split must be one of {', '.join(SPLITS)}")
    run = select_run(project, run_id)
    loaded = load_run_model(project, run, device)
    # Statuses as the files are now (a stat each): a recording whose audio went missing or
    # changed since the project last looked is left out, and named in ``left_out``.
    gone = {
        rec.id for rec, _ in project.check_files(record=not project.read_only, digest=content_hash)
    }
    in_split = project.recordings(split)
    recordings = [r for r in in_split if r.status == "ok" and r.id not in gone]
    left_out = [r.name for r in in_split if r not in recordings]
    if recording_ids is not None:
        wanted = set(recording_ids)
        recordings = [r for r in recordings if r.id in wanted]
        if not recordings:
            raise TrainError(f"none of the given recordings is in the {split} split")
    if not recordings:
        raise TrainError(f"no recordings in the {split} split")
    used = loaded.thresholds(threshold, class_thresholds)
    names = {c.id: c.name for c in project.classes()}
    known = set(loaded.classes)
    cache = FeatureCache(project.cache_dir, loaded.feature_config)
    hop_s = loaded.feature_config.hop_s
    single = loaded.single_label
    index = {name: k for k, name in enumerate(loaded.classes)}
    if single:
        overlaps = []
        for rec in recordings:
            labels = [
                (e.onset, e.offset, names[e.class_id])
                for e in project.labels(rec.id)
                if names.get(e.class_id) in known
            ]
            overlaps += find_overlaps(rec.name, labels, hop_s)
        if overlaps:
            raise TrainError(overlap_message(overlaps))
    reference: list[sed_metrics.Event] = []
    estimated: list[sed_metrics.Event] = []
    truth_ids, decided_ids = [], []
    for done, rec in enumerate(recordings):
        if progress is not None:
            progress(done, len(recordings), rec)
        key = str(rec.id)
        mine = []
        for e in project.labels(rec.id):
            label = names.get(e.class_id)
            if label in known:
                mine.append(sed_metrics.Event(key, e.onset, e.offset, label))
        reference += mine
        post = loaded.posteriors(recording_features(cache, project, rec))
        for d in loaded.events(post, threshold=used):
            estimated.append(sed_metrics.Event(key, d.onset, min(d.offset, rec.duration), d.label))
        if single:
            decided_ids.append(post[:, 0].astype("int64"))
            truth_ids.append(
                label_ids(((e.onset, e.offset, e.label) for e in mine), len(post), index, hop_s)
            )
    scored = loaded.classes
    if single:
        seen = {e.label for e in reference} | {e.label for e in estimated}
        scored = [c for c in loaded.classes if c in seen]
    segment = sed_metrics.segment_based(reference, estimated, scored, time_resolution=1.0)
    event = sed_metrics.event_based(
        reference, estimated, scored, t_collar=0.2, percentage_of_length=0.2
    )
    reference_counts = collections.Counter(e.label for e in reference)
    detected_counts = collections.Counter(e.label for e in estimated)
    per_class = {
        name: {
            "segment_f1": _num(segment.per_class[name].f1),
            "segment_er": _rate(segment.per_class[name].error_rate, segment.per_class[name].n_ref),
            "event_f1": _num(event.per_class[name].f1),
            "event_er": _rate(event.per_class[name].error_rate, event.per_class[name].n_ref),
            "reference_events": reference_counts.get(name, 0),
            "detected_events": detected_counts.get(name, 0),
        }
        for name in scored
    }
    result = {
        "run": run.id,
        "split": split,
        "recordings": len(recordings),
        # The split's recordings whose audio is missing or changed: not scored.
        "left_out": left_out,
        "epoch": loaded.epoch,
        "threshold": loaded.config.threshold if threshold is None else threshold,
        # What each class was detected at: its tuned threshold, unless --threshold was given.
        "class_thresholds": dict(zip(loaded.classes, used)),
        "segment_f1": _num(segment.f1),
        "segment_er": _rate(segment.error_rate, segment.n_ref),
        "event_f1": _num(event.f1),
        "event_er": _rate(event.error_rate, event.n_ref),
        "per_class": per_class,
        "segment": segment.to_dict(),
        "event": event.to_dict(),
    }
    if not single:
        # How far below its threshold each class's detections may run on (1: not at all).
        result["class_hysteresis"] = dict(
            zip(loaded.classes, loaded.config.hysteresis_for(loaded.classes))
        )
    if single:
        frame = frame_scores(truth_ids, decided_ids, len(loaded.classes) + 1)
        result["task"] = "single-label"
        result["frame_accuracy"] = _num(frame.accuracy)
        result["macro_f1"] = _num(frame.macro_f1)
    if not reference:
        what = f"{len(recordings)} chosen recording(s)"
        if recording_ids is None:
            what = f"{split} split's {len(recordings)} recording(s)"
        result["note"] = (
            f"nothing to score against: none of the {what} has labels of run {run.id}'s classes, so each of the {len(estimated)} "
            "detection(s) counts as an insertion and F1 and error rate are undefined; label "
            "them, or score another split"
        )
    if record and reference:
        project.add_metrics(
            run.id,
            [
                {
                    "kind": "test",
                    "epoch": loaded.epoch,
                    "iteration": loaded.iteration,
                    "f1": _num(segment.f1),
                    "er": _num(segment.error_rate),
                    "split": split,
                    "event_f1": _num(event.f1),
                    "threshold": result["threshold"],
                    **(
                        {"accuracy": result["frame_accuracy"], "macro_f1": result["macro_f1"]}
                        if single
                        else {}
                    ),
                }
            ],
        )
    return result
