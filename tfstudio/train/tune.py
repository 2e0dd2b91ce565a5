"""Choosing each class's detection threshold, median filter and hysteresis on held-out
recordings.

Post-processing treats classes independently, so one pass over a grid of (threshold,
median filter, hysteresis) choices applied to every class at once gives every class's score
at every choice; each class then takes its best. The score is the mean of the class's segment-based
F1 (1 s) and event-based F1 (200 ms collar), the two views a DCASE evaluation reports; ties go
to the choice closest to the run's defaults (a hysteresis nearer 1 first). Classes without events in the held-out set keep
the defaults. Needs numpy only.

A class's own scores do not see substitutions (the overall segment error rate counts a
missed event of one class and an inserted one of another in the same second once, the
classes' rates twice), so with the error rate weighed the classes' choices can score worse
overall than the defaults: a model that names one class for another learns to detect
nothing (a validation set of a weak model: −0.77 with the defaults, −0.95 tuned per class).
The overall score of the classes' choices is therefore compared with the defaults' and with
the best single choice for all classes (the grid's scores give both), and the best of the three
is kept (:attr:`TunedPostprocess.choice`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tfstudio.train import metrics as sed_metrics
from tfstudio.train.postprocess import posteriors_to_events

__all__ = [
    "HYSTERESIS_GRID",
    "MEDIAN_GRID",
    "THRESHOLD_GRID",
    "TunedPostprocess",
    "tune_postprocess",
]

THRESHOLD_GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(17))  # 0.10 … 0.90
MEDIAN_GRID = (1, 3, 5, 9, 15, 25, 41)
# Shares of the threshold an event may fall to once begun (1: none). Tuned on the val
# posteriors of trained runs and scored on their test recordings: the real-sounds benchmark's
# four runs (segment F1 / ER / event F1, mean) 0.567 / 0.671 / 0.254 with none, 0.573 / 0.659 /
# 0.284 with this grid, 0.578 / 0.656 / 0.287 reaching down to 0.4 and 0.25 as well; but the
# demo's run 0.914 / 0.161 / 0.853 with none, 0.918 / 0.155 / 0.855 with this grid and 0.907 /
# 0.179 / 0.838 with the lower values, which its 4 val recordings chose for most classes.
HYSTERESIS_GRID = (1.0, 0.85, 0.7, 0.55)


@dataclass
class TunedPostprocess:
    """Per-class choices and the held-out scores before (defaults) and after."""

    thresholds: dict[str, float] = field(default_factory=dict)
    median_filter_frames: dict[str, int] = field(default_factory=dict)
    hysteresis: dict[str, float] = field(default_factory=dict)
    score_before: float = math.nan
    score_after: float = math.nan
    per_class_score: dict[str, float] = field(default_factory=dict)
    # What was kept: "per class", "one for all" (the best single choice) or "defaults" (both
    # scored better overall than the classes' own choices, see the module).
    choice: str = "per class"
    # The overall score of the classes' own choices, when another was kept.
    score_per_class: float = math.nan


def _score(value: float) -> float:
    return 0.0 if math.isnan(value) else float(value)


def tune_postprocess(
    posteriors: Sequence[np.ndarray],
    references: Sequence[Sequence[tuple[float, float, str]]],
    classes: Sequence[str],
    hop_s: float,
    *,
    threshold: float = 0.5,
    median_filter_frames: int = 5,
    min_event_s: float = 0.0,
    min_gap_s: float = 0.0,
    hysteresis: float = 1.0,
    thresholds: Sequence[float] = THRESHOLD_GRID,
    medians: Sequence[int] = MEDIAN_GRID,
    ratios: Sequence[float] = (1.0,),
    er_weight: float = 0.0,
) -> TunedPostprocess:
    """Best (threshold, median filter, hysteresis) per class for ``posteriors`` (one (frames,
    classes) array per recording) against ``references`` ((onset, offset, label) per
    recording); ``ratios`` are the hysteresis values tried (:data:`HYSTERESIS_GRID`)."""
    names = list(classes)
    if len(posteriors) != len(references):
        raise ValueError("need one reference list per posteriors array")
    reference = [
        sed_metrics.Event(str(i), on, off, label)
        for i, events in enumerate(references)
        for on, off, label in events
        if label in names
    ]
    present = {e.label for e in reference}
    grid = [(float(t), int(m), float(r)) for t in thresholds for m in medians for r in ratios]
    default = (float(threshold), int(median_filter_frames), float(hysteresis))
    if default not in grid:
        grid.append(default)

    def scores(
        t: float | Sequence[float], m: int | Sequence[int], r: float | Sequence[float]
    ) -> tuple[dict[str, float], float]:
        """Per-class and overall (mean of segment and event F1) scores at thresholds ``t``,
        median filters ``m`` and hysteresis ``r`` (one for all classes, or one per class)."""
        estimated = [
            sed_metrics.Event(str(i), e.onset, e.offset, e.label)
            for i, post in enumerate(posteriors)
            for e in posteriors_to_events(
                post,
                names,
                hop_s,
                threshold=t,
                median_filter_frames=m,
                min_event_s=min_event_s,
                min_gap_s=min_gap_s,
                hysteresis=r,
            )
        ]
        segment = sed_metrics.segment_based(reference, estimated, names, time_resolution=1.0)
        event = sed_metrics.event_based(
            reference, estimated, names, t_collar=0.2, percentage_of_length=0.2
        )
        per_class = {
            n: (_score(segment.per_class[n].f1) + _score(event.per_class[n].f1)) / 2
            - er_weight * _score(segment.per_class[n].error_rate)
            for n in names
        }
        overall = (_score(segment.f1) + _score(event.f1)) / 2
        return per_class, overall - er_weight * _score(segment.error_rate)

    table = {combo: scores(*combo) for combo in grid}
    result = TunedPostprocess(score_before=table[default][1])

    def closeness(combo: tuple[float, int, float]) -> float:
        return (
            abs(combo[0] - default[0])
            + abs(combo[1] - default[1]) / 100
            + abs(combo[2] - default[2]) / 1000
        )

    for name in names:
        if name not in present:
            continue
        best = max(grid, key=lambda p: (round(table[p][0][name], 9), -closeness(p)))
        result.thresholds[name] = best[0]
        result.median_filter_frames[name] = best[1]
        result.hysteresis[name] = best[2]
        result.per_class_score[name] = table[best][0][name]
    # The overall score with every class at its choice, for the record.
    result.score_after = (
        scores(
            [result.thresholds.get(n, default[0]) for n in names],
            [result.median_filter_frames.get(n, default[1]) for n in names],
            [result.hysteresis.get(n, default[2]) for n in names],
        )[1]
        if result.thresholds
        else result.score_before
    )
    if not result.thresholds:
        return result
    # The best single choice for all classes, and the defaults: kept instead where they score
    # better overall (ties keep the classes' own choices, then the defaults).
    one = max(grid, key=lambda p: (round(table[p][1], 9), -closeness(p)))
    alternatives = [(table[default][1], "defaults", default), (table[one][1], "one for all", one)]
    best_score, choice, combo = max(
        alternatives, key=lambda a: (round(a[0], 9), a[1] == "defaults")
    )
    if round(best_score, 9) > round(result.score_after, 9):
        result.score_per_class = result.score_after
        result.score_after = best_score
        result.choice = choice
        for name in result.thresholds:
            t, m, r = combo
            result.thresholds[name], result.median_filter_frames[name] = t, m
            result.hysteresis[name] = r
            result.per_class_score[name] = table[combo][0][name]
    return result
