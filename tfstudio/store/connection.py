"""The project's SQLite connection: checks before opening, and errors a user can act on.

Every statement runs through :class:`Connection`, which turns SQLite failures that come from
outside the program (a damaged or read-only file, a full disk, a missing WAL) into
:class:`~tfstudio.store.errors.DatabaseProblem` naming the file and what to do, wherever in the
program they surface.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tfstudio.store.errors import DatabaseProblem, ProjectError, describe

BUSY_TIMEOUT_S = 60.0

Params = Any  # what sqlite3 takes: a sequence or a mapping


class Cursor(sqlite3.Cursor):
    """A cursor whose SQLite failures read as :class:`DatabaseProblem`."""

    connection: Connection

    def _problem(self, exc: sqlite3.Error) -> BaseException:
        return describe(exc, self.connection.db_path) or exc

    def execute(self, sql: str, parameters: Params = (), /) -> Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def executemany(self, sql: str, seq_of_parameters: Iterable[Params], /) -> Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def executescript(self, sql_script: str, /) -> Cursor:
        try:
            super().executescript(sql_script)
            return self
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise self._problem(exc) from exc


class Connection(sqlite3.Connection):
    """The project's connection; ``db_path`` is the file it opened."""

    db_path: Path

    def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Params = (), /) -> Cursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor:  # type: ignore[override]
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> Cursor:  # type: ignore[override]
        return self.cursor().executescript(sql_script)


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def check_file(db_path: Path) -> None:
    """Refuse what SQLite would quietly treat as a new, empty database, and unreadable files.

    Only ``stat`` and ``access``, never ``open``: closing any descriptor of the database file
    drops every POSIX lock this process holds on it (fcntl semantics), including those of an
    open connection to the same project (the window's, while a dialog opens it again), and
    another process may then checkpoint the WAL under that connection's reads
    (SQLITE_IOERR_SHORT_READ). A file that is not a database is refused by SQLite itself
    (SQLITE_NOTADB, described in :mod:`tfstudio.store.errors`).
    """
    try:
        size = db_path.stat().st_size
    except OSError as exc:
        raise ProjectError(
            f"{db_path}: cannot read the project database ({exc.strerror or exc}); "
            "check the disk and the file"
        ) from None
    if not os.access(db_path, os.R_OK):
        raise ProjectError(
            f"{db_path}: cannot read the project database (permission denied); "
            "make it readable for you and try again"
        )
    if size == 0 and not _has_content(db_path.with_name(db_path.name + "-wal")):
        raise ProjectError(
            f"{db_path}: the project database is empty (0 bytes), so its labels and runs are "
            f"gone; restore it from a backup, or delete it and run 'tfstudio init "
            f"{db_path.parent}' to start again"
        )


def writable(db_path: Path) -> bool:
    """Whether this process may change the project: the file and its folder (SQLite keeps
    ``-wal`` and ``-shm`` files beside the database)."""
    return os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK)


def connect(db_path: Path, *, read_only: bool) -> Connection:
    """Open ``db_path`` without writing to it (see :func:`use_wal`)."""
    if read_only:
        conn = _open_read_only(db_path)
    else:
        conn = _open(str(db_path), uri=False, db_path=db_path)
    try:
        _configure(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _open(target: str, *, uri: bool, db_path: Path) -> Connection:
    try:
        conn = sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=True,
            factory=Connection,
            uri=uri,
        )
    except sqlite3.Error as exc:
        raise (describe(exc, db_path) or exc) from exc
    assert isinstance(conn, Connection)
    conn.db_path = db_path
    conn.row_factory = sqlite3.Row
    return conn


def _open_read_only(db_path: Path) -> Connection:
    target = "file:" + quote(str(db_path.absolute()))
    conn = _open(f"{target}?mode=ro", uri=True, db_path=db_path)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except DatabaseProblem as exc:
        conn.close()
        if exc.code != "SQLITE_CANTOPEN" and not exc.code.startswith("SQLITE_READONLY"):
            raise
    # A WAL database in a folder we may not write, without its -shm file: SQLite cannot
    # share the WAL index, but nobody can be writing here either, so read the file as is.
    return _open(f"{target}?immutable=1", uri=True, db_path=db_path)


def _configure(conn: Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Reading the schema first tells "not a database" and damage apart from an empty file.
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def use_wal(conn: Connection) -> None:
    """WAL mode (a write the first time) and full syncs; only once the file is known to be
    a project this code may write."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ProjectError(f"{conn.db_path}: cannot switch the database to WAL mode ({mode})")
    # FULL: a committed label survives a power cut, not only a killed process.
    conn.execute("PRAGMA synchronous = FULL")
