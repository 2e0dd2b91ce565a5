"""The events of a project: human labels and model detections on recordings, what counts as
ground truth (:data:`LABEL_SQL`), and adding many at once without duplicates."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import operator
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tfstudio.store.errors import ProjectError
from tfstudio.store.history import History
from tfstudio.store.records import Event, EventClass, LabelTotals
from tfstudio.store.schema import (
    LABEL_COUNTS_TABLE,
    LABEL_COUNTS_TRIGGERS,
    REVIEW_STATES,
    SOURCES,
)

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
    "tier",
)
EDITABLE_EVENT_FIELDS = frozenset(EVENT_FIELDS)
# The columns a new event's values are stored as (so an undo restores what the table held).
_REAL_FIELDS = ("onset", "offset", "low_hz", "high_hz", "confidence")
_INTEGER_FIELDS = ("recording_id", "class_id", "run_id")
_EVENT_ROW = operator.itemgetter(*EVENT_FIELDS)
_REQUIRED_FIELDS = ("recording_id", "class_id", "onset", "offset")

# Ground truth: human labels plus model detections a user accepted.
LABEL_SQL = "(source = 'human' OR review = 'accepted')"
# What an export writes: ground truth, or the detections not rejected (see
# :meth:`EventStore.iter_events`).
SELECTIONS = {
    "labels": LABEL_SQL,
    "detections": "(source = 'model' AND review != 'rejected')",
    # Every detection, the rejected (the review's negatives) too: what a JSON export keeps.
    "all-detections": "(source = 'model')",
}
# Event's fields in order, for building events positionally from a SELECT of these columns.
_EVENT_COLUMNS = ", ".join(f.name for f in dataclasses.fields(Event))


# Rows fetched from SQLite at a time when events are streamed.
_STREAM_ROWS = 4096

# A change notice names at most this many rows; a larger one says "events changed" (listeners
# re-read), so a million-row import does not hand every listener a million ids.
MAX_NAMED_CHANGES = 10_000


@dataclass(frozen=True)
class NewEvents:
    """Outcome of :meth:`Project.add_new_events`: the ids added (consecutive), and how many
    rows the project already had."""

    ids: Sequence[int]
    existing: int


class EventImport:
    """One import of many sources in progress (see :meth:`EventStore.import_events`)."""

    def __init__(self, store: EventStore, description: str):
        self._store = store
        self.description = description
        self.sources = 0
        self.staged = 0
        self.new_classes: dict[str, tuple[int, Mapping[str, Any]]] = {}
        """Classes to make at commit: name -> (the placeholder id staged rows carry, meta)."""
        self.classes_added: list[str] = []
        """The classes this import made, once committed."""
        self.result: NewEvents | None = None

    def add(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Check and stage one source's events (all or nothing); returns how many."""
        count = self._store._stage(self, rows)
        self.staged += count
        return count

    def class_id(self, name: str, meta: Mapping[str, Any] | None = None) -> int:
        """The id of the class called ``name`` (already checked as a class name): the
        project's, or a placeholder for a class made when the import commits, with the colour
        and hotkey in ``meta`` when they are free."""
        cls = self._store.class_by_name(name)
        if cls is not None:
            return cls.id
        name = unicodedata.normalize("NFC", name)  # as add_class stores it: one class
        if name not in self.new_classes:
            self.new_classes[name] = (-1 - len(self.new_classes), dict(meta or {}))
        return self.new_classes[name][0]


def seconds_text(t: float) -> str:
    """3.84 s, or m:ss.ss from a minute on (how the undo menu names a place in a recording)."""
    if t < 60:
        return f"{t:.2f} s"
    minutes, seconds = divmod(t, 60)
    return f"{int(minutes)}:{seconds:05.2f}"


