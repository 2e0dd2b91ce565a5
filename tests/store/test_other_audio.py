"""Detections made from a recording's earlier audio (its file changed and was imported again)
are known as such by the store, per recording and run, through detection, review, undo and
redo, imports of other tools' tables, and in projects made before the store kept it."""

from __future__ import annotations

from sqlite_utils import Database

from tests.conftest import fake_recording
from tfstudio.store import DB_NAME, OtherAudio, Project, accept_detections
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def _new_audio(project: Project, name: str, content_hash: str) -> None:
    """The file ``name`` holds other audio and is imported again."""
    result = project.add_recording(
        path=project.root / name,
        sample_rate=16000,
        channels=1,
        frames=16000 * 8,
        duration=8.0,
        size=1000,
        mtime=1.0,
        content_hash=content_hash,
    )
    assert result.status == "changed"


def _detect(project: Project, run_id: int, rec: int, class_id: int, *onsets: float) -> None:
    rows = [dict(class_id=class_id, onset=t, offset=t + 0.5, confidence=0.9) for t in onsets]
    project.replace_detections(run_id, rec, rows)


def test_detections_of_the_old_audio_are_known_until_detected_again(project):
    rec = fake_recording(project, "a.wav")
    other = fake_recording(project, "b.wav")
    dog = project.ensure_class("dog").id
    run = project.create_run({}, name="r").id
    _detect(project, run, rec, dog, 1.0, 3.0)
    _detect(project, run, other, dog, 1.0)
    assert project.detections_from_other_audio(rec) == set()
    assert project.other_audio_detections() == []

    _new_audio(project, "a.wav", "hash-a-2")
    assert project.detections_from_other_audio(rec) == {run}
    assert project.detections_from_other_audio(other) == set()
    assert project.other_audio_detections() == [OtherAudio(rec, run, 2)]
    # A second run's detections made after the change are of the new audio.
    second = project.create_run({}, name="r2").id
    _detect(project, second, rec, dog, 2.0)
    assert project.detections_from_other_audio(rec) == {run}

    _detect(project, run, rec, dog, 4.0)
    assert project.detections_from_other_audio(rec) == set()
    assert project.other_audio_detections() == []


def test_the_file_given_its_first_audio_back_makes_those_detections_current(project):
    rec = fake_recording(project, "a.wav")
    dog = project.ensure_class("dog").id
    first, second = (project.create_run({}, name=n).id for n in ("r1", "r2"))
    _detect(project, first, rec, dog, 1.0)
    _new_audio(project, "a.wav", "hash-b")
    _detect(project, second, rec, dog, 2.0)
    assert project.detections_from_other_audio(rec) == {first}
    _new_audio(project, "a.wav", "hash-a.wav")  # the first take restored from a backup
    assert project.detections_from_other_audio(rec) == {second}


def test_an_undone_review_brings_back_a_detection_of_the_old_audio(project):
    """Detect, accept one, the file changes, detect again (the accepted one is kept): undoing
    the acceptance makes it a pending detection again, made from the old audio."""
    rec = fake_recording(project, "a.wav")
    dog = project.ensure_class("dog").id
    run = project.create_run({}, name="r").id
    _detect(project, run, rec, dog, 1.0, 3.0)
    kept = project.events(rec, source="model")[0]
    accept_detections(project, [kept.id])
    _new_audio(project, "a.wav", "hash-a-2")
    assert project.detections_from_other_audio(rec) == {run}
    _detect(project, run, rec, dog, 5.0)
    assert project.detections_from_other_audio(rec) == set()

    assert project.undo() is not None
    assert project.event(kept.id).review == "none"
    assert project.other_audio_detections() == [OtherAudio(rec, run, 1)]
    assert project.redo() is not None
    assert project.detections_from_other_audio(rec) == set()
    # And undoing a review of a detection of the new audio claims nothing.
    fresh = next(e for e in project.events(rec, source="model") if e.review == "none")
    accept_detections(project, [fresh.id])
    assert project.undo() is not None
    assert project.detections_from_other_audio(rec) == set()


def test_an_imported_table_is_of_the_audio_at_import_through_undo_and_redo(project):
    rec = fake_recording(project, "a.wav")
    run = project.create_run({"imported": {"files": ["a.txt"], "format": "audacity"}}).id
    with project.import_events("import a.BirdNET.results.txt") as batch:
        robin = batch.class_id("robin")
        batch.add(
            [
                dict(recording_id=rec, class_id=robin, onset=t, offset=t + 3, source="model")
                | dict(confidence=0.8, run_id=run)
                for t in (0.0, 3.0)
            ]
        )
    assert project.detections_from_other_audio(rec) == set()
    _new_audio(project, "a.wav", "hash-a-2")
    assert project.other_audio_detections() == [OtherAudio(rec, run, 2)]
    assert project.undo() == "import a.BirdNET.results.txt"
    assert project.other_audio_detections() == []
    assert project.redo() == "import a.BirdNET.results.txt"
    assert project.other_audio_detections() == [OtherAudio(rec, run, 2)]


def _version_5_project(root) -> None:
    """A project file as tfstudio left it before it kept the recordings' audio: a recording
    with two detections of a run."""
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m006_recording_audio")
    db.execute("PRAGMA user_version = 5")
    db.execute(
        "INSERT INTO recordings (id, path, name, stem, size, mtime, content_hash, sample_rate,"
        " channels, frames, duration, added_at) VALUES"
        " (1, 'a.wav', 'a.wav', 'a', 10, 0, 'old', 16000, 1, 160000, 10.0, 100)"
    )
    db.execute("INSERT INTO classes (id, name, color) VALUES (1, 'dog', '#000000')")
    db.execute("INSERT INTO runs (id, name, created_at) VALUES (1, 'r', 100)")
    for i in (1, 2):
        db.execute(
            "INSERT INTO events (id, recording_id, class_id, onset, offset, source, confidence,"
            " run_id, created_at, updated_at) VALUES (?, 1, 1, ?, ?, 'model', 0.9, 1, 200, 200)",
            (i, float(i), i + 0.5),
        )
    db.close()


def test_a_version_5_project_shows_nothing_stale_until_its_file_changes(tmp_path):
    root = tmp_path / "old"
    _version_5_project(root)
    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        assert project.other_audio_detections() == []
        # What it detected counts as made from the audio it had: a change now is known.
        _new_audio(project, "a.wav", "new")
        assert project.other_audio_detections() == [OtherAudio(1, 1, 2)]


def test_a_recording_changed_in_a_database_without_its_audio_rows(project):
    """A database another tool filled (no recording_audio rows): the audio it had is taken
    to be what was there since it was added."""
    rec = fake_recording(project, "a.wav")
    dog = project.ensure_class("dog").id
    run = project.create_run({}, name="r").id
    _detect(project, run, rec, dog, 1.0)
    with project.write():
        project.conn.execute("DELETE FROM recording_audio")
    assert project.other_audio_detections() == []
    _new_audio(project, "a.wav", "hash-a-2")
    assert project.other_audio_detections() == [OtherAudio(rec, run, 1)]


def test_a_removed_recording_takes_its_audio_rows_with_it(project):
    rec = fake_recording(project, "a.wav")
    with project.write():
        project.conn.execute("DELETE FROM recordings WHERE id = ?", (rec,))
    rows = project.conn.execute("SELECT count(*) FROM recording_audio").fetchone()[0]
    assert rows == 0
