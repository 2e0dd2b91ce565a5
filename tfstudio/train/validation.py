"""What a run learnt, measured on the val split: the scores at each epoch's end and the
per-class post-processing tuned when training is over.

A multi-label run's validation loss is the BCE of the stitched posteriors; a single-label
run's the mean cross-entropy per frame of its full softmax, with frame accuracy and macro F1
besides. Both report segment-based F1 and ER (1 s) of the events post-processing makes of
the outputs at the run's threshold, median filter and minimum durations, the events that
``tfstudio detect`` would store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tfstudio.model.crnn import CRNN
from tfstudio.train import metrics as sed_metrics
from tfstudio.train.config import TrainConfig
from tfstudio.train.data import Normalizer, RecordingData
from tfstudio.train.detect import label_decisions, posteriors
from tfstudio.train.postprocess import DetectedEvent, decisions_to_events, posteriors_to_events
from tfstudio.train.single_label import frame_scores
from tfstudio.train.tune import HYSTERESIS_GRID, TunedPostprocess, tune_postprocess

__all__ = ["Scores", "ValidationSet", "tune", "validate"]

# (validation loss, segment F1, segment ER), and a single-label run's frame scores
# ({"accuracy", "macro_f1"}).
Scores = tuple[float, float, float] | tuple[float, float, float, dict[str, float]]


@dataclass(frozen=True)
class ValidationSet:
    """The val split's recordings as a run sees them: features, frame targets and labels,
    the run's normaliser, its classes and the feature hop."""

    recordings: Sequence[RecordingData]
    normalizer: Normalizer
    classes: Sequence[str]
    hop_s: float


@torch.no_grad()
def validate(
    model: CRNN, val: ValidationSet, cfg: TrainConfig, stop: Callable[[], bool]
) -> Scores | None:
    """The scores of ``model`` on ``val``; None when ``stop()`` said so (it is asked between
    recordings)."""
    if cfg.single_label:
        return _validate_single_label(model, val, cfg, stop)
    classes = list(val.classes)
    loss_sum, count = 0.0, 0
    reference: list[sed_metrics.Event] = []
    estimated: list[sed_metrics.Event] = []
    for rec in val.recordings:
        if stop():
            return None
        post = posteriors(model, rec.features(), val.normalizer, seq_len=cfg.seq_len, amp=cfg.amp)
        p = np.clip(post.astype(np.float64), 1e-7, 1 - 1e-7)
        y = np.asarray(rec.targets)
        loss_sum += float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).sum())
        count += y.size
        found = posteriors_to_events(
            post, classes, val.hop_s, **_postprocess(cfg), hysteresis=cfg.hysteresis
        )
        _collect(rec, found, reference, estimated)
    scores = sed_metrics.segment_based(reference, estimated, classes, time_resolution=1.0)
    f1 = float(scores.f1)
    if math.isnan(f1) and reference:
        f1 = 0.0  # sed_eval says NaN when nothing was detected; for a curve that is 0
    return loss_sum / max(1, count), f1, float(scores.error_rate)


def _validate_single_label(
    model: CRNN, val: ValidationSet, cfg: TrainConfig, stop: Callable[[], bool]
) -> tuple[float, float, float, dict[str, float]] | None:
    """Validation of a single-label run with the full softmax: the loss is the mean
    cross-entropy per frame, then segment-based F1/ER (1 s) of the decoded events, frame
    accuracy and the macro F1 over the classes in play."""
    classes = list(val.classes)
    loss_sum, count = 0.0, 0
    reference: list[sed_metrics.Event] = []
    estimated: list[sed_metrics.Event] = []
    truth_ids, decided_ids = [], []
    for rec in val.recordings:
        if stop():
            return None
        ids = np.asarray(rec.targets)  # a single-label run's (frames,) class ids
        decisions, truth_log_prob = label_decisions(
            model,
            rec.features(),
            val.normalizer,
            seq_len=cfg.seq_len,
            amp=cfg.amp,
            labels=ids,
        )
        assert truth_log_prob is not None
        loss_sum -= float(truth_log_prob.astype(np.float64).sum())
        count += len(truth_log_prob)
        truth_ids.append(ids)
        decided_ids.append(decisions[:, 0].astype(np.int64))
        found = decisions_to_events(decisions, classes, val.hop_s, **_postprocess(cfg))
        _collect(rec, found, reference, estimated)
    # Classes without a reference or an estimated event add nothing to the overall scores.
    seen = {e.label for e in reference} | {e.label for e in estimated}
    in_play = [c for c in classes if c in seen]
    scores = sed_metrics.segment_based(reference, estimated, in_play, time_resolution=1.0)
    f1 = float(scores.f1)
    if math.isnan(f1) and reference:
        f1 = 0.0
    frame = frame_scores(truth_ids, decided_ids, len(classes) + 1)
    return (
        loss_sum / max(1, count),
        f1,
        float(scores.error_rate),
        {"accuracy": frame.accuracy, "macro_f1": frame.macro_f1},
    )


@torch.no_grad()
def tune(model: CRNN, val: ValidationSet, cfg: TrainConfig) -> TunedPostprocess:
    """Each class's threshold, median filter and hysteresis (with ``tune_hysteresis``)
    chosen on ``val`` with ``model``'s posteriors
    (:func:`~tfstudio.train.tune.tune_postprocess`, starting from the run's values)."""
    posts = [
        posteriors(model, rec.features(), val.normalizer, seq_len=cfg.seq_len, amp=cfg.amp)
        for rec in val.recordings
    ]
    return tune_postprocess(
        posts,
        [rec.labels for rec in val.recordings],
        list(val.classes),
        val.hop_s,
        **_postprocess(cfg),
        hysteresis=cfg.hysteresis,
        ratios=HYSTERESIS_GRID if cfg.tune_hysteresis else (cfg.hysteresis,),
        er_weight=cfg.tune_er_weight,
    )


def _postprocess(cfg: TrainConfig) -> dict[str, Any]:
    """The run's post-processing as validation applies it: its global threshold (the tuned
    per-class ones come after training), median filter and minimum durations."""
    return {
        "threshold": cfg.threshold,
        "median_filter_frames": cfg.median_filter_frames,
        "min_event_s": cfg.min_event_s,
        "min_gap_s": cfg.min_gap_s,
    }


def _collect(
    rec: RecordingData,
    found: Iterable[DetectedEvent],
    reference: list[sed_metrics.Event],
    estimated: list[sed_metrics.Event],
) -> None:
    """Add a recording's labels to ``reference`` and what was ``found`` to ``estimated``."""
    key = str(rec.recording_id)
    reference += [sed_metrics.Event(key, on, off, label) for on, off, label in rec.labels]
    estimated += [sed_metrics.Event(key, e.onset, e.offset, e.label) for e in found]
