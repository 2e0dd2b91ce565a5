"""Reviewing a run's detections: run chooser, thresholds, and a keyboard-driven review list.

Keys (in the list, and A/R/E/N/J/K anywhere in the window): A accept (the detection becomes
a label), R reject (kept as a negative), E or Enter adjust (zoom to it; dragging its edges
accepts it), N/J next, P/K previous, Space play it. Every decision is one undoable step in the
store, and the next training run reads accepted detections as labels. Accepting one that
overlaps a label of its class merges the two into one label (``tfstudio.store.review``); on a
test recording a banner says that accepting there changes the evaluation reference.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.axes import format_time
from tfstudio.qt.palette import swatch
from tfstudio.qt.subscribe import listen
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.review import ReviewRow, review_rows, row_after, sort_key
from tfstudio.session.runs import run_title
from tfstudio.session.workspace import Workspace
from tfstudio.store import Event
from tfstudio.store.recorded import clock_text, parse_stored

_Index = QModelIndex | QPersistentModelIndex
EVENT_ROLE = Qt.ItemDataRole.UserRole + 1
SLIDER_STEPS = 100
COMMIT_DELAY_MS = 350  # keyboard and wheel steps on the slider: write once they pause
LOWER_TICK_ALPHA = 120  # the lower threshold's tick: there, but quieter than the threshold's

SORTS = {
    "confidence": "Most confident first",
    "uncertainty": "Most uncertain first",
    "time": "In time order",
}
STATE_TEXT = {"none": "pending", "accepted": "accepted", "rejected": "rejected"}
STATE_COLOR = {"none": "#e3e5ea", "accepted": "#4cc38a", "rejected": "#9a9fa8"}


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """A cell of a table whose every cell was set (a missing one is a bug)."""
    item = table.item(row, column)
    if item is None:
        raise LookupError(f"no item in row {row}, column {column}")
    return item


class RunChooser(QComboBox):
    """The workspace's active run; choosing one here makes it active everywhere."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.setToolTip(
            "The run whose detections are shown, reviewed and evaluated: a trained one, or "
            "detections imported from another tool's files"
        )
        self.currentIndexChanged.connect(self._on_index_change)
        listen(self, workspace.events.runs, self._on_runs_change)
        listen(self, workspace.events.run, self._on_run_change)
        self._on_runs_change()

    def _on_runs_change(self) -> None:
        with QSignalBlocker(self):
            self.clear()
            for run in reversed(self.workspace.runs()):
                self.addItem(run_title(run), run.id)
            if not self.count():
                self.addItem("no trained run yet", None)
        self.setEnabled(bool(self.workspace.runs()))
        self._on_run_change()

    def _on_run_change(self) -> None:
        with QSignalBlocker(self):
            index = self.findData(self.workspace.run_id)
            self.setCurrentIndex(max(index, 0))

    def _on_index_change(self, index: int) -> None:
        run_id = self.itemData(index)
        if run_id is not None:
            self.workspace.set_run(int(run_id))


