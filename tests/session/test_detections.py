"""A run's detections without Qt: run info from the store, posteriors to events, what is drawn,
repeats of decisions, and thresholds stored with the run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import save_posteriors, stamp_posteriors
from tfstudio.session.detections import (
    TRAINED_KEY,
    DetectionArrays,
    RunInfo,
    checkpoint_metadata,
    detect_from_posteriors,
    drawn_detections,
    drop_repeats,
    load_posteriors,
    saved_posteriors_are_stale,
    with_thresholds,
)
from tfstudio.store import Event
from tfstudio.train.layout import STITCHING, posteriors_file, posteriors_stamp

HOP = {"hop_length": 160, "sample_rate": 16000}  # 10 ms frames


def _arrays(onsets, offsets, class_ids, states=None):
    n = len(onsets)
    return DetectionArrays(
        np.array(onsets, dtype=float),
        np.array(offsets, dtype=float),
        np.array(class_ids, dtype=np.int64),
        np.full(n, 0.9),
        np.zeros(n, dtype=np.int64) if states is None else np.array(states, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
    )


def test_run_info_reads_the_stored_configuration(project):
    bird, frog = project.add_class("bird"), project.add_class("frog")
    run = project.create_run(
        {
            "features": HOP,
            "classes": ["bird", "frog", "gone"],
            "threshold": 0.4,
            "class_thresholds": {"frog": 0.7, "gone": 0.2, "bad": "x"},
            "median_filter_frames": 4,  # made odd, as detect does
            "class_median_filter_frames": {"bird": 5, "frog": 2},
            TRAINED_KEY: {"threshold": 0.5},
        }
    )
    info = RunInfo.from_run(project, project.run(run.id))
    assert info is not None
    assert info.classes == ("bird", "frog", "gone") and info.hop_s == pytest.approx(0.01)
    assert info.threshold == 0.4 and info.trained_threshold == 0.5
    assert info.class_thresholds == {"frog": 0.7, "gone": 0.2}
    assert info.median_filters() == [5, 5, 5]  # frog's even filter is ignored
    assert info.thresholds_by_class_id(project.classes()) == {frog.id: 0.7}
    # Training left no per-class thresholds aside: the stored ones are the trained ones.
    assert info.thresholds_by_class_id([bird, frog], trained=True) == {frog.id: 0.7}


def test_a_run_without_a_frame_hop_is_unusable(project):
    run = project.create_run({"classes": ["bird"]})
    assert RunInfo.from_run(project, project.run(run.id)) is None


def test_posteriors_become_detections_of_project_classes():
    info = RunInfo(run_id=1, classes=("bird", "gone"), hop_s=0.01)
    post = np.full((1000, 2), 0.05, dtype=np.float32)
    post[100:200, 0] = 0.9
    post[300:400, 1] = 0.9  # a class the project no longer has: dropped
    post[990:, 0] = 0.8
    found = detect_from_posteriors(post, info, [7, None], np.array([0.5, 0.5]), duration=9.95)
    assert found.class_ids.tolist() == [7, 7]
    assert found.onsets == pytest.approx([1.0, 9.9])
    assert found.offsets == pytest.approx([2.0, 9.95])  # clipped to the recording
    assert found.ids.tolist() == [-1, -1] and found.states.tolist() == [0, 0]
    # A higher threshold for the column leaves the weaker one out.
    higher = detect_from_posteriors(post, info, [7, None], np.array([0.85, 0.5]), duration=9.95)
    assert len(higher) == 1
    [row] = higher.rows()  # as the store takes them
    assert row["class_id"] == 7 and isinstance(row["class_id"], int)
    assert (row["onset"], row["offset"], row["confidence"]) == pytest.approx((1.0, 2.0, 0.9))


def test_repeats_of_reviewed_detections_are_dropped():
    new = DetectionArrays(
        np.array([1.0, 1.1, 5.0]),
        np.array([2.0, 2.1, 6.0]),
        np.array([7, 8, 7]),
        np.array([0.9, 0.8, 0.7]),
        np.zeros(3, dtype=np.int64),
        np.full(3, -1),
    )
    reviewed = Event(1, 1, 7, 1.05, 2.0, None, None, "model", 0.9, 1, "accepted", 0.0, 0.0)
    kept = drop_repeats(new, [reviewed])
    # Same class mostly overlapping: dropped; other class or elsewhere: kept.
    assert kept.class_ids.tolist() == [8, 7] and kept.onsets.tolist() == [1.1, 5.0]


def test_a_preview_replaces_pending_detections_but_never_rejected_ones():
    stored = _arrays([1.0, 3.0, 5.0], [2.0, 4.0, 6.0], [7, 7, 8], states=[0, 2, 0])
    assert drawn_detections(stored, None) is stored
    preview = _arrays([1.5], [2.5], [7])
    drawn = drawn_detections(stored, preview)
    assert drawn.onsets.tolist() == [1.5, 3.0] and drawn.states.tolist() == [0, 2]


def test_posteriors_are_read_only_in_the_runs_layout(project):
    rec = project.recording(fake_recording(project))
    info = RunInfo(run_id=3, classes=("bird", "frog"), hop_s=0.01)
    assert load_posteriors(project, info, rec) is None  # not detected yet
    save_posteriors(project, 3, info.classes, rec, np.ones((10, 2), dtype=np.float64))
    post = load_posteriors(project, info, rec)
    assert post is not None and post.dtype == np.float32 and post.shape == (10, 2)
    np.save(posteriors_file(project, 3, rec), np.ones((10, 3)))  # three columns, two classes
    assert load_posteriors(project, info, rec) is None


@pytest.mark.parametrize(
    "stamp",
    [
        None,  # saved before posteriors had a stamp
        {"stitching": "cut", "classes": ["bird", "frog"]},  # windows joined another way
        {"stitching": STITCHING, "classes": ["frog", "bird"]},  # another class order
        "not json",
    ],
)
def test_posteriors_made_another_way_are_stale_not_read(project, stamp):
    rec = project.recording(fake_recording(project))
    info = RunInfo(run_id=3, classes=("bird", "frog"), hop_s=0.01)
    save_posteriors(project, 3, info.classes, rec, np.ones((10, 2)))
    assert load_posteriors(project, info, rec) is not None
    assert not saved_posteriors_are_stale(project, info)
    path = posteriors_stamp(project, 3)
    if stamp is None:
        path.unlink()
    else:
        path.write_text(stamp if isinstance(stamp, str) else json.dumps(stamp))
    assert load_posteriors(project, info, rec) is None
    assert saved_posteriors_are_stale(project, info) == (stamp is not None)


def test_a_single_label_runs_decisions_preview_as_posteriors(project):
    from tfstudio.train.layout import decisions_file

    rec = project.recording(fake_recording(project))
    info = RunInfo(run_id=4, classes=("bird", "frog"), hop_s=0.01)
    stamp_posteriors(project, 4, info.classes)
    path = decisions_file(project, 4, rec)
    # Frames: background, bird 0.9, bird 0.4, frog 0.7.
    np.save(path, np.array([[0, 0.8], [1, 0.9], [1, 0.4], [2, 0.7]], dtype=np.float32))
    post = load_posteriors(project, info, rec)
    assert post is not None and post.shape == (4, 2)
    np.testing.assert_allclose(post, [[0, 0], [0.9, 0], [0.4, 0], [0, 0.7]])
    # Detections at a threshold of 0.5 from them: the bird's first frame and the frog's.
    arrays = detect_from_posteriors(post, info, [11, 12], np.array([0.5, 0.5]), 1.0)
    assert arrays.class_ids.tolist() == [11, 12]


def test_thresholds_are_stored_and_what_training_left_is_kept_once():
    info = RunInfo(
        run_id=1,
        classes=("bird",),
        hop_s=0.01,
        threshold=0.5,
        trained_threshold=0.5,
        trained_class_thresholds={"bird": 0.6},
    )
    first = with_thresholds({"epochs": 3}, info, 0.3, {"bird": 0.8})
    assert first == {
        "epochs": 3,
        "threshold": 0.3,
        "class_thresholds": {"bird": 0.8},
        TRAINED_KEY: {"threshold": 0.5, "class_thresholds": {"bird": 0.6}},
    }
    later = RunInfo(run_id=1, classes=("bird",), hop_s=0.01, trained_threshold=0.9)
    second = with_thresholds(first, later, 0.4, {})
    assert second[TRAINED_KEY] == first[TRAINED_KEY] and second["threshold"] == 0.4


def test_checkpoint_metadata_is_read_without_torch(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "best.pt"
    torch.save(
        {"classes": ["bird", "frog"], "feature_config": HOP, "model": {"w": torch.ones(3)}},
        path,
    )
    meta = checkpoint_metadata(path)
    assert meta["classes"] == ["bird", "frog"] and meta["feature_config"] == HOP
