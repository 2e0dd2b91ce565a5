"""Ranking recordings by how unsure a run is about them (tfstudio.session.suggest)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import HOP_S, make_fake_run, save_posteriors
from tfstudio.session.detections import RunInfo
from tfstudio.session.suggest import (
    frame_uncertainty,
    rank_by_uncertainty,
    recording_uncertainty,
    run_thresholds,
)
from tfstudio.store import Project


def test_a_frame_is_as_uncertain_as_its_class_nearest_its_threshold():
    # Threshold 0.5 and 0.2: 1 on it, 0 at 0 and 1, halfway on each side's own scale.
    post = np.array(
        [
            [0.5, 0.0],  # on the first threshold
            [0.0, 1.0],  # sure of both
            [0.25, 0.0],  # halfway below the first, the second sure
            [0.0, 0.6],  # halfway above the second (0.2 + 0.8 / 2)
            [0.9, 0.1],  # 0.8 of the way up the first; halfway below the second
        ],
        dtype=np.float32,
    )
    u = frame_uncertainty(post, [0.5, 0.2])
    np.testing.assert_allclose(u, [1.0, 0.0, 0.5, 0.5, 0.5], atol=1e-6)


def test_thresholds_at_the_ends_and_bad_shapes():
    # A threshold of 0 or 1 is a class always or never detected: no division by zero.
    u = frame_uncertainty(np.array([[0.0, 1.0], [1.0, 0.0]]), [0.0, 1.0])
    assert np.isfinite(u).all() and (u >= 0).all() and (u <= 1).all()
    assert frame_uncertainty(np.zeros((0, 2)), [0.5, 0.5]).shape == (0,)
    with pytest.raises(ValueError, match="2 posterior columns but 3 thresholds"):
        frame_uncertainty(np.zeros((4, 2)), [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="frames, classes"):
        frame_uncertainty(np.zeros(4), [0.5])


def test_a_recording_scores_its_mean_and_points_at_its_most_uncertain_second():
    post = np.zeros((1000, 1), dtype=np.float32)  # 10 s at 10 ms, sure nothing is there
    post[600:700, 0] = 0.5  # one second on the threshold, from 6 s
    score, peak = recording_uncertainty(post, [0.5], HOP_S)
    assert score == pytest.approx(0.1)
    assert peak == pytest.approx(6.5, abs=0.02)
    assert recording_uncertainty(np.zeros((0, 1)), [0.5], HOP_S) == (0.0, 0.0)
    # Shorter than a second: the whole recording is the stretch.
    assert recording_uncertainty(np.full((20, 1), 0.5), [0.5], HOP_S) == (1.0, 0.1)


def test_recordings_rank_most_uncertain_first_with_the_runs_own_thresholds(tmp_path):
    with Project.create(tmp_path / "p") as project:
        project.add_class("bird")
        project.add_class("frog")
        recs = [project.recording(fake_recording(project, f"r{i}.wav", 2.0)) for i in range(4)]
        run = make_fake_run(project)
        # The bird's threshold tuned down to 0.3: a 0.3 bird posterior is on it.
        project.update_run(run.id, config={**run.config_dict, "class_thresholds": {"bird": 0.3}})
        info = RunInfo.from_run(project, project.run(run.id))
        assert info is not None
        np.testing.assert_allclose(run_thresholds(info), [0.3, 0.5])
        frames = 201
        levels = {0: (0.3, 0.0), 1: (0.0, 0.0), 2: (0.0, 0.4)}  # r3: no posteriors saved
        for i, (bird, frog) in levels.items():
            post = np.zeros((frames, 2), dtype=np.float32)
            post[:, 0], post[:, 1] = bird, frog
            save_posteriors(project, run.id, info.classes, recs[i], post)
        ranked = rank_by_uncertainty(project, info, recs)
    assert [s.recording.name for s in ranked] == ["r0.wav", "r2.wav", "r1.wav"]
    assert [round(s.uncertainty, 3) for s in ranked] == [1.0, 0.8, 0.0]
