"""Validation on the end of each training recording when the val split is empty (val_within):
a project of a few long recordings has no recording to spare for it."""

from __future__ import annotations

import numpy as np
import pytest

from tfstudio.train import TrainError, train
from tfstudio.train.data import FrameTargets, RecordingData, split_within

HOP = 0.02


def _recording(tmp_path, n=500, classes=3):
    feats = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
    path = tmp_path / "f.npy"
    np.save(path, feats)
    labels = [(1.0, 3.0, "a"), (7.5, 8.5, "b"), (9.9, 10.0, "c")]
    index = {"a": 0, "b": 1, "c": 2}
    targets = FrameTargets.from_events(
        ((on, off, index[c]) for on, off, c in labels), n, classes, HOP
    )
    negatives = np.ones((n, classes), np.float32)
    negatives[450:460, 2] = 2.0
    return RecordingData(7, "long.wav", path, targets, labels, negatives), feats


def _rounded(labels):
    return [(round(on, 9), round(off, 9), name) for on, off, name in labels]


def test_a_part_is_its_frames_with_labels_from_its_start(tmp_path):
    whole, feats = _recording(tmp_path)
    head, tail = whole.part(0, 400, HOP), whole.part(400, 500, HOP)
    np.testing.assert_array_equal(head.features(), feats[:400])
    np.testing.assert_array_equal(tail.features(), feats[400:])
    np.testing.assert_array_equal(np.asarray(head.targets), np.asarray(whole.targets)[:400])
    np.testing.assert_array_equal(np.asarray(tail.targets), np.asarray(whole.targets)[400:])
    np.testing.assert_array_equal(tail.targets[10:60], np.asarray(whole.targets)[410:460])
    assert tail.negatives is not None and tail.negatives[50, 2] == 2.0
    assert _rounded(head.labels) == [(1.0, 3.0, "a"), (7.5, 8.0, "b")]  # b is cut at 8 s
    assert _rounded(tail.labels) == [(0.0, 0.5, "b"), (1.9, 2.0, "c")]
    # A part of a part counts from the cached features' start.
    inner = tail.part(50, 60, HOP)
    np.testing.assert_array_equal(inner.features(), feats[450:460])


def test_split_within_keeps_short_recordings_whole_in_training(tmp_path):
    whole, _ = _recording(tmp_path)
    tiny = whole.part(0, 2, HOP)  # a fifth of two frames rounds to nothing
    train_parts, val_parts = split_within([whole, tiny], 0.2, HOP)
    assert [p.n_frames for p in train_parts] == [400, 2]
    assert [p.n_frames for p in val_parts] == [100]
    assert val_parts[0].first_frame == 400


def test_a_project_without_a_val_split_validates_on_the_end_of_its_training_recordings(
    demo_project, tiny_config
):
    project = demo_project
    val = project.recordings("val")
    project.set_split([r.id for r in val], None)
    events = list(train(project, tiny_config(epochs=1)))
    start = next(e for e in events if e.kind == "start")
    done = events[-1]
    assert done.status == "done", done.message
    n_train = len(project.recordings("train"))
    assert start.val_within == pytest.approx(0.2)
    assert start.train_recordings == start.val_recordings == n_train
    epoch = next(e for e in events if e.kind == "epoch")
    assert np.isfinite(epoch.val_loss)

    with pytest.raises(TrainError, match="no recordings in the val split"):
        list(train(project, tiny_config(epochs=1, val_within=0.0)))
