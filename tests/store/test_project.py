import math

import pytest

from tests.conftest import fake_recording
from tfstudio.store import DB_NAME, Project, ProjectError


def test_create_refuses_existing_project(tmp_path):
    Project.create(tmp_path / "p").close()
    with pytest.raises(ProjectError, match="already a tfstudio project"):
        Project.create(tmp_path / "p")


def test_open_missing_project_says_how_to_make_one(tmp_path):
    with pytest.raises(ProjectError, match="tfstudio init"):
        Project.open(tmp_path / "nothing")


def test_database_settings(project):
    assert project.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert project.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert project.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 30000
    applied = [r[0] for r in project.conn.execute("SELECT name FROM _sqlite_migrations")]
    assert applied == [
        "m001_initial",
        "m002_run_process",
        "m003_scale",
        "m004_event_tier",
        "m005_history_splits",
        "m006_recording_audio",
        "m007_recording_name_index",
        "m008_recorded_at",
    ]
    assert project.conn.execute("PRAGMA user_version").fetchone()[0] == 8
    # Label files name recordings by file name: that lookup uses an index.
    plan = project.conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM recordings WHERE name = ?", ("x.wav",)
    ).fetchall()
    assert "USING INDEX recordings_name" in " ".join(str(row[-1]) for row in plan)


def test_reopen_keeps_data_and_applies_no_migration_twice(tmp_path):
    with Project.create(tmp_path / "p") as p:
        rec = fake_recording(p)
        cls = p.add_class("bird")
        p.add_event(rec, cls.id, 1.0, 2.0)
    with Project.open(tmp_path / "p") as p:
        assert [(e.onset, e.offset) for e in p.events()] == [(1.0, 2.0)]
        assert p.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 8


def test_paths_inside_project_are_relative(project, tmp_path):
    inside = fake_recording(project, "a.wav")
    outside = project.add_recording(
        path=tmp_path / "elsewhere" / "b.wav",
        sample_rate=8000,
        channels=1,
        frames=8000,
        duration=1.0,
        size=10,
        mtime=0.0,
        content_hash="h2",
    ).recording_id
    assert project.recording(inside).path == "a.wav"
    assert project.recording(outside).path == str(tmp_path / "elsewhere" / "b.wav")
    assert project.absolute_path(project.recording(inside)) == project.root / "a.wav"


def test_same_file_twice_is_a_no_op_and_a_move_keeps_labels(project):
    rec = fake_recording(project, "a.wav")
    cls = project.add_class("bird")
    project.add_event(rec, cls.id, 0.0, 1.0)
    again = project.add_recording(
        path=project.root / "a.wav",
        sample_rate=16000,
        channels=1,
        frames=160000,
        duration=10.0,
        size=320000,
        mtime=0.0,
        content_hash="hash-a.wav",
    )
    assert again.status == "exists" and again.recording_id == rec
    # a.wav does not exist on disk, so the same content at a new path is a move
    moved = project.add_recording(
        path=project.root / "sub" / "a.wav",
        sample_rate=16000,
        channels=1,
        frames=160000,
        duration=10.0,
        size=320000,
        mtime=0.0,
        content_hash="hash-a.wav",
    )
    assert moved.status == "moved" and moved.recording_id == rec
    assert project.recording(rec).path == "sub/a.wav"
    assert len(project.events(rec)) == 1


def test_check_files_reports_missing(project):
    fake_recording(project, "gone.wav")
    problems = project.check_files()
    assert [rec.name for rec, _ in problems] == ["gone.wav"]
    assert project.recordings()[0].status == "missing"


