"""The recording browser: name, duration, split, labels per class, state; filter and sort."""

from __future__ import annotations

from functools import partial
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
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.axes import format_duration
from tfstudio.session.workspace import Workspace

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
LABELLED_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMNS = ("Recording", "Duration", "Split", "Labels", "Per class")
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 4
_Index = QModelIndex | QPersistentModelIndex


class RecordingTableModel(QAbstractTableModel):
    """Rows from the workspace's recording list and label counts."""

    def __init__(self, workspace: Workspace):
        super().__init__()
        self.workspace = workspace
        self._rows: list[tuple[Any, ...]] = []
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        classes = self.workspace.classes()
        rows = []
        for rec in self.workspace.recordings():
            counts = self.workspace.label_counts(rec.id)
            total = sum(counts.values())
            chips = [(c.color, c.name, counts[c.id]) for c in classes if counts.get(c.id)]
            rows.append((rec, total, chips))
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def row_of(self, recording_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r[0].id == recording_id), None)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec, total, chips = self._rows[index.row()]
        summary = ", ".join(f"{name} {n}" for _, name, n in chips)
        col = index.column()
        if role == ID_ROLE:
            return rec.id
        if role == LABELLED_ROLE:
            return total > 0
        if role == CHIPS_ROLE:
            return chips
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                rec.name,
                format_duration(rec.duration),
                rec.split or "–",
                str(total) if total else "none",
                "",  # drawn by ChipsDelegate
            )[col]
        if role == SORT_ROLE:
            return (rec.name.lower(), rec.duration, rec.split or "", total, len(chips))[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [str(rec.path), f"{rec.sample_rate} Hz, {rec.channels} channel(s)"]
            if rec.status != "ok":
                lines.append(f"file {rec.status}")
            if summary:
                lines.append("labels: " + summary)
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole:
            if rec.status != "ok":
                return QColor("#d55e00")
            if col == 3 and not total:
                return QColor("#e69f00")  # unlabelled stands out: it is work left to do
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


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
    """Name substring plus labelled/unlabelled state."""

    def __init__(self):
        super().__init__()
        self.text = ""
        self.state = "all"  # all | unlabelled | labelled
        self.setSortRole(SORT_ROLE)

    def set_filter(self, text: str, state: str) -> None:
        self.beginFilterChange()
        self.text, self.state = text.strip().lower(), state
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        model = self.sourceModel()
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
        workspace.events.recordings.connect(self._on_recordings_change)
        workspace.events.classes.connect(self._on_recordings_change)
        workspace.events.recording.connect(self._on_current_recording_change)
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
        self.split_menu().exec(self.table.viewport().mapToGlobal(pos))

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
