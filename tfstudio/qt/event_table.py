"""The events of the current recording as a table; times and bands are editable in place."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from tfstudio.qt.axes import format_time, parse_time
from tfstudio.qt.palette import swatch
from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace

COLUMNS = ("Class", "Onset", "Offset", "Length", "Band (Hz)")
_FIELDS = {1: "onset", 2: "offset"}
_Index = QModelIndex | QPersistentModelIndex


class EventTableModel(QAbstractTableModel):
    def __init__(self, workspace: Workspace):
        super().__init__()
        self.workspace = workspace
        self._events = list(workspace.labels.order)
        self._classes = {c.id: c for c in workspace.classes()}

    def reload(self) -> None:
        self.beginResetModel()
        self._events = list(self.workspace.labels.order)
        self._classes = {c.id: c for c in self.workspace.classes()}
        self.endResetModel()

    def event_id(self, row: int) -> int:
        return self._events[row].id

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
                return format_time(event.onset if col == 1 else event.offset, 3)
            if col == 3:
                return f"{event.duration:.3f}"
            if event.low_hz is None or event.high_hz is None:
                return "–"
            return f"{event.low_hz:.0f}–{event.high_hz:.0f}"
        if role == Qt.ItemDataRole.EditRole and col in _FIELDS:
            value = getattr(event, _FIELDS[col])
            return "" if value is None else format_time(value, 4)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and cls is not None:
            return swatch(cls.color, 10)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() not in _FIELDS:
            return False
        text = str(value).strip()
        try:
            number = parse_time(text)
        except ValueError:
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
        self.table.verticalHeader().hide()
        for col, width in enumerate((96, 62, 62, 48)):
            self.table.setColumnWidth(col, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_rows_change)
        listen(self, workspace.events.labels, self._on_labels_change)
        listen(self, workspace.events.classes, self._on_labels_change)
        listen(self, workspace.events.selection, self._on_selection_change)

    def _on_labels_change(self) -> None:
        with QSignalBlocker(self.table.selectionModel()):
            self.model.reload()
        self._fit_time_columns()
        self._on_selection_change()

    def _fit_time_columns(self) -> None:
        """Onset and offset wide enough for the longest time of this recording (1:02:03.456
        on a long one), never narrower than the default."""
        rec = self.workspace.recording
        longest = format_time(rec.duration if rec is not None else 0.0, 3)
        width = self.table.fontMetrics().horizontalAdvance(longest) + 16
        for col in (1, 2):
            self.table.setColumnWidth(col, max(62, width))

    def _on_rows_change(self, *_args) -> None:
        selection = self.table.selectionModel()
        rows = sorted(index.row() for index in selection.selectedRows())
        current = selection.currentIndex()
        if current.isValid() and current.row() in rows:  # the clicked row leads
            rows.remove(current.row())
            rows.insert(0, current.row())
        self.workspace.select_events([self.model.event_id(r) for r in rows])

    def _on_selection_change(self) -> None:
        labels = self.workspace.labels
        positions = (labels.position(i) for i in self.workspace.selection())
        rows = [r for r in positions if r is not None and r < self.model.rowCount()]
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
            index = self.model.index(rows[0], 0)
            selection.setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        self.table.viewport().update()