def test_check_files_tells_missing_from_changed_and_stores_what_it_found(project, tmp_path):
    same = fake_recording(project, "same.wav", duration=1.0)
    (project.root / "same.wav").write_bytes(b"x" * 32000)  # the size it was imported with
    grown = fake_recording(project, "grown.wav", duration=1.0)
    (project.root / "grown.wav").write_bytes(b"x" * 32001)
    outside = project.add_recording(  # stored with an absolute path
        path=tmp_path / "elsewhere" / "far.wav",
        sample_rate=16000,
        channels=1,
        frames=16000,
        duration=1.0,
        size=32000,
        mtime=0.0,
        content_hash="hash-far",
    ).recording_id
    problems = project.check_files(record=False)
    assert [(rec.id, why) for rec, why in problems] == [
        (outside, f"missing: {tmp_path / 'elsewhere' / 'far.wav'}"),
        (grown, f"changed: {project.root / 'grown.wav'}"),
    ]
    assert {r.status for r in project.recordings()} == {"ok"}  # not recorded
    assert [rec.status for rec, _ in project.check_files()] == ["ok", "ok"]  # as they were
    status = {r.id: r.status for r in project.recordings()}
    assert status == {same: "ok", grown: "changed", outside: "missing"}
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.wav").write_bytes(b"x" * 32000)
    assert [rec.id for rec, _ in project.check_files()] == [grown]
    assert project.recording(outside).status == "ok"


def test_event_validation_names_the_problem(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    with pytest.raises(ProjectError, match="before onset"):
        project.add_event(rec, cls.id, 2.0, 1.0)
    with pytest.raises(ProjectError, match="negative"):
        project.add_event(rec, cls.id, -1.0, 1.0)
    with pytest.raises(ProjectError, match="below low frequency"):
        project.add_event(rec, cls.id, 0.0, 1.0, low_hz=500.0, high_hz=100.0)
    with pytest.raises(ProjectError, match="cannot change"):
        project.update_event(project.add_event(rec, cls.id, 0, 1).id, color="red")
    assert len(project.events()) == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"onset": math.nan, "offset": 1.0}, "onset nan is not a finite number"),
        ({"onset": 0.0, "offset": math.nan}, "offset nan is not a finite number"),
        ({"onset": 0.0, "offset": math.inf}, "offset inf is not a finite number"),
        ({"onset": 0.0, "offset": 1.0, "low_hz": math.nan}, "low_hz nan"),
        ({"onset": 0.0, "offset": 1.0, "confidence": math.nan}, "confidence nan"),
        ({"onset": "1", "offset": 2.0}, "onset must be a number, not '1'"),
        ({"onset": None, "offset": 2.0}, "an event needs onset"),
    ],
)
def test_a_time_that_is_not_a_finite_number_is_refused_by_every_way_in(project, values, message):
    # SQLite stores NaN as NULL: a NaN time failed as a NOT NULL constraint, a NaN band edge
    # or confidence was silently dropped, and a NaN onset crashed add_event's description.
    rec = fake_recording(project)
    cls = project.add_class("bird")
    kept = project.add_event(rec, cls.id, 3.0, 4.0)
    with pytest.raises(ProjectError, match=message):
        project.add_event(rec, cls.id, **values)
    with pytest.raises(ProjectError, match=message):
        project.add_new_events([{"recording_id": rec, "class_id": cls.id, **values}])
    with pytest.raises(ProjectError, match=message):
        project.update_event(kept.id, **values)
    assert project.events() == [kept]


def test_class_hotkeys_colours_and_unique_names(project):
    names = [f"c{i}" for i in range(11)]
    classes = [project.add_class(n) for n in names]
    assert [c.hotkey for c in classes[:9]] == [str(i) for i in range(1, 10)]
    assert classes[9].hotkey is None
    assert len({c.color for c in classes}) == 11
    with pytest.raises(ProjectError, match="already exists"):
        project.add_class("c0")
    with pytest.raises(ProjectError, match="merge"):
        project.update_class(classes[1].id, name="c0")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("  ", "needs a name"),
        ("bird\tsong", "contains a tab"),
        ("bird\nsong", "line break"),
        ("bird\x07", "control character U\\+0007"),
        ("x" * 201, "201 characters long"),
    ],
)
def test_class_names_every_format_can_carry(project, name, match):
    # The store holds the rule, so the GUI's palette and every importer refuse alike.
    with pytest.raises(ProjectError, match=match):
        project.add_class(name)
    bird = project.add_class("  bird  ")
    assert bird.name == "bird"
    with pytest.raises(ProjectError, match=match):
        project.update_class(bird.id, name=name)
    assert [c.name for c in project.classes()] == ["bird"]
    assert project.add_class("x" * 200).name == "x" * 200


