"""Single-label frames without torch: label ids, overlaps, frame scores, argmax decoding, and
the monophonic demo generator."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from tfstudio.train.data import frame_targets
from tfstudio.train.demo_single import (
    MAX_TYPES,
    create_single_label_demo,
    generate_single_label_demo,
    sound_type,
    type_names,
)
from tfstudio.train.postprocess import (
    decisions_array,
    decisions_to_event_arrays,
    decisions_to_events,
    posteriors_to_event_arrays,
    posteriors_to_events,
    winner_posteriors,
)
from tfstudio.train.single_label import (
    find_overlaps,
    frame_scores,
    label_ids,
    overlap_message,
)

HOP = 0.02


# --- label ids and overlaps -------------------------------------------------------------------


def test_label_ids_light_the_frames_the_multi_hot_targets_light():
    labels = [(0.1, 0.5, "a"), (0.5, 0.61, "b"), (1.0, 1.005, "a"), (2.0, 9.0, "c")]
    index = {"a": 0, "b": 1, "c": 2}
    ids = label_ids(labels, 120, index, HOP)
    multi = frame_targets(((on, off, index[n]) for on, off, n in labels), 120, 3, HOP)
    expected = np.where(multi.any(1), multi.argmax(1) + 1, 0)
    assert np.array_equal(ids, expected)
    assert ids[5] == 1 and ids[25] == 2 and ids[50] == 1 and ids[119] == 3 and ids[0] == 0
    # A label of a class the run does not know is left out.
    assert not label_ids([(0.1, 0.5, "z")], 50, index, HOP).any()
    with pytest.raises(ValueError, match="overlaps"):
        label_ids([(0.1, 0.5, "a"), (0.4, 0.8, "b")], 50, index, HOP)


def test_overlaps_are_frames_claimed_by_two_classes():
    labels = [
        (1.0, 2.0, "tone"),
        (1.5, 2.5, "sweep"),  # overlaps tone by 0.5 s
        (2.5, 3.0, "tone"),  # touches sweep: no frame in common
        (3.0, 3.004, "sweep"),  # less than half a frame past the tone: still frame 150
        (4.0, 5.0, "clicks"),
        (4.2, 4.4, "clicks"),  # the same class twice: one class per frame all the same
    ]
    overlaps = find_overlaps("rec.wav", labels, HOP)
    assert [(o.first[2], o.second[2]) for o in overlaps] == [("tone", "sweep")]
    assert (overlaps[0].start, overlaps[0].stop) == (1.5, 2.0)
    line = overlaps[0].describe()
    assert line == "rec.wav: 1.500–2.000 s: tone (1.000–2.000 s) and sweep (1.500–2.500 s)"
    # Onset and offset rounding to frames decides: 10 ms into the next label is a frame.
    assert find_overlaps("r", [(0.0, 1.01, "a"), (1.0, 2.0, "b")], HOP)


def test_an_overlap_message_lists_each_pair_and_counts_the_rest():
    labels = [(float(i), i + 0.6, "a" if i % 2 else "b") for i in range(0, 60, 1)]
    labels = [(on, on + 1.5, name) for on, _, name in labels]
    overlaps = find_overlaps("long.wav", labels, HOP)
    message = overlap_message(overlaps, shown=5)
    lines = message.splitlines()
    assert lines[0].startswith(f"{len(overlaps)} overlapping label pair(s)")
    assert len(lines) == 1 + 5 + 1 and lines[-1] == f"  … and {len(overlaps) - 5} more"


def test_frame_scores():
    reference = [np.array([0, 1, 1, 2, 0]), np.array([3, 3, 0])]
    decided = [np.array([0, 1, 2, 2, 0]), np.array([3, 0, 0])]
    scores = frame_scores(reference, decided, 5)
    assert scores.accuracy == pytest.approx(6 / 8)
    # class 1: tp 1, ref 2, est 1 → 2/3; class 2: tp 1, ref 1, est 2 → 2/3;
    # class 3: tp 1, ref 2, est 1 → 2/3; class 4 never occurs and is left out.
    assert scores.macro_f1 == pytest.approx(2 / 3) and scores.classes == 3
    only_background = frame_scores([np.zeros(4, int)], [np.zeros(4, int)], 3)
    assert only_background.accuracy == 1.0 and math.isnan(only_background.macro_f1)


# --- argmax decoding --------------------------------------------------------------------------


def test_decoding_argmax_runs_by_hand():
    ids = np.array([0, 1, 1, 1, 0, 2, 2, 0, 0, 3, 1, 1])
    probs = np.array([0.9, 0.5, 0.7, 0.6, 0.8, 0.4, 0.2, 0.9, 0.9, 0.3, 0.6, 0.6])
    events = decisions_to_events(decisions_array(ids, probs), ["a", "b", "c"], 0.1)
    got = [(round(e.onset, 6), round(e.offset, 6), e.label, round(e.confidence, 6)) for e in events]
    assert got == [
        (0.1, 0.4, "a", 0.6),
        (0.5, 0.7, "b", 0.3),
        (0.9, 1.0, "c", 0.3),
        (1.0, 1.2, "a", 0.6),
    ]
    # A threshold on the winner's probability drops the unsure frames.
    sure = decisions_to_events(decisions_array(ids, probs), ["a", "b", "c"], 0.1, threshold=0.35)
    assert [(e.label, round(e.onset, 6)) for e in sure] == [("a", 0.1), ("b", 0.5), ("a", 1.0)]


@pytest.mark.parametrize("seed", range(4))
def test_decoding_equals_post_processing_the_winner_posteriors(seed):
    rng = np.random.default_rng(seed)
    n_classes, frames = 9, 400
    # Runs of random classes and background, as a model's decisions look.
    ids = np.repeat(rng.integers(0, n_classes + 1, 60), rng.integers(1, 14, 60))[:frames]
    probs = rng.uniform(0.05, 1.0, len(ids)).astype(np.float32)
    decisions = decisions_array(ids, probs)
    dense = winner_posteriors(decisions, n_classes)
    assert dense.shape == (len(ids), n_classes)
    thresholds = rng.uniform(0.0, 0.5, n_classes).tolist()
    medians = rng.choice([1, 3, 5, 9], n_classes).tolist()
    options = dict(
        threshold=thresholds, median_filter_frames=medians, min_event_s=0.05, min_gap_s=0.06
    )
    names = [f"c{k}" for k in range(n_classes)]
    assert decisions_to_events(decisions, names, HOP, **options) == posteriors_to_events(
        dense, names, HOP, **options
    )
    a = decisions_to_event_arrays(decisions, n_classes, HOP, **options)
    b = posteriors_to_event_arrays(dense, HOP, **options)
    for field in ("start", "stop", "class_index", "confidence", "peak"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field))


def test_decoding_a_large_vocabulary_looks_only_at_the_winners():
    ids = np.zeros(1000, dtype=np.int64)
    ids[100:150] = 99_999
    ids[300:320] = 7
    events = decisions_to_events(decisions_array(ids, np.full(1000, 0.9)), type_names(100_000), HOP)
    assert [(e.label, round(e.onset, 6), round(e.offset, 6)) for e in events] == [
        ("type99998", 2.0, 3.0),
        ("type00006", 6.0, 6.4),
    ]
    with pytest.raises(ValueError, match="class ids"):
        decisions_to_events(decisions_array(ids, np.ones(1000)), ["a"], HOP)


# --- the monophonic demo --------------------------------------------------------------------


def test_every_type_has_its_own_code():
    codes = {sound_type(k) for k in range(MAX_TYPES)}
    assert len(codes) == MAX_TYPES == 100_000
    # Neighbouring ranks differ in more than one feature.
    a, b = sound_type(0), sound_type(1)
    assert sum(x != y for x, y in zip(vars(a).values(), vars(b).values())) >= 3
    with pytest.raises(ValueError):
        sound_type(MAX_TYPES)


def test_the_demo_is_monophonic_zipf_and_repeatable(tmp_path):
    first = generate_single_label_demo(tmp_path / "a", classes=30, recordings=4, seconds=20.0)
    again = generate_single_label_demo(tmp_path / "b", classes=30, recordings=4, seconds=20.0)
    assert [r.events for r in first] == [r.events for r in again]
    assert (tmp_path / "a" / "mono_000.wav").read_bytes() == (
        tmp_path / "b" / "mono_000.wav"
    ).read_bytes()
    events = [e for r in first for e in r.events]
    for rec in first:
        for x, y in zip(rec.events, rec.events[1:]):
            assert y.onset - x.offset >= 0.079  # never overlapping, never touching
        assert not find_overlaps("r", [(e.onset, e.offset, e.label) for e in rec.events], HOP)
    counts = np.bincount([e.rank for e in events], minlength=30)
    assert counts[0] > counts[5] > 0 and counts[:3].sum() > counts[15:].sum()
    assert sorted({r.split for r in first}) == ["test", "train", "val"]


def test_the_demo_project_has_the_whole_vocabulary(tmp_path):
    project = create_single_label_demo(tmp_path / "p", classes=12, recordings=3, seconds=4.0)
    try:
        assert [c.name for c in project.classes()] == type_names(12)
        assert len(project.recordings()) == 3
        assert sum(len(project.labels(r.id)) for r in project.recordings()) > 3
    finally:
        project.close()


def test_the_demo_module_imports_no_torch():
    code = "import sys, tfstudio.train.demo_single\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
