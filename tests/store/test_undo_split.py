"""Setting splits is an undoable step: Ctrl+Z after Set split gives the splits back instead of
undoing an older, unrelated edit."""

from __future__ import annotations

from tfstudio.importer import create_demo
from tfstudio.train.splits import assign_splits


def _splits(project):
    return {r.id: r.split for r in project.recordings()}


def test_set_split_is_undone_and_redone_as_one_step(tmp_path):
    with create_demo(tmp_path / "p", recordings=4, seconds=2.0, seed=1) as project:
        first, second, *_ = project.recordings()
        cls = project.classes()[0]
        project.add_event(first.id, cls.id, 0.1, 0.2)  # an older edit that must stay
        before = _splits(project)
        project.set_split([first.id, second.id], "val")
        assert project.undo_description() == "set split val"
        assert project.undo() == "set split val"
        assert _splits(project) == before
        assert any(e.onset == 0.1 for e in project.labels(first.id))  # still there
        assert project.redo() == "set split val"
        assert _splits(project)[first.id] == _splits(project)[second.id] == "val"


def test_the_undo_gives_back_the_split_and_nothing_else(tmp_path):
    with create_demo(tmp_path / "p", recordings=3, seconds=2.0, seed=2) as project:
        rec = project.recordings()[0]
        project.set_split([rec.id], None)
        # Meanwhile the recording's file is found elsewhere (a relink): the undo keeps it.
        project.conn.execute("UPDATE recordings SET status = 'missing' WHERE id = ?", (rec.id,))
        project.undo()
        again = project.recording(rec.id)
        assert again.split == rec.split and again.status == "missing"


def test_a_whole_automatic_split_is_one_step(tmp_path):
    with create_demo(tmp_path / "p", recordings=6, seconds=2.0, seed=3) as project:
        project.set_split([r.id for r in project.recordings()], None)
        plan = assign_splits(project, val=0.34)
        assert set(plan.assigned.values()) == {"train", "val"}
        assert project.undo() == "split labelled recordings"
        assert set(_splits(project).values()) == {None}
        assert project.undo() == "set split none"


def test_a_version_4_project_keeps_its_undo_history_and_can_undo_splits(tmp_path):
    """The history table is made again (a CHECK cannot change in place): its rows, ids,
    undone marks and indexes survive, and the old steps still undo."""
    from sqlite_utils import Database

    from tests.conftest import fake_recording
    from tfstudio.store import DB_NAME, Project
    from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION

    root = tmp_path / "old"
    with Project.create(root) as project:
        rec = fake_recording(project)
        cls = project.add_class("bird")
        project.add_event(rec, cls.id, 1.0, 2.0)
        project.add_event(rec, cls.id, 3.0, 4.0)
        project.undo()  # the second label waits for a redo
        rows = project.conn.execute("SELECT * FROM history ORDER BY id").fetchall()
    # Back to version 4, as tfstudio left projects before this change.
    db = Database(root / DB_NAME)
    db.executescript(
        """
        CREATE TABLE h4 (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL,
            description TEXT NOT NULL,
            table_name TEXT NOT NULL CHECK (table_name IN ('events', 'classes')),
            row_id INTEGER NOT NULL, before TEXT, after TEXT,
            undone INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, last_row_id INTEGER);
        INSERT INTO h4 SELECT id, group_id, description, table_name, row_id, before, after,
            undone, created_at, last_row_id FROM history;
        DROP TABLE history;
        ALTER TABLE h4 RENAME TO history;
        CREATE INDEX history_group ON history (group_id);
        CREATE INDEX history_undone ON history (undone, group_id);
        DELETE FROM _sqlite_migrations WHERE name = 'm005_history_splits';
        DROP TABLE recording_audio;
        DELETE FROM _sqlite_migrations WHERE name = 'm006_recording_audio';
        DROP INDEX recordings_name;
        DELETE FROM _sqlite_migrations WHERE name = 'm007_recording_name_index';
        ALTER TABLE recordings DROP COLUMN recorded_at;
        ALTER TABLE recordings DROP COLUMN recorded_at_source;
        DELETE FROM _sqlite_migrations WHERE name = 'm008_recorded_at';
        PRAGMA user_version = 4;
        """
    )
    db.close()

    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        assert project.conn.execute("SELECT * FROM history ORDER BY id").fetchall() == rows
        indexes = {r[1] for r in project.conn.execute("PRAGMA index_list(history)")}
        assert {"history_group", "history_undone"} <= indexes
        assert project.redo() is not None and len(project.labels()) == 2
        before = project.recording(rec).split
        project.set_split([rec], "val")
        assert project.undo() == "set split val"
        assert project.recording(rec).split == before != "val"
