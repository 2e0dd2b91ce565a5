"""The recording browser: name, duration, split, labels per class, when it started; state;
filter and sort."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSignalBlocker,
    Qt,
)
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPalette, QStaticText
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
from tfstudio.session.suggest import Suggestion, UncertaintyModel
from tfstudio.session.workspace import Reveal, Workspace
from tfstudio.store import EventClass, LabelTotals, Recording
from tfstudio.store.recorded import SOURCE_WORDS, clock_text, parse_stored, shown_start

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
LABELLED_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMNS = ("Recording", "Duration", "Split", "Labels", "Per class", "Recorded", "Unsure")
# When each recording started (store.recorded): shown only in a project where some did.
RECORDED_COLUMN = 5
# How unsure the active run's model is about each (session.suggest): shown once it has
# posteriors of some recording; sorted by it, Ctrl+U goes to the most uncertain unlabelled.
UNSURE_COLUMN = 6
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 4
_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ANSWERED = frozenset(
    {_DISPLAY, _DECORATION, _TOOLTIP, _FOREGROUND, _ALIGNMENT}
    | {int(r) for r in (SORT_ROLE, ID_ROLE, LABELLED_ROLE, CHIPS_ROLE)}
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True, slots=True)
class _Row:
    """One recording as the table sorts and filters it, worked out once per change of it: a
    sort compares the keys many times and a filter looks at every row."""

    rec: Recording
    name: str  # as shown: with folders where recordings share a file name
    totals: LabelTotals  # the workspace's object: a new one means its counts changed
    keys: tuple[Any, ...]
    folded: str  # the name and the start in lower case, for the filter
    recorded: str  # when it started, as shown ("" if unknown)
    unsure: Suggestion | None  # the active run's uncertainty about it (None: not known)

    @classmethod
    def of(
        cls, rec: Recording, name: str, totals: LabelTotals, unsure: Suggestion | None = None
    ) -> _Row:
        # Its zone (if the recorder said) is in the tooltip: the column stays narrow.
        recorded = shown_start(rec.recorded_at)
        # The filter finds a day ("2024-05-01") or an hour ("2024-05-01 05") as well as names.
        folded = f"{name}\n{recorded}".lower() if recorded else name.lower()
        # Undated recordings after the dated ones, by the recorder's clock.
        when = (not recorded, rec.recorded_at or "")
        # The first click on the header puts the most uncertain first; unknown ones last.
        doubt = (unsure is None, -unsure.uncertainty if unsure is not None else 0.0)
        keys = (
            name.lower(), rec.duration, rec.split or "", totals.labels, totals.classes, when, doubt
        )  # fmt: skip
        return cls(rec, name, totals, keys, folded, recorded, unsure)

    def text(self, column: int) -> str:
        """A cell's text, made when the row is drawn (most of 10 000 rows never are)."""
        if column == 0:
            return self.name
        if column == 1:
            return format_duration(self.rec.duration)
        if column == 2:
            return self.rec.split or "–"
        if column == 3:
            return str(self.totals.labels) if self.totals.labels else "none"
        if column == RECORDED_COLUMN:
            return self.recorded or "–"
        if column == UNSURE_COLUMN:
            return f"{self.unsure.uncertainty:.2f}" if self.unsure is not None else "–"
        return ""  # the chips, drawn by ChipsDelegate


