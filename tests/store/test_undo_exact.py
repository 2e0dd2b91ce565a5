"""Undo gives back exactly what a step took, detections included, and redo takes it again."""

from __future__ import annotations

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