def test_a_class_name_in_either_unicode_form_is_one_class(project):
    import unicodedata

    # A label file written on macOS spells accents decomposed (NFD): it made a second class
    # that looked exactly like the first.
    nfc, nfd = (unicodedata.normalize(form, "Grive café") for form in ("NFC", "NFD"))
    rec = fake_recording(project)
    with project.import_events() as batch:
        rows = [
            {"recording_id": rec, "class_id": batch.class_id(name), "onset": t, "offset": t + 1}
            for t, name in ((0.0, nfd), (2.0, nfc))
        ]
        batch.add(rows)
    assert [c.name for c in project.classes()] == [nfc]
    assert project.class_by_name(nfd) == project.class_by_name(nfc)
    with pytest.raises(ProjectError, match="already exists"):
        project.add_class(nfd)
    with pytest.raises(ProjectError, match="already exists"):
        project.add_classes(["other", nfd])


def test_a_class_stored_decomposed_by_an_older_tfstudio_is_found_in_either_form(project):
    import unicodedata

    nfc, nfd = (unicodedata.normalize(form, "Grive café") for form in ("NFC", "NFD"))
    cls = project.add_class("x")
    project.conn.execute("UPDATE classes SET name = ? WHERE id = ?", (nfd, cls.id))
    assert project.class_by_name(nfc).id == cls.id
    assert project.ensure_class(nfc).id == cls.id
    assert len(project.classes()) == 1


def test_undo_redo_every_kind_of_edit(project):
    rec = fake_recording(project)
    bird = project.add_class("bird")
    frog = project.add_class("frog")
    e = project.add_event(rec, bird.id, 1.0, 2.0)
    project.update_event(e.id, onset=1.5)
    project.update_event(e.id, class_id=frog.id)
    project.delete_event(e.id)
    assert project.events() == []

    # Each step in the user's words: the class and where the event was.
    assert project.undo() == "delete 'frog' at 1.50 s"
    assert project.event(e.id).class_id == frog.id
    assert project.undo() == "relabel 'bird' at 1.50 s as 'frog'"
    assert project.event(e.id).class_id == bird.id
    assert project.undo() == "resize 'bird' at 1.00 s"
    assert project.event(e.id).onset == 1.0
    assert project.undo() == "add 'bird' at 1.00 s"
    assert project.events() == []
    assert project.redo() == "add 'bird' at 1.00 s"
    assert project.redo() is not None
    assert project.event(e.id).onset == 1.5
    # a new edit drops the redo stack
    project.update_event(e.id, offset=3.0)
    assert project.redo_description() is None
    assert project.undo() is not None
    assert project.event(e.id).offset == 2.0


def test_undo_survives_a_restart(tmp_path):
    with Project.create(tmp_path / "p") as p:
        rec = fake_recording(p)
        cls = p.add_class("bird")
        e = p.add_event(rec, cls.id, 1.0, 2.0)
        p.update_event(e.id, offset=4.0)
    with Project.open(tmp_path / "p") as p:
        assert p.undo_description() == "resize 'bird' at 1.00 s"
        p.undo()
        assert p.event(e.id).offset == 2.0
    with Project.open(tmp_path / "p") as p:
        p.redo()
        assert p.event(e.id).offset == 4.0


