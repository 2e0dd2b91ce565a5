"""Per-class threshold and median-filter tuning on held-out posteriors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfstudio.train.postprocess import posteriors_to_events
from tfstudio.train.tune import HYSTERESIS_GRID, MEDIAN_GRID, THRESHOLD_GRID, tune_postprocess

HOP = 0.02  # 50 frames a second
CLASSES = ["A", "B", "C"]
# (first frame, frames) of each class's events in each of two 30 s recordings. B's events
# are 10 k + 6 frames long, so they start and end with a full "on" stretch of the pattern.
A_EVENTS = [[(100, 100), (500, 125), (1000, 50)], [(200, 150), (900, 75)]]
B_EVENTS = [[(250, 106), (1200, 146)], [(600, 126)]]


def _synthetic(seed: int = 0):
    """Posteriors where A is found only at a low threshold and B only at a high one with a
    long median filter; C is never labelled."""
    rng = np.random.default_rng(seed)
    posts, references = [], []
    for rec in range(2):
        n = 1500
        post = np.zeros((n, 3), np.float32)
        refs = []
        # A: a weak but clean detector, 0.3 inside its events and 0.05 outside.
        post[:, 0] = 0.05 + rng.uniform(-0.02, 0.02, n)
        for start, length in A_EVENTS[rec]:
            post[start : start + length, 0] = 0.3 + rng.uniform(-0.02, 0.02, length)
            refs.append((start * HOP, (start + length) * HOP, "A"))
        # B: a high baseline (0.58) with 4-frame spikes to 0.87, and events at 0.87 that
        # drop to 0.5 for 4 frames in every 10: a short median filter keeps the spikes and
        # breaks the events, one of 9 frames removes both.
        post[:, 1] = 0.58
        for spike in range(30, n - 10, 97):
            post[spike : spike + 4, 1] = 0.87
        for start, length in B_EVENTS[rec]:
            post[start - 10 : start + length + 10, 1] = 0.58  # no spike right beside an event
            pattern = np.where(np.arange(length) % 10 < 6, 0.87, 0.5)
            post[start : start + length, 1] = pattern
            refs.append((start * HOP, (start + length) * HOP, "B"))
        # C: noise below the default threshold, and no reference event at all.
        post[:, 2] = rng.uniform(0, 0.45, n)
        posts.append(post)
        references.append(refs)
    return posts, references


def test_each_class_gets_its_own_threshold_and_median_filter():
    posts, references = _synthetic()
    tuned = tune_postprocess(posts, references, CLASSES, HOP)
    # A: any threshold between its outside (≤ 0.07) and inside (≥ 0.28) levels is perfect;
    # ties go to the one nearest the default 0.5, and the default median filter.
    assert tuned.thresholds["A"] == 0.25
    assert tuned.median_filter_frames["A"] == 5
    # B: above its baseline and below its peaks, with a filter long enough to bridge the
    # 4-frame dips and drop the 4-frame spikes.
    assert 0.58 < tuned.thresholds["B"] < 0.87
    assert tuned.median_filter_frames["B"] >= 9
    assert tuned.median_filter_frames["B"] == 9  # the shortest that works
    # C has no reference events: left out, so it keeps the run's defaults.
    assert set(tuned.thresholds) == set(tuned.median_filter_frames) == {"A", "B"}
    assert set(tuned.per_class_score) == {"A", "B"}
    assert tuned.per_class_score["A"] == pytest.approx(1.0)
    assert tuned.per_class_score["B"] == pytest.approx(1.0)
    assert tuned.score_after >= tuned.score_before
    assert tuned.score_after == pytest.approx(1.0)  # every class at its choice is perfect
    assert tuned.score_before < 0.6  # the defaults were poor: 0.5 misses A and floods B
    assert all(t in THRESHOLD_GRID for t in tuned.thresholds.values())
    assert all(m in MEDIAN_GRID for m in tuned.median_filter_frames.values())


def test_the_chosen_values_detect_the_reference_events():
    posts, references = _synthetic()
    tuned = tune_postprocess(posts, references, CLASSES, HOP)
    thresholds = [tuned.thresholds.get(c, 1.0) for c in CLASSES]  # C switched off
    medians = [tuned.median_filter_frames.get(c, 1) for c in CLASSES]
    for post, refs in zip(posts, references):
        events = posteriors_to_events(
            post, CLASSES, HOP, threshold=thresholds, median_filter_frames=medians
        )
        got = sorted((e.label, round(e.onset, 2), round(e.offset, 2)) for e in events)
        want = sorted((label, round(on, 2), round(off, 2)) for on, off, label in refs)
        assert got == want
    # With the defaults for everyone, A is missed and B's events break at their dips.
    defaults = posteriors_to_events(posts[0][:, :2], CLASSES[:2], HOP, median_filter_frames=5)
    labels = [e.label for e in defaults]
    assert "A" not in labels and labels.count("B") > 10


def test_defaults_only_grid_keeps_the_defaults():
    posts, references = _synthetic()
    tuned = tune_postprocess(
        posts,
        references,
        CLASSES,
        HOP,
        threshold=0.4,
        median_filter_frames=3,
        thresholds=(),
        medians=(),
    )
    assert tuned.thresholds == {"A": 0.4, "B": 0.4}
    assert tuned.median_filter_frames == {"A": 3, "B": 3}
    assert tuned.score_after == pytest.approx(tuned.score_before)


def test_the_default_pair_is_scored_even_off_the_grid():
    posts, references = _synthetic()
    # Off-grid defaults that happen to be perfect for A win over every grid pair for A, and
    # the "before" score is that of those defaults.
    on_grid = tune_postprocess(posts, references, CLASSES, HOP, thresholds=(0.9,), medians=(1,))
    tuned = tune_postprocess(
        posts,
        references,
        CLASSES,
        HOP,
        threshold=0.17,
        median_filter_frames=7,
        thresholds=(0.9,),
        medians=(1,),
    )
    assert tuned.thresholds["A"] == 0.17 and tuned.median_filter_frames["A"] == 7
    assert on_grid.thresholds["A"] in (0.5, 0.9)
    assert tuned.score_before > on_grid.score_before


def test_labels_of_unknown_classes_and_no_events_at_all():
    posts, references = _synthetic()
    with_unknown = [[*refs, (1.0, 2.0, "Z")] for refs in references]
    a = tune_postprocess(posts, references, CLASSES, HOP, thresholds=(0.25, 0.7), medians=(9,))
    b = tune_postprocess(posts, with_unknown, CLASSES, HOP, thresholds=(0.25, 0.7), medians=(9,))
    assert a.thresholds == b.thresholds and a.score_after == pytest.approx(b.score_after)

    nothing = tune_postprocess(posts, [[], []], CLASSES, HOP, thresholds=(0.3,), medians=(1,))
    assert nothing.thresholds == {} and nothing.median_filter_frames == {}
    assert nothing.score_after == nothing.score_before

    with pytest.raises(ValueError, match="one reference list"):
        tune_postprocess(posts, references[:1], CLASSES, HOP)


def _noisy(seed: int = 0):
    """Two classes whose posteriors only loosely follow their events: a lower threshold finds
    more of them at the cost of insertions, the trade-off er_weight is about."""
    rng = np.random.default_rng(seed)
    posts, references = [], []
    for _ in range(4):
        n = 1500
        post = rng.uniform(0.0, 0.6, (n, 2)).astype(np.float32)
        refs = []
        for cls, name in enumerate(("A", "B")):
            for start in rng.choice(np.arange(0, n - 150, 150), 3, replace=False):
                length = int(rng.integers(40, 140))
                post[start : start + length, cls] += rng.uniform(0.0, 0.5)
                refs.append((start * HOP, (start + length) * HOP, name))
        posts.append(np.clip(post, 0, 1))
        references.append(refs)
    return posts, references


def _segment_error_rates(posts, references, names, tuned):
    from tfstudio.train import metrics

    reference = [
        metrics.Event(str(i), on, off, label)
        for i, refs in enumerate(references)
        for on, off, label in refs
    ]
    estimated = [
        metrics.Event(str(i), e.onset, e.offset, e.label)
        for i, post in enumerate(posts)
        for e in posteriors_to_events(
            post,
            names,
            HOP,
            threshold=[tuned.thresholds[n] for n in names],
            median_filter_frames=[tuned.median_filter_frames[n] for n in names],
        )
    ]
    scores = metrics.segment_based(reference, estimated, names, time_resolution=1.0)
    return {n: scores.per_class[n].error_rate for n in names}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighing_the_error_rate_never_raises_it(seed):
    # Maximising F1 − w·ER instead of F1 can only trade F1 for a lower (or equal) error rate,
    # class by class: the choice with the best F1 was available to both.
    posts, references = _noisy(seed)
    names = ["A", "B"]
    plain = tune_postprocess(posts, references, names, HOP)
    weighed = tune_postprocess(posts, references, names, HOP, er_weight=1.0)
    before = _segment_error_rates(posts, references, names, plain)
    after = _segment_error_rates(posts, references, names, weighed)
    for name in names:
        assert after[name] <= before[name] + 1e-9
        assert plain.per_class_score[name] >= weighed.per_class_score[name] - 1e-9


def test_weighing_the_error_rate_changes_choices_where_insertions_cost_more():
    changed = 0
    for seed in range(3):
        posts, references = _noisy(seed)
        plain = tune_postprocess(posts, references, ["A", "B"], HOP)
        weighed = tune_postprocess(posts, references, ["A", "B"], HOP, er_weight=1.0)
        changed += sum(
            (plain.thresholds[n], plain.median_filter_frames[n])
            != (weighed.thresholds[n], weighed.median_filter_frames[n])
            for n in ("A", "B")
        )
    assert changed > 0


def _confused(seed: int, confusion: float):
    """Three classes whose events the posteriors often give to the next class: per-class
    scores see a missed A and an inserted B in one second as two errors, the overall error
    rate as one substitution."""
    rng = np.random.default_rng(seed)
    posts, references = [], []
    for _ in range(4):
        n = 1500
        post = rng.uniform(0.0, 0.3, (n, 3)).astype(np.float32)
        refs = []
        for start in range(50, n - 150, 150):
            cls = int(rng.integers(0, 3))
            length = int(rng.integers(50, 120))
            shown = cls if rng.random() > confusion else (cls + 1) % 3
            post[start : start + length, shown] += rng.uniform(0.3, 0.6)
            refs.append((start * HOP, (start + length) * HOP, "ABC"[cls]))
        posts.append(np.clip(post, 0, 1))
        references.append(refs)
    return posts, references


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("confusion", [0.2, 0.5, 0.8])
def test_the_kept_choice_never_scores_below_the_defaults_overall(seed, confusion):
    posts, references = _confused(seed, confusion)
    tuned = tune_postprocess(posts, references, CLASSES, HOP, er_weight=1.0)
    assert tuned.score_after >= tuned.score_before - 1e-9
    assert tuned.choice in ("per class", "one for all", "defaults")
    if tuned.choice != "per class":
        assert tuned.score_after > tuned.score_per_class
        pairs = {(tuned.thresholds[n], tuned.median_filter_frames[n]) for n in CLASSES}
        assert len(pairs) == 1  # one pair for every class
        if tuned.choice == "defaults":
            assert pairs == {(0.5, 5)}


def test_a_model_that_names_one_class_for_another_keeps_one_pair_for_all():
    # Mostly confused: each class's own best is to detect almost nothing, which scored −0.71
    # overall against the defaults' −0.52 (seed 0); one low threshold for all does better.
    posts, references = _confused(0, 0.8)
    tuned = tune_postprocess(posts, references, CLASSES, HOP, er_weight=1.0)
    assert tuned.choice == "one for all"
    assert tuned.score_per_class < tuned.score_before < tuned.score_after
    assert len(set(tuned.thresholds.values())) == 1


def test_a_sound_model_keeps_its_classes_own_choices():
    posts, references = _synthetic()
    tuned = tune_postprocess(posts, references, CLASSES, HOP)
    assert tuned.choice == "per class" and math.isnan(tuned.score_per_class)
    assert tuned.thresholds["A"] != tuned.thresholds["B"]


def test_hysteresis_is_chosen_for_a_class_whose_sounds_fade():
    """F's events pass the threshold at their start and fade to 0.35 for their second half;
    bumps to 0.4 between them are no events. No single threshold finds the tails without the
    bumps: only a lower threshold that an event may run on at."""
    rng = np.random.default_rng(1)
    posts, references = [], []
    for rec in range(2):
        post = 0.05 + rng.uniform(0, 0.02, (1500, 1)).astype(np.float32)
        refs = []
        for start in range(100 + 40 * rec, 1400, 300):
            post[start : start + 50, 0] = 0.9
            post[start + 50 : start + 120, 0] = 0.35
            refs.append((start * HOP, (start + 120) * HOP, "F"))
            post[start + 200 : start + 230, 0] = 0.4  # a bump that is no event
        posts.append(post)
        references.append(refs)
    one_threshold = tune_postprocess(posts, references, ["F"], HOP)
    assert one_threshold.hysteresis == {"F": 1.0}
    tuned = tune_postprocess(posts, references, ["F"], HOP, ratios=HYSTERESIS_GRID)
    assert tuned.choice == "per class"
    threshold, ratio = tuned.thresholds["F"], tuned.hysteresis["F"]
    assert threshold > 0.4 and threshold * ratio < 0.35  # above the bumps, below the tails
    assert tuned.per_class_score["F"] > one_threshold.per_class_score["F"]
    # Detected with the choice, every event is found whole and no bump is.
    found = [
        (round(e.onset / HOP), round(e.offset / HOP))
        for e in posteriors_to_events(
            posts[0],
            ["F"],
            HOP,
            threshold=threshold,
            median_filter_frames=tuned.median_filter_frames["F"],
            hysteresis=ratio,
        )
    ]
    assert found == [(round(on / HOP), round(off / HOP)) for on, off, _ in references[0]]
