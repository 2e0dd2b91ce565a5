"""Undo gives back exactly what a step took, detections included, and redo takes it again."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording


def _state(project):
    """Every event and class as stored (ids included), and the label counts."""
    events = project._rows("SELECT * FROM events ORDER BY id")
    for row in events:
        row.pop("updated_at")
    classes = project._rows("SELECT * FROM classes ORDER BY id")
    return events, classes, project.label_counts()


def _with_detections(project):
    rec = fake_recording(project)
    a, b = project.add_class("a"), project.add_class("b")
    project.add_event(rec, a.id, 0, 1)
    run = project.create_run({}, name="detect")
    project.replace_detections(
        run.id,
        rec,
        [
            {"class_id": a.id, "onset": 2.0, "offset": 3.0, "confidence": 0.9},
            {"class_id": a.id, "onset": 4.0, "offset": 5.0, "confidence": 0.4},
        ],
    )
    return a, b


def test_undoing_a_class_merge_puts_its_detections_back_too(project):
    a, b = _with_detections(project)
    before = _state(project)
    project.merge_classes([a.id], b.id)
    assert {e.class_id for e in project.events()} == {b.id}
    merged = _state(project)
    project.undo()
    assert _state(project) == before
    project.redo()
    assert _state(project) == merged


def test_undoing_a_class_deletion_gives_back_its_detections(project):
    a, _b = _with_detections(project)
    before = _state(project)
    project.delete_class(a.id)
    assert project.events() == []
    deleted = _state(project)
    project.undo()
    assert _state(project) == before
    project.redo()
    assert _state(project) == deleted


def _events(project):
    """The events as (source, onset, review), ignoring ids."""
    return sorted((e.source, e.onset, e.review) for e in project.events())


def _detect(project, rec, cls, onset):
    """A detection run's output: added outside the undo journal, as `detect` adds it."""
    run = project.create_run({}, name="detect")
    (event_id,) = project.replace_detections(
        run.id, rec, [{"class_id": cls.id, "onset": onset, "offset": onset + 0.5}]
    )
    return event_id


def test_undoing_a_delete_never_writes_over_a_detection_that_took_the_id(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    project.add_event(rec, cls.id, 0, 1)
    label = project.add_event(rec, cls.id, 2, 3)
    project.delete_event(label.id)
    # SQLite hands the largest id plus one out again: the detection gets the label's id.
    assert _detect(project, rec, cls, 5.0) == label.id
    project.undo()
    assert project.event(label.id).onset == 2.0  # the label, back with its own id
    assert _events(project) == [
        ("human", 0.0, "none"),
        ("human", 2.0, "none"),
        ("model", 5.0, "none"),
    ]
    project.redo()
    assert _events(project) == [("human", 0.0, "none"), ("model", 5.0, "none")]
    project.undo()
    assert _events(project) == [
        ("human", 0.0, "none"),
        ("human", 2.0, "none"),
        ("model", 5.0, "none"),
    ]


def test_redoing_an_added_label_never_writes_over_a_detection_that_took_the_id(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    label = project.add_event(rec, cls.id, 2, 3)
    project.undo()
    assert _detect(project, rec, cls, 5.0) == label.id
    project.redo()
    assert project.event(label.id).onset == 2.0
    assert _events(project) == [("human", 2.0, "none"), ("model", 5.0, "none")]
    project.undo()
    assert _events(project) == [("model", 5.0, "none")]


def test_a_label_that_held_the_id_before_the_detection_keeps_it_for_its_redo(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    project.add_event(rec, cls.id, 0, 1)
    label = project.add_event(rec, cls.id, 2, 3)
    project.delete_event(label.id)
    assert project.add_event(rec, cls.id, 7, 8).id == label.id
    project.undo()
    assert _detect(project, rec, cls, 5.0) == label.id
    project.undo()  # the delete: the detection moves, the later label's redo keeps the id
    project.redo()
    project.redo()
    assert project.event(label.id).onset == 7.0  # the later label, back with its own id
    assert _events(project) == [
        ("human", 0.0, "none"),
        ("human", 7.0, "none"),
        ("model", 5.0, "none"),
    ]


def test_a_moved_detections_own_redo_steps_follow_it(project):
    from tfstudio.store import set_review

    rec = fake_recording(project)
    cls = project.add_class("bird")
    project.add_event(rec, cls.id, 0, 1)
    label = project.add_event(rec, cls.id, 2, 3)
    project.delete_event(label.id)
    detection = _detect(project, rec, cls, 5.0)
    assert detection == label.id
    set_review(project, [detection], "rejected")
    project.undo()  # the rejection
    project.undo()  # the delete: the detection moves, its rejection's redo goes with it
    assert _events(project) == [
        ("human", 0.0, "none"),
        ("human", 2.0, "none"),
        ("model", 5.0, "none"),
    ]
    project.redo()
    project.redo()
    assert _events(project) == [("human", 0.0, "none"), ("model", 5.0, "rejected")]
    assert project.redo() is None


@pytest.mark.parametrize("new_class", [True, False])
def test_undoing_an_import_of_detections_takes_them_away_and_redo_brings_them_back(
    project, new_class
):
    rec = fake_recording(project)
    project.add_class("known")
    run = project.create_run({}, name="imported birdnet.csv")
    before = _state(project)
    with project.import_events("import birdnet.csv") as batch:
        cls = batch.class_id("new bird" if new_class else "known")
        batch.add(
            [
                {"recording_id": rec, "class_id": cls, "onset": 1.0, "offset": 2.0},
                {
                    "recording_id": rec,
                    "class_id": cls,
                    "onset": 3.0,
                    "offset": 4.0,
                    "source": "model",
                    "confidence": 0.8,
                    "run_id": run.id,
                },
            ]
        )
    imported = _state(project)
    assert project.undo() == "import birdnet.csv"
    assert _state(project) == before
    assert project.redo() == "import birdnet.csv"
    assert _state(project) == imported
