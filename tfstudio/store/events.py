"""The events of a project: human labels and model detections on recordings, what counts as
ground truth (:data:`LABEL_SQL`), and adding many at once without duplicates."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfstudio.store.errors import ProjectError
from tfstudio.store.history import History, journal_tail
from tfstudio.store.records import Event
from tfstudio.store.schema import REVIEW_STATES, SOURCES

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

# Ground truth: human labels plus model detections a user accepted.
LABEL_SQL = "(source = 'human' OR review = 'accepted')"


@dataclass(frozen=True)
class NewEvents:
    """Outcome of :meth:`Project.add_new_events`: the ids added, and how many rows the
    project already had."""

    ids: list[int]
    existing: int


class EventStore(History):
    """Adding, finding, editing and deleting a project's events."""

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

    def _new_event_values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A new event's columns: ``row`` with the defaults filled in, checked."""
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
        return values

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
                values = self._new_event_values(row)
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
            seq: journal_tail(
                {
                    **dict(zip(EVENT_FIELDS, values, strict=True)),
                    "created_at": now,
                    "updated_at": now,
                }
            )
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
            self._record_inserts("events", description, human, now)
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
            values = self._new_event_values(row)
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
