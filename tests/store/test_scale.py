"""Large projects (issue 11): an import is one undo step of one history entry, edits do not
scan the history, label counts are kept by triggers, and old projects are upgraded."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from tests.conftest import fake_recording
from tfstudio.importer import import_labels
from tfstudio.store import DB_NAME, Project
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def _dcase(path, rows):
    lines = ["filename\tonset\toffset\tevent_label"]
    lines += [f"{rec}\t{onset}\t{offset}\t{label}" for rec, onset, offset, label in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _files(tmp_path, n_files=3, per_file=40):
    return [
        _dcase(
            tmp_path / f"labels{f}.tsv",
            [
                (f"rec{i % 4}.wav", f / 10 + i / 7, f / 10 + i / 7 + 0.5, f"class{i % 5}")
                for i in range(per_file)
            ],
        )
        for f in range(n_files)
    ]


def _recomputed_counts(project):
    counts: dict[int, dict[int, int]] = {}
    for e in project.labels():
        per = counts.setdefault(e.recording_id, {})
        per[e.class_id] = per.get(e.class_id, 0) + 1
    return counts


def _snapshot(project):
    return (
        [e.to_dict() for e in project.events()],
        [(c.id, c.name, c.color, c.hotkey, c.position) for c in project.classes()],
    )


def test_an_import_of_many_files_is_one_undo_step_of_one_entry(project, tmp_path):
    for i in range(4):
        fake_recording(project, f"rec{i}.wav", duration=30.0)
    project.add_class("class0")
    empty = _snapshot(project)
    report = import_labels(project, _files(tmp_path))
    assert report.ok and report.labels_added == 120
    assert report.classes_added == ["class1", "class2", "class3", "class4"]
    assert project.undo_description() == "import 3 label files"
    group = project.conn.execute("SELECT max(group_id) FROM history").fetchone()[0]
    entries = project.conn.execute(
        "SELECT table_name, last_row_id IS NOT NULL FROM history WHERE group_id = ?", (group,)
    ).fetchall()
    # Four new classes and one entry for all 120 events.
    assert sorted(map(tuple, entries)) == [("classes", 0)] * 4 + [("events", 1)]
    imported = _snapshot(project)

    assert project.undo() == "import 3 label files"
    assert _snapshot(project) == empty and project.label_counts() == {}
    assert project.redo() == "import 3 label files"
    assert _snapshot(project) == imported  # exactly: ids, times to the last bit, classes
    assert project.label_counts() == _recomputed_counts(project)
    assert project.conn.execute("SELECT count(*) FROM history_events").fetchone()[0] == 0

    # Undone, then a new edit: the redo step and the rows it kept are dropped.
    project.undo()
    assert project.conn.execute("SELECT count(*) FROM history_events").fetchone()[0] == 120
    project.add_class("other")
    assert project.redo_description() is None
    assert project.conn.execute("SELECT count(*) FROM history_events").fetchone()[0] == 0


def test_files_are_deduplicated_as_if_imported_one_after_another(project, tmp_path):
    rec = fake_recording(project, "rec0.wav")
    twice = [("rec0.wav", 1, 2, "a"), ("rec0.wav", 1, 2, "a")]
    a = _dcase(tmp_path / "a.tsv", twice)
    b = _dcase(tmp_path / "b.tsv", [("rec0.wav", 1, 2, "a"), ("rec0.wav", 3, 4, "a")])
    report = import_labels(project, [a, b])
    # a.tsv lists the event twice (kept twice); b.tsv's copy is already there.
    assert (report.labels_added, report.labels_existing) == (3, 1)
    assert len(project.events(rec)) == 3
    again = import_labels(project, [b, a])
    assert (again.labels_added, again.labels_existing) == (0, 4)


def test_a_bad_file_is_refused_whole_and_the_others_are_kept(project, tmp_path):
    fake_recording(project, "rec0.wav")
    good = _dcase(tmp_path / "good.tsv", [("rec0.wav", 1, 2, "a")])
    bad = tmp_path / "bad.json"
    bad.write_text('{"events": [{"recording": "rec0.wav", "onset": 1, "offset": 2,'
                   ' "label": "b", "source": "robot"}]}')  # fmt: skip
    report = import_labels(project, [good, bad])
    assert report.labels_added == 1 and len(report.label_issues) == 1
    assert "bad.json" in report.label_issues[0]


def test_redo_never_overwrites_a_row_given_the_same_id_meanwhile(project):
    rec = fake_recording(project)
    cls = project.add_class("a").id
    project.add_new_events([dict(recording_id=rec, class_id=cls, onset=1, offset=2)])
    project.undo()
    # A detection (not journalled, so the redo step survives) takes the freed id.
    (detection,) = project.add_events(
        [dict(recording_id=rec, class_id=cls, onset=5, offset=6, source="model")]
    )
    assert project.redo_description() is not None
    project.redo()
    # The label is back with its id; the detection keeps its place under a new one.
    assert project.event(detection).source == "human"
    assert sorted((e.source, e.onset) for e in project.events()) == [("human", 1), ("model", 5)]
    project.undo()
    assert [(e.source, e.onset) for e in project.events()] == [("model", 5)]


def test_label_counts_follow_every_kind_of_change(project):
    recs = [fake_recording(project, f"r{i}.wav") for i in range(3)]
    a, b = project.add_class("a").id, project.add_class("b").id
    ids = project.add_new_events(
        [dict(recording_id=r, class_id=a, onset=i, offset=i + 1) for i in range(5) for r in recs]
    ).ids
    model = project.add_events(
        [dict(recording_id=recs[0], class_id=b, onset=1, offset=2, source="model")]
    )
    steps = [
        lambda: project.update_event(ids[0], class_id=b),
        lambda: project.update_event(ids[1], recording_id=recs[2]),
        lambda: project.update_event(model[0], review="accepted"),
        lambda: project.delete_events(ids[2:4]),
        lambda: project.merge_classes([b], a),
        lambda: project.undo(),
        lambda: project.undo(),
        lambda: project.redo(),
        lambda: project.delete_class(a),
        lambda: project.undo(),
    ]
    for step in steps:
        step()
        assert project.label_counts() == _recomputed_counts(project)
        assert project.label_totals() == {
            rec: (sum(per.values()), len(per)) for rec, per in _recomputed_counts(project).items()
        }
        summary = project.summary()
        assert summary["events"] == len(project.labels())
        assert summary["classes"] == {
            c.name: sum(e.class_id == c.id for e in project.labels()) for c in project.classes()
        }
    assert project.label_counts([recs[1]]) == {recs[1]: _recomputed_counts(project)[recs[1]]}
    assert project.label_totals([recs[1], recs[1]]) == {recs[1]: project.label_totals()[recs[1]]}
    # Deleting a recording cascades to its events, and the triggers see it.
    with project.write():
        project.conn.execute("DELETE FROM recordings WHERE id = ?", (recs[0],))
    assert project.label_counts() == _recomputed_counts(project)


def _plan(project, sql, params=()):
    return " / ".join(row[3] for row in project.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM history WHERE undone = 1",
        "SELECT id FROM history WHERE undone = 1",
        "SELECT group_id, description FROM history WHERE undone = 0 ORDER BY group_id DESC LIMIT 1",
        "SELECT group_id, description FROM history WHERE undone = 1 ORDER BY group_id ASC LIMIT 1",
        "SELECT coalesce(max(group_id), 0) FROM history",
        "DELETE FROM history_events WHERE history_id = 7",
    ],
)
def test_history_queries_of_an_edit_use_an_index(project, sql):
    """What every edit, undo and redo asks of the history is answered through an index, so
    it costs the same after a million steps (no timing: the query plan says it)."""
    plan = _plan(project, sql)
    assert "USING" in plan and "INDEX" in plan, plan
    assert not any(part.strip().startswith("SCAN history") for part in plan.split("/"))


def test_a_long_history_is_neither_scanned_nor_grown_by_an_edit(project):
    rec = fake_recording(project)
    cls = project.add_class("a").id
    for i in range(200):
        project.add_event(rec, cls, i, i + 0.5)
    for _ in range(50):
        project.undo()
    before = project.conn.execute("SELECT count(*) FROM history").fetchone()[0]
    statements: list[str] = []
    project.conn.set_trace_callback(statements.append)
    try:
        project.add_event(rec, cls, 500, 501)
    finally:
        project.conn.set_trace_callback(None)
    after = project.conn.execute("SELECT count(*) FROM history").fetchone()[0]
    assert after == before - 50 + 1  # the redo steps went, the edit is one row
    for sql in statements:
        if "history" in sql and sql.lstrip().upper().startswith(("SELECT", "DELETE", "UPDATE")):
            plan = _plan(project, sql) if "?" not in sql else ""
            assert "SCAN history " not in plan + " ", (sql, plan)


def test_a_version_2_project_is_upgraded_with_its_counts_and_history(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m003_scale")  # as tfstudio left it before issue 11
    db.execute("PRAGMA user_version = 2")
    db.execute(
        "INSERT INTO recordings (id, path, name, stem, size, mtime, content_hash, sample_rate,"
        " channels, frames, duration, added_at) VALUES"
        " (1, 'a.wav', 'a.wav', 'a', 10, 0, 'h', 8000, 1, 8000, 1.0, 0)"
    )
    db.execute("INSERT INTO classes (id, name, color) VALUES (1, 'bird', '#000000')")
    for i, (source, review) in enumerate(
        [("human", "none"), ("human", "none"), ("model", "accepted"), ("model", "none")], 1
    ):
        db.execute(
            "INSERT INTO events (id, recording_id, class_id, onset, offset, source, review,"
            " created_at, updated_at) VALUES (?, 1, 1, ?, ?, ?, ?, 0, 0)",
            (i, i, i + 0.5, source, review),
        )
    # The old per-row journal: step 1 added event 2.
    db.execute(
        "INSERT INTO history (group_id, description, table_name, row_id, before, after,"
        " created_at) VALUES (1, 'add event', 'events', 2, NULL, ?, 0)",
        ('{"id": 2, "recording_id": 1, "class_id": 1, "onset": 2.0, "offset": 2.5, '
         '"low_hz": null, "high_hz": null, "source": "human", "confidence": null, '
         '"run_id": null, "review": "none", "created_at": 0, "updated_at": 0}',),
    )  # fmt: skip
    db.close()
    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        assert project.label_counts() == {1: {1: 3}}
        assert project.label_counts_damage() == []  # what 'tfstudio check' expects to find
        assert project.undo() == "add event"
        assert project.label_counts() == {1: {1: 2}}
        assert project.redo() == "add event"
        assert [e.id for e in project.labels()] == [1, 2, 3]
        assert project.label_counts() == {1: {1: 3}}
    with Project.open(root) as project:  # upgraded once
        applied = project.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied == len(MIGRATION_NAMES)
