"""What every part of a :class:`~tfstudio.store.project.Project` shares: its folder, the
connection, write transactions and the change notices sent after each commit.

Every public write is its own ``BEGIN IMMEDIATE`` transaction, committed before the method
returns, so an edit is on disk the moment it is made and two processes (GUI and trainer) queue
for the write lock instead of failing with "database is locked".

Ctrl+C (KeyboardInterrupt) can land where nothing ends the transaction a block began (as its
``__exit__`` is called, before that runs a line; or in its clean-up). Left open, it would take
in every later write of the connection as a savepoint, and they would all go when the
connection closes. So the outermost block that began a transaction is its owner, and the next
block of this store to begin rolls back a transaction whose owner is no longer inside its
``with`` (:meth:`StoreBase._end_leftover`). Any other open transaction is one of our blocks
still open, or the caller's own: a block joins it, as a savepoint, and leaves it be.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import types
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
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


class _HeldExit:
    """A block's ``__exit__``: its ``_exit``, bound as a method would be, and noted weakly on
    the block when a ``with`` statement loads it.

    A ``with`` statement loads ``__exit__`` before it calls ``__enter__`` and keeps it until it
    calls it (the language reference, "The with statement"), so the bound method lives exactly
    as long as the block is inside its statement, however the statement ends. Ctrl+C landing as
    ``__exit__`` is called, before its first line, ends the statement with the transaction still
    open and the block's own records saying "open"; the method goes as the interrupt leaves the
    statement (the block itself lives on in the traceback).
    """

    def __get__(self, block: _Block | None, owner: type[_Block]) -> Any:
        if block is None:  # looked up on the class (contextlib.ExitStack does): no note
            return owner._exit
        method = types.MethodType(owner._exit, block)
        if not block.entered:
            block.held = weakref.ref(method)
        return method


class _Block:
    """A transaction block of a store: a write, a snapshot or a savepoint of temp tables.

    A class, not a generator: with ``contextlib.contextmanager`` Ctrl+C could land in its
    ``__enter__`` just after the generator had begun the transaction and before the ``with``
    block was entered; nothing then ended it until the traceback went (its clean-up, run once
    the project had closed, printed "Exception ignored … Cannot operate on a closed
    database"). Here every statement is inside a try that ends what it began, and ``__enter__``
    returns straight into the ``with`` block.
    """

    __exit__ = _HeldExit()

    def __init__(self, store: StoreBase):
        self.store = store
        self.entered = False
        self.open = False
        """Whether this block began the transaction and its exit has not begun."""
        self.held: weakref.ref[Any] | None = None

    def _entering(self) -> None:
        self.entered = True
        if self.held is not None and self.held() is None:
            # Whatever looked __exit__ up does not keep it: rely on the block's own records.
            self.held = None
        self.store._end_leftover()

    def _own(self) -> None:
        """Note this block as the one beginning the transaction (just before it does)."""
        self.open = True
        self.store._owner = self

    def inside_with(self) -> bool:
        """Whether this block, having begun the transaction, is still inside its ``with``."""
        return self.open and (self.held is None or self.held() is not None)

    def _exit(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        raise NotImplementedError


class _Write(_Block):
    """The context manager :meth:`StoreBase.write` returns."""

    _savepoints = itertools.count(1)

    def __init__(self, store: StoreBase):
        super().__init__(store)
        self.savepoint: str | None = None

    def __enter__(self) -> None:
        self._entering()
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
            self._own()
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._roll_back()
            raise

    def _exit(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self.open = False
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
            try:
                for change in changes:
                    for listener in list(store._listeners):
                        listener(change)
            finally:
                # Not before: a transaction a listener leaves open (Ctrl+C as it ran) is a
                # leftover of this block too.
                store._disown(self)
            return
        self._roll_back()
        if isinstance(exc, sqlite3.IntegrityError):
            # e.g. an event naming a recording or class that does not exist (any more)
            raise ProjectError(f"change refused, nothing was written: {exc}") from exc

    def _roll_back(self) -> None:
        self.open = False
        store = self.store
        store._pending_changes.clear()
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection has closed
            if store.conn.in_transaction:
                store.conn.execute("ROLLBACK")
        store._disown(self)

    def _roll_back_savepoint(self) -> None:
        # An error such as a failed COMMIT of a trigger's RAISE(ROLLBACK) may have ended the
        # whole transaction, the savepoint with it: then there is nothing to take back here.
        conn = self.store.conn
        with contextlib.suppress(sqlite3.Error, ProjectError):
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {self.savepoint}")
                conn.execute(f"RELEASE SAVEPOINT {self.savepoint}")
        self.store._savepoint_rolled_back()


class _Snapshot(_Block):
    """The context manager :meth:`StoreBase.snapshot` returns."""

    def __enter__(self) -> None:
        self._entering()
        conn = self.store.conn
        if conn.in_transaction:  # inside a block of ours, or the caller's transaction
            return
        try:
            self._own()
            conn.execute("BEGIN DEFERRED")
        except BaseException:
            self._end()
            raise

    def _exit(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self.open:
            self._end()

    def _end(self) -> None:
        self.open = False
        store = self.store
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection has closed
            if store.conn.in_transaction:
                store.conn.execute("COMMIT")
        store._disown(self)


class _Savepoint(_Block):
    """The context manager :meth:`StoreBase._savepoint` returns."""

    def __init__(self, store: StoreBase, name: str):
        super().__init__(store)
        self.name = name

    def __enter__(self) -> None:
        self._entering()
        conn = self.store.conn
        try:
            if not conn.in_transaction:
                self._own()  # the savepoint begins a (deferred) transaction
            conn.execute(f"SAVEPOINT {self.name}")
        except BaseException:
            self._roll_back()
            raise

    def _exit(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self.open = False
        if kind is None:
            try:
                self.store.conn.execute(f"RELEASE SAVEPOINT {self.name}")
            except BaseException:
                self._roll_back()
                raise
            self.store._disown(self)
            return
        self._roll_back()

    def _roll_back(self) -> None:
        self.open = False
        conn = self.store.conn
        # Released as well: the savepoint that began the transaction ends it so.
        with contextlib.suppress(sqlite3.Error, ProjectError):
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {self.name}")
                conn.execute(f"RELEASE SAVEPOINT {self.name}")
        self.store._disown(self)


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
        self._owner: _Block | None = None
        """The outermost block that began the open transaction, until it is over."""

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def write(self) -> _Write:
        """One write transaction (nested calls become savepoints of the outer one)."""
        return _Write(self)

    def snapshot(self) -> _Snapshot:
        """One read transaction: every query in the block sees the project as its first query
        did, whatever other processes commit meanwhile (an export that reads a recording at a
        time writes one consistent state). No writes inside it."""
        return _Snapshot(self)

    def _savepoint(self, name: str) -> _Savepoint:
        """A savepoint for this connection's temp tables: a transaction of its own when none
        is open, without the project's write lock (as :meth:`write` would take)."""
        return _Savepoint(self, name)

    def _end_leftover(self) -> None:
        """Roll back a transaction that a block of this store began and that no block holds
        any more: an interrupt ended the block but not its transaction (see :class:`_HeldExit`).
        Called as each block begins."""
        owner = self._owner
        if owner is None or owner.inside_with():
            return
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
            self._pending_changes.clear()  # never committed: no notices
        self._owner = None

    def _disown(self, block: _Block) -> None:
        """Forget ``block`` as the owner of the transaction once that is over."""
        if self._owner is block:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed: nothing is open
                if self.conn.in_transaction:
                    return
            self._owner = None

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
