"""Training runs and their metrics as the project stores them: a run's row (config, status,
checkpoints, the process it belongs to), its folder, and the metric rows it appends.

Whether a run's process is still alive is :mod:`tfstudio.store.runs`' question; here a run
whose process has ended is marked stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tfstudio.store.base import StoreBase
from tfstudio.store.connection import BUSY_TIMEOUT_S
from tfstudio.store.errors import DatabaseProblem, ProjectError
from tfstudio.store.records import Run
from tfstudio.store.runs import DEAD_RUN_MESSAGE, ProcessStamp, process_gone
from tfstudio.store.schema import RUN_STATUSES

# Marking dead runs on open is a courtesy: it never waits long behind another writer.
REAP_TIMEOUT_S = 0.5

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


class RunStore(StoreBase):
    """Creating, updating and listing a project's runs, and their metrics."""

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: int) -> Path:
        """The folder of a run's checkpoints and posteriors."""
        return self.runs_dir / f"run-{run_id}"

    def create_run(
        self, config: Mapping[str, Any], *, name: str = "", status: str = "queued"
    ) -> Run:
        """A new run of this process, with its own new folder (:meth:`run_dir`): ``queued``,
        or ``running`` from now on (one write: no moment when it is stored queued)."""
        if status not in ("queued", "running"):
            raise ProjectError(f"a new run is queued or running, not {status!r}")
        stamp = ProcessStamp.of(os.getpid())
        now = time.time()
        with self.write():
            (last,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()
            try:
                run_id = self._reserve_run_dir(int(last) + 1)
                self.conn.execute(
                    "INSERT INTO runs (id, name, config, status, created_at, started_at, pid,"
                    " host, pid_started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        name or f"run {run_id}",
                        json.dumps(dict(config), sort_keys=True),
                        status,
                        now,
                        now if status == "running" else None,
                        stamp.pid,
                        stamp.host,
                        stamp.started,
                    ),
                )
            except BaseException:
                # Nothing of the run is stored (the transaction is rolled back): the folder
                # made for it goes too, or check would report a run folder the database does
                # not know, for ever (Ctrl+C between the mkdir and the commit did that).
                self._remove_empty_run_dirs(int(last) + 1)
                raise
            self._changed("runs", [run_id])
        return self.run(run_id)

    def _remove_empty_run_dirs(self, first: int) -> None:
        """Remove the empty folders run-``first``, run-``first + 1``… up to the first missing
        one: those a :meth:`create_run` whose row was not stored made or passed over (under
        the write lock no other run is being made; a folder that holds anything stays)."""
        run_id = first
        while self.run_dir(run_id).is_dir():
            with contextlib.suppress(OSError):
                self.run_dir(run_id).rmdir()
            run_id += 1

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

    def latest_reviewable_run(self) -> Run | None:
        """The newest finished run that has something to review: a model (its detections may
        come later) or detections of its own (another detector's results imported). An
        imported run whose detections were all undone away is passed over."""
        rows = self._rows(
            "SELECT * FROM runs r WHERE (status = 'done' OR status = 'stopped')"
            " AND (best_checkpoint IS NOT NULL OR EXISTS (SELECT 1 FROM events e"
            "  WHERE e.source = 'model' AND e.run_id = r.id))"
            " ORDER BY id DESC LIMIT 1"
        )
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

    def clear_metrics(self, run_id: int) -> None:
        """Forget a run's curves (it starts again from the beginning)."""
        with self.write():
            self.conn.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
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