# ------------------------------------------------------------------ thresholds
class ThresholdControls(QWidget):
    """A slider for the global threshold or one class's, and every class's value and count."""

    def __init__(self, detections: DetectionModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.detections = detections
        self.workspace = detections.workspace
        self.scope = QComboBox()
        self.scope.setToolTip("Which threshold the slider moves")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(5)
        self.slider.setToolTip(
            "Detections are redrawn live while you drag; they are stored when you let go"
        )
        self.value_label = QLabel("0.50")
        self.value_label.setMinimumWidth(34)
        # The lower threshold of a class with hysteresis ("↓0.28"): hidden without one.
        self.lower_label = QLabel()
        self.lower_label.setStyleSheet("color: #9aa0aa")
        self.lower_label.setVisible(False)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #e69f00")
        # "All classes" when every class has a threshold of its own (training tunes one for
        # each): the slider then moves none of them, which a user dragging it must be told.
        # One line on a laptop's dock (two there took the list's last button row below the
        # fold), the whole in its tooltip.
        self.scope_note = QLabel("Each class has its own threshold (•): this moves none.")
        self.scope_note.setToolTip(
            "Every class has its own threshold (•), so this slider moves none: pick a class "
            "above (or in Per class) to move its threshold."
        )
        self.scope_note.setWordWrap(True)
        self.scope_note.setStyleSheet("color: #9aa0aa")
        self.scope_note.setVisible(False)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip(
            "Every class back to the threshold training left: its own where training tuned "
            "one on val, else the global threshold"
        )
        self.apply_all_button = QToolButton()
        self.apply_all_button.setText("Apply to all")
        self.apply_all_button.setToolTip(
            "Redo every recording's unreviewed detections of this run at these thresholds "
            "(a recording is brought in line anyway when it is opened)"
        )
        self.per_class_button = QToolButton()
        self.per_class_button.setText("Per class")
        self.per_class_button.setCheckable(True)
        self.per_class_button.setToolTip("Show every class's threshold and pending count")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Threshold", "Pending"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(19)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setToolTip("Click a class to move its own threshold with the slider")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Threshold"))
        row.addWidget(self.scope, 1)
        row.addWidget(self.per_class_button)
        row.addWidget(self.reset_button)
        slider_row = QHBoxLayout()
        slider_row.setContentsMargins(0, 0, 0, 0)
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.value_label)
        slider_row.addWidget(self.lower_label)
        slider_row.addWidget(self.apply_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(row)
        layout.addLayout(slider_row)
        layout.addWidget(self.scope_note)
        layout.addWidget(self.hint)
        layout.addWidget(self.table)

        self._commit_timer = QTimer(self, singleShot=True, interval=COMMIT_DELAY_MS)
        self._commit_timer.timeout.connect(self._on_commit_timeout)
        self.slider.valueChanged.connect(self._on_slider_change)
        self.slider.sliderReleased.connect(self._on_slider_release)
        self.scope.currentIndexChanged.connect(self._on_scope_change)
        self.reset_button.clicked.connect(self._on_reset_click)
        self.apply_all_button.clicked.connect(self._on_apply_all_click)
        self.per_class_button.toggled.connect(self._on_per_class_toggle)
        self.table.setVisible(False)  # the review list needs the room more often
        self.table.cellClicked.connect(self._on_table_click)
        listen(self, detections.events.run_info, self._on_classes_change)
        listen(self, self.workspace.events.classes, self._on_classes_change)
        listen(self, detections.events.thresholds, self._on_thresholds_change)
        listen(self, detections.events.drawn, self._on_counts_change)
        listen(self, detections.events.posteriors, self._on_posteriors_change)
        listen(self, detections.events.earlier_audio, self._on_posteriors_change)
        self._on_classes_change()
        self._on_posteriors_change()

    def scope_class(self) -> int | None:
        data = self.scope.currentData()
        return None if data is None else int(data)

    def set_threshold(self, value: float, *, final: bool = True) -> None:
        """Move the slider as a user would (tests, scripts)."""
        self.slider.setValue(round(value * SLIDER_STEPS))
        if final:
            self._on_slider_release()

    # ---------------------------------------------------------- notifications
    def _on_classes_change(self) -> None:
        model = self.detections
        classes = [c for c in self.workspace.classes() if c.id in set(model.class_ids())]
        current = self.scope_class()
        with QSignalBlocker(self.scope):
            self.scope.clear()
            self.scope.addItem("All classes", None)
            for cls in classes:
                self.scope.addItem(swatch(cls.color), cls.name, cls.id)
            self.scope.setCurrentIndex(max(0, self.scope.findData(current)))
        self.table.setRowCount(len(classes))
        for r, cls in enumerate(classes):
            item = QTableWidgetItem(swatch(cls.color), cls.name)
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            self.table.setItem(r, 0, item)
            for col in (1, 2):
                cell = QTableWidgetItem()
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, cell)
        height = self.table.horizontalHeader().height() + 19 * min(len(classes), 8) + 4
        self.table.setFixedHeight(height)
        self.setEnabled(model.info is not None)
        self._on_thresholds_change()
        self._on_counts_change()

    def _on_thresholds_change(self) -> None:
        model = self.detections
        class_id = self.scope_class()
        value = model.global_threshold if class_id is None else model.threshold_for(class_id)
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(value * SLIDER_STEPS))
        self.value_label.setText(f"{value:.2f}")
        self._show_lower(class_id)
        for r in range(self.table.rowCount()):
            item = _cell(self.table, r, 0)
            cid = int(item.data(Qt.ItemDataRole.UserRole))
            own = cid in model.class_thresholds
            lower = model.lower_threshold_for(cid)
            cell = _cell(self.table, r, 1)
            text = f"{model.threshold_for(cid):.2f}"
            tip = "its own threshold" if own else "follows the global threshold"
            if lower is not None:
                text += f" ↓{lower:.2f}"
                tip += "; " + _goes_on_text(item.text(), lower, model.hysteresis_for(cid))
            cell.setText(text + (" •" if own else "  "))
            cell.setToolTip(tip)
        self.reset_button.setEnabled(bool(model.class_thresholds))
        ids = [c for c in model.class_ids() if c is not None]
        self.scope_note.setVisible(
            class_id is None and bool(ids) and all(c in model.class_thresholds for c in ids)
        )

    def _show_lower(self, class_id: int | None) -> None:
        """The lower threshold the slider's scope runs on at, where its classes have one."""
        model = self.detections
        if class_id is not None:
            scoped = [class_id]
        else:  # the classes that follow the global threshold
            scoped = [
                c for c in model.class_ids() if c is not None and c not in model.class_thresholds
            ]
        ratios = {model.hysteresis_for(c) for c in scoped}
        names = {c.id: c.name for c in self.workspace.classes()}
        text = tip = ""
        if len(ratios) == 1 and (ratio := ratios.pop()) < 1:
            lower = model.threshold_for(scoped[0]) * ratio
            text = f"↓{lower:.2f}"
            who = names.get(scoped[0], "?") if class_id is not None else "classes that follow it"
            tip = _goes_on_text(who, lower, ratio)
        elif any(model.hysteresis_for(c) < 1 for c in scoped):
            lines = [
                _goes_on_text(names.get(c, "?"), low, model.hysteresis_for(c))
                for c in scoped
                if (low := model.lower_threshold_for(c)) is not None
            ]
            tip = "\n".join(lines)
        self.lower_label.setText(text)
        self.lower_label.setToolTip(tip)
        self.lower_label.setVisible(bool(text))
        self.slider.setToolTip(
            "Detections are redrawn live while you drag; they are stored when you let go"
            + (f"\n{tip}" if tip else "")
        )

    def _on_counts_change(self) -> None:
        if not self.per_class_button.isChecked():
            return  # counted when shown; the slider moves faster without it
        drawn = self.detections.drawn()
        ids, counts = np.unique(drawn.class_ids[drawn.states == 0], return_counts=True)
        pending = dict(zip(ids.tolist(), counts.tolist()))
        for r in range(self.table.rowCount()):
            cid = int(_cell(self.table, r, 0).data(Qt.ItemDataRole.UserRole))
            _cell(self.table, r, 2).setText(str(pending.get(cid, 0)))

    def _on_posteriors_change(self) -> None:
        model, ws = self.detections, self.workspace
        missing = model.info is not None and ws.recording is not None and model.posteriors is None
        run = ws.run()
        if model.earlier_audio and run is not None and run.imported:
            text = "Made from this file's earlier audio by another tool."
            whole = (
                "This run's detections here came from another tool's table, made from this "
                "file's audio before it changed and was imported again: they no longer match "
                "it. Run that tool on this audio and import its new table."
            )
        elif model.earlier_audio:
            text = "Made from this file's earlier audio: Detect (Ctrl+D) again."
            whole = (
                "This run's detections here were made from this file's audio before it "
                "changed and was imported again: they no longer match it. Detect (Ctrl+D) "
                "makes them again from this audio (reviewed ones are kept)."
            )
        elif not missing:
            text = whole = ""
        elif model.posteriors_stale:
            text = "Made by an older tfstudio: Detect (Ctrl+D) to use the slider."
            whole = (
                "This run's saved posteriors were made by an earlier version of tfstudio: "
                "the slider applies once this run has detected again (Detect, Ctrl+D)."
            )
        else:
            text = "Not detected here yet: Detect (Ctrl+D) to use the slider."
            whole = (
                "This run has not detected on this recording yet: the slider applies once it "
                "has (Detect, Ctrl+D)."
            )
        self.hint.setText(text)
        self.hint.setToolTip(whole)
        self.hint.setVisible(missing or model.earlier_audio)

    def _on_per_class_toggle(self, shown: bool) -> None:
        self.table.setVisible(shown)
        self._on_counts_change()

    def _on_scope_change(self, _index: int) -> None:
        class_id = self.scope_class()
        with QSignalBlocker(self.table.selectionModel()):
            self.table.clearSelection()
            for r in range(self.table.rowCount()):
                if _cell(self.table, r, 0).data(Qt.ItemDataRole.UserRole) == class_id:
                    self.table.selectRow(r)
        self._on_thresholds_change()

    def _on_table_click(self, row: int, _column: int) -> None:
        class_id = _cell(self.table, row, 0).data(Qt.ItemDataRole.UserRole)
        index = self.scope.findData(class_id)
        self.scope.setCurrentIndex(0 if index < 0 or index == self.scope.currentIndex() else index)

    def _on_slider_change(self, value: int) -> None:
        threshold = value / SLIDER_STEPS
        self.value_label.setText(f"{threshold:.2f}")
        self.detections.set_threshold(threshold, self.scope_class(), final=False)
        if not self.slider.isSliderDown():
            self._commit_timer.start()  # keys, wheel, page clicks: store once they pause

    def _on_slider_release(self) -> None:
        self._commit_timer.stop()
        self.detections.set_threshold(
            self.slider.value() / SLIDER_STEPS, self.scope_class(), final=True
        )

    def _on_commit_timeout(self) -> None:
        self._on_slider_release()

    def _on_reset_click(self) -> None:
        self.detections.reset_class_threshold(None)

    def _on_apply_all_click(self) -> None:
        done = self.detections.apply([r.id for r in self.workspace.recordings()])
        self.workspace.report(f"Detections of {done} recording(s) redone at these thresholds")