class RecordingTableModel(QAbstractTableModel):
    """Rows from the workspace's recording list and label totals, sorted and filtered here in
    plain lists (10 000 rows: a few milliseconds, where a filter proxy's per-row callback
    and a sort through ``data()`` took a tenth of a second and more). Labels per class are
    read only for the rows drawn. A reload that changes a few rows' cells updates only those
    rows; a new order or filter moves the persistent indexes (selection, current row)."""

    def __init__(self, workspace: Workspace, uncertainty: UncertaintyModel | None = None):
        super().__init__()
        self.workspace = workspace
        self.uncertainty = uncertainty
        self._all: list[_Row] = []  # every recording, in the sort order
        self._rows: list[_Row] = []  # those the filter lets through
        self._position: dict[int, int] = {}
        self._classes: list[EventClass] = []
        self._class_order: dict[int, tuple[int, str, str]] = {}
        self._cache: dict[int, _Row] = {}
        self._chips: dict[int, tuple[tuple[str, str, int], ...]] = {}
        self._sort_column = 0
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.text = ""
        self.state = "all"  # all | unlabelled | labelled
        self.reload()

    def _build_rows(self) -> list[_Row]:
        # A reload follows every edit: rows whose recording and totals did not change are
        # reused, so an edit costs a lookup per recording, not a row built for each.
        cache, chips, totals_of = self._cache, self._chips, self.workspace.label_totals
        shown = self.workspace.shown_names()
        unsure_of = self.uncertainty.get if self.uncertainty is not None else _unknown
        rows = []
        for rec in self.workspace.recordings():
            totals, name, unsure = totals_of(rec.id), shown[rec.id], unsure_of(rec.id)
            row = cache.get(rec.id)
            if (
                row is None
                or row.totals is not totals
                or row.name != name
                or row.unsure is not unsure
                or not (row.rec is rec or row.rec == rec)
            ):
                row = cache[rec.id] = _Row.of(rec, name, totals, unsure)
                chips.pop(rec.id, None)
            rows.append(row)
        if len(cache) > 2 * len(rows):  # recordings removed: forget them
            ids = {r.rec.id for r in rows}
            self._cache = {k: v for k, v in cache.items() if k in ids}
            self._chips = {k: v for k, v in chips.items() if k in ids}
        return self._sorted(rows)

    def _sorted(self, rows: list[_Row]) -> list[_Row]:
        column = self._sort_column
        if not 0 <= column < len(COLUMNS):
            return rows
        # Stable, as Qt's sort is: equal keys keep the previous order.
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        return sorted(rows, key=lambda r: r.keys[column], reverse=descending)

    def _filtered(self, rows: list[_Row]) -> list[_Row]:
        text, state = self.text, self.state
        if state == "all":
            return [r for r in rows if text in r.folded] if text else list(rows)
        labelled = state == "labelled"
        return [r for r in rows if (r.totals.labels > 0) == labelled and text in r.folded]

    def _index_rows(self) -> None:
        self._position = {r.rec.id: i for i, r in enumerate(self._rows)}
        self._publish_order()

    def _publish_order(self) -> None:
        """PgDown / PgUp go to the row below / above, whatever the sort and the filter."""
        listed = None if len(self._rows) == len(self._all) else [r.rec.id for r in self._rows]
        self.workspace.set_recording_order([r.rec.id for r in self._all], listed)

    def reload(self) -> None:
        classes = self.workspace.classes()
        classes_changed = classes != self._classes
        if classes_changed:
            self._classes, self._chips = classes, {}
            self._class_order = {c.id: (i, c.color, c.name) for i, c in enumerate(classes)}
        old_all = self._all
        self._all = self._build_rows()
        rows = self._filtered(self._all)
        old = self._rows
        if len(rows) == len(old) and all(a.rec.id == b.rec.id for a, b in zip(rows, old)):
            self._rows = rows
            self._publish_order()  # the rows the filter hides may sort otherwise now
            if classes_changed and rows:  # colours, names or order of the chips
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, 4))
                return
            changed = [i for i, (a, b) in enumerate(zip(rows, old)) if a is not b]
            for first, last in _runs(changed):
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            return
        if len(self._all) == len(old_all) and {r.rec.id for r in old_all} == {
            r.rec.id for r in self._all
        }:
            self._relayout(rows)  # the same recordings, another order or filter: keep selection
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
        after = []
        for i in before:
            row = self._position.get(old_ids[i.row()]) if i.isValid() else None
            after.append(QModelIndex() if row is None else self.index(row, i.column()))
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self._all = self._sorted(self._all)
        self._relayout(self._filtered(self._all))

    def set_filter(self, text: str, state: str) -> None:
        """Show the recordings with ``text`` in their name or start (any case) that are
        ``all``, ``labelled`` or ``unlabelled``."""
        text = text.strip().lower()
        if (text, state) == (self.text, self.state):
            return
        self.text, self.state = text, state
        self._relayout(self._filtered(self._all))

    def chips(self, row: int) -> tuple[tuple[str, str, int], ...]:
        """Labels per class of row ``row`` as (colour, class name, labels), in class order."""
        rec_id = self._rows[row].rec.id
        chips = self._chips.get(rec_id)
        if chips is None:
            order = self._class_order
            shown = sorted(
                (order[class_id], n)
                for class_id, n in self.workspace.label_counts(rec_id).items()
                if n and class_id in order
            )
            chips = self._chips[rec_id] = tuple((color, name, n) for (_, color, name), n in shown)
        return chips

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def _unsure_tooltip(self, r: _Row) -> str:
        run = self.uncertainty.run_id if self.uncertainty is not None else None
        if r.unsure is None:
            return (
                f"Run {run}'s model has not detected on this recording yet"
                if run is not None
                else "No trained run is active"
            )
        return (
            f"How unsure run {run}'s model is about this recording: {r.unsure.uncertainty:.3f}\n"
            "(1: every frame on a class's threshold, 0: sure throughout; most unsure at "
            f"{r.unsure.peak_s:.1f} s).\nSort by this column, then Ctrl+U goes to the most "
            "uncertain unlabelled recording:\nlabelling those first teaches the model most."
        )

    def row_of(self, recording_id: int) -> int | None:
        return self._position.get(recording_id)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A screen of rows asks for some 1 200 cells' roles per paint: most get None at once.
        if role not in _ANSWERED or not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return r.text(col)
        rec = r.rec
        if role == _FOREGROUND:
            if rec.status != "ok":
                return QColor("#d55e00")
            if col == 3 and not r.totals.labels:
                return QColor("#e69f00")  # unlabelled stands out: it is work left to do
            return None
        if role == _ALIGNMENT:
            return _RIGHT if col in (1, 3, UNSURE_COLUMN) else None
        if role == _DECORATION:
            return _warning_icon() if col == 0 and rec.status != "ok" else None
        if role == CHIPS_ROLE:
            return self.chips(index.row())
        if role == ID_ROLE:
            return rec.id
        if role == LABELLED_ROLE:
            return r.totals.labels > 0
        if role == SORT_ROLE:
            return r.keys[col]
        if col == UNSURE_COLUMN:
            return self._unsure_tooltip(r)
        lines = [str(rec.path), f"{rec.sample_rate} Hz, {rec.channels} channel(s)"]  # tooltip
        start = parse_stored(rec.recorded_at)
        if start is not None:
            source = SOURCE_WORDS.get(rec.recorded_at_source or "", "")
            said = f", as {source} says" if source else ""
            zone = "" if start.tzinfo is not None else " (recorder's clock, zone unknown)"
            lines.append(f"recorded {clock_text(start)}{zone}{said}")
        if rec.status != "ok":
            lines.append(f"file {rec.status}: right-click ▸ Locate… to find it")
        chips = self.chips(index.row()) if r.totals.labels else ()
        if chips:
            lines.append("labels: " + ", ".join(f"{name} {n}" for _, name, n in chips))
        return "\n".join(lines)


