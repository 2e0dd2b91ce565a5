"""Accepting a detection: it becomes a label, merged with the same-class labels it overlaps."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tfstudio.store import Event, ProjectError, accept_detections, set_review
from tfstudio.store.review import merge_plan, overlaps


def _event(i, onset, offset, class_id=1, *, recording=1, source="human", low=None, high=None):
    review = "none"
    return Event(
        i, recording, class_id, onset, offset, low, high, source, None, None, review, 0.0, 0.0
    )


def test_merge_plan_absorbs_overlapping_labels_of_the_same_class_only():
    detection = _event(1, 2.0, 4.0, source="model")
    labels = [
        _event(2, 1.0, 2.5),  # overlaps: absorbed
        _event(3, 3.5, 6.0),  # overlaps: absorbed
        _event(4, 4.0, 5.0),  # only touches: kept
        _event(5, 2.0, 4.0, class_id=2),  # another class: kept
        _event(6, 2.0, 4.0, recording=2),  # another recording: kept
    ]
    extent, absorbed = merge_plan(detection, labels)
    assert [e.id for e in absorbed] == [2, 3]
    assert (extent.onset, extent.offset) == (1.0, 6.0)
    assert extent.low_hz is None and extent.high_hz is None


def test_merge_plan_without_overlap_keeps_the_detection_as_it_is():
    detection = _event(1, 2.0, 4.0, source="model")
    extent, absorbed = merge_plan(detection, [_event(2, 5.0, 6.0), detection])
    assert absorbed == [] and (extent.onset, extent.offset) == (2.0, 4.0)


def test_a_box_survives_only_when_every_part_is_a_box():
    boxed = _event(1, 2.0, 4.0, source="model", low=500.0, high=900.0)
    extent, _ = merge_plan(boxed, [_event(2, 3.0, 5.0, low=300.0, high=800.0)])
    assert (extent.low_hz, extent.high_hz) == (300.0, 900.0)
    full_band = _event(1, 2.0, 4.0, source="model")
    extent, _ = merge_plan(full_band, [_event(2, 3.0, 5.0, low=300.0, high=800.0)])
    assert (extent.low_hz, extent.high_hz) == (None, None)


def test_overlap_needs_shared_time():
    assert overlaps(_event(1, 0.0, 1.0), _event(2, 0.5, 2.0))
    assert not overlaps(_event(1, 0.0, 1.0), _event(2, 1.0, 2.0))


@pytest.fixture
def reviewed(project):
    rec = fake_recording(project)
    bird = project.add_class("bird")
    frog = project.add_class("frog")
    run = project.create_run({})
    return project, rec, bird.id, frog.id, run.id


def _detect(project, rec, run_id, class_id, onset, offset, confidence=0.8):
    """A pending detection of the run, as ``detect`` writes it."""
    (event_id,) = project.add_events(
        [
            dict(
                recording_id=rec,
                class_id=class_id,
                onset=onset,
                offset=offset,
                source="model",
                run_id=run_id,
                confidence=confidence,
            )
        ]
    )
    return event_id


def test_accepting_a_detection_over_a_label_merges_instead_of_duplicating(reviewed):
    """Bug: accepting a detection that coincided with a label added a second label."""
    project, rec, bird, frog, run = reviewed
    label = project.add_event(rec, bird, 1.0, 2.0)
    project.add_event(rec, frog, 1.0, 2.0)  # another class at the same time: untouched
    detection = _detect(project, rec, run, bird, 1.2, 2.6)

    (result,) = accept_detections(project, [detection])
    assert [e.id for e in result.merged] == [label.id]
    birds = [e for e in project.labels(rec) if e.class_id == bird]
    assert len(birds) == 1  # one label for one sound
    (merged,) = birds
    assert merged.id == detection and merged.review == "accepted"
    assert (merged.onset, merged.offset) == (1.0, 2.6)
    assert len(project.labels(rec)) == 2

    assert project.undo() == "accept 1 detection(s)"  # one step restores both rows
    assert project.event(label.id).onset == 1.0 and project.event(label.id).offset == 2.0
    assert project.event(detection).review == "none"
    assert (project.event(detection).onset, project.event(detection).offset) == (1.2, 2.6)
    project.redo()
    assert len([e for e in project.labels(rec) if e.class_id == bird]) == 1


def test_accepting_without_overlap_adds_one_label(reviewed):
    project, rec, bird, _frog, run = reviewed
    project.add_event(rec, bird, 0.0, 1.0)
    detection = _detect(project, rec, run, bird, 1.0, 2.0)  # touches, does not overlap
    (result,) = accept_detections(project, [detection])
    assert result.merged == ()
    assert len(project.labels(rec)) == 2


def test_accepting_several_at_once_is_one_step_and_never_leaves_duplicates(reviewed):
    project, rec, bird, _frog, run = reviewed
    project.add_event(rec, bird, 1.0, 2.0)
    first = _detect(project, rec, run, bird, 1.5, 3.0)
    second = _detect(project, rec, run, bird, 2.5, 4.0)  # overlaps the first
    accept_detections(project, [first, second])
    (only,) = project.labels(rec)
    assert (only.onset, only.offset) == (1.0, 4.0)
    project.undo()
    assert len(project.labels(rec)) == 1
    assert {e.review for e in project.events(rec, source="model")} == {"none"}


def test_an_adjusted_detection_merges_with_the_labels_of_its_new_class(reviewed):
    project, rec, bird, frog, run = reviewed
    frog_label = project.add_event(rec, frog, 5.0, 6.0)
    detection = _detect(project, rec, run, bird, 5.5, 6.5)
    (result,) = accept_detections(project, [detection], class_id=frog, offset=7.0)
    assert [e.id for e in result.merged] == [frog_label.id]
    (only,) = project.labels(rec)
    assert (only.class_id, only.onset, only.offset) == (frog, 5.0, 7.0)


def test_only_detections_are_accepted(reviewed):
    project, rec, bird, _frog, _run = reviewed
    label = project.add_event(rec, bird, 1.0, 2.0)
    with pytest.raises(ProjectError, match="not a detection"):
        accept_detections(project, [label.id])
    with pytest.raises(ProjectError, match="cannot change"):
        accept_detections(project, [label.id], source="human")
    assert project.labels(rec) == [label]


@pytest.mark.parametrize("state", ["none", "rejected"])
def test_taking_back_an_acceptance_gives_back_the_labels_it_merged_with(reviewed, state):
    """Bug: `tfstudio review --accept` then `--reset` (or `--reject`) lost the user's labels
    the acceptance had merged into the detection; the command line has no undo."""
    project, rec, bird, _frog, run = reviewed
    first = project.add_event(rec, bird, 1.0, 2.0)
    second = project.add_event(rec, bird, 2.4, 3.0, low_hz=100.0, high_hz=900.0)
    other = project.add_event(rec, bird, 5.0, 6.0)  # not touched by the detection
    detection = _detect(project, rec, run, bird, 1.5, 2.6)
    accept_detections(project, [detection])
    assert sorted(e.id for e in project.labels(rec)) == sorted([detection, other.id])

    assert set_review(project, [detection], state) == 1
    labels = {e.id: e for e in project.labels(rec)}
    assert sorted(labels) == sorted([first.id, second.id, other.id])  # all back, same ids
    assert labels[second.id].low_hz == 100.0 and labels[second.id].high_hz == 900.0
    back = project.event(detection)
    assert back.review == state and (back.onset, back.offset) == (1.5, 2.6)  # its own extent

    # One step, undone and redone as one.
    project.undo()
    assert sorted(e.id for e in project.labels(rec)) == sorted([detection, other.id])
    assert (project.event(detection).onset, project.event(detection).offset) == (1.0, 3.0)
    project.redo()
    assert sorted(e.id for e in project.labels(rec)) == sorted([first.id, second.id, other.id])


def test_taking_back_an_acceptance_that_merged_nothing_changes_only_its_state(reviewed):
    project, rec, bird, _frog, run = reviewed
    detection = _detect(project, rec, run, bird, 1.5, 2.6)
    accept_detections(project, [detection], onset=1.4)  # the reviewer moved its onset
    set_review(project, [detection], "none")
    back = project.event(detection)
    assert back.review == "none" and back.onset == 1.4 and project.labels(rec) == []


def test_a_merged_label_comes_back_even_when_its_id_went_to_a_new_label(reviewed):
    """Ids are the largest plus one: a label added after the acceptance may get the id of
    the one it merged (the largest then). Both stay."""
    project, rec, bird, _frog, run = reviewed
    detection = _detect(project, rec, run, bird, 1.5, 2.6)
    merged = project.add_event(rec, bird, 1.0, 2.0)  # the largest id
    accept_detections(project, [detection])
    new = project.add_event(rec, bird, 7.0, 8.0)
    assert new.id == merged.id  # given again
    set_review(project, [detection], "none")
    spans = sorted((e.onset, e.offset) for e in project.labels(rec))
    assert spans == [(1.0, 2.0), (7.0, 8.0)]
