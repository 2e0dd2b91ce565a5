"""A tfstudio project: a folder with ``project.sqlite``, caches and checkpoints.

:class:`Project` is the one entry point; its parts live beside it, one reason to change each:
the connection and write transactions (:mod:`~tfstudio.store.base`), the undo journal
(:mod:`~tfstudio.store.history`), recordings, classes and events
(:mod:`~tfstudio.store.recordings`, :mod:`~tfstudio.store.classes`,
:mod:`~tfstudio.store.events`), runs and metrics (:mod:`~tfstudio.store.run_store`). Here:
opening, creating and upgrading a project, and its summary.

Every public write is its own ``BEGIN IMMEDIATE`` transaction, committed before the method
returns. Opening only reads unless the schema needs an upgrade or a dead run needs marking, so
reading never queues behind a writer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tfstudio.store.base import DB_NAME, Change
from tfstudio.store.classes import ClassStore
from tfstudio.store.connection import BUSY_TIMEOUT_S, check_file, connect, use_wal, writable
from tfstudio.store.errors import DatabaseProblem, ProjectError
from tfstudio.store.events import EventStore, NewEvents
from tfstudio.store.recordings import AddResult, RecordingStore
from tfstudio.store.run_store import RunStore
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, SPLITS, migrations

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


def _refuse_dangling_link(db_path: Path) -> None:
    """A database that is a link to a file that is not there (another disk not mounted) is
    neither a missing project nor a place to make one."""
    if db_path.is_symlink() and not db_path.exists():
        raise ProjectError(
            f"{db_path}: a link to {os.readlink(db_path)}, which is not there (a disk not "
            "mounted?); mount it or restore the file"
        )


def _remove_unmade(db_path: Path) -> None:
    """Remove the database file a creation cut short (Ctrl+C, a full disk) left empty: SQLite
    makes it as it connects, and an empty one reads as a project whose data are gone ("restore
    it from a backup") and stands in the way of ``tfstudio init`` again. A file with anything
    in it is left alone (opening it finishes the schema)."""
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        if db_path.stat().st_size > 0 or (wal.exists() and wal.stat().st_size > 0):
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    except OSError:
        pass  # gone already, or not ours to remove (Windows keeps an open file)


class Project(RecordingStore, ClassStore, EventStore, RunStore):
    """One project folder and its database connection (owned by the opening thread)."""

    # ----------------------------------------------------------------- opening
    @classmethod
    def create(cls, root: Path | str) -> Project:
        """Make a new project in ``root`` (created if needed); error if one is already there."""
        root = Path(root)
        _refuse_dangling_link(root / DB_NAME)
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
        try:
            return cls._connect(root, creating=True)
        except BaseException:
            _remove_unmade(root / DB_NAME)
            raise

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
        _refuse_dangling_link(root / DB_NAME)
        if not (root / DB_NAME).exists():
            if create:
                return cls.create(root)
            if root.name == DB_NAME and root.is_file():
                raise ProjectError(
                    f"{root}: not a tfstudio project but its database file; "
                    f"give the project's folder, {root.parent}"
                )
            if root.exists() and not root.is_dir():
                raise ProjectError(
                    f"{root}: not a tfstudio project but a file; a project is a folder "
                    f"holding {DB_NAME}"
                )
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
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def data_version(self) -> int:
        """Changes whenever another connection commits: cheap polling for external writes."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -------------------------------------------------------------------- info
    def summary(self) -> dict[str, Any]:
        """Counts for ``tfstudio info --json``."""
        n_rec, total = self.conn.execute(
            "SELECT count(*), coalesce(sum(duration), 0) FROM recordings"
        ).fetchone()
        # From the trigger-kept label_counts, not a count over every event.
        (n_events,) = self.conn.execute("SELECT coalesce(sum(n), 0) FROM label_counts").fetchone()
        per_class = {
            row["name"]: row["n"]
            for row in self._rows(
                "SELECT c.name AS name, coalesce(t.n, 0) AS n FROM classes c LEFT JOIN"
                " (SELECT class_id, sum(n) AS n FROM label_counts GROUP BY class_id) AS t"
                " ON t.class_id = c.id ORDER BY c.position, c.id"
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
        # ISO 8601 text sorts by the recorder's clock (store.recorded), whatever its zone.
        n_dated, first, last = self.conn.execute(
            "SELECT count(recorded_at), min(recorded_at), max(recorded_at) FROM recordings"
        ).fetchone()
        return {
            "project": str(self.root),
            "recordings": int(n_rec),
            "duration_s": float(total),
            "recorded": {"dated": int(n_dated), "first": first, "last": last},
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