def _unknown(recording_id: int) -> None:
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

    SIZE = 7  # the square's side, px
    MARGIN = 4  # before the first chip, px
    GAP = 5  # after a chip's count, px
    DOT_GAP = 4  # after a square without its count, px

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # A table of 30 classes paints hundreds of chips per screen: the counts' laid-out
        # text and the colours are made once, and the squares are drawn before the texts so
        # that the pen changes once per cell, not twice per chip.
        self._texts: dict[str, QStaticText] = {}
        self._colors: dict[str, QColor] = {}

    def _text(self, text: str) -> QStaticText:
        static = self._texts.get(text)
        if static is None:
            static = self._texts[text] = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
        return static

    @classmethod
    def chip_width(cls, metrics, count: int, *, counts: bool = True) -> int:
        """The room one chip takes: its square, and its count when ``counts``."""
        if not counts:
            return cls.SIZE + cls.DOT_GAP
        return cls.SIZE + 2 + metrics.horizontalAdvance(str(count)) + cls.GAP

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        chips = index.data(CHIPS_ROLE)
        if not chips:
            return
        rect = option.rect.adjusted(self.MARGIN, 0, -2, 0)
        metrics = option.fontMetrics
        size = self.SIZE
        square_y = rect.center().y() - size // 2
        text_y = rect.top() + (rect.height() - metrics.height()) // 2
        # Squares with their counts where the column has the room for all of them, else the
        # squares alone (the counts are in the row's tooltip): in a narrow dock the counts
        # took the room of every class after the first.
        room = rect.width() + self.GAP  # the last chip's gap may overhang
        counts = sum(self.chip_width(metrics, n) for _c, _name, n in chips) <= room
        squares: list[tuple[int, str]] = []
        texts: list[tuple[int, QStaticText]] = []
        x = rect.left()
        for color, _name, count in chips:
            text = self._text(str(count))
            width = self.chip_width(metrics, count, counts=counts)
            if x + width > rect.right() + 8:
                texts.append((x, self._text("…")))
                break
            squares.append((x, color))
            if counts:
                texts.append((x + size + 2, text))
            x += width
        painter.save()
        painter.setClipRect(option.rect)
        painter.setPen(Qt.PenStyle.NoPen)
        colors = self._colors
        for x, color in squares:
            brush = colors.get(color)
            if brush is None:
                brush = colors[color] = QColor(color)
            painter.setBrush(brush)
            painter.drawRoundedRect(x, square_y, size, size, 2, 2)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        painter.setFont(option.font)
        for x, text in texts:
            painter.drawStaticText(x, text_y, text)
        painter.restore()


