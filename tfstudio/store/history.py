"""The undo journal: edits grouped into steps in the ``history`` table, so undo and redo
survive a restart.

A step is a history group: every row a user edit changed, with its state before and after
(JSON, ``None`` for "not there"). Undo writes the before states back, newest step first; redo
the after states, oldest undone step first. A new edit drops the undone steps. What is
journalled: classes, human labels, review decisions on detections, and every event an import
added or a class's merge or deletion changed; recordings, runs and a run's unreviewed
detections (regenerated, not undone) are not.

Scale (issue 11). Every query here goes through an index, so an edit costs the same after a
million steps as after one: ``history_undone (undone, group_id)`` finds the latest step to undo,
the oldest to redo and the redo steps a new edit drops; ``history_group`` a step's entries. An
import of a million events is one step of *one* entry, not a million: a range entry
(``last_row_id`` set) stands for the events with ids ``row_id..last_row_id``: labels and the
detections of another detector's results alike (undoing the import takes both away, and the
classes it made). That is exact because an insert under the write lock hands out consecutive
new ids, every later change to a label or a review is journalled in a later step (undone
first, so at undo time the rows are as the import left them), and a row deleted outside the
journal (a recording removed) is simply absent. Undoing a range entry moves its rows into ``history_events`` (one set-based copy, no
JSON); redo moves them back with their ids, after moving any row given one of those ids
meanwhile (a detection) to a new id (never overwrites it).
Dropping the redo steps deletes their ``history_events`` rows through an index as well.

What a step changed comes back from :meth:`History.undo_step` and :meth:`History.redo_step` as
a :class:`HistoryStep`, gathered from the very entries applied (a range entry's recordings
read from its held rows through the same index): the window opens the recording a step
touched and selects what it put back, instead of changing a recording out of sight.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfstudio.store.base import StoreBase
from tfstudio.store.connection import Connection
from tfstudio.store.errors import ProjectError

# From this many events on, undoing or redoing an import moves them with the label-count
# triggers off and, when they are most of the table, with the events' indexes made again after.
BULK_EVENTS = 10_000
# What counts as a label (the label_counts triggers' condition; events.LABEL_SQL).
_LABEL = "(source = 'human' OR review = 'accepted')"
_COUNT_TRIGGERS = ("label_counts_insert", "label_counts_delete", "label_counts_update")
# A step names the events it left in place (to select them) up to this many; beyond, only
# where they are (an import of thousands is not a selection).
STEP_EVENTS = 1000


@dataclass(frozen=True)
class HistoryStep:
    """What one undo or redo changed, for a window to show it (:meth:`History.undo_step`).

    ``extents``: for each recording whose events the step changed, the time the changed events
    took there, before or after the step (``(first onset, last offset)``). ``events``: the
    events the step put back or changed, which are there after it, in journal order (empty
    when it only took events away, or more than :data:`STEP_EVENTS` came back). ``splits``:
    the recordings whose split it set, by id. ``classes``: whether it changed classes.
    """

    description: str
    extents: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    events: tuple[int, ...] = ()
    splits: tuple[int, ...] = ()
    classes: bool = False

    @property
    def recordings(self) -> list[int]:
        """The recordings whose events the step changed."""
        return list(self.extents)


class _StepTrace:
    """Collects a :class:`HistoryStep` while the step is applied."""

    def __init__(self) -> None:
        self.extents: dict[int, tuple[float, float]] = {}
        self.present: dict[int, bool] = {}  # event id → there after the step
        self.splits: set[int] = set()
        self.classes = False
        self.too_many = False

    def span(self, recording_id: int, onset: float, offset: float) -> None:
        old = self.extents.get(recording_id)
        if old is not None:
            onset, offset = min(old[0], onset), max(old[1], offset)
        self.extents[recording_id] = (float(onset), float(offset))

    def entry(self, table: str, row_id: int, before: dict | None, after: dict | None) -> None:
        """One single-row entry, ``after`` its state once the step is applied."""
        if table == "recordings":
            self.splits.add(row_id)
        elif table == "classes":
            self.classes = True
        elif table == "events":
            for state in (before, after):
                if state is not None:
                    self.span(state["recording_id"], state["onset"], state["offset"])
            self.present[row_id] = after is not None

    def step(self, description: str) -> HistoryStep:
        events = () if self.too_many else tuple(i for i, there in self.present.items() if there)
        if len(events) > STEP_EVENTS:
            events = ()
        return HistoryStep(
            description, dict(self.extents), events, tuple(sorted(self.splits)), self.classes
        )


class History(StoreBase):
    """The persisted undo/redo journal of a project's edits."""

    def __init__(self, root: Path, conn: Connection, *, read_only: bool = False):
        super().__init__(root, conn, read_only=read_only)
        self._group_id: int | None = None
        self._group_description = ""
        self._group_owner: Any = None
        """The transaction's owner (``_owner``) when the group began: see :meth:`_history_group`."""
        self._group_token: object | None = None
        self._redo_dropped = False

    def _savepoint_rolled_back(self) -> None:
        self._redo_dropped = False  # the savepoint's rollback may restore the redo stack

    @contextlib.contextmanager
    def _history_group(self, description: str) -> Iterator[None]:
        # Nested in a group of the same transaction: join it. Ctrl+C landing as a group's
        # ``with`` begins or ends (in contextlib, outside this generator's try) can leave a
        # group set after its write has rolled back; its clean-up then waits until the
        # traceback goes. Such a group belongs to a transaction that is over (its owner is
        # not the open one's), so the next edit begins a group of its own instead of joining
        # it under its description, and the stale clean-up, when it runs, ends only its own.
        if self._group_id is not None and self._group_owner is self._owner:
            yield
            return
        (last,) = self.conn.execute("SELECT coalesce(max(group_id), 0) FROM history").fetchone()
        token = object()
        try:
            self._group_token = token
            self._group_owner = self._owner
            self._group_id = int(last) + 1
            self._group_description = description
            self._redo_dropped = False
            yield
        finally:
            if self._group_token is token:
                self._group_id = None
                self._group_owner = self._group_token = None

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
        # group, through the history_undone index.
        if not self._redo_dropped:
            self.conn.execute(
                "DELETE FROM history_events WHERE history_id IN"
                " (SELECT id FROM history WHERE undone = 1)"
            )
            self.conn.execute("DELETE FROM history WHERE undone = 1")
            self._redo_dropped = True

    def _record_insert_range(self, table: str, first: int, last: int, description: str) -> None:
        """Journal, in the open group, that this step inserted the rows with ids
        ``first..last`` (one entry however many; see the module docstring)."""
        if self._group_id is None or last < first:
            return
        self._drop_redo()
        self.conn.execute(
            "INSERT INTO history (group_id, description, table_name, row_id, last_row_id,"
            " before, after, created_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
            (self._group_id, description, table, first, last, time.time()),
        )

    def _event_columns(self) -> str:
        return ", ".join(row[1] for row in self.conn.execute("PRAGMA table_info(events)"))

    def _undo_range(self, entry: Mapping[str, Any]) -> None:
        columns = self._event_columns()
        span = (entry["row_id"], entry["last_row_id"])
        self.conn.execute(
            f"INSERT INTO history_events (history_id, {columns}) SELECT ?, {columns}"
            " FROM events WHERE id BETWEEN ? AND ?",
            (entry["id"], *span),
        )
        moved = self._entry_rows(entry["id"])
        with self._bulk_events(moved, removing=True) as off:
            if "label_counts_delete" in off:
                # What the delete trigger does a row at a time, for all of them at once.
                self.conn.execute(
                    "UPDATE label_counts SET n = n - d.k FROM (SELECT recording_id, class_id,"
                    f" count(*) AS k FROM history_events WHERE history_id = ? AND {_LABEL}"
                    " GROUP BY recording_id, class_id) AS d"
                    " WHERE label_counts.recording_id = d.recording_id"
                    " AND label_counts.class_id = d.class_id",
                    (entry["id"],),
                )
            self.conn.execute("DELETE FROM events WHERE id BETWEEN ? AND ?", span)

    def _redo_range(self, entry: Mapping[str, Any]) -> None:
        columns = self._event_columns()
        moved = self._entry_rows(entry["id"])
        # Detections added since the undo (outside the journal, or the redo step would be
        # gone) may hold some of these ids: they move to new ones, as in _free_event_id.
        taken = [
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM events WHERE id IN"
                " (SELECT id FROM history_events WHERE history_id = ?) ORDER BY id",
                (entry["id"],),
            )
        ]
        if taken:
            first = self._fresh_event_id()
            self.conn.executemany(
                "UPDATE events SET id = ? WHERE id = ?",
                [(first + k, old) for k, old in enumerate(taken)],
            )
            self._changed("events", taken)
        with self._bulk_events(moved, removing=False) as off:
            # In rowid order, which is id order (the undo copied them so): the events table
            # grows at its end. The ids are explicit, so any order gives the same rows.
            self.conn.execute(
                f"INSERT INTO events ({columns}) SELECT {columns} FROM history_events"
                " WHERE history_id = ? ORDER BY rowid",
                (entry["id"],),
            )
            if "label_counts_insert" in off:
                # What the insert trigger does a row at a time, for all of them at once.
                self.conn.execute(
                    "INSERT INTO label_counts (recording_id, class_id, n)"
                    " SELECT recording_id, class_id, count(*) FROM history_events"
                    f" WHERE history_id = ? AND {_LABEL} GROUP BY recording_id, class_id"
                    " ON CONFLICT (recording_id, class_id) DO UPDATE SET n = n + excluded.n",
                    (entry["id"],),
                )
        (held,) = self.conn.execute("SELECT count(*) FROM history_events").fetchone()
        if held == moved:
            # Only this entry's rows are held (the usual case): SQLite empties a table without
            # a WHERE clause at once instead of deleting a row at a time.
            self.conn.execute("DELETE FROM history_events")
        else:
            self.conn.execute("DELETE FROM history_events WHERE history_id = ?", (entry["id"],))

    def _entry_rows(self, history_id: int) -> int:
        (count,) = self.conn.execute(
            "SELECT count(*) FROM history_events WHERE history_id = ?", (history_id,)
        ).fetchone()
        return int(count)

    @contextlib.contextmanager
    def _bulk_events(
        self, moved: int, *, removing: bool, indexes: bool = True
    ) -> Iterator[frozenset[str]]:
        """Around moving ``moved`` events in or out of the events table in one statement.

        From :data:`BULK_EVENTS` on, the label-count triggers are taken off for the block
        (it yields their names: the caller does what each did, in one grouped statement
        instead of once per row), and when at least as many events move as stay, the events' indexes
        are dropped and made again after (one sort instead of a random update per row and
        index: most of the time of undoing or redoing a million-event import). Both are put
        back exactly as they were (their stored SQL), inside the same write transaction, so
        no other connection ever sees the table without them (a failure rolls it all back).
        ``indexes=False`` keeps the indexes whatever the counts (an import looks its rows up).
        """
        if moved < BULK_EVENTS:
            yield frozenset()
            return
        names = ", ".join(f"'{name}'" for name in _COUNT_TRIGGERS)
        schema = self.conn.execute(
            "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'events'"
            f" AND sql IS NOT NULL AND (type = 'trigger' AND name IN ({names})"
            " OR type = 'index')"
        ).fetchall()
        triggers = [(name, sql) for kind, name, sql in schema if kind == "trigger"]
        dropped = [(name, sql) for kind, name, sql in schema if kind == "index"]
        (total,) = self.conn.execute("SELECT count(*) FROM events").fetchone()
        staying = int(total) - moved if removing else int(total)
        if moved < staying or not indexes:
            dropped = []
        for name, _sql in triggers:
            self.conn.execute(f'DROP TRIGGER "{name}"')
        for name, _sql in dropped:
            self.conn.execute(f'DROP INDEX "{name}"')
        yield frozenset(name for name, _sql in triggers)
        for _name, sql in dropped:
            self.conn.execute(sql)
        for _name, sql in triggers:
            self.conn.execute(sql)

    def _update_row(
        self, table: str, row_id: int, changes: Mapping[str, Any], *, journal: bool = False
    ) -> None:
        """Change one row, journalled when it is a label, a class, a review decision, or
        ``journal`` says so (a class's merge or deletion moves its detections too, and its
        undo must bring them back)."""
        before = self._row(table, row_id)
        if before is None:
            raise ProjectError(f"no {table[:-1]} with id {row_id}")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id)
        )
        after = self._row(table, row_id)
        assert after is not None  # the id is unchanged
        if journal or table == "classes" or "human" in (before["source"], after["source"]):
            self._record(table, row_id, before, after)
        elif changes.get("review") not in (None, "none") or before["review"] != "none":
            # Reviewing a detection is a user decision: undoable like a label edit.
            self._record(table, row_id, before, after)

    def _delete_row(self, table: str, row_id: int, *, journal: bool = False) -> None:
        """Delete one row, journalled as :meth:`_update_row` says."""
        before = self._row(table, row_id)
        if before is None:
            raise ProjectError(f"no {table[:-1]} with id {row_id}")
        self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        if (
            journal
            or table == "classes"
            or before["source"] == "human"
            or before["review"] != "none"
        ):
            self._record(table, row_id, before, None)

    def _put_row(self, table: str, row: dict[str, Any]) -> None:
        # UPDATE, else INSERT; not INSERT OR REPLACE, whose hidden delete fires no trigger (the
        # label counts) and would have to delete a class its events still name.
        assignments = ", ".join(f"{column} = ?" for column in row)
        cursor = self.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*row.values(), row["id"])
        )
        if cursor.rowcount == 0:
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))

    def _history_step(self, *, undo: bool) -> HistoryStep | None:
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
        trace = _StepTrace()
        touched: dict[str, list[int]] = {}
        everything: set[str] = set()  # tables changed by range entries: too many ids to name
        for entry in entries:
            if entry["last_row_id"] is not None:
                if undo:
                    self._undo_range(entry)
                    self._trace_range(trace, entry, there=False)
                else:
                    self._trace_range(trace, entry, there=True)
                    self._redo_range(entry)
                everything.add(entry["table_name"])
                continue
            state = entry["before"] if undo else entry["after"]
            gone = entry["after"] if undo else entry["before"]
            row_state = None if state is None else json.loads(state)
            trace.entry(
                entry["table_name"],
                entry["row_id"],
                None if gone is None else json.loads(gone),
                row_state,
            )
            if entry["table_name"] == "events" and state is not None and gone is None:
                # The step brings back a row it took away: its id may since have gone to an
                # event the journal does not follow (a detection).
                moved = self._free_event_id(entry, state, undo=undo)
                if moved is not None:
                    touched.setdefault("events", []).append(moved)
            if entry["table_name"] == "recordings":
                # Only a recording's split is journalled; one removed since has none to take.
                split = row_state["split"] if row_state is not None else None
                self.conn.execute(
                    "UPDATE recordings SET split = ? WHERE id = ?", (split, entry["row_id"])
                )
            elif row_state is None:
                self.conn.execute(
                    f"DELETE FROM {entry['table_name']} WHERE id = ?", (entry["row_id"],)
                )
            else:
                self._put_row(entry["table_name"], row_state)
            touched.setdefault(entry["table_name"], []).append(entry["row_id"])
        self.conn.execute(
            "UPDATE history SET undone = ? WHERE group_id = ?", (1 if undo else 0, group_id)
        )
        for table, ids in touched.items():
            if table not in everything:
                self._changed(table, ids)
        for table in everything:
            self._changed(table)
        return trace.step(str(description))

    def _trace_range(self, trace: _StepTrace, entry: Mapping[str, Any], *, there: bool) -> None:
        """Where the events of a range entry are (they are held in ``history_events`` between
        its undo and its redo): per recording, read through the entry's index; ``there``:
        they are in the project after the step (a redo), named when few."""
        for recording_id, onset, offset in self.conn.execute(
            "SELECT recording_id, min(onset), max(offset) FROM history_events"
            " WHERE history_id = ? GROUP BY recording_id",
            (entry["id"],),
        ):
            trace.span(recording_id, onset, offset)
        if not there:
            return
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM history_events WHERE history_id = ? LIMIT ?",
                (entry["id"], STEP_EVENTS + 1),
            )
        ]
        if len(ids) > STEP_EVENTS:
            trace.too_many = True
        for event_id in ids:
            trace.present[event_id] = True

    def _free_event_id(self, entry: Mapping[str, Any], state: str, *, undo: bool) -> int | None:
        """Make the id of the event ``entry`` puts back (as ``state``) free, by giving the
        event that holds it now a new id; returns that id, or None when it was free.

        Without AUTOINCREMENT SQLite hands out the largest id plus one again, so a detection
        added after the latest event was deleted takes its id, and putting the label back
        wrote over the detection. Such a row was added outside the journal, so only the redo
        steps can name it (a journalled edit drops them; those of an undo come after this
        step): they follow it to its new id, told from other rows that held the id by its
        ``created_at``, which no edit changes.
        """
        row_id = entry["row_id"]
        holder = self._row("events", row_id)
        if holder is None or holder == json.loads(state):
            return None
        new_id = self._fresh_event_id()
        self.conn.execute("UPDATE events SET id = ? WHERE id = ?", (new_id, row_id))
        if undo:
            self.conn.execute(
                "UPDATE history SET row_id = :new,"
                " before = CASE WHEN before IS NULL THEN NULL"
                "  ELSE json_set(before, '$.id', :new) END,"
                " after = CASE WHEN after IS NULL THEN NULL"
                "  ELSE json_set(after, '$.id', :new) END"
                " WHERE table_name = 'events' AND row_id = :old AND last_row_id IS NULL"
                " AND group_id > :group"
                " AND json_extract(coalesce(before, after), '$.created_at') = :created",
                {
                    "new": new_id,
                    "old": row_id,
                    "group": entry["group_id"],
                    "created": holder["created_at"],
                },
            )
        self._changed("events", [row_id])
        return int(new_id)

    def _fresh_event_id(self) -> int:
        """An event id above every id an event has, and every id the journal names (which
        undo or redo may give back): a row moved there is never in the way of either."""
        (new_id,) = self.conn.execute(
            "SELECT max(coalesce((SELECT max(id) FROM events), 0),"
            " coalesce((SELECT max(max(row_id, coalesce(last_row_id, row_id))) FROM history"
            "  WHERE table_name = 'events'), 0),"
            " coalesce((SELECT max(id) FROM history_events), 0)) + 1"
        ).fetchone()
        return int(new_id)

    def merged_into(self, event_id: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """What accepting detection ``event_id`` changed, read back from the journal: its row
        before the (latest, not undone) acceptance, and the labels that acceptance merged into
        it and deleted (same recording and class, overlapping what it became) that are still
        gone. ``(None, [])`` when the journal has no such acceptance."""
        accepted = self.conn.execute(
            "SELECT group_id, before, after FROM history WHERE table_name = 'events'"
            " AND row_id = ? AND undone = 0 AND after IS NOT NULL ORDER BY id DESC",
            (event_id,),
        ).fetchall()
        for group_id, before_text, after_text in accepted:
            after = json.loads(after_text)
            before = json.loads(before_text) if before_text else None
            if after.get("review") != "accepted":
                continue
            if before is not None and before.get("review") == "accepted":
                continue  # an edit of an accepted detection, not its acceptance
            merged = []
            for (text,) in self.conn.execute(
                "SELECT before FROM history WHERE group_id = ? AND table_name = 'events'"
                " AND after IS NULL AND before IS NOT NULL AND undone = 0 ORDER BY id",
                (group_id,),
            ):
                row = json.loads(text)
                if (
                    row["recording_id"] == after["recording_id"]
                    and row["class_id"] == after["class_id"]
                    and min(row["offset"], after["offset"]) > max(row["onset"], after["onset"])
                    # Still gone (an id given to another event since does not count).
                    and self._row("events", row["id"]) != row
                ):
                    merged.append(row)
            return before, merged
        return None, []

    def restore_events(self, rows: list[dict[str, Any]]) -> None:
        """Put deleted event rows back as they were (their ids, when still free; else as new
        rows), journalled in the current step."""
        for row in rows:
            if self._row("events", row["id"]) is not None:
                row = {k: v for k, v in row.items() if k != "id"}
                cols = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                cursor = self.conn.execute(
                    f"INSERT INTO events ({cols}) VALUES ({marks})", tuple(row.values())
                )
                row = {"id": cursor.lastrowid, **row}
            else:
                self._put_row("events", row)
            self._record("events", row["id"], None, row)
            self._changed("events", [row["id"]])

    def undo(self) -> str | None:
        """Revert the latest edit step; returns its description, or None when there is none."""
        step = self.undo_step()
        return None if step is None else step.description

    def redo(self) -> str | None:
        """Re-apply the latest undone step; returns its description, or None."""
        step = self.redo_step()
        return None if step is None else step.description

    def undo_step(self) -> HistoryStep | None:
        """Revert the latest edit step; returns what it changed, or None when there is none."""
        with self.write():
            return self._history_step(undo=True)

    def redo_step(self) -> HistoryStep | None:
        """Re-apply the latest undone step; returns what it changed, or None."""
        with self.write():
            return self._history_step(undo=False)

    def detection_runs(self, run_ids: Collection[int]) -> set[int]:
        """Those of ``run_ids`` that have a detection in the project now, one index probe each.

        Here because the journal is what empties a run: undoing the import of another tool's
        detections takes them all away, while the run it made stays (runs are not journalled)
        until the redo brings them back."""
        return {
            int(run_id)
            for run_id in run_ids
            if self.conn.execute(
                "SELECT 1 FROM events WHERE source = 'model' AND run_id = ? LIMIT 1", (run_id,)
            ).fetchone()
        }

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
