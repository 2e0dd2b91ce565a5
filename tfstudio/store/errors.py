"""Errors of the project store, worded for the person who has to act on them."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


class ProjectError(Exception):
    """A problem with the project a user can act on (missing folder, bad value...)."""


class AmbiguousRecording(ProjectError):
    """A name that several recordings of the project answer to (the same file name in
    different folders); the message lists their paths and how to pick one."""

    def __init__(self, name: str, paths: list[str]):
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        super().__init__(
            f"{name!r} matches {len(paths)} recordings ({shown}); "
            "name it with its folder (e.g. the path as the project shows it)"
        )
        self.name = name
        self.paths = paths


class DatabaseProblem(ProjectError, sqlite3.DatabaseError):
    """SQLite failed for a reason outside the program: a damaged or read-only file, a full
    disk, a lock held too long. The message names the file and what to do; ``code`` is
    SQLite's error name (e.g. ``SQLITE_CORRUPT``). Still an ``sqlite3.DatabaseError`` for
    callers that catch those."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


# SQLite's primary result codes (the extended codes keep them in the low byte).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _PERM, _NOTADB = (
    5,
    6,
    8,
    10,
    11,
    13,
    14,
    3,
    26,
)


def describe(exc: sqlite3.Error, db_path: Path) -> DatabaseProblem | None:
    """The user-facing form of ``exc``, or None when it is a programming error (bad SQL...)."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    primary = code & 0xFF if isinstance(code, int) else None
    root = db_path.parent
    if primary == _CORRUPT or "malformed" in text:
        message = (
            f"{db_path}: the database is damaged ({text}); restore it from a backup, or save "
            f"what is readable with 'sqlite3 {db_path} .recover | sqlite3 recovered.sqlite'"
        )
    elif primary == _NOTADB or "not a database" in text:
        message = (
            f"{db_path}: not a SQLite database (the file is damaged, truncated or was "
            "overwritten); restore it from a backup"
        )
    elif primary == _READONLY or "readonly database" in text:
        message = (
            f"{db_path}: the project is read-only here, so it can be viewed and exported but "
            "not changed; make the folder and the file writable to edit it"
        )
    elif primary == _FULL or "disk is full" in text:
        message = f"{db_path}: the disk is full, nothing of this change was written; free space and try again"
    elif (primary == _IOERR or "disk I/O error" in text) and _disk_full(root):
        # SQLite says I/O error (SQLITE_IOERR_SHMSIZE, _WRITE...) where the write-ahead log or
        # its index could not grow: the cause is the full disk, not a damaged project.
        message = (
            f"{db_path}: the disk holding the project is full ({name or text}), so the "
            "database cannot be opened or changed; free space and try again"
        )
    elif primary == _IOERR or "disk I/O error" in text:
        wal = db_path.with_name(db_path.name + "-wal")
        shm = db_path.with_name(db_path.name + "-shm")
        wal_lost = shm.exists() and (not wal.exists() or wal.stat().st_size == 0)
        hint = (
            f"{wal.name} is missing while {shm.name} is there (deleted while the project was "
            "open?): close every tfstudio on this project and open it again"
            if wal_lost
            else f"check the disk and the file's permissions, then run 'tfstudio check {root}'"
        )
        message = f"{db_path}: disk I/O error reading or writing the database ({name}); {hint}"
    elif primary in (_CANTOPEN, _PERM):
        message = (
            f"{db_path}: cannot open the database ({text}); check that the folder and the file "
            "exist and that you may read them"
        )
    elif primary in (_BUSY, _LOCKED):
        message = (
            f"{db_path}: another tfstudio process kept the database locked too long; "
            "try again when it has finished (an import or a training run)"
        )
    else:
        return None
    return DatabaseProblem(message, name)


def _disk_full(folder: Path, *, below: int = 1 << 20) -> bool:
    """Whether the file system holding ``folder`` has (almost) no space left."""
    try:
        return shutil.disk_usage(folder).free < below
    except OSError:
        return False
