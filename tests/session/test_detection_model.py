"""The review's live detections without Qt: thresholds from the run, a throttled preview,
writing on release, per-class thresholds and Reset, and the right recording's posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import detect_on, expected, make_fake_run
from tfstudio.session.deferred import CallQueue
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.workspace import Workspace
from tfstudio.store import Project
from tfstudio.train.layout import posteriors_file


@pytest.fixture
def root(tmp_path):
    """Three 10 s recordings, two classes, a run that detected on rec0 at 0.5."""
    with Project.create(tmp_path / "proj") as project:
        for i in range(3):
            fake_recording(project, f"rec{i}.wav")
        project.add_class("bird")
        project.add_class("frog")
        run = make_fake_run(project)
        detect_on(project, run, project.recordings()[0])
        return project.root


@pytest.fixture
def loop():
    return CallQueue()


@pytest.fixture
def model(root, loop):
    ws = Workspace(schedule=loop)
    detections = DetectionModel(ws, schedule=loop)
    ws.open_project(root)
    loop.run()
    yield detections
    ws.close_project()


def pending(model: DetectionModel) -> int:
    project = model.workspace.project
    return sum(e.review == "none" for e in project.events(source="model"))


def class_id(model: DetectionModel, name: str) -> int:
    return next(c.id for c in model.workspace.classes() if c.name == name)


def test_the_run_and_the_current_recordings_posteriors_are_read(model):
    assert model.info is not None and model.info.classes == ("bird", "frog")
    assert model.posteriors is not None and model.posteriors.shape == (1001, 2)
    assert model.class_ids() == [class_id(model, "bird"), class_id(model, "frog")]
    assert len(model.drawn()) == expected(0.5) == 4 and model.pending_count() == 4
    assert model.global_threshold == 0.5 and not model.customized()


def test_a_moving_threshold_previews_once_per_turn_and_writes_on_release(model, loop):
    drawn: list[int] = []
    model.events.drawn.connect(lambda: drawn.append(len(model.drawn())))
    model.set_threshold(0.4, final=False)
    model.set_threshold(0.3, final=False)
    assert model.global_threshold == 0.3 and not model.previewing()
    assert len(loop) == 1  # one preview asked for, however often the slider moved
    loop.run()
    assert model.previewing() and drawn == [expected(0.3)] == [6]
    assert pending(model) == 4  # a preview writes nothing
    model.set_threshold(0.3, final=True)
    assert not model.previewing() and pending(model) == 6
    assert model.customized()


def test_a_class_threshold_moves_that_class_only_and_reset_returns(model):
    frog = class_id(model, "frog")
    model.set_threshold(0.4, frog, final=True)
    assert model.threshold_for(frog) == 0.4 and model.global_threshold == 0.5
    assert pending(model) == expected(0.5, ["bird"]) + expected(0.4, ["frog"]) == 5
    assert model.column_thresholds().tolist() == [0.5, 0.4]
    model.reset_class_threshold(frog)
    assert model.threshold_for(frog) == 0.5 and pending(model) == 4
    assert not model.customized()


def test_thresholds_are_stored_with_the_run_and_read_back(model, root):
    frog = class_id(model, "frog")
    model.set_threshold(0.3, final=True)
    model.set_threshold(0.7, frog, final=True)
    with Project.open(root) as project:
        config = project.latest_run().config_dict
    assert config["threshold"] == 0.3 and config["class_thresholds"] == {"frog": 0.7}
    assert config["trained_postprocess"] == {"threshold": 0.5, "class_thresholds": {}}

    again = DetectionModel(Workspace())
    again.workspace.open_project(root)
    assert again.global_threshold == 0.3 and again.threshold_for(frog) == 0.7
    assert again.customized()
    again.reset_class_threshold()
    assert again.threshold_for(frog) == 0.3  # follows the global one again
    again.workspace.close_project()


def test_uncertainty_is_the_distance_from_the_class_threshold(model):
    event = max(model.workspace.detections.order, key=lambda e: e.confidence)
    assert model.uncertainty(event) == pytest.approx(abs(event.confidence - 0.5))


def test_a_recording_without_posteriors_previews_nothing(model, loop):
    """Bug: every other recording showed rec0's posteriors, and a threshold previewed rec0's
    detections on it."""
    ws = model.workspace
    ws.set_recording(ws.recordings()[1].id)
    loop.run()
    assert model.posteriors is None and len(model.drawn()) == 0
    model.set_threshold(0.3, final=False)
    loop.run()
    assert not model.previewing() and len(model.drawn()) == 0


def test_another_recording_is_brought_to_the_thresholds_after_everyone_knows_it(model, loop):
    ws = model.workspace
    rec1 = ws.recordings()[1]
    post = np.full((1001, 2), 0.05, dtype=np.float32)
    post[100:200, 0] = 0.42
    np.save(posteriors_file(ws.project, ws.run_id, rec1), post)
    model.set_threshold(0.4, final=True)
    ws.set_recording(rec1.id)
    assert len(ws.detections) == 0  # not while the recording change is being told
    loop.run()
    (event,) = ws.detections.order
    assert (event.onset, event.offset) == pytest.approx((1.0, 2.0))


def test_apply_redoes_the_recordings_asked_for(model):
    ws = model.workspace
    applied: list[int] = []
    model.events.applied.connect(applied.append)
    rec1 = ws.recordings()[1]
    post = np.full((1001, 2), 0.05, dtype=np.float32)
    post[100:200, 1] = 0.6
    np.save(posteriors_file(ws.project, ws.run_id, rec1), post)
    assert model.apply([r.id for r in ws.recordings()]) == 2
    assert applied == [2] and pending(model) == 4 + 1


def test_hiding_detections_is_said_once(model):
    seen: list[bool] = []
    model.events.visible.connect(seen.append)
    model.set_visible(False)
    model.set_visible(False)
    model.set_visible(True)
    assert seen == [False, True]


def test_the_active_run_is_read_again_when_it_finishes(tmp_path):
    """Trained in the window: the run is active while it runs (nothing tuned yet), and the
    thresholds training tunes at its end are what the sliders and a detect use after, not
    the 0.5 it started with."""
    from tests.session.review_session import review_session

    with Project.create(tmp_path / "proj") as project:
        fake_recording(project, "rec0.wav")
        project.add_class("bird")
        project.add_class("frog")
        run = make_fake_run(project)
        project.update_run(run.id, status="running")
        root = project.root
    with review_session(root) as (ws, model, loop):
        assert ws.run_id == run.id and model.class_thresholds == {}
        with Project.open(root) as writer:  # the training child's own connection
            config = {**writer.run(run.id).config_dict, "class_thresholds": {"frog": 0.35}}
            writer.update_run(run.id, status="done", config=config)
        ws.refresh()
        loop.run()
        assert model.class_thresholds == {class_id(model, "frog"): 0.35}
        assert model.column_thresholds().tolist() == [0.5, 0.35]
        assert not model.customized()  # what training left, not a change of the user's
