"""Ranking recordings by how unsure a run is about them (tfstudio.session.suggest)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import HOP_S, make_fake_run, save_posteriors
from tfstudio.session.deferred import CallQueue
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.detections import RunInfo
from tfstudio.session.suggest import (
    UncertaintyModel,
    frame_uncertainty,
    rank_by_uncertainty,
    recording_uncertainty,
    run_thresholds,
)
from tfstudio.session.workspace import Workspace
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


# --- the active run's scores for the Recordings list (UncertaintyModel) ---------------------


@pytest.fixture
def listing(tmp_path):
    """Three 10 s recordings, two classes, a run that detected on rec0; the workspace, its
    detection model and an UncertaintyModel on one hand-run event loop."""
    from tests.session.fake_run import detect_on

    with Project.create(tmp_path / "proj") as project:
        for i in range(3):
            fake_recording(project, f"rec{i}.wav")
        project.add_class("bird")
        project.add_class("frog")
        run = make_fake_run(project)
        detect_on(project, run, project.recordings()[0])
        root = project.root
    loop = CallQueue()
    ws = Workspace(schedule=loop)
    detections = DetectionModel(ws, schedule=loop)
    model = UncertaintyModel(detections, schedule=loop)
    ws.open_project(root)
    loop.run()
    yield model, loop
    ws.close_project()


def _expected(post: np.ndarray, thresholds) -> float:
    return recording_uncertainty(post, thresholds, HOP_S)[0]


def test_the_list_scores_what_detection_saved_and_follows_new_posteriors(listing):
    from tests.session.fake_run import synthetic_posteriors

    model, loop = listing
    ws = model.workspace
    rec0, rec1, rec2 = ws.recordings()
    said: list[int] = []
    model.changed.connect(lambda: said.append(len(model)))
    assert model.run_id == 1 and len(model) == 1
    score = model.get(rec0.id)
    assert score is not None and model.get(rec1.id) is None
    assert score.uncertainty == pytest.approx(_expected(synthetic_posteriors(), [0.5, 0.5]))
    # Detection saves rec1's posteriors (another process): scored once the store says so.
    post = np.full((1001, 2), 0.5, dtype=np.float32)  # every frame on the threshold
    save_posteriors(ws.project, 1, ("bird", "frog"), rec1, post)
    ws.project.replace_detections(1, rec1.id, [])
    ws.poll()
    loop.run()
    assert model.get(rec1.id) is not None and model.get(rec1.id).uncertainty == pytest.approx(1.0)
    assert said and said[-1] == 2 and model.get(rec2.id) is None
    # Nothing new in the folder: an edit costs a look, nothing is read or said again.
    said.clear()
    ws.events.detections.emit()
    loop.run()
    assert said == []


def test_a_released_threshold_scores_again_and_another_run_starts_afresh(listing):
    from tests.session.fake_run import synthetic_posteriors

    model, loop = listing
    ws, detections = model.workspace, model.detections
    rec0 = ws.recordings()[0]
    before = model.get(rec0.id).uncertainty
    detections.set_threshold(0.7, final=False)  # a slider on its way: nothing yet
    loop.run()
    assert model.get(rec0.id).uncertainty == before
    detections.set_threshold(0.7, final=True)
    loop.run()
    after = model.get(rec0.id).uncertainty
    assert after == pytest.approx(_expected(synthetic_posteriors(), [0.7, 0.7]))
    assert after != pytest.approx(before)
    # A run without posteriors: no scores (the column hides).
    run2 = make_fake_run(ws.project)
    ws.poll()
    loop.run()
    ws.set_run(run2.id)
    loop.run()
    assert model.run_id == run2.id and len(model) == 0 and model.get(rec0.id) is None
