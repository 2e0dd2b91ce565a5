"""The recording browser: name, duration, split, labels per class, state; filter and sort."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSignalBlocker,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.axes import format_duration
from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace
from tfstudio.store import EventClass, Recording

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
LABELLED_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMNS = ("Recording", "Duration", "Split", "Labels", "Per class")
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 4
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class _Row:
    """One recording as the table shows it, worked out once per reload: a view asks for each
    cell and a sort compares the keys many times, so neither builds anything."""

    rec: Recording
    total: int
    chips: tuple[tuple[str, str, int], ...]  # (colour, class name, labels) in class order
    text: tuple[str, str, str, str, str]
    keys: tuple[Any, ...]
    folded: str  # the name in lower case, for the filter

    @classmethod
    def of(cls, rec: Recording, chips: tuple[tuple[str, str, int], ...]) -> _Row:
        total = sum(n for _, _, n in chips)
        text = (
            rec.name,
            format_duration(rec.duration),
            rec.split or "–",
            str(total) if total else "none",
            "",  # drawn by ChipsDelegate
        )
        folded = rec.name.lower()
        keys = (folded, rec.duration, rec.split or "", total, len(chips))
        return cls(rec, total, chips, text, keys, folded)

    def same(self, other: _Row) -> bool:
        return self is other or (self.rec == other.rec and self.chips == other.chips)


class RecordingTableModel(QAbstractTableModel):
    """Rows from the workspace's recording list and label counts, kept in the sort order the
    view asked for (the filter proxy only filters: sorting 10 000 rows through ``data()``
    calls took seconds). A reload that changes a few rows' cells updates only those rows."""

    def __init__(self, workspace: Workspace):
        super().__init__()
        self.workspace = workspace
        self._rows: list[_Row] = []
        self._position: dict[int, int] = {}
        self._classes: list[EventClass] = []
        self._cache: dict[int, tuple[Recording, dict[int, int], _Row]] = {}
        self._sort_column = 0
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.reload()

    def _build_rows(self) -> list[_Row]:
        # A reload follows every edit: rows whose recording and counts did not change are
        # reused, so an edit costs a lookup per recording, not a row built for each.
        classes = self.workspace.classes()
        if classes != self._classes:
            self._classes, self._cache = classes, {}
        order = {c.id: (i, c.color, c.name) for i, c in enumerate(classes)}
        cache = self._cache
        rows = []
        for rec in self.workspace.recordings():
            counts = self.workspace.label_counts(rec.id)
            hit = cache.get(rec.id)
            if hit is not None and (hit[0] is rec or hit[0] == rec) and hit[1] == counts:
                rows.append(hit[2])
                continue
            shown = sorted(
                (order[class_id], n) for class_id, n in counts.items() if n and class_id in order
            )
            row = _Row.of(rec, tuple((color, name, n) for (_, color, name), n in shown))
            cache[rec.id] = (rec, dict(counts), row)
            rows.append(row)
        if len(cache) > 2 * len(rows):  # recordings removed: forget them
            ids = {r.rec.id for r in rows}
            self._cache = {k: v for k, v in cache.items() if k in ids}
        return self._sorted(rows)

    def _sorted(self, rows: list[_Row]) -> list[_Row]:
        column = self._sort_column
        if not 0 <= column < len(COLUMNS):
            return rows
        # Stable, as Qt's sort is: equal keys keep the workspace's order.
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        return sorted(rows, key=lambda r: r.keys[column], reverse=descending)

    def _index_rows(self) -> None:
        self._position = {r.rec.id: i for i, r in enumerate(self._rows)}

    def reload(self) -> None:
        rows = self._build_rows()
        old = self._rows
        if len(rows) == len(old) and all(a.rec.id == b.rec.id for a, b in zip(rows, old)):
            self._rows = rows
            changed = [i for i, (a, b) in enumerate(zip(rows, old)) if not a.same(b)]
            for first, last in _runs(changed):
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            return
        if len(rows) == len(old) and {r.rec.id for r in rows} == set(self._position):
            self._relayout(rows)  # the same recordings in a new order: keep the selection
            return
        self.beginResetModel()
        self._rows = rows
        self._index_rows()
        self.endResetModel()

    def _relayout(self, rows: list[_Row]) -> None:
        self.layoutAboutToBeChanged.emit()
        old_ids = [r.rec.id for r in self._rows]
        self._rows = rows
        self._index_rows()
        before = self.persistentIndexList()
        after = [
            self.index(self._position[old_ids[i.row()]], i.column()) if i.isValid() else i
            for i in before
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self._relayout(self._sorted(list(self._rows)))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def row_of(self, recording_id: int) -> int | None:
        return self._position.get(recording_id)

    def accepts(self, row: int, text: str, state: str) -> bool:
        """Whether row ``row`` passes the filter: ``text`` in its name (lower case), and
        labelled, unlabelled or either (``state``)."""
        r = self._rows[row]
        if text and text not in r.folded:
            return False
        return state == "all" or (state == "labelled") == (r.total > 0)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return r.text[col]
        if role == CHIPS_ROLE:
            return r.chips
        if role == ID_ROLE:
            return r.rec.id
        if role == LABELLED_ROLE:
            return r.total > 0
        if role == SORT_ROLE:
            return r.keys[col]
        rec = r.rec
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [str(rec.path), f"{rec.sample_rate} Hz, {rec.channels} channel(s)"]
            if rec.status != "ok":
                lines.append(f"file {rec.status}: right-click ▸ Locate… to find it")
            if r.chips:
                lines.append("labels: " + ", ".join(f"{name} {n}" for _, name, n in r.chips))
            return "\n".join(lines)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and rec.status != "ok":
            return _warning_icon()
        if role == Qt.ItemDataRole.ForegroundRole:
            if rec.status != "ok":
                return QColor("#d55e00")
            if col == 3 and not r.total:
                return QColor("#e69f00")  # unlabelled stands out: it is work left to do
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _warning_icon() -> QIcon:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    if style is None:
        return QIcon()
    return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) ranges of consecutive rows."""
    ranges: list[tuple[int, int]] = []
    for row in rows:
        if ranges and ranges[-1][1] == row - 1:
            ranges[-1] = (ranges[-1][0], row)
        else:
            ranges.append((row, row))
    return ranges


class ChipsDelegate(QStyledItemDelegate):
    """Labels per class as coloured chips with counts (names in the tooltip)."""

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        chips = index.data(CHIPS_ROLE) or []
        rect = option.rect.adjusted(4, 0, -2, 0)
        metrics = option.fontMetrics
        painter.save()
        painter.setClipRect(option.rect)
        x = rect.left()
        size = 7
        for color, _name, count in chips:
            text = str(count)
            width = size + 2 + metrics.horizontalAdvance(text) + 5
            if x + width > rect.right() + 8:
                painter.setPen(option.palette.color(QPalette.ColorRole.Text))
                painter.drawText(
                    QRect(x, rect.top(), 16, rect.height()), Qt.AlignmentFlag.AlignVCenter, "…"
                )
                break
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(x, rect.center().y() - size // 2, size, size, 2, 2)
            painter.setPen(option.palette.color(QPalette.ColorRole.Text))
            painter.drawText(
                QRect(x + size + 2, rect.top(), width, rect.height()),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                text,
            )
            x += width
        painter.restore()


class RecordingFilter(QSortFilterProxyModel):
    """Name substring plus labelled/unlabelled state. Sorting is the source model's (the
    view's sort request is passed on), so this proxy keeps the source's order."""

    def __init__(self):
        super().__init__()
        self.text = ""
        self.state = "all"  # all | unlabelled | labelled
        self.setSortRole(SORT_ROLE)

    def set_filter(self, text: str, state: str) -> None:
        self.beginFilterChange()
        self.text, self.state = text.strip().lower(), state
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if isinstance(model, RecordingTableModel):
            model.sort(column, order)
        else:
            super().sort(column, order)

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        model = self.sourceModel()
        if isinstance(model, RecordingTableModel):
            return model.accepts(row, self.text, self.state)
        index = model.index(row, 0, parent)
        if self.text and self.text not in str(model.data(index)).lower():
            return False
        labelled = bool(model.data(index, LABELLED_ROLE))
        return self.state == "all" or (self.state == "labelled") == labelled


class RecordingBrowser(QWidget):
    """Filter box, state filter and the recordings table; selecting a row opens it."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.model = RecordingTableModel(workspace)
        self.proxy = RecordingFilter()
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit(placeholderText="Filter recordings…", clearButtonEnabled=True)
        self.state_combo = QComboBox()
        self.state_combo.addItem("All", "all")
        self.state_combo.addItem("Unlabelled", "unlabelled")
        self.state_combo.addItem("Labelled", "labelled")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows can be selected (Ctrl/Shift+click) to detect on; the current one is open.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setItemDelegateForColumn(4, ChipsDelegate(self.table))
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((104, 60, 40, 44)):
            self.table.setColumnWidth(col, width)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.state_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)

        self.filter_edit.textChanged.connect(self._on_filter_change)
        self.state_combo.currentIndexChanged.connect(self._on_filter_change)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_change)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        listen(self, workspace.events.recordings, self._on_recordings_change)
        listen(self, workspace.events.classes, self._on_recordings_change)
        listen(self, workspace.events.recording, self._on_current_recording_change)
        self._on_current_recording_change()

    def split_menu(self) -> QMenu:
        """'Split' actions for the selected recordings: train learns, val stops early, test
        scores; a recording in no split is only for detection."""
        menu = QMenu("Set &split", self)
        for text, split in (
            ("&Train", "train"),
            ("&Validation", "val"),
            ("T&est", "test"),
            ("&None (detect only)", None),
        ):
            menu.addAction(text, partial(self._set_split, split))
        return menu

    def _set_split(self, split: str | None) -> None:
        self.workspace.set_split(self.selected_ids(), split)

    def _on_context_menu(self, pos) -> None:
        menu = self.split_menu()
        index = self.table.indexAt(pos)
        rec_id = self.proxy.data(index, ID_ROLE) if index.isValid() else None
        rec = next((r for r in self.workspace.recordings() if r.id == rec_id), None)
        if rec is not None and rec.status != "ok":
            menu.addSeparator()
            menu.addAction(f"&Locate {rec.name}…", partial(self.ask_locate, rec.id))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def ask_locate(self, recording_id: int) -> None:
        """Ask where a missing recording's file is now; others of its folder follow."""
        rec = next((r for r in self.workspace.recordings() if r.id == recording_id), None)
        if rec is None:
            return
        old = self.workspace.recording_path(rec)
        start = str(old.parent) if old is not None and old.parent.exists() else ""
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Where is {rec.name} now?",
            start,
            f"{rec.name} (*{Path(rec.name).suffix});;All files (*)",
        )
        if path:
            self.workspace.locate(rec.id, path)

    def selected_ids(self) -> list[int]:
        """Recordings selected in the table (the open one when nothing else is)."""
        rows = self.table.selectionModel().selectedRows()
        ids = [int(self.proxy.data(index, ID_ROLE)) for index in rows]
        if not ids and self.workspace.recording is not None:
            ids = [self.workspace.recording.id]
        return ids

    def select_ids(self, recording_ids: list[int]) -> None:
        """Select these rows (e.g. from a script or test); the open recording stays open."""
        selection = self.table.selectionModel()
        with QSignalBlocker(selection):
            selection.clearSelection()
            for rec_id in recording_ids:
                row = self.model.row_of(rec_id)
                if row is None:
                    continue
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        self.table.viewport().update()

    def _on_filter_change(self, *_args) -> None:
        self.proxy.set_filter(self.filter_edit.text(), self.state_combo.currentData())
        self._on_current_recording_change()

    def _on_recordings_change(self) -> None:
        # A reload resets the model: keep a multi-row selection (e.g. while setting splits).
        selected = [
            int(self.proxy.data(i, ID_ROLE)) for i in self.table.selectionModel().selectedRows()
        ]
        self.model.reload()
        self._on_current_recording_change()
        if len(selected) > 1:
            self.select_ids(selected)

    def _on_row_change(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.workspace.set_recording(int(self.proxy.data(current, ID_ROLE)))

    def _on_current_recording_change(self) -> None:
        rec = self.workspace.recording
        row = self.model.row_of(rec.id) if rec is not None else None
        selection = self.table.selectionModel()
        with QSignalBlocker(selection):
            if row is None:
                selection.clearSelection()
                return
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if not index.isValid():
                selection.clearSelection()
                return
            selection.setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self.table.scrollTo(index)
        self.table.viewport().update()
