"""Ctrl+C during `tfstudio import --labels` of another detector's results: the run made for
the import's detections ends stopped, saying what the project holds, never left "running"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ctrl_c_when
from tfstudio.cli import main
from tfstudio.formats.base import read_text
from tfstudio.importer import import_labels
from tfstudio.store import Project

BIRDNET_AUDACITY = (
    "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n"
    "3.0\t6.0\tErithacus rubecula, European Robin\t0.4121\n"
)


@pytest.fixture
def project(two_recordings) -> Path:
    """A project with rec1.wav and rec2.wav (9 s each)."""
    return two_recordings


def runs_as_stored(root: Path) -> list[tuple]:
    """The runs' rows read straight from the file: opening the project would mark a run whose
    process has ended as stopped, hiding what the import itself left."""
    db = sqlite3.connect(root / "project.sqlite")
    try:
        return db.execute("SELECT id, status, message FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


def test_ctrl_c_while_reading_the_label_files_stops_the_run_with_nothing_added(
    project, tmp_path, capsys
):
    labels = tmp_path / "labels"
    labels.mkdir()
    first = labels / "rec1.BirdNET.results.txt"
    first.write_text(BIRDNET_AUDACITY, encoding="utf-8")
    second = labels / "rec2.BirdNET.results.txt"
    second.write_text(BIRDNET_AUDACITY, encoding="utf-8")
    # Ctrl+C as the second file begins to be read, after the first has made the import's run.
    # (A named pipe no one wrote to once held the import there, but label files that are not
    # regular files are refused since 2232f91, so it only raced with the refusal, and lost
    # under load.) The signal's test double: see tests/cli/test_interrupt_commands.py.
    read = read_text.__code__

    def fires(frame: Any, event: str, arg: Any) -> bool:
        return (
            event == "call"
            and frame.f_code is read
            and Path(frame.f_locals.get("path", "")) == second
        )

    capsys.readouterr()
    with ctrl_c_when(fires):
        try:
            code = main(
                ["import", str(project), "-q", "--labels", str(first), "--labels", str(second)]
            )
        except KeyboardInterrupt:
            pytest.fail("Ctrl+C went out of main: a traceback instead of 'interrupted'")
    assert code == 130
    assert capsys.readouterr().err.strip().endswith("interrupted")
    ((run_id, status, message),) = runs_as_stored(project)
    assert (status, message) == ("stopped", "import interrupted, no detections added")
    with Project.open(project) as p:
        assert p.events(source="model") == []
        assert p.run(run_id).status == "stopped"
        assert p.run(run_id).message == "import interrupted, no detections added"
    # Imported again, the files are all there, in a run of its own that is done.
    assert main(["import", str(project), "-q", "--labels", str(labels)]) == 0
    with Project.open(project) as p:
        (_, run) = p.runs()
        assert run.status == "done"
        assert len(p.events(source="model", run_id=run.id)) == 4


def test_ctrl_c_just_after_the_detections_are_committed_says_so_in_the_run(project, tmp_path):
    # A test double for the signal: the project calls its listeners right after the import's
    # transaction commits, the last moment before the import notes what it added; a listener
    # that raises KeyboardInterrupt there is Ctrl+C arriving at that instant.
    path = tmp_path / "rec1.BirdNET.results.txt"
    path.write_text(BIRDNET_AUDACITY, encoding="utf-8")

    def interrupt(change):
        if change.table == "events":
            raise KeyboardInterrupt

    with Project.open(project) as p:
        p.subscribe(interrupt)
        with pytest.raises(KeyboardInterrupt):
            import_labels(p, [path])
    ((run_id, status, message),) = runs_as_stored(project)
    assert status == "stopped"
    assert message == "import interrupted: 2 detection(s) imported from 1 file(s)"
    with Project.open(project) as p:
        assert len(p.events(source="model", run_id=run_id)) == 2
        # The step is whole: undo takes back all of it.
        assert p.undo() is not None
        assert p.events(source="model") == []


def test_ctrl_c_while_a_statement_is_unfinished_still_reads_as_ctrl_c(project, tmp_path):
    # Ctrl+C lands between bytecodes, often just after a query began and before its rows were
    # read; the traceback keeps that cursor alive, and SQLite refuses to drop a table while
    # any statement reads. The import's clean-up met that and reported "database locked"
    # (exit 1, the import said to have failed) instead of the interrupt (a CI run saw it).
    path = tmp_path / "rec1.BirdNET.results.txt"
    path.write_text(BIRDNET_AUDACITY, encoding="utf-8")
    with Project.open(project) as p:
        rec = p.recordings()[0]
        blackbird = p.add_class("blackbird")
        p.add_event(rec.id, blackbird.id, 0.0, 1.0)
        p.add_event(rec.id, blackbird.id, 2.0, 3.0)
        with pytest.raises(KeyboardInterrupt), p.import_events() as batch:
            batch.add(
                [{"recording_id": rec.id, "class_id": blackbird.id, "onset": 4.0, "offset": 5.0}]
            )
            unfinished = p.conn.execute("SELECT id FROM events")  # rows left unread
            raise KeyboardInterrupt
        del unfinished
        assert not p.conn.in_transaction
        assert len(p.events()) == 2
        # The connection goes on working: the next import stages afresh and adds its rows.
        report = import_labels(p, [path])
        assert not report.failed
        assert len(p.events(source="model")) == 2
        assert len(p.events()) == 4


def test_ctrl_c_that_leaves_a_transaction_open_still_ends_the_run_stopped(project, tmp_path):
    # Ctrl+C can land just as a write ends, before its transaction is closed: the run's
    # ending would join that transaction and be rolled back with it when the project closed.
    # A test double for that instant: a listener of the run's "done" update that opens a
    # transaction and raises KeyboardInterrupt.
    path = tmp_path / "rec1.BirdNET.results.txt"
    path.write_text(BIRDNET_AUDACITY, encoding="utf-8")

    def interrupt(change):
        if change.table == "runs" and p.runs()[-1].status == "done":
            p.conn.execute("BEGIN")
            raise KeyboardInterrupt

    with Project.open(project) as p:
        p.subscribe(interrupt)
        with pytest.raises(KeyboardInterrupt):
            import_labels(p, [path])
        assert not p.conn.in_transaction
    ((_, status, message),) = runs_as_stored(project)
    assert status == "stopped"
    assert message == "import interrupted: 2 detection(s) imported from 1 file(s)"
