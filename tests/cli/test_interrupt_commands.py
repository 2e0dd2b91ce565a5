"""Ctrl+C at a precise instant of a command that writes: it reads as an interruption (exit 130,
"interrupted" and nothing else on stderr) and leaves the project whole.

The signal's test double: Python raises KeyboardInterrupt from its SIGINT handler between two
bytecodes, most often just after a call into C returns (a query, a write to disk, a mkdir);
:func:`ctrl_c_after` raises it at that very point, through the profiling hook, which Python
calls as each function returns. The store's change listeners, called right after a commit,
are the other point a signal lands at (see test_import_interrupted.py)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ctrl_c_when
from tfstudio.cli import main
from tfstudio.formats.base import LabelEvent
from tfstudio.importer import import_labels
from tfstudio.store import Project
from tfstudio.store.check import check_project
from tfstudio.store.connection import Connection

BIRDNET_AUDACITY = (
    "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n"
    "3.0\t6.0\tErithacus rubecula, European Robin\t0.4121\n"
)


def ctrl_c_after(function: Callable[..., Any], nth: int = 1) -> contextlib.AbstractContextManager:
    """KeyboardInterrupt the moment ``function`` (one written in C, such as ``os.mkdir``, or
    in Python) returns for the ``nth`` time, where Ctrl+C's handler would raise it."""
    code = getattr(function, "__code__", None)
    seen = 0

    def fires(frame: Any, event: str, arg: Any) -> bool:
        nonlocal seen
        if (event == "c_return" and arg is function) or (
            event == "return" and code is not None and frame.f_code is code
        ):
            seen += 1
            return seen == nth
        return False

    return ctrl_c_when(fires)


