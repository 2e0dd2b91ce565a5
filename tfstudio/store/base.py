"""What every part of a :class:`~tfstudio.store.project.Project` shares: its folder, the
connection, write transactions and the change notices sent after each commit.

Every public write is its own ``BEGIN IMMEDIATE`` transaction, committed before the method
returns, so an edit is on disk the moment it is made and two processes (GUI and trainer) queue
for the write lock instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from tfstudio.store.connection import Connection
from tfstudio.store.errors import ProjectError

DB_NAME = "project.sqlite"


@dataclass(frozen=True)
class Change:
    """What a committed write touched; passed to listeners so views can refresh."""

    table: str
    ids: tuple[int, ...] = ()


class _Write:
    """The context manager :meth:`StoreBase.write` returns.

    A class, not a generator: Ctrl+C (KeyboardInterrupt) lands between two bytecodes, and
    with ``contextlib.contextmanager`` it could land in its ``__enter__`` just after the
    generator had begun the transaction and before the ``with`` block was entered. Nothing
    then ended the transaction until the traceback went: every later write of the
    connection joined it as a savepoint (an interrupted import's run, marked stopped, was
    lost with it), and its clean-up, run once the project had closed, printed "Exception
    ignored … Cannot operate on a closed database". Here every statement is inside a try that
    ends what it began, and ``__enter__`` returns straight into the ``with`` block.
    """

    _savepoints = itertools.count(1)

    def __init__(self, store: StoreBase):
        self.store = store
        self.savepoint: str | None = None

    def __enter__(self) -> None:
        store, conn = self.store, self.store.conn
        if conn.in_transaction:
            self.savepoint = f"write_{next(self._savepoints)}"
            try:
                conn.execute(f"SAVEPOINT {self.savepoint}")
            except BaseException:
                self._roll_back_savepoint()
                raise
            return
        if store.read_only:
            raise store.read_only_error()
        # IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        # transaction that upgrades later can fail at once with "database is locked".
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._roll_back()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if self.savepoint is not None:
            if kind is None:
                try:
                    self.store.conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
                except BaseException:
                    self._roll_back_savepoint()
                    raise
            else:
                self._roll_back_savepoint()
            return
        store = self.store
        if kind is None:
            try:
                # A COMMIT that fails (a full disk) is rolled back, not left open.
                store.conn.execute("COMMIT")
            except BaseException as failure:
                self._roll_back()
                if isinstance(failure, sqlite3.IntegrityError):
                    raise ProjectError(
                        f"change refused, nothing was written: {failure}"
                    ) from failure
                raise
            changes, store._pending_changes = store._pending_changes, []
            for change in changes:
                for listener in list(store._listeners):
                    listener(change)
            return
        self._roll_back()
        if isinstance(exc, sqlite3.IntegrityError):
            # e.g. an event naming a recording or class that does not exist (any more)
            raise ProjectError(f"change refused, nothing was written: {exc}") from exc

    def _roll_back(self) -> None:
        self.store._pending_changes.clear()
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection has closed
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")

    def _roll_back_savepoint(self) -> None:
        # An error such as a failed COMMIT of a trigger's RAISE(ROLLBACK) may have ended the
        # whole transaction, the savepoint with it: then there is nothing to take back here.
        conn = self.store.conn
        with contextlib.suppress(sqlite3.Error, ProjectError):
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {self.savepoint}")
                conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
        self.store._savepoint_rolled_back()


class StoreBase:
    """A project folder and its database connection (owned by the opening thread)."""

    def __init__(self, root: Path, conn: Connection, *, read_only: bool = False):
        self.root = root
        self.conn = conn
        self.db = Database(conn)
        self.read_only = read_only
        """True when this process may not change the project (a read-only file or folder):
        it can be viewed and exported; every write raises :class:`ProjectError`."""
        self._listeners: list[Callable[[Change], None]] = []
        self._pending_changes: list[Change] = []

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def write(self) -> _Write:
        """One write transaction (nested calls become savepoints of the outer one)."""
        return _Write(self)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every query in the block sees the project as its first query
        did, whatever other processes commit meanwhile (an export that reads a recording at a
        time writes one consistent state). No writes inside it."""
        if self.conn.in_transaction:
            yield
            return
        try:
            # Inside the try, as in write(): Ctrl+C just after BEGIN must not leave the read
            # transaction open (every later write of this connection would join it as a
            # savepoint, and go when the connection closes).
            self.conn.execute("BEGIN DEFERRED")
            yield
        finally:
            # Run late when Ctrl+C left this generator suspended (closed with its traceback,
            # after the project): nothing to end then.
            with contextlib.suppress(sqlite3.ProgrammingError):
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` after each committed change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, table: str, ids: Iterable[int] = ()) -> None:
        self._pending_changes.append(Change(table, tuple(ids)))

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        return [dict(row) for row in self.conn.execute(sql, params)]

    def read_only_error(self) -> ProjectError:
        """What a change of a read-only project is told (one wording everywhere)."""
        return ProjectError(
            f"{self.db_path}: the project is read-only here, so it can be viewed and "
            "exported but not changed; make the folder and the file writable to edit it"
        )

    def _row(self, table: str, row_id: int) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        return rows[0] if rows else None

    def _savepoint_rolled_back(self) -> None:
        """Called when a nested write's savepoint is rolled back (the outer one goes on)."""