class RecordingBrowser(QWidget):
    """Filter box, state filter and the recordings table; selecting a row opens it."""

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None = None,
        *,
        uncertainty: UncertaintyModel | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.uncertainty = uncertainty
        self.model = RecordingTableModel(workspace, uncertainty)

        self.filter_edit = QLineEdit(placeholderText="Filter recordings…", clearButtonEnabled=True)
        self.state_combo = QComboBox()
        self.state_combo.addItem("All", "all")
        self.state_combo.addItem("Unlabelled", "unlabelled")
        self.state_combo.addItem("Labelled", "labelled")
        self.table = QTableView()
        self.table.setModel(self.model)
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
        # Names too long for their column keep both ends (demo_…_017.wav); the tooltip has
        # the whole path. The name column takes the room the others leave (each as wide as
        # its header and its texts); columns wider than the dock scroll rather than being cut.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        # When each started reads beside its name (the model keeps it last: it is hidden in a
        # project where no recording's start is known).
        header.moveSection(RECORDED_COLUMN, 1)
        # The model's doubt beside the labels it asks for; the chips (which shrink to squares
        # when room is short) stay last.
        header.moveSection(header.visualIndex(UNSURE_COLUMN), header.visualIndex(4))
        self._fitted_for: tuple[int, int | None] = (-1, None)
        self._fitted: dict[int, int] = {}  # the widths fit_columns set (not the user's)
        self._measured: tuple[list[int], tuple[int, int]] | None = None
        self._recorded_px = 0  # the Recorded column's measured width; 0: hidden
        self._choosing = False  # a row the user chose is opening
        self.fit_columns(force=True)
        header.sortIndicatorChanged.connect(self._on_sort_change)
        self.table.viewport().installEventFilter(self)

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
        listen(self, workspace.events.reveal, self._on_reveal)
        if uncertainty is not None:
            listen(self, uncertainty.changed, self._on_uncertainty_change)
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
        menu.addSeparator()
        automatic = menu.addAction(
            "&Automatically: every labelled one without a split", self.workspace.split_labelled
        )
        menu.setToolTipsVisible(True)
        automatic.setToolTip(
            "Train or val for each labelled recording that has no split, val getting a fifth "
            "of every class's labels where the recordings allow ('tfstudio split')"
        )
        # Whole sites or days in val: it then scores the detector on what it never trained on.
        by_folder = menu.addAction(
            "Automatically, each &folder (site) in one split",
            partial(self.workspace.split_labelled, "folder"),
        )
        by_folder.setToolTip(
            "As above, a folder's recordings all in train or all in val, so validation scores "
            "sites the model did not learn: an honest val F1, though training then stops "
            "earlier and the model may detect less well ('tfstudio split --group-by folder')"
        )
        by_day = menu.addAction(
            "Automatically, each &day in one split", partial(self.workspace.split_labelled, "day")
        )
        by_day.setToolTip(
            "As above, by the day each recording started ('tfstudio split --group-by day')"
        )
        by_day.setEnabled(any(r.recorded_at for r in self.workspace.recordings()))
        return menu

    def _set_split(self, split: str | None) -> None:
        self.workspace.set_split(self.selected_ids(), split)

    def _on_context_menu(self, pos) -> None:
        menu = self.split_menu()
        # Alone, 'Train' read as 'train a model on it': a header says what these set.
        ids = self.selected_ids()
        rec = next((r for r in self.workspace.recordings() if r.id in ids), None)
        if len(ids) == 1 and rec is not None:
            which = f"1 recording ({self.workspace.shown_name(rec.id)})"
        else:
            which = f"{len(ids)} recordings"
        # A menu reads '&' as its shortcut's mark: '&&' shows one ("R&D_site.wav").
        header = QAction(f"Split of {which}:".replace("&", "&&"), menu)
        header.setEnabled(False)
        first = menu.actions()[0]
        menu.insertAction(first, header)
        menu.insertSeparator(first)
        index = self.table.indexAt(pos)
        rec_id = index.data(ID_ROLE) if index.isValid() else None
        rec = next((r for r in self.workspace.recordings() if r.id == rec_id), None)
        if rec is not None and rec.status != "ok":
            menu.addSeparator()
            shown = self.workspace.shown_name(rec.id)
            menu.addAction(f"&Locate {shown.replace('&', '&&')}…", partial(self.ask_locate, rec.id))
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
            f"Where is {self.workspace.shown_name(rec.id)} now?",
            start,
            f"{rec.name} (*{Path(rec.name).suffix});;All files (*)",
        )
        if path:
            self.workspace.locate(rec.id, path)

    def selected_ids(self) -> list[int]:
        """Recordings selected in the table (the open one when nothing else is)."""
        rows = self.table.selectionModel().selectedRows()
        ids = [int(index.data(ID_ROLE)) for index in rows]
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
                selection.select(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        self.table.viewport().update()

    def _on_reveal(self, reveal: Reveal) -> None:
        """An undo or redo: show its recordings (the filter cleared if it hides one, as the
        workspace's message says) and select them."""
        if reveal.unhide:
            self.clear_filter()
        if reveal.recordings:
            self.select_ids(list(reveal.recordings))
            row = self.model.row_of(reveal.recordings[0])
            if row is not None:
                self.table.scrollTo(self.model.index(row, 0))

    def clear_filter(self) -> None:
        """Every recording listed: no text filter, state "All"."""
        with QSignalBlocker(self.filter_edit), QSignalBlocker(self.state_combo):
            self.filter_edit.clear()
            self.state_combo.setCurrentIndex(self.state_combo.findData("all"))
        self._on_filter_change()

    def _on_filter_change(self, *_args) -> None:
        self.model.set_filter(self.filter_edit.text(), self.state_combo.currentData())
        self._on_current_recording_change()

    def _header_width(self, col: int) -> int:
        """A header's width: its text, and the sort arrow's room on the sorted column only
        (Qt's size hint keeps that room on every column: 28 px each, a third of the dock on
        a laptop)."""
        header = self.table.horizontalHeader()
        hint = header.sectionSizeFromContents(col)
        if header.isSortIndicatorShown() and header.sortIndicatorSection() != col:
            margin = self.table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
            return hint.width() - hint.height() - margin
        return hint.width()

    def column_widths(self) -> list[int]:
        """Widths for Recording, Duration, Split and Labels in the table's font: each its
        header or its longest text, whichever is wider; a name at most 32 characters wide
        (longer ones are elided in the middle)."""
        metrics = self.table.fontMetrics()
        pad = metrics.averageCharWidth() + 6
        recordings = self.workspace.recordings()
        # Measure the longest few by characters (10 000 names would take a while).
        shown = self.workspace.shown_names()
        longest = sorted((shown[r.id] for r in recordings), key=len, reverse=True)[:32]
        name_px = max((metrics.horizontalAdvance(n) for n in longest), default=0)
        name_px = min(name_px, metrics.averageCharWidth() * 32)
        if any(r.status != "ok" for r in recordings):  # the warning icon
            name_px += self.table.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize) + 4
        most = max((r.duration for r in recordings), default=0.0)
        samples = (
            [name_px],
            [metrics.horizontalAdvance(format_duration(most)), metrics.horizontalAdvance("30.0 s")],
            [metrics.horizontalAdvance(t) for t in ("train", "val", "test")],
            [metrics.horizontalAdvance(t) for t in ("none", "9999")],
        )
        return [
            max(self._header_width(col), max(widths) + pad) for col, widths in enumerate(samples)
        ]

    def recorded_width(self) -> int:
        """The Recorded column's width: its header or a start as shown; 0 where no recording
        has a start (it is hidden)."""
        if not any(r.recorded_at for r in self.workspace.recordings()):
            return 0
        sample = "2024-05-01 05:00:00"
        metrics = self.table.fontMetrics()
        pad = metrics.averageCharWidth() + 6
        return max(self._header_width(RECORDED_COLUMN), metrics.horizontalAdvance(sample) + pad)

    def unsure_width(self) -> int:
        """The Unsure column's width: its header or a score; 0 while the active run has no
        scores (it is hidden)."""
        if self.uncertainty is None or not len(self.uncertainty):
            return 0
        metrics = self.table.fontMetrics()
        pad = metrics.averageCharWidth() + 6
        return max(self._header_width(UNSURE_COLUMN), metrics.horizontalAdvance("0.00") + pad)

    def chips_widths(self) -> tuple[int, int]:
        """The Per class column's width with every chip's count shown, and with the squares
        alone, for the recording with the most classes (its counts taken as even: reading
        every recording's counts would take a query each)."""
        metrics = self.table.fontMetrics()
        most, counted = 0, 0
        totals_of = self.workspace.label_totals
        # Measured once per distinct (labels, classes): this runs after every edit.
        for labels, classes in {totals_of(rec.id) for rec in self.workspace.recordings()}:
            if classes:
                most = max(most, classes)
                each = ChipsDelegate.chip_width(metrics, -(-labels // classes))
                counted = max(counted, classes * each)
        edges = ChipsDelegate.MARGIN + 2  # as the delegate draws them
        dots = most * ChipsDelegate.chip_width(metrics, 0, counts=False)
        header = self._header_width(4)
        return max(header, counted - ChipsDelegate.GAP + edges), max(header, dots + edges)

    def fit_columns(self, *, force: bool = False, measured: bool = False) -> None:
        """Duration, Split, Labels and Per class as wide as they need (the chips without
        their counts when the names would be cut for them); the names take the rest. A
        column the user resized keeps its width unless ``force``; ``measured``: with the
        widths last measured (a resize: measuring 10 000 names at every step of a dock's
        drag is not needed)."""
        table = self.table
        if not measured or self._measured is None:
            self._measured = (self.column_widths(), self.chips_widths())
            self._recorded_px = self.recorded_width()
        widths, (counted, dots) = self._measured
        for col in (1, 2, 3):
            self._set_width(col, widths[col], force)
        fixed = [1, 2, 3]
        table.setColumnHidden(RECORDED_COLUMN, not self._recorded_px)
        if self._recorded_px:
            self._set_width(RECORDED_COLUMN, self._recorded_px, force)
            fixed.append(RECORDED_COLUMN)
        unsure_px = self.unsure_width()
        table.setColumnHidden(UNSURE_COLUMN, not unsure_px)
        if unsure_px:
            # Shown for the first time: its width is Qt's default, not one the user chose.
            self._set_width(UNSURE_COLUMN, unsure_px, force or UNSURE_COLUMN not in self._fitted)
            fixed.append(UNSURE_COLUMN)
        others = sum(table.columnWidth(col) for col in fixed)
        room = table.viewport().width() - others - widths[0]
        self._set_width(4, max(dots, min(counted, room)), force)
        # The names stretch while they have their room; in a narrower dock (or a larger
        # font) they keep it and the table scrolls sideways rather than cutting them short.
        header = table.horizontalHeader()
        if room >= table.columnWidth(4):
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            table.setColumnWidth(0, widths[0])

    def _set_width(self, col: int, width: int, force: bool) -> None:
        if force or self.table.columnWidth(col) == self._fitted.get(col):
            self.table.setColumnWidth(col, width)
            self._fitted[col] = width

    def preferred_width(self) -> int:
        """The dock's width that shows every column and the chips with their counts."""
        counted, _dots = self.chips_widths()
        scroll = self.table.verticalScrollBar().sizeHint().width()
        frame = 2 * self.table.frameWidth()
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else None
        edges = margins.left() + margins.right() if margins is not None else 8
        recorded = self.recorded_width() + self.unsure_width()
        return sum(self.column_widths()) + counted + recorded + scroll + frame + edges

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns(measured=True)
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.fit_columns(force=True)

    def _on_sort_change(self, *_args) -> None:
        self.fit_columns()  # the sort arrow's room moves to the sorted column

    def _on_recordings_change(self) -> None:
        # A reload resets the model: keep a multi-row selection (e.g. while setting splits).
        selected = [int(i.data(ID_ROLE)) for i in self.table.selectionModel().selectedRows()]
        self.model.reload()
        # Sized again when other recordings come (not at every edit: a column the user
        # widened stays as it is).
        recordings = self.workspace.recordings()
        fitted_for = (len(recordings), recordings[0].id if recordings else None)
        if fitted_for != self._fitted_for:
            self._fitted_for = fitted_for
            self.fit_columns(force=True)
        elif self._measured is not None and self.chips_widths() != self._measured[1]:
            # Labels of more (or fewer) classes: the chips' room follows, unless the user
            # resized their column.
            self._measured = (self._measured[0], self.chips_widths())
            self.fit_columns(measured=True)
        self._on_current_recording_change()
        if len(selected) > 1:
            self.select_ids(selected)

    def _on_uncertainty_change(self) -> None:
        # Scores arrive a batch at a time: only the rows whose score changed are redrawn,
        # and the column shows (or hides) with the first (or without any).
        shown = not self.table.isColumnHidden(UNSURE_COLUMN)
        self._on_recordings_change()
        if shown != bool(self.unsure_width()):
            self.fit_columns(measured=True)

    def _on_row_change(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._choosing = True
            try:
                self.workspace.set_recording(int(current.data(ID_ROLE)))
            finally:
                self._choosing = False

    def _on_current_recording_change(self) -> None:
        if self._choosing:
            # The user's click in the table opened it: the table's selection is theirs (a
            # Ctrl+click adds the row to it; selecting the row alone here dropped the rest).
            return
        rec = self.workspace.recording
        row = self.model.row_of(rec.id) if rec is not None else None
        selection = self.table.selectionModel()
        before = [index.row() for index in selection.selectedRows()]
        with QSignalBlocker(selection):
            if row is None:
                selection.clearSelection()
            else:
                selection.setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        # The view heard nothing (the signals were blocked, so that choosing the row here
        # does not open it again): repaint the rows that were and are selected, not every
        # row drawn (30 rows of chips are a fifth of a recording switch).
        self._repaint_rows(before if row is None else [*before, row])
        if row is not None:
            self.table.scrollTo(self.model.index(row, 0))

    def _repaint_rows(self, rows: list[int]) -> None:
        viewport = self.table.viewport()
        if len(rows) > 64:
            viewport.update()
            return
        for row in set(rows):
            rect = self.table.visualRect(self.model.index(row, 0))
            viewport.update(QRect(0, rect.top(), viewport.width(), rect.height()))
