"""Opening a project never makes a damaged, empty or foreign database look like a project, never
writes a database it cannot understand, and never waits behind another process's write
(issue 10, cases 2, 4, 5 and 6)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlite_utils import Database

from tests.conftest import fake_recording
from tests.store.helpers import ENV, one_line_error, tfstudio, write_lock_held
from tfstudio.store import DB_NAME, DatabaseProblem, Project, ProjectError
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def _labelled(root, events=50):
    with Project.create(root) as project:
        rec = fake_recording(project, duration=1000.0)
        cls = project.add_class("bird")
        project.add_events(
            [
                dict(recording_id=rec, class_id=cls.id, onset=i, offset=i + 0.5)
                for i in range(events)
            ]
        )
    return root


# ------------------------------------------------------------------ case 2: empty database
def test_an_empty_database_is_an_error_not_a_new_project(tmp_path):
    root = _labelled(tmp_path / "p")
    (root / DB_NAME).write_bytes(b"")  # a crash, a full disk or a bad copy left 0 bytes
    with pytest.raises(ProjectError, match=r"empty \(0 bytes\).*backup"):
        Project.open(root)
    with pytest.raises(ProjectError, match="empty"):
        Project.open(root, create=True)  # "create if missing": it is not missing
    assert (root / DB_NAME).stat().st_size == 0  # nothing was written over it

    line = one_line_error(tfstudio("info", root))
    assert str(root / DB_NAME) in line and "empty" in line
    result = tfstudio("train", root, "--epochs", "1")
    assert result.returncode == 2 and "empty" in one_line_error(result)
    assert (root / DB_NAME).stat().st_size == 0


def test_a_new_project_is_still_made_where_there_is_none(tmp_path):
    with Project.open(tmp_path / "new", create=True) as project:
        assert project.classes() == []
    assert tfstudio("init", tmp_path / "cli").returncode == 0


# ------------------------------------------------------- case 6: damaged or foreign files
def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    root = _labelled(tmp_path / "p")
    (root / DB_NAME).write_bytes(os.urandom(8192))
    with pytest.raises(DatabaseProblem, match="not a SQLite database"):
        Project.open(root)
    line = one_line_error(tfstudio("info", root))
    assert str(root / DB_NAME) in line and "not a SQLite database" in line and "backup" in line


def test_a_truncated_database_is_one_line_naming_the_file(tmp_path):
    root = _labelled(tmp_path / "p", events=3000)  # many pages
    db = root / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    for command in (("info",), ("export", "--format", "dcase", "-o", tmp_path / "out.tsv")):
        result = tfstudio(command[0], root, *command[1:])
        assert result.returncode == 2
        line = one_line_error(result)
        assert str(db) in line and ("damaged" in line or "not a SQLite" in line), line


def test_a_foreign_sqlite_database_is_not_taken_over(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    with sqlite3.connect(root / DB_NAME) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = (root / DB_NAME).read_bytes()
    with pytest.raises(ProjectError, match="not a tfstudio project"):
        Project.open(root)
    assert (root / DB_NAME).read_bytes() == before


def test_a_deleted_wal_is_one_line_and_loses_nothing_committed(tmp_path):
    root = _labelled(tmp_path / "p")
    # A GUI (here a child process) has the project open and has written since the last
    # checkpoint; then the -wal file is deleted under it.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tfstudio.store import Project\n"
            "p = Project.open(sys.argv[1]); p.add_class('frog')\n"
            "print('ready', flush=True); sys.stdin.readline(); p.add_class('toad'); p.close()",
            str(root),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        (root / f"{DB_NAME}-wal").unlink()
        line = one_line_error(tfstudio("info", root))
        assert str(root / DB_NAME) in line and f"{DB_NAME}-wal is missing" in line
    finally:
        holder.communicate("go\n", timeout=60)
    assert holder.returncode == 0
    with Project.open(root) as project:  # the holder's own writes reach the database
        assert {c.name for c in project.classes()} == {"bird", "frog", "toad"}
        assert len(project.events()) == 50
        assert project.integrity_problems() == []


def test_a_full_disk_refuses_the_change_and_keeps_the_project(tmp_path):
    root = _labelled(tmp_path / "p")
    with Project.open(root) as project:
        rec = project.recordings()[0].id
        cls = project.classes()[0].id
        # A full disk, as SQLite meets it: no page may be added (a tmpfs needs privileges).
        pages = project.conn.execute("PRAGMA page_count").fetchone()[0]
        project.conn.execute(f"PRAGMA max_page_count = {pages}")
        rows = [dict(recording_id=rec, class_id=cls, onset=i, offset=i + 1.0) for i in range(5000)]
        with pytest.raises(DatabaseProblem, match=r"disk is full.*nothing of this change"):
            project.add_events(rows)
        assert len(project.events()) == 50
        assert not project.conn.in_transaction


# ------------------------------------------------------------- case 5: a newer tfstudio
@pytest.mark.parametrize("how", ["user_version", "migration"])
def test_a_database_from_a_newer_tfstudio_is_refused_untouched(tmp_path, how):
    root = _labelled(tmp_path / "p")
    with sqlite3.connect(root / DB_NAME) as conn:
        if how == "user_version":
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
        else:
            conn.execute(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                " VALUES ('tfstudio', 'm099_from_the_future', '2031-01-01')"
            )
    conn.close()
    before = (root / DB_NAME).read_bytes()
    newer = SCHEMA_VERSION + 7 if how == "user_version" else SCHEMA_VERSION + 1
    expected = f"made by a newer tfstudio (schema {newer} > {SCHEMA_VERSION})"
    with pytest.raises(ProjectError) as info:
        Project.open(root)
    assert expected in str(info.value)
    line = one_line_error(tfstudio("import", root, "--labels", tmp_path / "none.tsv"))
    assert expected in line and str(root / DB_NAME) in line
    assert (root / DB_NAME).read_bytes() == before


def test_an_older_project_is_upgraded_once(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m002_run_process")  # as tfstudio 0.1 left it
    db.close()
    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        run = project.create_run({})
        assert run.host and run.pid == os.getpid()


# ----------------------------------------------- case 4: reading does not take the write lock
def test_info_does_not_wait_behind_a_writer(tmp_path):
    root = _labelled(tmp_path / "p")
    with Project.open(root):
        pass  # up to date: nothing for the next open to write
    with write_lock_held(root / DB_NAME):
        start = time.monotonic()
        result = tfstudio("info", root, "--json", timeout=40)
        took = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert '"events": 50' in result.stdout
    assert took < 30  # the busy timeout is 60 s: a wait would show


def test_an_upgrade_that_must_wait_says_so(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m002_run_process")
    db.close()
    with write_lock_held(root / DB_NAME):
        # The real open in a child, with the 60 s busy timeout cut short.
        script = (
            "import sys, tfstudio.store.connection as c; c.BUSY_TIMEOUT_S = 0.2\n"
            "import tfstudio.store.run_store as r; r.BUSY_TIMEOUT_S = 0.2\n"
            "from tfstudio.cli import main; sys.exit(main(['info', sys.argv[1]]))"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, str(root)],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
    assert result.returncode == 2
    line = one_line_error(result)
    assert "locked" in line and str(root / DB_NAME) in line
