"""The tier an event came from (issue 14): kept by the store through imports, undo and redo,
and added to projects made before it existed without touching their labels or their undo."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from tests.conftest import fake_recording
from tfstudio.store import DB_NAME, Project, ProjectError
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def _version_3_project(root):
    """A project file as tfstudio left it before the tier: two labels, and an import of two
    more that was undone (its rows wait in history_events for a redo)."""
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m004_event_tier")
    db.execute("PRAGMA user_version = 3")
    db.execute(
        "INSERT INTO recordings (id, path, name, stem, size, mtime, content_hash, sample_rate,"
        " channels, frames, duration, added_at) VALUES"
        " (1, 'a.wav', 'a.wav', 'a', 10, 0, 'h', 8000, 1, 80000, 10.0, 0)"
    )
    db.execute("INSERT INTO classes (id, name, color) VALUES (1, 'bird', '#000000')")
    for i in (1, 2):
        db.execute(
            "INSERT INTO events (id, recording_id, class_id, onset, offset, created_at,"
            " updated_at) VALUES (?, 1, 1, ?, ?, 0, 0)",
            (i, float(i), i + 0.5),
        )
    db.execute(
        "INSERT INTO history (id, group_id, description, table_name, row_id, last_row_id,"
        " undone, created_at) VALUES (1, 1, 'import old.txt', 'events', 3, 4, 1, 0)"
    )
    for i in (3, 4):
        db.execute(
            "INSERT INTO history_events (history_id, id, recording_id, class_id, onset, offset,"
            " source, review, created_at, updated_at) VALUES (1, ?, 1, 1, ?, ?, 'human',"
            " 'none', 0, 0)",
            (i, float(i), i + 0.5),
        )
    db.close()


def test_a_version_3_project_gets_the_tier_and_keeps_its_labels_and_redo(tmp_path):
    root = tmp_path / "old"
    _version_3_project(root)
    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        assert [(e.id, e.onset, e.tier) for e in project.labels()] == [
            (1, 1.0, None),
            (2, 2.0, None),
        ]
        # The undone import made before the upgrade comes back, without a tier.
        assert project.redo() == "import old.txt"
        assert [(e.id, e.tier) for e in project.labels()] == [
            (1, None),
            (2, None),
            (3, None),
            (4, None),
        ]
        assert project.undo() == "import old.txt"
        assert [e.id for e in project.labels()] == [1, 2]
        # New labels carry their tier.
        event = project.add_event(1, 1, 5.0, 6.0, tier="words")
        assert project.event(event.id).tier == "words"
    with Project.open(root) as project:  # upgraded once, the tier kept
        assert len(project.conn.execute("SELECT * FROM _sqlite_migrations").fetchall()) == len(
            MIGRATION_NAMES
        )
        assert [e.tier for e in project.labels()] == [None, None, "words"]


def test_an_undone_and_redone_import_keeps_its_tiers(project):
    rec = fake_recording(project, "a.wav")
    with project.import_events("import a.TextGrid") as batch:
        word = batch.class_id("hello")
        phone = batch.class_id("h")
        batch.add(
            [
                dict(recording_id=rec, class_id=word, onset=0.0, offset=1.0, tier="words"),
                dict(recording_id=rec, class_id=phone, onset=0.0, offset=0.2, tier="phones"),
            ]
        )
    assert sorted(e.tier for e in project.labels()) == ["phones", "words"]
    assert project.undo() == "import a.TextGrid"
    assert project.labels() == []
    assert project.redo() == "import a.TextGrid"
    assert sorted(e.tier for e in project.labels()) == ["phones", "words"]


def test_the_same_label_from_another_tier_or_file_is_not_added_twice(project):
    # The tier says where a label came from, not what it is: importing the same labels again
    # (from the TextGrid or another format) adds nothing.
    rec = fake_recording(project, "a.wav")
    cls = project.add_class("bird")
    row = dict(recording_id=rec, class_id=cls.id, onset=1.0, offset=2.0)
    assert len(project.add_new_events([{**row, "tier": "birds"}]).ids) == 1
    assert len(project.add_new_events([row]).ids) == 0
    assert [e.tier for e in project.labels()] == ["birds"]


def test_a_box_read_back_without_its_band_is_not_added_twice(project):
    """A box exported to DCASE or a TextGrid (no frequencies there) and imported again was a
    second label of the same sound; a box is still a new event beside a plain one."""
    rec = fake_recording(project, "a.wav")
    cls = project.add_class("bird")
    row = dict(recording_id=rec, class_id=cls.id, onset=1.0, offset=2.0)
    assert len(project.add_new_events([{**row, "low_hz": 100.0, "high_hz": 2000.0}]).ids) == 1
    assert len(project.add_new_events([row]).ids) == 0
    assert len(project.add_new_events([{**row, "low_hz": 50.0, "high_hz": 900.0}]).ids) == 1
    assert sorted((e.low_hz, e.high_hz) for e in project.labels()) == [
        (50.0, 900.0),
        (100.0, 2000.0),
    ]


def test_an_edit_keeps_the_tier_and_undo_restores_it(project):
    rec = fake_recording(project, "a.wav")
    bird = project.add_class("bird")
    dog = project.add_class("dog")
    event = project.add_event(rec, bird.id, 1.0, 2.0, tier="calls")
    moved = project.update_event(event.id, onset=1.5, class_id=dog.id)
    assert (moved.onset, moved.class_id, moved.tier) == (1.5, dog.id, "calls")
    project.update_event(event.id, tier=None)
    project.undo()
    assert project.event(event.id).tier == "calls"


def test_a_tier_must_be_text(project):
    rec = fake_recording(project, "a.wav")
    bird = project.add_class("bird")
    with pytest.raises(ProjectError, match="tier must be a name or None"):
        project.add_event(rec, bird.id, 1.0, 2.0, tier=3)
