"""The undo journal: edits grouped into steps in the ``history`` table, so undo and redo
survive a restart.

A step is a history group: every row a user edit changed, with its state before and after
(JSON, ``None`` for "not there"). Undo writes the before states back, newest step first; redo
the after states, oldest undone step first. A new edit drops the undone steps. What is
journalled: classes, human labels and review decisions on detections; recordings, runs and a
run's unreviewed detections (regenerated, not undone) are not.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfstudio.store.base import StoreBase
from tfstudio.store.connection import Connection
from tfstudio.store.errors import ProjectError


def journal_tail(row: Mapping[str, Any]) -> str:
    """A new row's journal JSON without its id, made before its id is known (and before the
    write lock is taken); :meth:`History._record_inserts` completes it."""
    return json.dumps(dict(row))[1:]


class History(StoreBase):
    """The persisted undo/redo journal of a project's edits."""

    def __init__(self, root: Path, conn: Connection, *, read_only: bool = False):
        super().__init__(root, conn, read_only=read_only)
        self._group_id: int | None = None
        self._group_description = ""
        self._redo_dropped = False

    def _savepoint_rolled_back(self) -> None:
        self._redo_dropped = False  # the savepoint's rollback may restore the redo stack

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

    def _record_inserts(
        self, table: str, description: str, rows: Sequence[tuple[int, str]], created_at: float
    ) -> None:
        """Journal rows just inserted into ``table`` in the open group: (id, the row's
        :func:`journal_tail`) pairs."""
        if not rows:
            return
        self._drop_redo()
        self.conn.executemany(
            "INSERT INTO history (group_id, description, table_name, row_id, before,"
            " after, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
            [
                (
                    self._group_id,
                    description,
                    table,
                    row_id,
                    f'{{"id": {row_id}, {tail}',
                    created_at,
                )
                for row_id, tail in rows
            ],
        )

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
