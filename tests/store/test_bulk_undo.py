"""Undo and redo of large imports (issue 11): the events move in one statement with the
label-count triggers off (the counts adjusted in one grouped statement) and, when they are
most of the table, with the events' indexes made again after. Every event, every count and
the schema come back exactly."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tfstudio.store import Project
from tfstudio.store.history import BULK_EVENTS


def _state(project: Project) -> dict[str, list[tuple]]:
    conn = project.conn
    return {
        "events": conn.execute("SELECT * FROM events ORDER BY id").fetchall(),
        "counts": conn.execute(
            "SELECT recording_id, class_id, n FROM label_counts WHERE n != 0 ORDER BY 1, 2"
        ).fetchall(),
        "schema": conn.execute(
            "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name"
        ).fetchall(),
    }


def _rows(recs: list[int], classes: list[int], count: int, seed: int) -> list[dict]:
    rows = []
    for k in range(count):
        onset = ((k * 7919 + seed) % 50_000) / 100
        rows.append(
            dict(
                recording_id=recs[(k * 31 + seed) % len(recs)],
                class_id=classes[(k + seed) % len(classes)],
                onset=onset,
                offset=onset + (k % 9) / 4,
                low_hz=None if k % 3 else float(100 + k % 700),
                high_hz=None if k % 3 else float(1000 + k % 900),
                tier="words" if k % 17 == 0 else None,
            )
        )
    return rows


@pytest.fixture
def busy(project):
    recs = [fake_recording(project, f"r{k}.wav", duration=600.0) for k in range(7)]
    classes = [project.add_class(f"c{k}").id for k in range(5)]
    run = project.create_run({})
    # a few labels of the user's and reviewed detections before the imports
    project.add_event(recs[0], classes[0], 1.0, 2.0)
    ids = project.add_events(
        [
            dict(
                recording_id=recs[1],
                class_id=classes[1],
                onset=t,
                offset=t + 1.0,
                source="model",
                confidence=0.5,
                run_id=run.id,
            )
            for t in (1.0, 5.0, 9.0)
        ]
    )
    project.update_event(ids[0], review="accepted")
    return project, recs, classes


def test_undo_and_redo_of_large_imports_restore_every_event_count_and_index(busy):
    project, recs, classes = busy
    states = [_state(project)]
    # the first import is most of the table (indexes made again), the second is not
    for count, seed in ((3 * BULK_EVENTS, 1), (BULK_EVENTS + 7, 2)):
        added = project.add_new_events(_rows(recs, classes, count, seed), description=f"i{seed}")
        assert len(added.ids) == count
        # a large import adds its counts in one grouped statement, not a trigger per row
        assert project.label_count_drift() == []
        states.append(_state(project))
    assert states[1]["events"] != states[0]["events"]

    assert project.undo() == "i2"
    assert _state(project) == states[1]
    assert project.undo() == "i1"
    assert _state(project) == states[0]
    assert project.label_count_drift() == []
    assert project.redo() == "i1"
    assert _state(project) == states[1]
    assert project.redo() == "i2"
    assert _state(project) == states[2]
    assert project.label_count_drift() == []
    # the counts are still kept by the triggers afterwards
    event = project.add_event(recs[2], classes[3], 3.0, 4.0)
    project.delete_event(event.id)
    project.update_event(states[2]["events"][-1][0], class_id=classes[4])
    assert project.label_count_drift() == []


def test_another_connection_sees_the_import_whole_or_not_at_all(busy, tmp_path):
    project, recs, classes = busy
    project.add_new_events(_rows(recs, classes, BULK_EVENTS, 3))
    reader = Project.open(project.root)
    try:
        with reader.snapshot():
            before = len(list(reader.iter_events("labels")))
            project.undo()
            # the reader's snapshot still has every event, and the indexes it plans with
            assert len(list(reader.iter_events("labels"))) == before
            assert len(reader.labels(recs[3])) > 0
        assert len(list(reader.iter_events("labels"))) == before - BULK_EVENTS
        project.redo()
        assert len(list(reader.iter_events("labels"))) == before
        assert reader.label_count_drift() == []
    finally:
        reader.close()