def test_merge_and_delete_class_are_single_undo_steps(project):
    rec = fake_recording(project)
    a, b, c = (project.add_class(n) for n in "abc")
    for cls in (a, b, b, c):
        project.add_event(rec, cls.id, 0, 1)
    assert project.merge_classes([b.id, c.id], a.id) == 3
    assert [x.name for x in project.classes()] == ["a"]
    assert {e.class_id for e in project.events()} == {a.id}
    project.undo()
    assert [x.name for x in project.classes()] == ["a", "b", "c"]
    assert sorted(e.class_id for e in project.events()) == sorted([a.id, b.id, b.id, c.id])
    project.delete_class(b.id)
    assert len(project.events()) == 2
    project.undo()
    assert len(project.events()) == 4 and project.class_by_name("b") is not None


def test_detections_are_replaced_but_reviews_kept_and_undoable(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    run = project.create_run({"preset": "fast"})
    first = project.replace_detections(
        run.id,
        rec,
        [
            dict(class_id=cls.id, onset=0, offset=1, confidence=0.9),
            dict(class_id=cls.id, onset=2, offset=3, confidence=0.4),
        ],
    )
    project.update_event(first[0], review="accepted")
    project.update_event(first[1], review="rejected")
    project.replace_detections(
        run.id, rec, [dict(class_id=cls.id, onset=5, offset=6, confidence=0.7)]
    )
    model = project.events(source="model")
    assert sorted(e.review for e in model) == ["accepted", "none", "rejected"]
    assert [(e.onset, e.offset) for e in project.labels()] == [(0, 1)]
    project.undo()  # the rejection
    assert project.event(first[1]).review == "none"


def test_listeners_hear_committed_changes_only(project):
    heard = []
    unsubscribe = project.subscribe(heard.append)
    rec = fake_recording(project)
    with pytest.raises(ProjectError):
        project.add_event(rec, 999, 0, 1)  # foreign key failure → rolled back, nothing heard
    assert [c.table for c in heard] == ["recordings"]
    unsubscribe()
    project.add_class("x")
    assert len(heard) == 1


def test_runs_and_metrics(project):
    run = project.create_run({"lr": 0.001})
    assert run.status == "queued" and run.config_dict == {"lr": 0.001}
    project.add_metrics(
        run.id,
        [
            dict(kind="batch", epoch=0, iteration=i, tf_prob=0.9, loss=1.0 / (i + 1), grad_norm=0.5)
            for i in range(3)
        ],
    )
    project.update_run(run.id, status="done", best_checkpoint="runs/run-1/best.pt")
    rows = project.metrics(run.id, "batch")
    assert [r["iteration"] for r in rows] == [0, 1, 2] and rows[0]["grad_norm"] == 0.5
    assert project.latest_run().id == run.id
    with pytest.raises(ProjectError, match="status"):
        project.update_run(run.id, status="great")


def test_summary(project):
    rec = fake_recording(project, "a.wav", 10.0, "train")
    fake_recording(project, "b.wav", 5.0, "test")
    bird = project.add_class("bird")
    project.add_class("frog")
    project.add_event(rec, bird.id, 0, 1)
    assert project.summary() | {"project": ""} == {
        "project": "",
        "recordings": 2,
        "duration_s": 15.0,
        "recorded": {"dated": 0, "first": None, "last": None},
        "events": 1,
        "classes": {"bird": 1, "frog": 0},
        "splits": {"train": 1, "val": 0, "test": 1},
        "detections": 0,
        "runs": 0,
        "run_list": [],
    }


def test_a_foreign_key_failure_in_a_batch_adds_nothing(project):
    rec = fake_recording(project)
    cls = project.add_class("a")
    with pytest.raises(ProjectError):
        project.add_events(
            [
                dict(recording_id=rec, class_id=cls.id, onset=0, offset=1),
                dict(recording_id=rec, class_id=cls.id, onset=3, offset=2),
            ]
        )
    assert project.events() == []
    with pytest.raises(ProjectError, match="FOREIGN KEY"):
        project.add_events([dict(recording_id=rec + 100, class_id=cls.id, onset=0, offset=1)])
    assert project.events() == [] and (project.root / DB_NAME).exists()


def test_label_counts_per_recording_and_class(project):
    a = fake_recording(project, "a.wav")
    b = fake_recording(project, "b.wav")
    bird, frog = project.add_class("bird"), project.add_class("frog")
    for rec, cls in ((a, bird), (a, bird), (a, frog), (b, frog)):
        project.add_event(rec, cls.id, 0, 1)
    run = project.create_run({})
    det = project.replace_detections(run.id, b, [dict(class_id=bird.id, onset=1, offset=2)])
    assert project.label_counts() == {a: {bird.id: 2, frog.id: 1}, b: {frog.id: 1}}
    project.update_event(det[0], review="accepted")
    assert project.label_counts()[b] == {frog.id: 1, bird.id: 1}


def test_replacing_detections_tells_listeners_what_went_away(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    run = project.create_run({})
    old = project.replace_detections(run.id, rec, [dict(class_id=cls.id, onset=0, offset=1)])
    heard = []
    project.subscribe(heard.append)
    new = project.replace_detections(run.id, rec, [dict(class_id=cls.id, onset=2, offset=3)])
    touched = {i for change in heard if change.table == "events" for i in change.ids}
    assert set(old) <= touched and set(new) <= touched


def test_undo_steps_speak_the_users_words(project):
    rec = fake_recording(project)
    warble = project.add_class("warble")
    e = project.add_event(rec, warble.id, 3.84, 4.5)
    project.update_event(e.id, onset=4.0, offset=4.66)
    assert project.undo_description() == "move 'warble' at 3.84 s"
    project.update_event(e.id, onset=75.5, offset=76.0)
    project.update_event(e.id, review="rejected")
    assert project.undo_description() == "reject 'warble' at 1:15.50"
    project.delete_events([e.id, project.add_event(rec, warble.id, 1.0, 2.0).id])
    assert project.undo_description() == "delete 2 events"
    project.update_class(warble.id, name="trill")
    assert project.undo_description() == "rename class 'warble' to 'trill'"
    project.update_class(warble.id, color="#ff0000")
    assert project.undo_description() == "recolour class 'trill'"
    project.update_class(warble.id, hotkey="7")
    assert project.undo_description() == "set the key of class 'trill'"


def test_many_classes_are_added_at_once_as_one_undo_step(project):
    import time

    project.add_class("existing")
    names = [f"type{k:05d}" for k in range(20_000)]
    started = time.perf_counter()
    added = project.add_classes(names)
    elapsed = time.perf_counter() - started
    assert [c.name for c in added] == names
    assert len({c.color for c in project.classes()}) > 9  # colours of their own, not one repeated
    keys = [c.hotkey for c in project.classes() if c.hotkey]
    assert len(keys) == 9 and len(set(keys)) == 9  # the nine number keys, no more
    assert project.undo_description() == "add 20000 classes"
    assert elapsed < 30  # one class at a time re-read the whole table: minutes here
    with pytest.raises(ProjectError, match="already exists"):
        project.add_classes(["new one", "existing"])
    project.undo()
    assert [c.name for c in project.classes()] == ["existing"]


def test_a_file_given_as_the_project_is_named_as_such(tmp_path):
    Project.create(tmp_path / "p").close()
    with pytest.raises(ProjectError, match="give the project's folder") as caught:
        Project.open(tmp_path / "p" / DB_NAME)
    assert str(tmp_path / "p") in str(caught.value)
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    with pytest.raises(ProjectError, match="not a tfstudio project but a file") as caught:
        Project.open(tmp_path / "song.wav")
    assert "tfstudio init" not in str(caught.value)  # init cannot make a project there


def test_a_database_linked_to_a_missing_file_is_named_as_such(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / DB_NAME).symlink_to(tmp_path / "unmounted" / DB_NAME)
    for attempt in (lambda: Project.open(root), lambda: Project.create(root)):
        with pytest.raises(ProjectError, match=r"a link to .*which is not there"):
            attempt()
    assert not (tmp_path / "unmounted").exists()