def run_cli(argv: list[str]) -> int:
    """``main(argv)``; a KeyboardInterrupt it lets out (the user sees a traceback) fails the
    test instead of stopping the whole test run."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C went out of main: a traceback instead of 'interrupted'")


def runs_as_stored(root: Path) -> list[tuple]:
    """The runs' rows read straight from the file (opening the project would mark a run of a
    process that has ended)."""
    db = sqlite3.connect(root / "project.sqlite")
    try:
        return db.execute("SELECT id, status, message FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


def test_ctrl_c_while_the_command_line_is_read_reads_as_ctrl_c(two_recordings, capsys):
    # Before the command runs, while argparse builds the parser and reads the arguments, the
    # interrupt escaped main as a traceback.
    capsys.readouterr()
    with ctrl_c_after(argparse.ArgumentParser.parse_args):
        code = run_cli(["review", str(two_recordings)])
    assert code == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_during_an_export_says_interrupted_and_nothing_else(two_recordings, capsys):
    with Project.open(two_recordings) as p:
        bird = p.add_class("bird")
        for rec in p.recordings():
            p.add_events(
                [
                    {"recording_id": rec.id, "class_id": bird.id, "onset": t, "offset": t + 0.5}
                    for t in range(8)
                ]
            )
    out = two_recordings / "exports" / "labels.tsv"
    unraisable: list[Any] = []
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        # What Python prints as "Exception ignored in: …" goes through this hook.
        patch.setattr(sys, "unraisablehook", unraisable.append)
        with ctrl_c_after(LabelEvent.__init__, nth=3):
            code = run_cli(["export", str(two_recordings), "--format", "dcase", "-o", str(out)])
        gc.collect()
    # The events were read by a generator left unfinished; it was closed after the project,
    # and its clean-up printed "Cannot operate on a closed database" under "interrupted".
    assert [str(u.exc_value) for u in unraisable] == []
    assert code == 130
    assert capsys.readouterr().err == "interrupted\n"
    # Nothing that looks like an export is left: neither the file nor its temporary copy.
    assert sorted(os.listdir(out.parent)) == []


def test_ctrl_c_as_a_folder_export_begins_leaves_nothing_behind(two_recordings, capsys):
    # A per-recording export fills a hidden folder beside its output, then renames it; Ctrl+C
    # just after that folder was made (before its clean-up was armed) left it there.
    exports = two_recordings / "exports"
    exports.mkdir()
    capsys.readouterr()
    with ctrl_c_after(os.mkdir):
        code = run_cli(
            ["export", str(two_recordings), "--format", "audacity", "-o", str(exports / "aud")]
        )
    assert code == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert os.listdir(exports) == []


def test_ctrl_c_just_after_a_run_folder_is_made_leaves_no_folder_behind(two_recordings):
    # The folder is made before the run's row is stored: Ctrl+C in between left a folder the
    # database does not know, which check reports for ever and cannot repair.
    with Project.open(two_recordings) as p:
        with pytest.raises(KeyboardInterrupt), ctrl_c_after(os.mkdir):
            p.create_run({}, name="cut short")
        assert p.runs() == []
        assert not p.run_dir(1).exists()
        assert [f.kind for f in check_project(p)] == []
        # The next run is run 1, in its own new folder.
        run = p.create_run({}, status="running")
        assert (run.id, run.status, p.run_dir(1).is_dir()) == (1, "running", True)
        assert run.started_at is not None


def test_ctrl_c_while_an_imported_run_is_committed_ends_that_run(two_recordings, tmp_path):
    # The run for another detector's results was made queued, then marked running in a
    # second write; Ctrl+C as the first commit was written left it queued (the import's
    # clean-up never learnt its id), for another process to reap as "process ended
    # unexpectedly". A listener called right after the commit is Ctrl+C arriving then.
    path = tmp_path / "rec1.BirdNET.results.txt"
    path.write_text(BIRDNET_AUDACITY, encoding="utf-8")

    def interrupt(change):
        if change.table == "runs":
            raise KeyboardInterrupt

    with Project.open(two_recordings) as p:
        unsubscribe = p.subscribe(interrupt)
        with pytest.raises(KeyboardInterrupt):
            import_labels(p, [path])
        unsubscribe()
        assert p.events(source="model") == []
    assert runs_as_stored(two_recordings) == [
        (1, "stopped", "import interrupted, no detections added")
    ]


def test_ctrl_c_while_init_connects_leaves_no_empty_database(tmp_path, capsys):
    # SQLite makes the file as it connects; cut short before the schema was written, init left
    # it empty: opening said the project's "labels and runs are gone; restore it from a
    # backup", and init again refused it as "already a tfstudio project".
    root = tmp_path / "proj"
    with ctrl_c_after(sqlite3.connect):
        code = run_cli(["init", str(root)])
    assert code == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert not (root / "project.sqlite").exists()
    assert main(["init", str(root)]) == 0
    with Project.open(root) as p:
        assert p.recordings() == []


def test_ctrl_c_as_a_snapshot_begins_leaves_no_transaction_open(two_recordings):
    # Left open, the read transaction took in every later write of the connection as a
    # savepoint, and they went when the connection closed.
    with Project.open(two_recordings) as p:
        with pytest.raises(KeyboardInterrupt), ctrl_c_after(Connection.execute), p.snapshot():
            pass
        assert not p.conn.in_transaction
        p.add_class("kept")
        with Project.open(two_recordings) as other:
            assert [c.name for c in other.classes()] == ["kept"]


def test_ctrl_c_at_any_point_of_a_write_is_quiet_and_the_change_whole(two_recordings):
    # Every point Ctrl+C can land at in one write of the store, and the project closed as
    # the interrupt unwinds (as a command's 'with open_project' does). The write was a
    # generator context manager: landing just after it had begun the transaction, before
    # the block, left the generator suspended; its clean-up ran once the traceback went,
    # after the project had closed, and printed "Exception ignored … Cannot operate on a
    # closed database" under "interrupted".
    unraisable: list[Any] = []
    step = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "unraisablehook", unraisable.append)
        while True:
            step += 1
            interrupted = False
            project = Project.open(two_recordings)
            try:
                with ctrl_c_at_step(step), project as p:
                    p.add_class(f"class {step}")
            except KeyboardInterrupt:
                interrupted = True
            gc.collect()
            # (Ctrl+C landing in a finalizer, a generator closed as it goes, is Python's own
            # "Exception ignored … KeyboardInterrupt", not a failure the interrupt caused.)
            caused = [u for u in unraisable if u.exc_type is not KeyboardInterrupt]
            assert [str(u.exc_value) for u in caused] == [], f"Ctrl+C at step {step}"
            db = sqlite3.connect(two_recordings / "project.sqlite")
            try:
                # The class is there once, or not at all.
                (stored,) = db.execute(
                    "SELECT count(*) FROM classes WHERE name = ?", (f"class {step}",)
                ).fetchone()
            finally:
                db.close()
            assert stored == (0 if interrupted else 1), f"Ctrl+C at step {step}"
            if not interrupted:
                break
    assert step > 10
    with Project.open(two_recordings) as p:
        assert [f.kind for f in check_project(p)] == []


def ctrl_c_at_step(step: int) -> contextlib.AbstractContextManager:
    """KeyboardInterrupt at the ``step``-th point where Python's SIGINT handler can raise it:
    as a Python function begins, or as a call into C returns."""
    seen = 0

    def fires(frame: Any, event: str, arg: Any) -> bool:
        nonlocal seen
        if event in ("call", "c_return"):
            seen += 1
            return seen == step
        return False

    return ctrl_c_when(fires)
