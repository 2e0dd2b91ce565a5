"""Ctrl+C that ends a block of the store but not its transaction: the next block of the
connection rolls that leftover back, so later writes are committed instead of joining it as
savepoints and going when the project closes; transactions that are not leftovers (a block
still open, a snapshot, the caller's own) are joined and left be.

The signal's test double, as in tests/cli/test_interrupt_commands.py: Python raises
KeyboardInterrupt from its SIGINT handler as a Python function begins or a call into C
returns; a profiling hook raises it at such a point. Each project is closed as the interrupt
unwinds (as a command's ``with open_project`` does), and what it kept is read from the file."""

from __future__ import annotations

import contextlib
import gc
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Hook, ctrl_c_when, fake_recording
from tfstudio.importer import import_labels
from tfstudio.store import Project
from tfstudio.store.check import check_project
from tfstudio.store.connection import Connection


def last_step() -> None:
    """Called as the last line of a ``with`` block: see :func:`as_the_block_ends`."""


def as_the_block_ends() -> Hook:
    """The first function to begin once :func:`last_step` has returned: the exit of the block
    ``last_step`` ended, which the interrupt ends before its first line."""
    returned = False

    def fires(frame: Any, event: str, arg: Any) -> bool:
        nonlocal returned
        if event == "return" and frame.f_code is last_step.__code__:
            returned = True
            return False
        return returned and event == "call"

    return fires


def as_statement_runs(sql: str, event: str = "call") -> Hook:
    """As ``sql`` is about to run (``call``), or has just run (``return``)."""
    code = Connection.execute.__code__
    return lambda frame, e, arg: (
        e == event and frame.f_code is code and frame.f_locals.get("sql") == sql
    )


def as_a_write_ends(called_from: str, *, caller_of_that: str | None = None) -> Hook:
    """As the exit of an outermost write whose ``with`` statement is in function
    ``called_from`` begins (the first line of which the interrupt then keeps from running)."""

    def fires(frame: Any, event: str, arg: Any) -> bool:
        if event != "call" or frame.f_code.co_name not in ("__exit__", "_exit"):
            return False
        block = frame.f_locals.get("self")
        if type(block).__name__ != "_Write" or block.savepoint is not None:
            return False
        caller = frame.f_back
        if caller.f_code.co_name != called_from:
            return False
        return caller_of_that is None or caller.f_back.f_code.co_name == caller_of_that

    return fires


def stored_classes(root: Path) -> list[str]:
    """The classes read straight from the file, in the order they were made."""
    db = sqlite3.connect(root / "project.sqlite")
    try:
        return [name for (name,) in db.execute("SELECT name FROM classes ORDER BY id")]
    finally:
        db.close()


@pytest.fixture
def root(tmp_path) -> Path:
    Project.create(tmp_path / "proj").close()
    return tmp_path / "proj"


def test_a_write_cut_short_as_it_ends_does_not_take_the_next_write_with_it(root):
    # Ctrl+C as the write's exit is called, before it runs a line: nothing ended the
    # transaction, and the clean-up's write (a run marked stopped, say) joined it as a
    # savepoint and went with it when the project closed.
    changes: list[str] = []
    with pytest.raises(KeyboardInterrupt), Project.open(root) as p:
        p.subscribe(lambda change: changes.append(change.table))
        try:
            with ctrl_c_when(as_the_block_ends()), p.write():
                p.add_class("cut short")
                last_step()
        except KeyboardInterrupt:
            p.add_class("kept")  # the command's clean-up
            assert not p.conn.in_transaction
            raise
    assert stored_classes(root) == ["kept"]
    assert changes == ["classes"]  # no notice of the change that was rolled back


def test_a_write_whose_rollback_is_cut_short_does_not_take_the_next_write_with_it(root):
    with pytest.raises(KeyboardInterrupt), Project.open(root) as p:
        try:
            with ctrl_c_when(as_statement_runs("ROLLBACK")), p.write():
                p.add_class("refused")
                raise ValueError("a bad value")
        except KeyboardInterrupt:
            p.add_class("kept")
            raise
    assert stored_classes(root) == ["kept"]


def test_a_snapshot_cut_short_as_it_ends_does_not_take_the_next_write_with_it(root):
    with pytest.raises(KeyboardInterrupt), Project.open(root) as p:
        try:
            with ctrl_c_when(as_the_block_ends()), p.snapshot():
                p.classes()
                last_step()
        except KeyboardInterrupt:
            p.add_class("kept")
            raise
    assert stored_classes(root) == ["kept"]


def test_an_import_cut_short_as_rows_are_staged_leaves_nothing_staged_or_open(root):
    with Project.open(root) as p:
        rec = fake_recording(p)
        bird = p.add_class("bird").id
        row = {"recording_id": rec, "class_id": bird, "onset": 1.0, "offset": 2.0}
        with (
            pytest.raises(KeyboardInterrupt),
            ctrl_c_when(as_statement_runs("SAVEPOINT stage_events", "return")),
            p.import_events() as batch,
        ):
            batch.add([row])
        assert not p.conn.in_transaction
        assert p.conn.execute("SELECT count(*) FROM temp.event_stage").fetchone()[0] == 0
        p.add_class("kept")
    assert stored_classes(root) == ["bird", "kept"]


