"""What every part of a :class:`~tfstudio.store.project.Project` shares: its folder, the
connection, write transactions and the change notices sent after each commit.

Every public write is its own ``BEGIN IMMEDIATE`` transaction, committed before the method
returns, so an edit is on disk the moment it is made and two processes (GUI and trainer) queue
for the write lock instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
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

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (nested calls become savepoints of the outer one)."""
        if self.conn.in_transaction:
            try:
                with self.db.atomic():
                    yield
            except BaseException:
                self._savepoint_rolled_back()
                raise
            return
        if self.read_only:
            raise self.read_only_error()
        # IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        # transaction that upgrades later can fail at once with "database is locked".
        try:
            # Inside the try, so a Ctrl+C that lands just after BEGIN does not leave the
            # transaction open (every later write of this connection would go into it).
            self.conn.execute("BEGIN IMMEDIATE")
            yield
            # Inside the try: a COMMIT that fails (a full disk) is rolled back, not left open.
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._pending_changes.clear()
            if isinstance(exc, sqlite3.IntegrityError):
                # e.g. an event naming a recording or class that does not exist (any more)
                raise ProjectError(f"change refused, nothing was written: {exc}") from exc
            raise
        changes, self._pending_changes = self._pending_changes, []
        for change in changes:
            for listener in list(self._listeners):
                listener(change)

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
