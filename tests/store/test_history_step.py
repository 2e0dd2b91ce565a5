"""What an undo or redo changed, read back from the journal as it is applied (HistoryStep): the
recordings whose events it changed and where, the events it left in place, the splits it set.
The window brings that into view instead of changing another recording out of sight."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tfstudio.store.history import STEP_EVENTS


@pytest.fixture
def two(project):
    """Two recordings and a class."""
    a = fake_recording(project, "a.wav", duration=60.0)
    b = fake_recording(project, "b.wav", duration=60.0)
    cls = project.add_class("bird").id
    return project, a, b, cls


def test_an_added_label_undone_names_its_recording_and_place_and_selects_nothing(two):
    project, a, b, cls = two
    project.add_event(a, cls, 1.0, 2.0)
    added = project.add_event(b, cls, 30.0, 31.5)
    step = project.undo_step()
    assert step is not None and step.description.startswith("add")
    assert step.recordings == [b] and step.extents == {b: (30.0, 31.5)}
    assert step.events == ()  # it is gone: nothing to select
    again = project.redo_step()
    assert again is not None and again.description == step.description
    assert again.recordings == [b] and again.events == (added.id,)


def test_a_deletion_undone_gives_back_the_event_to_select_and_redone_none(two):
    project, a, _b, cls = two
    event = project.add_event(a, cls, 40.0, 41.0)
    project.delete_events([event.id])
    step = project.undo_step()
    assert step is not None and step.events == (event.id,) and step.extents == {a: (40.0, 41.0)}
    step = project.redo_step()
    assert step is not None and step.events == () and step.recordings == [a]


def test_a_move_spans_where_the_event_was_and_where_it_went(two):
    project, a, _b, cls = two
    event = project.add_event(a, cls, 5.0, 6.0)
    project.update_event(event.id, onset=50.0, offset=52.0)
    step = project.undo_step()
    assert step is not None and step.extents == {a: (5.0, 52.0)} and step.events == (event.id,)


def test_an_import_over_two_recordings_names_both_and_its_events_when_redone(two):
    project, a, b, cls = two
    rows = [
        dict(recording_id=rec, class_id=cls, onset=t, offset=t + 1.0)
        for rec, t in ((a, 3.0), (b, 7.0), (b, 20.0))
    ]
    added = project.add_new_events(rows, description="import labels")
    step = project.undo_step()
    assert step is not None and step.description == "import labels"
    assert step.extents == {a: (3.0, 4.0), b: (7.0, 21.0)} and step.events == ()
    step = project.redo_step()
    assert step is not None and sorted(step.events) == sorted(added.ids)
    assert sorted(step.recordings) == [a, b]


def test_a_redone_import_of_many_events_names_where_not_which(two):
    project, a, _b, cls = two
    rows = [
        dict(recording_id=a, class_id=cls, onset=k * 0.01, offset=k * 0.01 + 0.005)
        for k in range(STEP_EVENTS + 1)
    ]
    project.add_new_events(rows)
    project.undo()
    step = project.redo_step()
    assert step is not None and step.events == () and step.recordings == [a]


def test_a_split_step_names_its_recordings_and_no_events(two):
    project, a, b, _cls = two
    project.set_split([a, b], "val")
    step = project.undo_step()
    assert step is not None and sorted(step.splits) == [a, b]
    assert step.recordings == [] and step.events == () and not step.classes
    assert project.undo() is not None  # the class: still the plain description
    assert project.redo_step().classes  # type: ignore[union-attr]


def test_undo_and_redo_keep_returning_the_description(two):
    project, a, _b, cls = two
    event = project.add_event(a, cls, 1.0, 2.0)
    description = project.undo_description()
    assert description is not None and event.id
    assert project.undo() == description
    assert project.redo() == description


def test_detection_runs_names_the_runs_with_a_detection_left(two):
    project, a, _b, cls = two
    full, empty = project.create_run({}), project.create_run({})
    detection = dict(recording_id=a, class_id=cls, onset=1.0, offset=2.0, source="model")
    project.add_events([dict(detection, confidence=0.9, run_id=full.id)])
    assert project.detection_runs([full.id, empty.id]) == {full.id}
    assert project.detection_runs([]) == set()