def _goes_on_text(name: str, lower: float, ratio: float) -> str:
    """What hysteresis does to a class's detections, for a tooltip."""
    return (
        f"{name}: a detection begins where the probability passes the threshold and goes on, "
        f"before and after, down to {lower:.2f} (hysteresis {ratio:.2g} of the threshold, "
        "kept when the threshold moves), so its mean confidence may lie below the threshold"
    )


# ------------------------------------------------------------------ review list
COLUMNS = ("Class", "Recording", "Onset", "Length", "Conf.", "State")
NAME_WIDTH = 88  # px a class or recording name gets at least before Length gives way
COLUMN_TIPS = (
    "The detection's class",
    "The recording it is on",
    "Where it begins",
    "How long it lasts, in seconds",
    "Confidence: the bar in the class colour, a tick at the class's threshold",
    "pending, accepted (a label) or rejected (a negative)",
)


class ReviewTableModel(QAbstractTableModel):
    """Detections of the active run: on the current recording or all, pending or all."""

    def __init__(self, detections: DetectionModel):
        super().__init__()
        self.detections = detections
        self.workspace = detections.workspace
        self.scope = "recording"  # recording | all
        self.show = "pending"  # pending | all
        self.sort_by = "confidence"  # not ``sort``: QAbstractItemModel.sort() is virtual
        self.class_id: int | None = None  # only this class's detections; None: every class
        self._rows: list[ReviewRow] = []
        self._classes: dict[int, Any] = {}
        self._starts: dict[int, str] = {}  # the recordings' stored starts (store.recorded)
        self.counts = {"none": 0, "accepted": 0, "rejected": 0}  # of the class filter's
        self.any_detections = False  # of any class, in the scope
        self._key = sort_key(self.sort_by, {}, self.detections.uncertainty)

    def reload(self) -> None:
        ws = self.workspace
        self.beginResetModel()
        self._classes = {c.id: c for c in ws.classes()}
        self._starts = {r.id: r.recorded_at for r in ws.recordings() if r.recorded_at}
        names = ws.shown_names()
        events = self._events()
        self.any_detections = bool(events)
        self._rows, self.counts = review_rows(
            events,
            names,
            show=self.show,
            sort_by=self.sort_by,
            uncertainty=self.detections.uncertainty,
            classes=None if self.class_id is None else {self.class_id},
        )
        self._key = sort_key(self.sort_by, names, self.detections.uncertainty)
        self.endResetModel()

    def _events(self) -> list[Event]:
        ws = self.workspace
        if ws.project is None or ws.run_id is None:
            return []
        if self.scope == "all":
            return ws.project.events(source="model", run_id=ws.run_id)
        if ws.recording is None:
            return []
        accepted = [e for e in ws.labels.order if e.source == "model" and e.run_id == ws.run_id]
        return [*ws.detections.order, *accepted]

    def event_at(self, row: int) -> Event | None:
        """The detection on ``row`` (not ``event``: that would override QObject.event)."""
        return self._rows[row].event if 0 <= row < len(self._rows) else None

    def row_of(self, event_id: int | None) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.event.id == event_id), None)

    def row_after(self, event: Event, step: int) -> int | None:
        """The row ``step`` (1 or -1) from ``event``, or from where it would stand in the
        list's order when the list leaves it out (reviewed, another class)."""
        return row_after(self._rows, event, step, self._key)

    def events(self) -> list[Event]:
        return [r.event for r in self._rows]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        event, col = row.event, index.column()
        cls = self._classes.get(event.class_id)
        if role == EVENT_ROLE:
            return event
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                cls.name if cls else "?",
                row.recording,
                format_time(event.onset, 2),
                f"{event.duration:.2f}",
                f"{event.confidence or 0.0:.2f}",
                STATE_TEXT.get(event.review, event.review),
            )[col]
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and cls is not None:
            return swatch(cls.color, 10)
        if role == Qt.ItemDataRole.ForegroundRole and col == 5:
            return QColor(STATE_COLOR.get(event.review, "#e3e5ea"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            threshold = self.detections.threshold_for(event.class_id)
            lower = self.detections.lower_threshold_for(event.class_id)
            # With hysteresis a detection's mean may lie below the threshold it passed.
            goes_on = "" if lower is None else f", goes on down to {lower:.2f}"
            start = parse_stored(self._starts.get(event.recording_id))
            # When it was, on the recorder's clock, where the recording's start is known.
            when = "" if start is None else f" ({clock_text(start, event.onset, decimals=1)})"
            return (
                f"{cls.name if cls else '?'} on {row.recording}, "
                f"{format_time(event.onset, 3)}–{format_time(event.offset, 3)}{when}\n"
                f"confidence {event.confidence or 0.0:.3f} (threshold {threshold:.2f}"
                f"{goes_on}), {STATE_TEXT.get(event.review, event.review)}"
            )
        return None


class ConfidenceDelegate(QStyledItemDelegate):
    """The confidence as a bar in the class colour, with a tick at the class's threshold and,
    for a class with hysteresis, a fainter short one at the lower threshold it runs on to."""

    def __init__(self, detections: DetectionModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.detections = detections

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        event = index.data(EVENT_ROLE)
        if event is None:
            return
        cls = self.detections.workspace.event_class(event.class_id)
        color = QColor(cls.color if cls else "#888888")
        rect = option.rect.adjusted(4, option.rect.height() - 5, -4, -2)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(option.palette.color(QPalette.ColorRole.Mid).darker(250))
        painter.drawRect(rect)
        filled = QRect(rect)
        filled.setWidth(max(1, round(rect.width() * min(1.0, event.confidence or 0.0))))
        painter.setBrush(color)
        painter.drawRect(filled)
        x = rect.left() + round(rect.width() * self.detections.threshold_for(event.class_id))
        painter.setPen(QColor("#ffffff"))
        painter.drawLine(x, rect.top() - 2, x, rect.bottom())
        lower = self.detections.lower_threshold_for(event.class_id)
        if lower is not None:
            x = rect.left() + round(rect.width() * lower)
            painter.setPen(QColor(255, 255, 255, LOWER_TICK_ALPHA))
            painter.drawLine(x, rect.top(), x, rect.bottom())
        painter.restore()


class LeftElideDelegate(QStyledItemDelegate):
    """Text shortened at its start: recordings of a folder differ at their ends (…001.wav)."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideLeft


class ReviewTable(QTableView):
    """The list; review keys work when it has focus (P and Space too, unlike elsewhere)."""

    keyCommand = Signal(str)
    resized = Signal()

    KEYS: ClassVar[dict[Qt.Key, str]] = {
        Qt.Key.Key_A: "accept",
        Qt.Key.Key_R: "reject",
        Qt.Key.Key_E: "adjust",
        Qt.Key.Key_Return: "adjust",
        Qt.Key.Key_Enter: "adjust",
        Qt.Key.Key_N: "next",
        Qt.Key.Key_J: "next",
        Qt.Key.Key_P: "previous",
        Qt.Key.Key_K: "previous",
        Qt.Key.Key_Space: "play",
    }

    def _command(self, event: QKeyEvent) -> str | None:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return None
        return self.KEYS.get(Qt.Key(event.key()))

    def event(self, event: QEvent) -> bool:
        # Claim the keys before the window's shortcuts (P: play selection, Space: play).
        if event.type() == QEvent.Type.ShortcutOverride and self._command(event) is not None:  # type: ignore[arg-type]
            event.accept()
            return True
        return super().event(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        command = self._command(event)
        if command is None:
            super().keyPressEvent(event)
            return
        event.accept()
        self.keyCommand.emit(command)


class ReviewPanel(QWidget):
    """Run chooser, detect button and job progress, thresholds, and the review list."""

    playRequested = Signal(float, float)  # onset, offset of the detection to play
    adjustRequested = Signal(int)  # event id: zoom to it and let the user drag its edges
    cancelRequested = Signal()

    def __init__(self, detections: DetectionModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.detections = detections
        self.workspace = ws = detections.workspace

        self.run_chooser = RunChooser(ws)
        self.detect_button = QToolButton()
        self.detect_button.setText("Detect")
        self.detect_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.detect_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(18)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.job_row = QWidget()
        job = QHBoxLayout(self.job_row)
        job.setContentsMargins(0, 0, 0, 0)
        job.addWidget(self.progress, 1)
        job.addWidget(self.cancel_button)
        self.job_row.hide()

        self.thresholds = ThresholdControls(detections)

        self.show_combo = QComboBox()
        self.show_combo.addItem("Pending", "pending")
        self.show_combo.addItem("All", "all")
        self.scope_combo = QComboBox()
        self.scope_combo.addItem("this recording", "recording")
        self.scope_combo.addItem("all recordings", "all")
        self.sort_combo = QComboBox()
        for key, text in SORTS.items():
            self.sort_combo.addItem(text, key)
        self.sort_combo.setToolTip(
            "Most uncertain first: confidence closest to the class's threshold"
        )
        self.class_combo = QComboBox()
        self.class_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.class_combo.setMinimumContentsLength(8)  # a long class name must not widen the dock
        self.class_combo.setToolTip(
            "List only this class's detections (J/K and Accept/Reject step through them; "
            "the counts below are of them)"
        )
        self.counts_label = QLabel()
        self.test_split_warning = QLabel()
        self.test_split_warning.setWordWrap(True)
        self.test_split_warning.setStyleSheet(
            "color: #1b1d22; background: #e69f00; border-radius: 3px; padding: 3px 5px"
        )
        self.test_split_warning.hide()
        self.model = ReviewTableModel(detections)
        self.table = ReviewTable()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(4, ConfidenceDelegate(detections, self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(1, LeftElideDelegate(self.table))
        # The dock is some 340 px wide on a laptop: times, confidences and states keep the
        # width their text needs and the names share the rest (shortened, whole in the row's
        # tooltip); fixed widths overflowed it once State showed (a scrollbar, 'accepte').
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setResizeContentsPrecision(200)  # rows measured: thousands in 'all recordings'
        for col, mode in enumerate(
            (
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.Fixed,
                QHeaderView.ResizeMode.ResizeToContents,
            )
        ):
            header.setSectionResizeMode(col, mode)
        margin = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
        self.table.setColumnWidth(
            4, max(56, self.table.fontMetrics().horizontalAdvance("Conf.") + 4 * margin)
        )

        self.buttons: dict[str, QPushButton] = {}
        button_row = QGridLayout()
        button_row.setSpacing(3)
        for k, (command, text, tip) in enumerate(
            (
                ("accept", "Accept  A", "It becomes a label (A)"),
                ("reject", "Reject  R", "Kept as a negative example (R)"),
                ("adjust", "Adjust  E", "Zoom to it; drag its edges, which accepts it (E, Enter)"),
                ("previous", "◀ Prev  K", "Previous detection (K, or P in the list)"),
                ("next", "Next  J ▶", "Next detection (J or N)"),
                ("play", "Play  Space", "Play it (Space in the list, P elsewhere)"),
            )
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _checked=False, c=command: self.run_command(c))
            button_row.addWidget(button, k // 3, k % 3)
            self.buttons[command] = button

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_chooser, 1)
        top.addWidget(self.detect_button)
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.show_combo)
        filters.addWidget(QLabel("on"))
        filters.addWidget(self.scope_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.test_split_warning)
        layout.addWidget(self.job_row)
        layout.addWidget(self.thresholds)
        layout.addSpacing(6)
        layout.addLayout(filters)
        sort_row = QHBoxLayout()
        sort_row.setContentsMargins(0, 0, 0, 0)
        sort_row.addWidget(self.sort_combo, 3)
        sort_row.addWidget(self.class_combo, 2)
        layout.addLayout(sort_row)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(button_row)

        self.cancel_button.clicked.connect(self.cancelRequested)
        self.table.keyCommand.connect(self.run_command)
        self.table.resized.connect(self._fit_columns)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_change)
        self.show_combo.currentIndexChanged.connect(self._on_filter_change)
        self.scope_combo.currentIndexChanged.connect(self._on_filter_change)
        self.sort_combo.currentIndexChanged.connect(self._on_filter_change)
        self.class_combo.currentIndexChanged.connect(self._on_filter_change)
        listen(self, ws.events.detections, self._on_detections_change)
        listen(self, ws.events.run, self._on_detections_change)
        listen(self, ws.events.project, self._on_project_change)
        listen(self, ws.events.classes, self._on_classes_change)
        listen(self, ws.events.selection, self._on_selection_change)
        listen(self, ws.events.recording, self._on_split_change)
        listen(self, ws.events.recordings, self._on_split_change)
        listen(self, ws.events.run, self._on_split_change)
        listen(self, detections.events.thresholds, self._on_thresholds_change)
        self._on_classes_change()
        self._on_split_change()

    # ------------------------------------------------------------------ public
    def current_event(self) -> Event | None:
        """The detection being reviewed: the selected one, else the list's current row."""
        selected = self.workspace.selected_detection()
        if selected is not None:
            return selected
        index = self.table.currentIndex()
        return self.model.event_at(index.row()) if index.isValid() else None

    def run_command(self, command: str) -> None:
        """accept | reject | adjust | next | previous | play, on the current detection."""
        if command in ("next", "previous"):
            self.step(1 if command == "next" else -1)
            return
        event = self.current_event()
        if event is None:
            if self.model.rowCount():
                self.step(1)  # nothing chosen yet: the first key press picks the first one
            else:
                self.workspace.report("No detections to review")
            return
        if command == "accept":
            self.decide(event, "accepted")
        elif command == "reject":
            self.decide(event, "rejected")
        elif command == "adjust":
            self.go_to(event)
            self.adjustRequested.emit(event.id)
        elif command == "play":
            self.go_to(event)
            self.playRequested.emit(event.onset, event.offset)

    def decide(self, event: Event, state: str) -> None:
        """Accept or reject a detection, then go to the next pending one.

        An accepted detection that overlaps labels of its class merges with them (one label).
        """
        following = self._next_pending(event)
        ws = self.workspace
        merged: tuple[Event, ...] = ()
        if state == "accepted":
            accepted = ws.accept([event.id])
            done = bool(accepted)
            merged = accepted[0].merged if accepted else ()
        else:
            done = bool(ws.review([event.id], state))
        if done:
            what = "Accepted detection" if state == "accepted" else "Rejected detection"
            if merged:
                cls = ws.event_class(event.class_id)
                labels = f"{cls.name if cls else 'its'} label" + ("s" if len(merged) > 1 else "")
                what = f"Accepted detection, merged with the {labels} it overlaps"
            rec = next((r for r in ws.recordings() if r.id == event.recording_id), None)
            if rec is not None and rec.split == "test" and state == "accepted":
                ws.report(
                    f"{what}. {ws.shown_name(rec.id)} is a test recording: this label is now part of the "
                    "reference that evaluation scores against (Ctrl+Z undoes)"
                )
            elif rec is not None and rec.split is None:
                # Training reads the train split only: say so before the user wonders.
                ws.report(
                    f"{what}. {ws.shown_name(rec.id)} is in no split yet: put it in train "
                    "(Annotate ▸ Set split, or right-click it in Recordings) for the next "
                    "training run to learn from it"
                )
            else:
                ws.report(f"{what} (Ctrl+Z undoes)")
        if following is not None:
            self.go_to(following)

    def step(self, step: int) -> Event | None:
        """Go to the next (1) or previous (-1) detection in the list's order."""
        n = self.model.rowCount()
        if not n:
            if self.workspace.run_id is not None:
                self.workspace.report(self._none_text())
            return None
        current = self.current_event()
        if current is None:
            row: int | None = 0 if step > 0 else n - 1
        else:
            # From where it stands in the list's order, also when the list leaves it out
            # (re-accepted by a redo, of another class than the list's).
            row = self.model.row_after(current, step)
        if row is None:
            self.workspace.report("No more detections" if step > 0 else "First detection")
            return None
        event = self.model.event_at(row)
        if event is not None:
            self.go_to(event)
        return event

    def go_to(self, event: Event) -> None:
        """Open the detection's recording if needed and select it there."""
        ws = self.workspace
        if ws.recording is None or ws.recording.id != event.recording_id:
            ws.set_recording(event.recording_id)
        ws.select_event(event.id)
        self._on_selection_change()

    def set_job(self, running: bool, done: int = 0, total: int = 0, text: str = "") -> None:
        """Show (or hide) a detection's progress; total 0 is an unknown amount."""
        self.job_row.setVisible(running)
        self.detect_button.setEnabled(not running)
        if running:
            self.progress.setRange(0, total if total > 0 else 0)
            self.progress.setValue(done)
            self.progress.setFormat(f"{text}  %v/%m" if total > 0 else text)

    # --------------------------------------------------------------- internals
    def _next_pending(self, event: Event) -> Event | None:
        """The first pending detection after ``event`` in the list's order (where it would
        stand when the list leaves it out), else the first before it."""
        events = self.model.events()
        split = self.model.row_after(event, 1)
        split = len(events) if split is None else split
        after = [e for e in events[split:] if e.review == "none" and e.id != event.id]
        before = [e for e in events[:split] if e.review == "none" and e.id != event.id]
        pending = after or before
        return pending[0] if pending else None

    def _none_text(self) -> str:
        shown = "pending " if self.model.show == "pending" else ""
        cls = self.workspace.event_class(self.model.class_id)
        if cls is not None:
            shown += f"'{cls.name}' "
        if self.model.scope == "recording":
            return (
                f"No {shown}detections on this recording (the list's 'all recordings' "
                "shows the others')"
            )
        return f"No {shown}detections in any recording"

    def set_scope(self, scope: str) -> None:
        """List the detections of ``recording`` (the open one) or of ``all`` recordings."""
        self.scope_combo.setCurrentIndex(max(0, self.scope_combo.findData(scope)))

    def _on_filter_change(self, *_args) -> None:
        self.model.scope = self.scope_combo.currentData()
        self.model.show = self.show_combo.currentData()
        self.model.sort_by = self.sort_combo.currentData()
        self.model.class_id = self.class_combo.currentData()
        self.table.setColumnHidden(1, self.model.scope != "all")
        self._on_detections_change()

    def _on_project_change(self) -> None:
        # Class ids are the project's: another project's list starts with every class.
        with QSignalBlocker(self.class_combo):
            self.class_combo.setCurrentIndex(0)
        self.model.class_id = None

    def _on_classes_change(self) -> None:
        """The class filter follows renames and recolours; a deleted class's (or one merged
        into another) gives way to every class."""
        combo, kept = self.class_combo, self.model.class_id
        index = 0
        with QSignalBlocker(combo):
            combo.clear()
            combo.addItem("All classes", None)
            for cls in self.workspace.classes():
                combo.addItem(swatch(cls.color), cls.name, cls.id)
            if kept is not None:
                index = max(combo.findData(kept), 0)
            combo.setCurrentIndex(index)
        self._on_filter_change()

    def _on_split_change(self) -> None:
        ws = self.workspace
        rec = ws.recording
        testing = rec is not None and rec.split == "test" and ws.run_id is not None
        if testing:
            assert rec is not None
            self.test_split_warning.setText(
                f"⚠ {ws.shown_name(rec.id)} is a test recording: what you accept here changes the "
                "reference evaluation scores against."
            )
            self.test_split_warning.setToolTip(
                "Accepted detections are labels. On a test recording they become part of the "
                "ground truth that Evaluate scores every run against, so the scores stop being "
                "independent of the model. Review train recordings, or move this one to train "
                "first (Annotate ▸ Set split)."
            )
        self.test_split_warning.setVisible(testing)

    def _on_thresholds_change(self) -> None:
        if self.model.sort_by == "uncertainty":
            self._on_detections_change()
        else:
            self.table.viewport().update()  # the threshold ticks moved

    def _on_detections_change(self) -> None:
        with QSignalBlocker(self.table.selectionModel()):
            self.model.reload()
        counts = self.model.counts
        total = sum(counts.values())
        where = "on this recording" if self.model.scope == "recording" else "in all recordings"
        cls = self.workspace.event_class(self.model.class_id)
        self.counts_label.setToolTip(
            f"Detections of '{cls.name}' only (the class filter above)" if cls else ""
        )
        if self.workspace.run_id is None:
            self.counts_label.setText("Train a model, then detect, to review its detections")
        elif not self.model.any_detections:
            self.counts_label.setText(f"No detections {where} yet: Detect ▸")
        elif not total and cls is not None:
            self.counts_label.setText(f"No '{cls.name}' detections {where}")
        else:
            self.counts_label.setText(
                f"<b>{counts['none']}</b> pending · "
                f"<span style='color:{STATE_COLOR['accepted']}'>{counts['accepted']} accepted</span>"
                f" · <span style='color:{STATE_COLOR['rejected']}'>{counts['rejected']} rejected"
                f"</span> {where}"
            )
        self.table.setColumnHidden(1, self.model.scope != "all")
        self.table.setColumnHidden(5, self.model.show == "pending")  # all say "pending"
        for command in ("accept", "reject", "adjust", "play", "next", "previous"):
            self.buttons[command].setEnabled(self.model.rowCount() > 0)
        self._fit_columns()
        self._on_selection_change()

    def _fit_columns(self) -> None:
        """Length gives way where the names would be shortened past reading (a laptop's dock
        listing all recordings with their states); the row's tooltip has its times."""
        table, header = self.table, self.table.horizontalHeader()

        def width(col: int) -> int:
            if col == 4:
                return header.sectionSize(4)  # fixed
            return max(table.sizeHintForColumn(col), header.sectionSizeHint(col))

        names = 2 if self.model.scope == "all" else 1
        fixed = sum(width(c) for c in (2, 4, 5) if not table.isColumnHidden(c))
        room = table.viewport().width() - fixed - names * NAME_WIDTH
        table.setColumnHidden(3, room < width(3))

    def _on_row_change(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.event_at(current.row()) if current.isValid() else None
        if event is not None:
            self.go_to(event)

    def _on_selection_change(self) -> None:
        selected = self.workspace.selected_id
        row = self.model.row_of(selected) if selected is not None else None
        selection = self.table.selectionModel()
        with QSignalBlocker(selection):
            if row is None:
                selection.clearSelection()
                selection.clearCurrentIndex()  # no stale "current" for the next key press
                return
            index = self.model.index(row, 0)
            selection.setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self.table.scrollTo(index)
        self.table.viewport().update()