def describe_edit(event: Event, changes: Mapping[str, Any], names: Mapping[int, str]) -> str:
    """An undo step in the user's words: "move 'warble' at 3.84 s", "relabel 'warble' as
    'bird' at 3.84 s", "resize …", "accept …" (``names``: class names by id)."""
    name = names.get(event.class_id, str(event.class_id))
    where = f"{name!r} at {seconds_text(event.onset)}"
    if "class_id" in changes and changes["class_id"] != event.class_id:
        other = names.get(changes["class_id"], str(changes["class_id"]))
        verb = f"relabel {where} as {other!r}"
    elif changes.get("review") not in (None, event.review):
        verb = {"accepted": "accept", "rejected": "reject"}.get(changes["review"], "review")
        verb = f"{verb} {where}"
    else:
        onset = changes.get("onset", event.onset)
        offset = changes.get("offset", event.offset)
        moved = onset != event.onset and abs((offset - onset) - event.duration) < 1e-9
        verb = f"{'move' if moved else 'resize'} {where}"
    return verb


class EventStore(History):
    """Adding, finding, editing and deleting a project's events."""

    if TYPE_CHECKING:  # from ClassStore, beside this class in Project

        def class_by_name(self, name: str) -> EventClass | None: ...

        def event_class(self, class_id: int) -> EventClass: ...

        def classes(self) -> list[EventClass]: ...

        def add_class(
            self, name: str, *, color: str | None = None, hotkey: str | None = None
        ) -> EventClass: ...

    def _check_event(self, values: Mapping[str, Any]) -> None:
        for column in _REAL_FIELDS:
            value = values.get(column)
            if value is None:
                continue
            # SQLite stores NaN as NULL: a NaN time failed as "NOT NULL constraint failed",
            # a NaN frequency or confidence was silently dropped.
            try:
                finite = math.isfinite(value)
            except TypeError:
                raise ProjectError(f"{column} must be a number, not {value!r}") from None
            if not finite:
                raise ProjectError(f"{column} {value} is not a finite number")
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
        tier = values.get("tier")
        if tier is not None and not isinstance(tier, str):
            raise ProjectError(f"tier must be a name or None, not {tier!r}")

    def _new_event_values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A new event's columns: ``row`` with the defaults filled in, checked."""
        if not EDITABLE_EVENT_FIELDS.issuperset(row):
            unknown = set(row) - EDITABLE_EVENT_FIELDS
            raise ProjectError(f"unknown event field(s): {', '.join(sorted(unknown))}")
        missing = [f for f in _REQUIRED_FIELDS if row.get(f) is None]
        if missing:
            raise ProjectError(f"an event needs {', '.join(missing)}: {dict(row)!r}")
        values = {
            "low_hz": None,
            "high_hz": None,
            "source": "human",
            "confidence": None,
            "run_id": None,
            "review": "none",
            "tier": None,
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
        row = dict(
            recording_id=recording_id, class_id=class_id, onset=onset, offset=offset, **extra
        )
        self._new_event_values(row)  # before the description names its onset
        ids = self.add_events(
            [row], description=f"add {self._class_name(class_id)!r} at {seconds_text(onset)}"
        )
        return self.event(ids[0])

    def _class_name(self, class_id: int) -> str:
        try:
            return self.event_class(class_id).name
        except ProjectError:
            return str(class_id)

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
        self, rows: Iterable[Mapping[str, Any]], *, description: str = "import events"
    ) -> NewEvents:
        """Add the events the project does not have yet: all or nothing, one undoable step.

        An event is there already when one with the same recording, class, onset, offset,
        frequencies and source exists, whatever its tier (one without frequencies also when
        the project has it as a box: a format without them read it back); repeats count (rows listing an event
        twice add it twice unless the project has it twice). See :meth:`import_events` for
        many files at once.
        """
        with self.import_events(description) as batch:
            batch.add(rows)
        assert batch.result is not None
        return batch.result

    @contextlib.contextmanager
    def import_events(self, description: str = "import events") -> Iterator[EventImport]:
        """Add events from many sources (files) as one undoable step.

        ``batch.add(rows)`` checks one source's rows and stages them in a temporary table of
        this connection (no lock on the project, nothing kept in Python), all or nothing per
        call; ``batch.class_id(name)`` names a class, made at commit when new. On leaving the
        block the staged events the project does not have yet are added in one short write
        transaction of a few set-based statements, so other processes' edits do not wait
        behind the reading of large files, and two imports of the same files at once add them
        once. Sources are deduplicated as if imported one after another. ``batch.result`` is
        then the :class:`NewEvents`; an exception in the block adds nothing.
        """
        batch = EventImport(self, description)
        try:
            yield batch
            batch.result = self._commit_import(batch)
        except BaseException:
            # Ctrl+C can land anywhere: as a write or the staging ends (the block that begins
            # next, here the clearing, rolls back the transaction it left open), or while a
            # statement is unfinished (the traceback keeps its cursor alive). Nothing here may
            # hide the exception that ended the import behind another; rows left staged are
            # cleared when the next import begins.
            with contextlib.suppress(sqlite3.Error, ProjectError):
                self._clear_stage(batch)
            raise
        self._clear_stage(batch)

    def _clear_stage(self, batch: EventImport) -> None:
        # In a block, so a transaction an interrupt left open is rolled back first, not this
        # with it. Emptied, not dropped: DROP TABLE fails while any statement of the
        # connection is still reading (SQLITE_LOCKED), which an open cursor elsewhere in the
        # app may be.
        with self._savepoint("clear_stage"):
            if batch.sources:
                self.conn.execute("DELETE FROM temp.event_stage")

    def _stage(self, batch: EventImport, rows: Iterable[Mapping[str, Any]]) -> int:
        """Check ``rows`` and append them to ``temp.event_stage`` as source ``batch.sources``;
        all or nothing. Returns how many were staged."""
        # Not executescript: it would commit a transaction the caller has open. In a block, so
        # a transaction an interrupt left open is rolled back before, not the emptying after
        # it; of its own, so a bad row below does not take the emptying back.
        with self._savepoint("stage_table"):
            self.conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS event_stage (seq INTEGER PRIMARY KEY,"
                " source_no INTEGER, recording_id INTEGER, class_id INTEGER, onset REAL,"
                " offset REAL, low_hz REAL, high_hz REAL, source TEXT, confidence REAL,"
                " run_id INTEGER, review TEXT, tier TEXT)"
            )
            if batch.sources == 0:
                self.conn.execute("DELETE FROM temp.event_stage")
        batch.sources += 1
        count = 0

        def checked() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for row in rows:
                values = self._new_event_values(row)
                try:
                    # As the columns store them (a float or int already is one: no call).
                    for column in _REAL_FIELDS:
                        value = values[column]
                        if value is not None and type(value) is not float:
                            values[column] = float(value)
                    for column in _INTEGER_FIELDS:
                        value = values[column]
                        if value is not None and type(value) is not int:
                            values[column] = int(value)
                except (TypeError, ValueError) as exc:
                    raise ProjectError(f"event {dict(row)!r}: {exc}") from None
                count += 1
                yield (batch.sources, *_EVENT_ROW(values))

        columns = ", ".join(EVENT_FIELDS)
        marks = ", ".join("?" for _ in EVENT_FIELDS)
        # A savepoint of the temp database: one transaction, not one per row, and a bad row
        # takes back this source's rows only.
        with self._savepoint("stage_events"):
            self.conn.executemany(
                f"INSERT INTO temp.event_stage (source_no, {columns}) VALUES (?, {marks})",
                checked(),
            )
        return count

    def _commit_import(self, batch: EventImport) -> NewEvents:
        if batch.staged == 0:
            return NewEvents(range(0), 0)
        now = time.time()
        key = "recording_id, class_id, onset, offset, low_hz, high_hz, source"
        columns = ", ".join(EVENT_FIELDS)
        with self.write(), self._history_group(batch.description):
            for name, (placeholder, meta) in batch.new_classes.items():
                cls = self._import_class(name, meta)
                if cls is None:  # made by another process since the rows were staged
                    cls = self.class_by_name(name)
                    assert cls is not None
                else:
                    batch.classes_added.append(cls.name)
                self.conn.execute(
                    "UPDATE temp.event_stage SET class_id = ? WHERE class_id = ?",
                    (cls.id, placeholder),
                )
            (last,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            # A staged row is new when its repeat number within its source exceeds both the
            # project's copies and any earlier source's repeats (as if imported in turn).
            # A large import adds its label counts in one grouped statement after the rows
            # instead of a trigger per row.
            with self._bulk_events(batch.staged, removing=False, indexes=False) as off:
                self.conn.execute(
                    f"INSERT INTO events ({columns}, created_at, updated_at)"
                    f" SELECT {columns}, ?, ? FROM ("
                    "  SELECT *, coalesce(max(repeat) OVER (PARTITION BY"
                    f"   {key} ORDER BY source_no RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),"
                    "   0) AS earlier FROM ("
                    f"   SELECT *, row_number() OVER (PARTITION BY {key}, source_no ORDER BY seq)"
                    "    AS repeat FROM temp.event_stage)) AS s"
                    " WHERE s.repeat > s.earlier AND s.repeat > (SELECT count(*) FROM events e"
                    "  WHERE e.recording_id = s.recording_id AND e.onset = s.onset"
                    "  AND e.class_id = s.class_id AND e.offset = s.offset AND e.source = s.source"
                    # A row without a band is also there when the project has the event
                    # as a box: formats without frequencies (DCASE, TextGrid) cannot say it.
                    "  AND (e.low_hz IS s.low_hz AND e.high_hz IS s.high_hz"
                    "   OR s.low_hz IS NULL AND s.high_hz IS NULL))"
                    " ORDER BY s.seq",
                    (now, now),
                )
                (top,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
                if "label_counts_insert" in off and top > last:
                    # What the insert trigger does a row at a time, for all of them at once.
                    self.conn.execute(
                        "INSERT INTO label_counts (recording_id, class_id, n)"
                        " SELECT recording_id, class_id, count(*) FROM events"
                        f" WHERE id BETWEEN ? AND ? AND {LABEL_SQL}"
                        " GROUP BY recording_id, class_id ON CONFLICT (recording_id, class_id)"
                        " DO UPDATE SET n = n + excluded.n",
                        (last + 1, top),
                    )
            # New row ids follow the largest one (no AUTOINCREMENT, and the lock is ours).
            ids = range(int(last) + 1, int(top) + 1)
            if ids:
                self._record_insert_range("events", ids[0], ids[-1], batch.description)
                self._changed("events", ids if len(ids) <= MAX_NAMED_CHANGES else ())
        return NewEvents(ids, batch.staged - len(ids))

    def _import_class(self, name: str, meta: Mapping[str, Any]) -> EventClass | None:
        """The new class ``name`` made inside the import's step; None when another process
        made it meanwhile. A taken hotkey or an odd colour falls back to the defaults."""
        if self.class_by_name(name) is not None:
            return None
        try:
            with self.write():  # a savepoint: a refused hotkey takes back this attempt only
                return self.add_class(name, color=meta.get("color"), hotkey=meta.get("hotkey"))
        except ProjectError:
            return self.add_class(name)

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
        sql = f"SELECT {_EVENT_COLUMNS} FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY recording_id, onset, offset, id"
        return self._event_rows(sql, params)

    def _event_rows(self, sql: str, params: Sequence[Any]) -> list[Event]:
        """Events of a ``SELECT {_EVENT_COLUMNS} …`` built positionally: a dict and a filter
        per row took most of the time of reading 100 000 events (an export, a big project)."""
        return [Event(*row) for row in self.conn.execute(sql, params)]

    def iter_events(
        self,
        selection: str = "labels",
        *,
        recording_ids: Sequence[int] | None = None,
        tier_order: bool = False,
        listed: bool = False,
    ) -> Iterator[Event]:
        """The ``labels`` or ``detections`` (not rejected) of the project, or of the recordings
        ``recording_ids``, one at a time from the database (an export of a million events
        holds a few thousand), in the order of :meth:`events`: recording, onset, offset, id.

        ``tier_order`` puts each recording's events with a tier first, in the order they were
        added (an import adds a TextGrid's tiers one after another), then the others in time
        order: the TextGrid writer makes its tiers in order of appearance, so they come out
        in the file's order. ``listed`` takes the recordings in the order
        :meth:`recordings` lists them (by name) instead of their ids' (SQLite sorts them).
        """
        try:
            where = SELECTIONS[selection]
        except KeyError:
            raise ValueError(
                f"selection must be one of {', '.join(SELECTIONS)}, not {selection!r}"
            ) from None
        params: list[Any] = []
        if recording_ids is not None:
            where += f" AND recording_id IN ({', '.join('?' for _ in recording_ids)})"
            params += [int(i) for i in recording_ids]
        order = "recording_id, onset, offset, id"
        if tier_order:
            order = (
                "recording_id, tier IS NULL, CASE WHEN tier IS NULL THEN 0 ELSE id END,"
                " onset, offset, id"
            )
        if listed:
            order = (
                "(SELECT name FROM recordings WHERE recordings.id = events.recording_id), " + order
            )
        cursor = self.conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {order}", params
        )
        try:
            while rows := cursor.fetchmany(_STREAM_ROWS):
                for row in rows:
                    yield Event(*row)
        finally:
            # A generator left unfinished (an export cut short by Ctrl+C or a full disk) is
            # closed only when its traceback goes, after the project has closed; its cursor
            # went with the connection, and closing it again printed "Exception ignored …
            # Cannot operate on a closed database" under the command's own message.
            with contextlib.suppress(sqlite3.ProgrammingError):
                cursor.close()

    def count_selected(self, selection: str = "labels") -> int:
        """How many events :meth:`iter_events` gives for ``selection``, counted by SQLite."""
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, not {selection!r}")
        (count,) = self.conn.execute(
            f"SELECT count(*) FROM events WHERE {SELECTIONS[selection]}"
        ).fetchone()
        return int(count)

    def count_labels_above(self, hz: float, splits: Sequence[str]) -> int:
        """Labels of the present recordings in ``splits`` whose band lies wholly at or above
        ``hz`` (counted by SQLite: a project of a million labels is not read into Python)."""
        (count,) = self.conn.execute(
            f"SELECT count(*) FROM events WHERE {LABEL_SQL} AND low_hz IS NOT NULL"
            " AND low_hz >= ? AND recording_id IN (SELECT id FROM recordings WHERE status = 'ok'"
            f" AND split IN ({', '.join('?' for _ in splits)}))",
            (float(hz), *splits),
        ).fetchone()
        return int(count)

    def labels(self, recording_id: int | None = None) -> list[Event]:
        """What counts as ground truth: human events and accepted model detections."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE {LABEL_SQL}"
        params: list[Any] = []
        if recording_id is not None:
            sql += " AND recording_id = ?"
            params.append(recording_id)
        sql += " ORDER BY recording_id, onset, offset, id"
        return self._event_rows(sql, params)

    def label_counts(self, recording_ids: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
        """Labels per class per recording: ``{recording_id: {class_id: n}}``, for every
        recording or only ``recording_ids`` (cheap: read from ``label_counts``, which triggers
        keep, not counted)."""
        counts: dict[int, dict[int, int]] = {}
        if recording_ids is None:
            rows = self.conn.execute(
                "SELECT recording_id, class_id, n FROM label_counts WHERE n > 0"
            )
        else:
            ids = sorted(set(recording_ids))
            rows = self.conn.execute(
                "SELECT recording_id, class_id, n FROM label_counts"
                " WHERE recording_id IN (SELECT value FROM json_each(?)) AND n > 0",
                (json.dumps(ids),),
            )
        for rec_id, class_id, n in rows:
            counts.setdefault(rec_id, {})[class_id] = n
        return counts

    def label_totals(self, recording_ids: Iterable[int] | None = None) -> dict[int, LabelTotals]:
        """Labels and classes with labels per recording, ``{recording_id: LabelTotals}``, for
        the recordings that have labels (of every recording or only ``recording_ids``): what a
        list of recordings filters and sorts by, summed by SQLite from ``label_counts`` (10 000
        rows where :meth:`label_counts` returns a row per recording and class)."""
        sql = "SELECT recording_id, sum(n), count(*) FROM label_counts WHERE n > 0"
        params: tuple[str, ...] = ()
        if recording_ids is not None:
            sql += " AND recording_id IN (SELECT value FROM json_each(?))"
            params = (json.dumps(sorted(set(recording_ids))),)
        rows = self.conn.execute(sql + " GROUP BY recording_id", params)
        return {rec_id: LabelTotals(labels, classes) for rec_id, labels, classes in rows}

    def label_count_drift(self) -> list[tuple[int, int, int, int]]:
        """Where the trigger-kept ``label_counts`` disagree with the events themselves:
        ``(recording_id, class_id, stored, counted)`` rows (none in a healthy project; a
        database edited by another tool with the triggers off can drift)."""
        rows = self.conn.execute(
            f"""
            WITH counted AS (
                SELECT recording_id, class_id, count(*) AS n FROM events
                WHERE {LABEL_SQL} GROUP BY recording_id, class_id
            )
            SELECT c.recording_id, c.class_id, coalesce(s.n, 0), c.n
            FROM counted AS c LEFT JOIN label_counts AS s USING (recording_id, class_id)
            WHERE coalesce(s.n, 0) != c.n
            UNION ALL
            SELECT s.recording_id, s.class_id, s.n, 0
            FROM label_counts AS s LEFT JOIN counted AS c USING (recording_id, class_id)
            WHERE c.n IS NULL AND s.n != 0
            ORDER BY 1, 2
            """
        )
        return [tuple(row) for row in rows]

    def label_counts_damage(self) -> list[str]:
        """What is wrong with the ``label_counts`` table and the triggers that keep it, as
        sentences (none in a healthy project): missing, or not as tfstudio makes them (a
        database edited by another tool). Without the table a new label cannot be stored."""
        stored = {
            name: " ".join(sql.split())
            for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
                " AND (type = 'table' AND name = 'label_counts' OR type = 'trigger')"
            )
        }
        problems = []
        table = stored.get("label_counts")
        if table is None:
            problems.append("the label_counts table is missing (no new label can be stored)")
        elif table != " ".join(LABEL_COUNTS_TABLE.rstrip(";").split()):
            problems.append("the label_counts table is not the one tfstudio makes")
        for name, sql in LABEL_COUNTS_TRIGGERS.items():
            if name not in stored:
                problems.append(f"the trigger {name} that keeps the label counts is missing")
            elif stored[name] != " ".join(sql.rstrip(";").split()):
                problems.append(f"the trigger {name} is not the one tfstudio makes")
        return problems

    def rebuild_label_counts(self) -> None:
        """Make the ``label_counts`` table and its triggers again as tfstudio makes them and
        count the labels into it (one transaction; the events are not touched)."""
        with self.write():
            for name in LABEL_COUNTS_TRIGGERS:
                self.conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            self.conn.execute("DROP TABLE IF EXISTS label_counts")
            self.conn.execute(LABEL_COUNTS_TABLE)
            for sql in LABEL_COUNTS_TRIGGERS.values():
                self.conn.execute(sql)
            self.conn.execute(
                "INSERT INTO label_counts (recording_id, class_id, n)"
                f" SELECT recording_id, class_id, count(*) FROM events WHERE {LABEL_SQL}"
                " GROUP BY recording_id, class_id"
            )
            self._changed("recordings")

    def recount_labels(self) -> None:
        """Rebuild ``label_counts`` from the events (one transaction)."""
        with self.write():
            self.conn.execute("DELETE FROM label_counts")
            self.conn.execute(
                "INSERT INTO label_counts (recording_id, class_id, n)"
                f" SELECT recording_id, class_id, count(*) FROM events WHERE {LABEL_SQL}"
                " GROUP BY recording_id, class_id"
            )
            self._changed("recordings")

    def update_event(self, event_id: int, **changes: Any) -> Event:
        """Move, resize, relabel or review one event (one undoable step)."""
        unknown = set(changes) - EDITABLE_EVENT_FIELDS
        if unknown:
            raise ProjectError(f"cannot change event field(s): {', '.join(sorted(unknown))}")
        missing = [f for f in _REQUIRED_FIELDS if f in changes and changes[f] is None]
        if missing:
            raise ProjectError(f"an event needs {', '.join(missing)}: it cannot be None")
        current = self.event(event_id)
        self._check_event({**current.to_dict(), **changes})
        names = {c.id: c.name for c in self.classes()}
        with self.write(), self._history_group(describe_edit(current, changes, names)):
            self._update_row("events", event_id, {**changes, "updated_at": time.time()})
            self._changed("events", [event_id])
        return self.event(event_id)

    def delete_events(self, event_ids: Iterable[int], *, description: str = "delete") -> int:
        ids = list(event_ids)
        if len(ids) == 1:
            try:
                event = self.event(ids[0])
                what = f"{self._class_name(event.class_id)!r} at {seconds_text(event.onset)}"
            except ProjectError:
                what = "1 event"
        else:
            what = f"{len(ids)} events"
        with self.write(), self._history_group(f"{description} {what}"):
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
