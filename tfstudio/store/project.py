"""A tfstudio project: a folder with ``project.sqlite``, caches and checkpoints.

Every public write is its own ``BEGIN IMMEDIATE`` transaction, committed before the method
returns, so an edit is on disk the moment it is made and two processes (GUI and trainer) queue
for the write lock instead of failing with "database is locked". Opening only reads unless the
schema needs an upgrade or a dead run needs marking, so reading never queues behind a writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from tfstudio.store.colors import next_class_color
from tfstudio.store.connection import (
    BUSY_TIMEOUT_S,
    Connection,
    check_file,
    connect,
    use_wal,
    writable,
)
from tfstudio.store.errors import DatabaseProblem, ProjectError
from tfstudio.store.names import check_class_name
from tfstudio.store.records import Event, EventClass, Recording, Run
from tfstudio.store.runs import DEAD_RUN_MESSAGE, ProcessStamp, process_gone
from tfstudio.store.schema import (
    MIGRATION_NAMES,
    REVIEW_STATES,
    RUN_STATUSES,
    SCHEMA_VERSION,
    SOURCES,
    SPLITS,
    migrations,
)

__all__ = [
    "BUSY_TIMEOUT_S",
    "DB_NAME",
    "AddResult",
    "Change",
    "DatabaseProblem",
    "NewEvents",
    "Project",
    "ProjectError",
]

DB_NAME = "project.sqlite"
# Marking dead runs on open is a courtesy: it never waits long behind another writer.
REAP_TIMEOUT_S = 0.5

EVENT_FIELDS = (
    "recording_id",
    "class_id",
    "onset",
    "offset",
    "low_hz",
    "high_hz",
    "source",
    "confidence",
    "run_id",
    "review",
)
EDITABLE_EVENT_FIELDS = frozenset(EVENT_FIELDS)
EDITABLE_CLASS_FIELDS = frozenset({"name", "color", "hotkey", "position"})
RUN_FIELDS = frozenset(
    {
        "name",
        "config",
        "status",
        "message",
        "device",
        "pid",
        "best_checkpoint",
        "last_checkpoint",
        "started_at",
        "finished_at",
    }
)


# Ground truth: human labels plus model detections a user accepted.
LABEL_SQL = "(source = 'human' OR review = 'accepted')"


@dataclass(frozen=True)
class Change:
    """What a committed write touched; passed to listeners so views can refresh."""

    table: str
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class NewEvents:
    """Outcome of :meth:`Project.add_new_events`: the ids added, and how many rows the
    project already had."""

    ids: list[int]
    existing: int


@dataclass(frozen=True)
class AddResult:
    """Outcome of adding one recording: 'added', 'exists' (same file) or 'moved'."""

    recording_id: int
    status: str


def _class_name(name: str) -> str:
    """The stripped name, or ProjectError saying why it cannot name a class."""
    try:
        return check_class_name(name)
    except ValueError as exc:
        if not name.strip():
            raise ProjectError("a class needs a name") from None
        raise ProjectError(f"{exc}; choose another name") from None


class Project:
    """One project folder and its database connection (owned by the opening thread)."""

    def __init__(self, root: Path, conn: Connection, *, read_only: bool = False):
        self.root = root
        self.conn = conn
        self.db = Database(conn)
        self.read_only = read_only
        """True when this process may not change the project (a read-only file or folder):
        it can be viewed and exported; every write raises :class:`ProjectError`."""
        self._listeners: list[Callable[[Change], None]] = []
        self._pending_changes: list[Change] = []
        self._group_id: int | None = None
        self._redo_dropped = False

    # ----------------------------------------------------------------- opening
    @classmethod
    def create(cls, root: Path | str) -> Project:
        """Make a new project in ``root`` (created if needed); error if one is already there."""
        root = Path(root)
        if (root / DB_NAME).exists():
            raise ProjectError(f"{root}: already a tfstudio project")
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root}: exists and is not a folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(
                f"{root}: cannot create the project folder ({exc.strerror})"
            ) from None
        return cls._connect(root, creating=True)

    @classmethod
    def open(cls, root: Path | str, *, create: bool = False, mark_dead: bool = True) -> Project:
        """Open the project in ``root``; with ``create`` make it when missing.

        An empty, unreadable or damaged database, or one made by a newer tfstudio, is a
        :class:`ProjectError` with what to do; never a fresh project over the old one. A
        project this process may not write opens read-only (:attr:`read_only`). Runs whose
        process has ended are marked stopped (:meth:`mark_dead_runs`) unless ``mark_dead`` is
        False.
        """
        root = Path(root)
        if not (root / DB_NAME).exists():
            if create:
                return cls.create(root)
            raise ProjectError(
                f"{root}: not a tfstudio project (no {DB_NAME}); "
                f"create one with 'tfstudio init {root}'"
            )
        return cls._connect(root, mark_dead=mark_dead)

    @classmethod
    def _connect(cls, root: Path, *, creating: bool = False, mark_dead: bool = True) -> Project:
        db_path = root / DB_NAME
        read_only = False
        if not creating:
            check_file(db_path)
            read_only = not writable(db_path)
        conn = connect(db_path, read_only=read_only)
        project = cls(root, conn, read_only=read_only)
        try:
            project._bring_schema_up_to_date(creating=creating)
            if not read_only:
                for folder in (project.cache_dir, project.runs_dir):
                    folder.mkdir(exist_ok=True)
                if mark_dead:
                    project.mark_dead_runs(wait=False)
        except BaseException:
            conn.close()
            raise
        return project

    def schema_version(self) -> tuple[int, list[str]]:
        """(PRAGMA user_version, names of the applied tfstudio migrations)."""
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        applied = [m.name for m in migrations.applied(self.db)]
        return version, applied

    def _refuse_newer(self, version: int, applied: list[str]) -> None:
        unknown = [name for name in applied if name not in MIGRATION_NAMES]
        if version > SCHEMA_VERSION or unknown:
            found = max(version, len(applied))
            raise ProjectError(
                f"{self.db_path}: made by a newer tfstudio (schema {found} > {SCHEMA_VERSION}); "
                "update tfstudio to open this project"
            )

    def _bring_schema_up_to_date(self, *, creating: bool) -> None:
        # Read first: an up-to-date project opens without the write lock, so opening to read
        # never waits behind an import or a training run.
        version, applied = self.schema_version()
        self._refuse_newer(version, applied)
        if not applied and not creating:
            tables = self.conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if tables:
                raise ProjectError(
                    f"{self.db_path}: a SQLite database, but not a tfstudio project's; "
                    "open the folder that holds your project"
                )
        if not self.read_only:
            use_wal(self.conn)
        if version == SCHEMA_VERSION and len(applied) == len(MIGRATION_NAMES):
            return
        if self.read_only:
            raise ProjectError(
                f"{self.db_path}: made by an older tfstudio and needs an upgrade, but the "
                "project is read-only here; open it once where it may be written"
            )
        with self.write():
            version, applied = self.schema_version()  # another process may have upgraded it
            self._refuse_newer(version, applied)
            migrations.apply(self.db)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    def integrity_problems(self, *, limit: int = 20) -> list[str]:
        """What ``PRAGMA integrity_check`` reports (empty when the database is sound)."""
        try:
            rows = self.conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
        except DatabaseProblem as exc:
            return [str(exc)]
        # One row may hold several problems, one per line.
        lines = [
            line
            for row in rows
            for line in str(row[0]).splitlines()
            if line.strip() and not line.startswith("***")  # "*** in database main ***"
        ]
        return [] if lines == ["ok"] else lines

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: int) -> Path:
        """The folder of a run's checkpoints and posteriors."""
        return self.runs_dir / f"run-{run_id}"

    def data_version(self) -> int:
        """Changes whenever another connection commits: cheap polling for external writes."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # ------------------------------------------------------------- transactions
    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (nested calls become savepoints of the outer one)."""
        if self.conn.in_transaction:
            try:
                with self.db.atomic():
                    yield
            except BaseException:
                self._redo_dropped = False  # the savepoint's rollback may restore the redo stack
                raise
            return
        if self.read_only:
            raise ProjectError(
                f"{self.db_path}: the project is read-only here, so it can be viewed and "
                "exported but not changed; make the folder and the file writable to edit it"
            )
        # IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        # transaction that upgrades later can fail at once with "database is locked".
        self.conn.execute("BEGIN IMMEDIATE")
        try:
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

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` after each committed change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, table: str, ids: Iterable[int] = ()) -> None:
        self._pending_changes.append(Change(table, tuple(ids)))

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        return [dict(row) for row in self.conn.execute(sql, params)]

    # --------------------------------------------------------------- recordings
    def relative_path(self, path: Path | str) -> str:
        """Path as stored: relative to the project folder when inside it, else absolute."""
        path = Path(path).absolute()
        root = self.root.absolute()
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def absolute_path(self, recording: Recording) -> Path:
        path = Path(recording.path)
        return path if path.is_absolute() else self.root / path

    def add_recording(
        self,
        *,
        path: Path | str,
        sample_rate: int,
        channels: int,
        frames: int,
        duration: float,
        size: int,
        mtime: float,
        content_hash: str,
        split: str | None = None,
        **_ignored: Any,
    ) -> AddResult:
        """Register an audio file; the same file again is a no-op, a known hash at a new path
        is recorded as a move (the path is updated, labels kept)."""
        if split is not None and split not in SPLITS:
            raise ProjectError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        stored = self.relative_path(path)
        name = Path(path).name
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        with self.write():
            same = self.conn.execute(
                "SELECT id FROM recordings WHERE path = ?", (stored,)
            ).fetchone()
            if same is not None:
                self.conn.execute(
                    "UPDATE recordings SET size=?, mtime=?, content_hash=?, sample_rate=?, channels=?,"
                    " frames=?, duration=?, status='ok' WHERE id=?",
                    (size, mtime, content_hash, sample_rate, channels, frames, duration, same[0]),
                )
                if split is not None:
                    self.conn.execute("UPDATE recordings SET split=? WHERE id=?", (split, same[0]))
                self._changed("recordings", [same[0]])
                return AddResult(same[0], "exists")
            moved = self.conn.execute(
                "SELECT id, path FROM recordings WHERE content_hash = ? AND size = ?",
                (content_hash, size),
            ).fetchall()
            for row in moved:
                if not self.absolute_path(self.recording(row[0])).exists():
                    self.conn.execute(
                        "UPDATE recordings SET path=?, name=?, stem=?, mtime=?, status='ok'"
                        " WHERE id=?",
                        (stored, name, stem, mtime, row[0]),
                    )
                    self._changed("recordings", [row[0]])
                    return AddResult(row[0], "moved")
            cursor = self.conn.execute(
                "INSERT INTO recordings (path, name, stem, size, mtime, content_hash, sample_rate,"
                " channels, frames, duration, split, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored,
                    name,
                    stem,
                    size,
                    mtime,
                    content_hash,
                    sample_rate,
                    channels,
                    frames,
                    duration,
                    split,
                    time.time(),
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            self._changed("recordings", [new_id])
            return AddResult(new_id, "added")

    def recordings(self, split: str | None = None) -> list[Recording]:
        if split is None:
            rows = self._rows("SELECT * FROM recordings ORDER BY name, id")
        else:
            rows = self._rows(
                "SELECT * FROM recordings WHERE split = ? ORDER BY name, id", (split,)
            )
        return [Recording.from_row(r) for r in rows]

    def recording(self, recording_id: int) -> Recording:
        rows = self._rows("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        if not rows:
            raise ProjectError(f"no recording with id {recording_id}")
        return Recording.from_row(rows[0])

    def find_recording(self, name: str) -> Recording | None:
        """A recording by file name (``rec1.wav``), stored path, or stem (``rec1``)."""
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        for sql, key in (
            ("SELECT * FROM recordings WHERE path = ?", name),
            ("SELECT * FROM recordings WHERE name = ?", base),
            ("SELECT * FROM recordings WHERE stem = ?", base),
        ):
            rows = self._rows(sql + " ORDER BY id", (key,))
            if rows:
                return Recording.from_row(rows[0])
        return None

    def set_split(self, recording_ids: Iterable[int], split: str | None) -> None:
        if split is not None and split not in SPLITS:
            raise ProjectError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        ids = list(recording_ids)
        with self.write():
            self.conn.executemany(
                "UPDATE recordings SET split = ? WHERE id = ?", [(split, i) for i in ids]
            )
            self._changed("recordings", ids)

    def check_files(self, *, record: bool = True) -> list[tuple[Recording, str]]:
        """Recordings whose file is missing or changed since import; with ``record`` (and a
        writable project) their status is stored too."""
        problems: list[tuple[Recording, str]] = []
        updates: list[tuple[str, int]] = []
        for rec in self.recordings():
            path = self.absolute_path(rec)
            try:
                stat = path.stat()
            except OSError:
                status = "missing"
            else:
                status = "changed" if stat.st_size != rec.size else "ok"
            if status != rec.status:
                updates.append((status, rec.id))
            if status != "ok":
                problems.append((rec, f"{status}: {path}"))
        if updates and record and not self.read_only:
            with self.write():
                self.conn.executemany("UPDATE recordings SET status = ? WHERE id = ?", updates)
                self._changed("recordings", [i for _, i in updates])
        return problems

    # ------------------------------------------------------------------ classes
    def classes(self) -> list[EventClass]:
        rows = self._rows("SELECT * FROM classes ORDER BY position, id")
        return [EventClass.from_row(r) for r in rows]

    def class_by_name(self, name: str) -> EventClass | None:
        rows = self._rows("SELECT * FROM classes WHERE name = ?", (name,))
        return EventClass.from_row(rows[0]) if rows else None

    def add_class(
        self, name: str, *, color: str | None = None, hotkey: str | None = None
    ) -> EventClass:
        name = _class_name(name)
        with self.write(), self._history_group(f"add class {name}"):
            if self.class_by_name(name) is not None:
                raise ProjectError(f"class {name!r} already exists")
            count, max_pos = self.conn.execute(
                "SELECT count(*), coalesce(max(position), -1) FROM classes"
            ).fetchone()
            if hotkey is None and count < 9:
                used = {r[0] for r in self.conn.execute("SELECT hotkey FROM classes")}
                hotkey = next((str(k) for k in range(1, 10) if str(k) not in used), None)
            if not color:
                colors = [r[0] for r in self.conn.execute("SELECT color FROM classes")]
                color = next_class_color(colors)
            cursor = self.conn.execute(
                "INSERT INTO classes (name, color, hotkey, position) VALUES (?, ?, ?, ?)",
                (name, color, hotkey, max_pos + 1),
            )
            class_id = int(cursor.lastrowid or 0)
            self._record("classes", class_id, None, self._row("classes", class_id))
            self._changed("classes", [class_id])
        return self.event_class(class_id)

    def ensure_class(self, name: str, **kwargs: Any) -> EventClass:
        """The class called ``name``, added when missing (safe against another process adding
        it at the same moment)."""
        existing = self.class_by_name(name.strip())
        if existing is not None:
            return existing
        with self.write():
            existing = self.class_by_name(name.strip())
            return existing if existing is not None else self.add_class(name, **kwargs)

    def event_class(self, class_id: int) -> EventClass:
        rows = self._rows("SELECT * FROM classes WHERE id = ?", (class_id,))
        if not rows:
            raise ProjectError(f"no class with id {class_id}")
        return EventClass.from_row(rows[0])

    def update_class(self, class_id: int, **changes: Any) -> EventClass:
        """Rename, recolour, rebind the hotkey or move a class (one undoable step)."""
        unknown = set(changes) - EDITABLE_CLASS_FIELDS
        if unknown:
            raise ProjectError(f"cannot change class field(s): {', '.join(sorted(unknown))}")
        if "name" in changes:
            changes["name"] = _class_name(str(changes["name"]))
            other = self.class_by_name(changes["name"])
            if other is not None and other.id != class_id:
                raise ProjectError(
                    f"class {changes['name']!r} already exists; merge the classes instead"
                )
        with self.write(), self._history_group(f"edit class {class_id}"):
            self._update_row("classes", class_id, changes)
            self._changed("classes", [class_id])
        return self.event_class(class_id)

    def merge_classes(self, source_ids: Iterable[int], target_id: int) -> int:
        """Move every event of the source classes to the target and drop the sources."""
        sources = [i for i in source_ids if i != target_id]
        target = self.event_class(target_id)
        moved = 0
        with self.write(), self._history_group(f"merge into {target.name}"):
            for source in sources:
                for row in self._rows("SELECT id FROM events WHERE class_id = ?", (source,)):
                    self._update_row("events", row["id"], {"class_id": target_id})
                    moved += 1
                self._delete_row("classes", source)
            self._changed("classes", [*sources, target_id])
            self._changed("events")
        return moved

    def delete_class(self, class_id: int) -> None:
        """Delete a class and its events (one undoable step)."""
        cls = self.event_class(class_id)
        with self.write(), self._history_group(f"delete class {cls.name}"):
            for row in self._rows("SELECT id FROM events WHERE class_id = ?", (class_id,)):
                self._delete_row("events", row["id"])
            self._delete_row("classes", class_id)
            self._changed("classes", [class_id])
            self._changed("events")

    # ------------------------------------------------------------------- events
    def _check_event(self, values: Mapping[str, Any]) -> None:
        onset, offset = values.get("onset"), values.get("offset")
        if onset is not None and onset < 0:
            raise ProjectError(f"onset {onset} is negative")
        if onset is not None and offset is not None and offset < onset:
            raise ProjectError(f"offset {offset} is before onset {onset}")
        low, high = values.get("low_hz"), values.get("high_hz")
        if low is not None and high is not None and high < low:
            raise ProjectError(f"high frequency {high} is below low frequency {low}")
        if values.get("source", "human") not in SOURCES:
            raise ProjectError(f"source must be one of {', '.join(SOURCES)}")
        if values.get("review", "none") not in REVIEW_STATES:
            raise ProjectError(f"review must be one of {', '.join(REVIEW_STATES)}")

    def add_event(
        self,
        recording_id: int,
        class_id: int,
        onset: float,
        offset: float,
        **extra: Any,
    ) -> Event:
        """Add one event (an undoable step when it is a human label)."""
        ids = self.add_events(
            [
                dict(
                    recording_id=recording_id,
                    class_id=class_id,
                    onset=onset,
                    offset=offset,
                    **extra,
                )
            ],
            description="add event",
        )
        return self.event(ids[0])

    def add_events(
        self, rows: Sequence[Mapping[str, Any]], *, description: str = "add events"
    ) -> list[int]:
        """Insert many events in one transaction; human ones form one undoable step."""
        now = time.time()
        ids: list[int] = []
        with self.write(), self._history_group(description):
            for row in rows:
                unknown = set(row) - EDITABLE_EVENT_FIELDS
                if unknown:
                    raise ProjectError(f"unknown event field(s): {', '.join(sorted(unknown))}")
                values = {
                    "low_hz": None,
                    "high_hz": None,
                    "source": "human",
                    "confidence": None,
                    "run_id": None,
                    "review": "none",
                    **row,
                }
                self._check_event(values)
                values["onset"] = float(values["onset"])
                values["offset"] = float(values["offset"])
                values["created_at"] = values["updated_at"] = now
                cols = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                cursor = self.conn.execute(
                    f"INSERT INTO events ({cols}) VALUES ({marks})", tuple(values.values())
                )
                event_id = int(cursor.lastrowid or 0)
                ids.append(event_id)
                if values["source"] == "human":
                    self._record("events", event_id, None, self._row("events", event_id))
            self._changed("events", ids)
        return ids

    def add_new_events(
        self, rows: Sequence[Mapping[str, Any]], *, description: str = "import events"
    ) -> NewEvents:
        """Add the events the project does not have yet: all or nothing, one undoable step.

        An event is there already when one with the same recording, class, onset, offset,
        frequencies and source exists; repeats count (rows listing an event twice add it twice
        unless the project has it twice). The check and the insert are one write transaction,
        so two imports of the same file at once add it once. The rows are checked and staged
        in a temporary table first: the write lock is held only for a few set-based
        statements, not while a large file is read, and other processes' edits do not wait
        behind the import.
        """
        now = time.time()
        staged = self._stage_events(rows)
        if not staged:
            return NewEvents([], 0)
        # The undo history's JSON of each row, but for its id, made before taking the lock.
        history_tail = {
            seq: json.dumps(
                {
                    **dict(zip(EVENT_FIELDS, values, strict=True)),
                    "created_at": now,
                    "updated_at": now,
                }
            )[1:]
            for seq, values in enumerate(staged, start=1)
            if values[EVENT_FIELDS.index("source")] == "human"
        }
        key = "recording_id, class_id, onset, offset, low_hz, high_hz, source"
        columns = ", ".join(EVENT_FIELDS)
        with self.write(), self._history_group(description):
            (last,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            self.conn.execute("DELETE FROM temp.event_chosen")
            self.conn.execute(
                "INSERT INTO temp.event_chosen (seq) SELECT seq FROM ("
                f"  SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY seq) AS repeat"
                "   FROM temp.event_stage) AS s"
                " WHERE s.repeat > (SELECT count(*) FROM events e"
                "  WHERE e.recording_id = s.recording_id AND e.onset = s.onset"
                "  AND e.class_id = s.class_id AND e.offset = s.offset AND e.source = s.source"
                "  AND e.low_hz IS s.low_hz AND e.high_hz IS s.high_hz)"
            )
            self.conn.execute(
                f"INSERT INTO events ({columns}, created_at, updated_at)"
                f" SELECT {columns}, ?, ? FROM temp.event_stage"
                " WHERE seq IN (SELECT seq FROM temp.event_chosen) ORDER BY seq",
                (now, now),
            )
            chosen = [
                int(r[0])
                for r in self.conn.execute("SELECT seq FROM temp.event_chosen ORDER BY seq")
            ]
            # Row ids are handed out one after another (no AUTOINCREMENT, the lock is ours).
            ids = list(range(int(last) + 1, int(last) + 1 + len(chosen)))
            (top,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            if int(top) != (ids[-1] if ids else int(last)):
                ids = [
                    int(r[0])
                    for r in self.conn.execute(
                        "SELECT id FROM events WHERE id > ? ORDER BY id", (last,)
                    )
                ]
            human = [
                (event_id, history_tail[seq])
                for event_id, seq in zip(ids, chosen, strict=True)
                if seq in history_tail
            ]
            if human:
                self._drop_redo()
                self.conn.executemany(
                    "INSERT INTO history (group_id, description, table_name, row_id, before,"
                    " after, created_at) VALUES (?, ?, 'events', ?, NULL, ?, ?)",
                    [
                        (self._group_id, description, event_id, f'{{"id": {event_id}, {tail}', now)
                        for event_id, tail in human
                    ],
                )
            self._changed("events", ids)
        self.conn.execute("DELETE FROM temp.event_stage")
        return NewEvents(ids, len(staged) - len(ids))

    def _stage_events(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Check ``rows`` and put them in ``temp.event_stage`` (this connection's own table:
        no lock on the project); returns them as stored, in order (``seq`` 1, 2, ...)."""
        # Not executescript: it would commit a transaction the caller has open.
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS event_stage (seq INTEGER PRIMARY KEY,"
            " recording_id INTEGER, class_id INTEGER, onset REAL, offset REAL, low_hz REAL,"
            " high_hz REAL, source TEXT, confidence REAL, run_id INTEGER, review TEXT)"
        )
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS event_chosen (seq INTEGER PRIMARY KEY)")
        self.conn.execute("DELETE FROM temp.event_stage")
        staged = []
        for row in rows:
            unknown = set(row) - EDITABLE_EVENT_FIELDS
            if unknown:
                raise ProjectError(f"unknown event field(s): {', '.join(sorted(unknown))}")
            values = {
                "low_hz": None,
                "high_hz": None,
                "source": "human",
                "confidence": None,
                "run_id": None,
                "review": "none",
                **row,
            }
            self._check_event(values)
            try:
                # As the columns store them, so the undo history holds what the table does.
                for column in ("onset", "offset", "low_hz", "high_hz", "confidence"):
                    if values[column] is not None:
                        values[column] = float(values[column])
                for column in ("recording_id", "class_id", "run_id"):
                    if values[column] is not None:
                        values[column] = int(values[column])
            except (TypeError, ValueError) as exc:
                raise ProjectError(f"event {dict(row)!r}: {exc}") from None
            staged.append(tuple(values[c] for c in EVENT_FIELDS))
        if not staged:
            return staged
        columns = ", ".join(EVENT_FIELDS)
        marks = ", ".join("?" for _ in EVENT_FIELDS)
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")  # one transaction of the temp database, not per row
        try:
            self.conn.executemany(
                f"INSERT INTO temp.event_stage (seq, {columns}) VALUES (?, {marks})",
                [(seq, *values) for seq, values in enumerate(staged, start=1)],
            )
        except BaseException:
            if own and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        if own:
            self.conn.execute("COMMIT")
        return staged

    def event(self, event_id: int) -> Event:
        rows = self._rows("SELECT * FROM events WHERE id = ?", (event_id,))
        if not rows:
            raise ProjectError(f"no event with id {event_id}")
        return Event.from_row(rows[0])

    def events(
        self,
        recording_id: int | None = None,
        *,
        source: str | None = None,
        run_id: int | None = None,
        class_id: int | None = None,
        review: str | None = None,
    ) -> list[Event]:
        where, params = [], []
        for column, value in (
            ("recording_id", recording_id),
            ("source", source),
            ("run_id", run_id),
            ("class_id", class_id),
            ("review", review),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY recording_id, onset, offset, id"
        return [Event.from_row(r) for r in self._rows(sql, params)]

    def labels(self, recording_id: int | None = None) -> list[Event]:
        """What counts as ground truth: human events and accepted model detections."""
        sql = f"SELECT * FROM events WHERE {LABEL_SQL}"
        params: list[Any] = []
        if recording_id is not None:
            sql += " AND recording_id = ?"
            params.append(recording_id)
        sql += " ORDER BY recording_id, onset, offset, id"
        return [Event.from_row(r) for r in self._rows(sql, params)]

    def label_counts(self) -> dict[int, dict[int, int]]:
        """Labels per class per recording: ``{recording_id: {class_id: n}}``."""
        counts: dict[int, dict[int, int]] = {}
        for rec_id, class_id, n in self.conn.execute(
            f"SELECT recording_id, class_id, count(*) FROM events WHERE {LABEL_SQL}"
            " GROUP BY recording_id, class_id"
        ):
            counts.setdefault(rec_id, {})[class_id] = n
        return counts

    def update_event(self, event_id: int, **changes: Any) -> Event:
        """Move, resize, relabel or review one event (one undoable step)."""
        unknown = set(changes) - EDITABLE_EVENT_FIELDS
        if unknown:
            raise ProjectError(f"cannot change event field(s): {', '.join(sorted(unknown))}")
        current = self.event(event_id)
        self._check_event({**current.to_dict(), **changes})
        with self.write(), self._history_group(f"edit event {event_id}"):
            self._update_row("events", event_id, {**changes, "updated_at": time.time()})
            self._changed("events", [event_id])
        return self.event(event_id)

    def delete_events(self, event_ids: Iterable[int], *, description: str = "delete") -> int:
        ids = list(event_ids)
        with self.write(), self._history_group(f"{description} {len(ids)} event(s)"):
            for event_id in ids:
                self._delete_row("events", event_id)
            self._changed("events", ids)
        return len(ids)

    def delete_event(self, event_id: int) -> None:
        self.delete_events([event_id], description="delete")

    def replace_detections(
        self, run_id: int, recording_id: int, rows: Sequence[Mapping]
    ) -> list[int]:
        """Swap a run's unreviewed detections on one recording for new ones (not undoable:
        detections are regenerated, reviewed ones are kept)."""
        with self.write():
            stale = [
                row[0]
                for row in self.conn.execute(
                    "SELECT id FROM events WHERE source = 'model' AND run_id = ?"
                    " AND recording_id = ? AND review = 'none'",
                    (run_id, recording_id),
                )
            ]
            self.conn.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in stale])
            # Listeners learn which rows went away, not only which arrived.
            self._changed("events", stale)
            ids = self.add_events(
                [
                    {**row, "source": "model", "run_id": run_id, "recording_id": recording_id}
                    for row in rows
                ]
            )
            self._changed("events", ids)
        return ids

    # ------------------------------------------------------------------ history
    @contextlib.contextmanager
    def _history_group(self, description: str) -> Iterator[None]:
        if self._group_id is not None:  # nested: join the outer group
            yield
            return
        (last,) = self.conn.execute("SELECT coalesce(max(group_id), 0) FROM history").fetchone()
        self._group_id = int(last) + 1
        self._group_description = description
        self._redo_dropped = False
        try:
            yield
        finally:
            self._group_id = None

    @contextlib.contextmanager
    def undo_group(self, description: str) -> Iterator[None]:
        """Make every edit inside one undoable step (e.g. an import or a batch review)."""
        with self.write(), self._history_group(description):
            yield

    def _row(self, table: str, row_id: int) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        return rows[0] if rows else None

    def _record(self, table: str, row_id: int, before: dict | None, after: dict | None) -> None:
        if self._group_id is None:
            return
        self._drop_redo()
        self.conn.execute(
            "INSERT INTO history (group_id, description, table_name, row_id, before, after,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._group_id,
                self._group_description,
                table,
                row_id,
                None if before is None else json.dumps(before),
                None if after is None else json.dumps(after),
                time.time(),
            ),
        )

    def _drop_redo(self) -> None:
        # A new edit makes the undone steps unreachable: drop them (the redo stack), once per
        # group: a scan per row made large imports quadratic.
        if not self._redo_dropped:
            self.conn.execute("DELETE FROM history WHERE undone = 1")
            self._redo_dropped = True

    def _update_row(self, table: str, row_id: int, changes: Mapping[str, Any]) -> None:
        before = self._row(table, row_id)
        if before is None:
            raise ProjectError(f"no {table[:-1]} with id {row_id}")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id)
        )
        after = self._row(table, row_id)
        if table == "classes" or (before["source"] == "human" or after["source"] == "human"):  # type: ignore[index]
            self._record(table, row_id, before, after)
        elif changes.get("review") not in (None, "none") or before["review"] != "none":
            # Reviewing a detection is a user decision: undoable like a label edit.
            self._record(table, row_id, before, after)

    def _delete_row(self, table: str, row_id: int) -> None:
        before = self._row(table, row_id)
        if before is None:
            raise ProjectError(f"no {table[:-1]} with id {row_id}")
        self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        if table == "classes" or before["source"] == "human" or before["review"] != "none":
            self._record(table, row_id, before, None)

    def _put_row(self, table: str, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(
            f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())
        )

    def _history_step(self, *, undo: bool) -> str | None:
        if undo:
            row = self.conn.execute(
                "SELECT group_id, description FROM history WHERE undone = 0"
                " ORDER BY group_id DESC LIMIT 1"
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT group_id, description FROM history WHERE undone = 1"
                " ORDER BY group_id ASC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        group_id, description = row
        entries = self._rows(
            "SELECT * FROM history WHERE group_id = ? ORDER BY id " + ("DESC" if undo else "ASC"),
            (group_id,),
        )
        touched: dict[str, list[int]] = {}
        for entry in entries:
            state = entry["before"] if undo else entry["after"]
            if state is None:
                self.conn.execute(
                    f"DELETE FROM {entry['table_name']} WHERE id = ?", (entry["row_id"],)
                )
            else:
                self._put_row(entry["table_name"], json.loads(state))
            touched.setdefault(entry["table_name"], []).append(entry["row_id"])
        self.conn.execute(
            "UPDATE history SET undone = ? WHERE group_id = ?", (1 if undo else 0, group_id)
        )
        for table, ids in touched.items():
            self._changed(table, ids)
        return str(description)

    def undo(self) -> str | None:
        """Revert the latest edit step; returns its description, or None when there is none."""
        with self.write():
            return self._history_step(undo=True)

    def redo(self) -> str | None:
        """Re-apply the latest undone step; returns its description, or None."""
        with self.write():
            return self._history_step(undo=False)

    def undo_description(self) -> str | None:
        row = self.conn.execute(
            "SELECT description FROM history WHERE undone = 0 ORDER BY group_id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def redo_description(self) -> str | None:
        row = self.conn.execute(
            "SELECT description FROM history WHERE undone = 1 ORDER BY group_id ASC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    # --------------------------------------------------------------------- runs
    def create_run(self, config: Mapping[str, Any], *, name: str = "") -> Run:
        """A new queued run of this process, with its own new folder (:meth:`run_dir`)."""
        stamp = ProcessStamp.of(os.getpid())
        with self.write():
            (last,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()
            run_id = self._reserve_run_dir(int(last) + 1)
            self.conn.execute(
                "INSERT INTO runs (id, name, config, status, created_at, pid, host, pid_started)"
                " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                (
                    run_id,
                    name or f"run {run_id}",
                    json.dumps(dict(config), sort_keys=True),
                    time.time(),
                    stamp.pid,
                    stamp.host,
                    stamp.started,
                ),
            )
            self._changed("runs", [run_id])
        return self.run(run_id)

    def _reserve_run_dir(self, run_id: int) -> int:
        # Never reuse a folder that is on disk: it may hold another run's checkpoints (a
        # database restored from a backup, or replaced, knows fewer runs than the folder).
        try:
            self.runs_dir.mkdir(exist_ok=True)
            while True:
                try:
                    self.run_dir(run_id).mkdir()
                    return run_id
                except FileExistsError:
                    run_id += 1
        except OSError as exc:
            raise ProjectError(
                f"{self.runs_dir}: cannot make a folder for the run ({exc.strerror or exc})"
            ) from None

    def run(self, run_id: int) -> Run:
        rows = self._rows("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise ProjectError(f"no run with id {run_id}")
        return Run.from_row(rows[0])

    def runs(self) -> list[Run]:
        return [Run.from_row(r) for r in self._rows("SELECT * FROM runs ORDER BY id")]

    def latest_run(self, *, with_checkpoint: bool = True) -> Run | None:
        """The newest finished run (status done, or stopped with a best checkpoint)."""
        sql = "SELECT * FROM runs WHERE (status = 'done' OR status = 'stopped')"
        if with_checkpoint:
            sql += " AND best_checkpoint IS NOT NULL"
        rows = self._rows(sql + " ORDER BY id DESC LIMIT 1")
        return Run.from_row(rows[0]) if rows else None

    def update_run(self, run_id: int, **changes: Any) -> Run:
        unknown = set(changes) - RUN_FIELDS
        if unknown:
            raise ProjectError(f"cannot change run field(s): {', '.join(sorted(unknown))}")
        if "status" in changes and changes["status"] not in RUN_STATUSES:
            raise ProjectError(f"run status must be one of {', '.join(RUN_STATUSES)}")
        if "config" in changes and not isinstance(changes["config"], str):
            changes["config"] = json.dumps(changes["config"], sort_keys=True)
        if changes.get("pid"):
            # Which process, not only which pid: a pid is reused once its process is gone.
            stamp = ProcessStamp.of(int(changes["pid"]))
            changes["host"], changes["pid_started"] = stamp.host, stamp.started
        with self.write():
            assignments = ", ".join(f"{c} = ?" for c in changes)
            self.conn.execute(
                f"UPDATE runs SET {assignments} WHERE id = ?", (*changes.values(), run_id)
            )
            self._changed("runs", [run_id])
        return self.run(run_id)

    def dead_runs(self) -> list[Run]:
        """Runs marked queued or running whose process has ended (killed, crashed, power cut)."""
        rows = self._rows("SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY id")
        return [
            Run.from_row(row)
            for row in rows
            if process_gone(row["pid"], row["host"], row["pid_started"])
        ]

    def mark_dead_runs(self, *, wait: bool = True) -> list[int]:
        """Mark :meth:`dead_runs` ``stopped`` with "process ended unexpectedly"; returns their
        ids. Without ``wait`` it gives up at once when another process holds the write lock
        (opening a project does that: a later open marks them)."""
        dead = self.dead_runs()
        if not dead or self.read_only:
            return []
        if not wait:
            self.conn.execute(f"PRAGMA busy_timeout = {int(REAP_TIMEOUT_S * 1000)}")
        try:
            with self.write():
                marked = []
                for run in dead:
                    cursor = self.conn.execute(
                        "UPDATE runs SET status = 'stopped', message = ?, finished_at = ?"
                        " WHERE id = ? AND status IN ('queued', 'running') AND pid IS ?",
                        (DEAD_RUN_MESSAGE, time.time(), run.id, run.pid),
                    )
                    if cursor.rowcount:
                        marked.append(run.id)
                self._changed("runs", marked)
        except DatabaseProblem as exc:
            if wait or not exc.code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                raise
            return []
        finally:
            if not wait:
                self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return marked

    def add_metrics(self, run_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append metric rows (kind, epoch, iteration, tf_prob, loss, val_loss, f1, er, extra)."""
        columns = ("kind", "epoch", "iteration", "tf_prob", "loss", "val_loss", "f1", "er")
        now = time.time()
        with self.write():
            self.conn.executemany(
                "INSERT INTO metrics (run_id, kind, epoch, iteration, tf_prob, loss, val_loss, f1,"
                " er, extra, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        *(row.get(c) for c in columns),
                        json.dumps({k: v for k, v in row.items() if k not in columns}),
                        now,
                    )
                    for row in rows
                ],
            )
            self._changed("metrics", [run_id])

    def metrics(self, run_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM metrics WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self._rows(sql + " ORDER BY kind, iteration, id", params)
        for row in rows:
            row.update(json.loads(row.pop("extra") or "{}"))
        return rows

    # -------------------------------------------------------------------- info
    def summary(self) -> dict[str, Any]:
        """Counts for ``tfstudio info --json``."""
        n_rec, total = self.conn.execute(
            "SELECT count(*), coalesce(sum(duration), 0) FROM recordings"
        ).fetchone()
        n_events = self.conn.execute(f"SELECT count(*) FROM events WHERE {LABEL_SQL}").fetchone()[0]
        per_class = {
            row["name"]: row["n"]
            for row in self._rows(
                "SELECT c.name AS name, count(e.id) AS n FROM classes c"
                f" LEFT JOIN events e ON e.class_id = c.id AND {LABEL_SQL.replace('source', 'e.source').replace('review', 'e.review')}"
                " GROUP BY c.id ORDER BY c.position, c.id"
            )
        }
        splits = {s: 0 for s in SPLITS}
        for row in self._rows(
            "SELECT coalesce(split, 'none') AS s, count(*) AS n FROM recordings GROUP BY s"
        ):
            splits[row["s"]] = row["n"]
        n_det = self.conn.execute("SELECT count(*) FROM events WHERE source = 'model'").fetchone()[
            0
        ]
        runs = self.runs()
        return {
            "project": str(self.root),
            "recordings": int(n_rec),
            "duration_s": float(total),
            "events": int(n_events),
            "classes": per_class,
            "splits": splits,
            "detections": int(n_det),
            "runs": len(runs),
            "run_list": [
                {
                    "id": run.id,
                    "name": run.name,
                    "status": run.status,
                    "message": run.message,
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "best_checkpoint": run.best_checkpoint,
                }
                for run in runs
            ],
        }
