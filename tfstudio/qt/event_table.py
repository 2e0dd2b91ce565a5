"""The events of the current recording as a table; times and bands are editable in place.

A click on a column header sorts the rows by it (the model's own ``sort``, numbers as numbers,
classes by name, ties in time order); the sort stays while the app runs, whichever recording or
project is open. Tab / Shift+Tab still step through the events in time order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
)
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from tfstudio.qt.axes import format_time, parse_time
from tfstudio.qt.palette import swatch
from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace
from tfstudio.store import Event, EventClass
from tfstudio.store.recorded import clock_text, parse_stored, seconds_into

COLUMNS = ("Class", "Onset", "Offset", "Length", "Band (Hz)")
_FIELDS = {1: "onset", 2: "offset"}
TIME_COLUMN = 1  # sorted by onset: the workspace's own (time) order
_Index = QModelIndex | QPersistentModelIndex


class EventTableModel(QAbstractTableModel):
    def __init__(self, workspace: Workspace):
        super().__init__()
        self.workspace = workspace
        self.sort_column = TIME_COLUMN
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._classes = {c.id: c for c in workspace.classes()}
        self._events = self._sorted()
        self._row_of = {e.id: row for row, e in enumerate(self._events)}
        # View ▸ Clock time on a recording whose start is known: onsets and offsets are
        # shown, and typed, as times of day on the recorder's clock (see set_clock).
        self.clock: datetime | None = None

    def set_clock(self, start: datetime | None) -> None:
        """Onsets and offsets as times of day from ``start`` on (None: seconds again)."""
        if start != self.clock:
            self.clock = start
            if self._events:
                self.dataChanged.emit(self.index(0, 1), self.index(len(self._events) - 1, 2))

    def time_text(self, seconds: float, decimals: int = 3) -> str:
        """A time as the table shows it: seconds (12.345, 1:02.345) or, with a clock, the
        time of day (05:00:12.345)."""
        if self.clock is None:
            return format_time(seconds, decimals)
        return clock_text(self.clock, seconds, date=False, decimals=decimals, zone=False)

    def parse_time_text(self, text: str) -> float:
        """What :meth:`time_text` writes (or a user types in its form) back to seconds into
        the recording; ValueError otherwise. A time of day before the start is the next day's
        (a recording running past midnight)."""
        if self.clock is None:
            return parse_time(text)
        return seconds_into(self.clock, text)

    def reload(self) -> None:
        """The workspace's labels again. The same events (an edit, a class renamed, rows
        reordered by a new onset) are changed or moved in place, never reset: a reset during
        an edit in the table (its own setData writes to the workspace, which calls this)
        took the open editor from the view, and Qt warned at every edit that commitData was
        "called with an editor that does not belong to this view"."""
        classes = {c.id: c for c in self.workspace.classes()}
        self._relayout(self._sorted(classes), classes)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Rows by ``column`` (a header click): selection and an open editor follow their
        events."""
        if not 0 <= column < len(COLUMNS):
            column, order = TIME_COLUMN, Qt.SortOrder.AscendingOrder
        self.sort_column, self.sort_order = column, order
        self._relayout(self._sorted(self._classes), self._classes)

    def _sorted(self, classes: dict[int, EventClass] | None = None) -> list[Event]:
        """The workspace's events (in time order) in the table's sort order; ties stay in time
        order, events without a band last either way. Vectorised on the label index's columns:
        a sort of 10 000 events takes a few milliseconds."""
        labels = self.workspace.labels
        events = list(labels.order)
        column, descending = self.sort_column, self.sort_order == Qt.SortOrder.DescendingOrder
        if len(events) < 2 or (column == TIME_COLUMN and not descending):
            return events
        sign = -1.0 if descending else 1.0
        if column == 0:
            classes = self._classes if classes is None else classes
            names = sorted(classes, key=lambda c: (classes[c].name.casefold(), classes[c].name))
            rank = {class_id: k for k, class_id in enumerate(names)}
            unknown = len(rank)  # "?" (a class just deleted) after the others
            keys = np.fromiter(
                (rank.get(c, unknown) for c in labels.class_ids.tolist()),
                dtype=np.float64,
                count=len(events),
            )
            perm = np.argsort(sign * keys, kind="stable")
        elif column in (1, 2, 3):
            values = {1: labels.onsets, 2: labels.offsets, 3: labels.offsets - labels.onsets}
            perm = np.argsort(sign * values[column], kind="stable")
        else:
            missing = ~labels.is_box
            lows = np.where(missing, 0.0, labels.lows)
            highs = np.where(missing, 0.0, labels.highs)
            ties = np.arange(len(events))
            perm = np.lexsort((ties, sign * highs, sign * lows, missing))
        return [events[i] for i in perm.tolist()]

    def _relayout(self, events: list[Event], classes: dict[int, EventClass]) -> None:
        old_ids = [e.id for e in self._events]
        new_ids = [e.id for e in events]
        if len(old_ids) != len(new_ids) or set(old_ids) != set(new_ids):
            self.beginResetModel()
            self._events, self._classes = events, classes
            self._row_of = {event_id: row for row, event_id in enumerate(new_ids)}
            self.endResetModel()
            return
        if old_ids == new_ids:
            self._events, self._classes = events, classes
        else:
            self.layoutAboutToBeChanged.emit()
            row_of = {event_id: row for row, event_id in enumerate(new_ids)}
            before = self.persistentIndexList()
            after = [self.index(row_of[old_ids[i.row()]], i.column()) for i in before]
            self._events, self._classes, self._row_of = events, classes, row_of
            self.changePersistentIndexList(before, after)
            self.layoutChanged.emit()
        if events:
            last = self.index(len(events) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def event_id(self, row: int) -> int:
        return self._events[row].id

    def row_of(self, event_id: int) -> int | None:
        """The row showing this event, None when it is not in the table."""
        return self._row_of.get(event_id)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return str(section + 1)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() in _FIELDS:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        event = self._events[index.row()]
        col = index.column()
        cls = self._classes.get(event.class_id)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return cls.name if cls else "?"
            if col in (1, 2):
                return self.time_text(event.onset if col == 1 else event.offset)
            if col == 3:
                return f"{event.duration:.3f}"
            if event.low_hz is None or event.high_hz is None:
                return "–"
            return f"{event.low_hz:.0f}–{event.high_hz:.0f}"
        if role == Qt.ItemDataRole.EditRole and col in _FIELDS:
            value = getattr(event, _FIELDS[col])
            return "" if value is None else self.time_text(value, 4)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and cls is not None:
            return swatch(cls.color, 10)
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return cls.name if cls else None
        if role == Qt.ItemDataRole.ToolTipRole and col in (1, 2):
            # The time of day on the recorder's clock, where the recording's start is known
            # (with its zone, and the seconds into the recording when the cell shows the clock).
            rec = self.workspace.recording
            start = parse_stored(rec.recorded_at) if rec is not None else None
            if start is None:
                return None
            seconds = event.onset if col == 1 else event.offset
            tip = clock_text(start, seconds, decimals=3)
            return tip if self.clock is None else f"{tip} ({format_time(seconds, 3)} s in)"
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() not in _FIELDS:
            return False
        text = str(value).strip()
        try:
            number = self.parse_time_text(text)
        except ValueError:
            if self.clock is not None:
                self.workspace.report(
                    f"Not a time of day: {text!r} (hh:mm:ss.mmm; View ▸ Clock time off: seconds)"
                )
            else:
                self.workspace.report(f"Not a time: {text!r} (seconds, m:ss.mmm or h:mm:ss.mmm)")
            return False
        field = _FIELDS[index.column()]
        event = self._events[index.row()]
        return self.workspace.update_event(event.id, **{field: number}) is not None


class EventTable(QWidget):
    """Table of the current recording's labels, selection shared with the spectrogram."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.model = EventTableModel(workspace)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Ctrl/Shift+click selects several: 1–9, Delete and the arrows then act on all.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # A header click sorts (the model's own sort); the first is time order, as Tab steps.
        header.setSortIndicator(TIME_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        header.sortIndicatorChanged.connect(self._on_sort_change)
        self.table.verticalHeader().hide()
        # Names too long for their column keep both ends ("Comm…chaff"); the tooltip has all.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._fit_columns()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_rows_change)
        listen(self, workspace.events.labels, self._on_labels_change)
        listen(self, workspace.events.classes, self._on_labels_change)
        listen(self, workspace.events.selection, self._on_selection_change)

    def set_clock(self, start: datetime | None) -> None:
        """Onsets and offsets as times of day from ``start`` on (View ▸ Clock time on a
        recording whose start is known), or seconds (None)."""
        self.model.set_clock(start)
        self._fit_columns()

    def _on_labels_change(self) -> None:
        with QSignalBlocker(self.table.selectionModel()):
            self.model.reload()
        self._fit_columns()
        self._on_selection_change()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their header and their longest text in the table's font: the
        longest time of this recording (1:02:03.456 on a long one), the lengths, the bands;
        the class names get the rest of the table's width (two fifths at least, their header
        at the very least; longer names are elided in the middle), so that the bands are
        whole without scrolling sideways in a dock of 380 px."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        pad = metrics.averageCharWidth() + 8

        def fit(texts, extra: int = 0) -> int:
            return max(metrics.horizontalAdvance(t) for t in texts) + pad + extra

        def head(col: int) -> int:
            width = header.fontMetrics().horizontalAdvance(COLUMNS[col]) + pad
            if header.sortIndicatorSection() == col:  # the sort arrow's room
                width += header.sectionSizeFromContents(col).height()
            return width

        rec = self.workspace.recording
        duration = rec.duration if rec is not None else 0.0
        labels = self.workspace.labels
        times = fit([self.model.time_text(duration), self.model.time_text(0.0)])
        longest = max((e.duration for e in labels.order), default=0.0)
        lengths = max(head(3), fit([f"{longest:.3f}", "0.000"]))
        boxes = labels.is_box
        if boxes.any():
            widest = max(labels.highs[boxes].max(), labels.lows[boxes].max())
            bands = max(head(4), fit([f"{widest:.0f}–{widest:.0f}"]))
        else:
            bands = max(head(4), fit(["–"]))
        names = [c.name for c in self.workspace.classes()] or ["?"]
        onsets, offsets = max(head(1), times), max(head(2), times)
        width = self.table.viewport().width()
        # Two fifths of the table at least where the names need it (at a large font the
        # bands scroll rather than the names being cut), all that the others leave at most.
        room = max(int(width * 0.4), width - onsets - offsets - lengths - bands)
        swatch_px = 10 + 6
        self.table.setColumnWidth(0, max(head(0), min(room, fit(names, swatch_px))))
        self.table.setColumnWidth(1, onsets)
        self.table.setColumnWidth(2, offsets)
        self.table.setColumnWidth(3, lengths)
        self.table.setColumnWidth(4, bands)

    def _on_rows_change(self, *_args) -> None:
        selection = self.table.selectionModel()
        rows = sorted(index.row() for index in selection.selectedRows())
        current = selection.currentIndex()
        if current.isValid() and current.row() in rows:  # the clicked row leads
            rows.remove(current.row())
            rows.insert(0, current.row())
        self.workspace.select_events([self.model.event_id(r) for r in rows])

    def _on_sort_change(self, *_args) -> None:
        """The selected event stays in sight when the rows are sorted anew (and the sort
        arrow has the room in its header)."""
        self._fit_columns()
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            self.table.scrollTo(current)

    def _on_selection_change(self) -> None:
        shown = (self.model.row_of(i) for i in self.workspace.selection())
        rows = [r for r in shown if r is not None]
        selection = self.table.selectionModel()
        with QSignalBlocker(selection):
            selection.clearSelection()
            if not rows:
                self.table.viewport().update()
                return
            flags = (
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            )
            for row in rows[1:]:
                selection.select(self.model.index(row, 0), flags)
            # In the column the user is in: Tab after an edit goes on to the next cell.
            column = max(0, selection.currentIndex().column())
            index = self.model.index(rows[0], column)
            selection.setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        self.table.viewport().update()