def test_at_any_point_a_write_is_cut_short_the_next_write_is_kept(root, tmp_path):
    # Every point Ctrl+C can land at in one write, its clean-up and its change notices; the
    # same project each time (a write's steps depend on what the project holds), and a colour
    # given (choosing one is thousands of steps of plain Python).
    empty = tmp_path / "empty.sqlite"
    shutil.copyfile(root / "project.sqlite", empty)
    unraisable: list[Any] = []
    step = interrupted = 0
    kept: list[KeyboardInterrupt] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "unraisablehook", unraisable.append)
        while True:
            step += 1
            seen = 0
            fired = False

            def hook(frame: Any, event: str, arg: Any, step: int = step) -> None:
                nonlocal seen, fired
                if event in ("call", "c_return"):
                    seen += 1
                    if seen == step:
                        sys.setprofile(None)
                        fired = True
                        raise KeyboardInterrupt

            name = f"class {step}"
            shutil.copyfile(empty, root / "project.sqlite")
            with Project.open(root) as p:
                p.subscribe(lambda change: None)
                sys.setprofile(hook)
                try:
                    p.add_class(name, color="#336699")
                except KeyboardInterrupt as error:
                    interrupted += 1
                    kept.append(error)  # its traceback lives on, as while a command reports it
                finally:
                    sys.setprofile(None)
                p.add_class("after")
                # ... as an undo step of its own, not one that Ctrl+C left open.
                assert p.undo_description() == "add class after", f"Ctrl+C at step {step}"
                kept.clear()
            if not fired:  # the write ended before this step: every point has been tried
                break
            # The write whole or not at all, and the next one kept.
            assert stored_classes(root) in ([name, "after"], ["after"]), f"Ctrl+C at step {step}"
        gc.collect()
    # (Ctrl+C landing in a finalizer is Python's own "Exception ignored … KeyboardInterrupt".)
    assert [u for u in unraisable if u.exc_type is not KeyboardInterrupt] == []
    assert interrupted > 100
    with Project.open(root) as p:
        assert [f.kind for f in check_project(p)] == []


def test_a_write_in_a_generator_stays_open_while_the_generator_waits(root):
    # The block is open as long as its with statement is, suspended or not: a write made
    # meanwhile is nested in it, not taken for the end of a leftover.
    with Project.open(root) as p:

        def steps() -> Iterator[None]:
            with p.write():
                p.add_class("first")
                yield
                p.add_class("third")

        waiting = steps()
        next(waiting)
        p.add_class("second")
        assert p.conn.in_transaction
        assert next(waiting, "done") == "done"
        assert not p.conn.in_transaction
    assert stored_classes(root) == ["first", "second", "third"]


def test_the_callers_own_transaction_is_joined_not_rolled_back(root):
    with Project.open(root) as p:
        p.add_class("before")
        with contextlib.suppress(Exception), p.write():
            p.add_class("refused")
            raise ValueError("a refused write, rolled back")
        with p.db.atomic():
            p.db.execute("INSERT INTO classes (name, color, position) VALUES ('own', '#000', 9)")
            p.add_class("joined")
            p.add_class("joined too")
        p.conn.execute("BEGIN")
        p.add_class("in a plain transaction")
        p.conn.execute("COMMIT")
    assert stored_classes(root) == [
        "before",
        "own",
        "joined",
        "joined too",
        "in a plain transaction",
    ]


def test_a_write_in_a_snapshot_joins_it(root):
    with Project.open(root) as p:
        with p.snapshot():
            p.add_class("in a snapshot")
            assert p.conn.in_transaction
        assert not p.conn.in_transaction
    assert stored_classes(root) == ["in a snapshot"]


def test_a_write_entered_through_an_exit_stack_works(root):
    with Project.open(root) as p:
        with contextlib.ExitStack() as stack:
            stack.enter_context(p.write())
            p.add_class("stacked")
            assert p.conn.in_transaction
        assert not p.conn.in_transaction
    assert stored_classes(root) == ["stacked"]


BIRDNET_AUDACITY = (
    "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n"
    "3.0\t6.0\tErithacus rubecula, European Robin\t0.4121\n"
)


def stored_runs(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / "project.sqlite")
    try:
        return db.execute("SELECT status, message FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # Ctrl+C as the import's one write of its detections ends: none are kept.
        (as_a_write_ends("_commit_import"), (0, "import interrupted, no detections added")),
        # ... as the run's "done" ends, once they were committed: they are kept.
        (
            as_a_write_ends("update_run", caller_of_that="run_done"),
            (2, "import interrupted: 2 detection(s) imported from 1 file(s)"),
        ),
    ],
    ids=["as-the-detections-are-committed", "as-the-run-is-marked-done"],
)
def test_an_import_cut_short_as_a_write_ends_says_so_in_its_run(root, tmp_path, where, expected):
    path = tmp_path / "rec1.BirdNET.results.txt"
    path.write_text(BIRDNET_AUDACITY, encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), Project.open(root) as p:
        fake_recording(p, "rec1.wav")
        with ctrl_c_when(where):
            import_labels(p, [path])
    detections, message = expected
    assert stored_runs(root) == [("stopped", message)]
    with Project.open(root) as p:
        assert len(p.events(source="model")) == detections
