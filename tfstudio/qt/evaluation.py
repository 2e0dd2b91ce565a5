"""Evaluation of a run against the labels: segment F1/ER and event F1, overall and per class.

The scores come from ``tfstudio evaluate --json`` in a child process (the model runs there,
never in the GUI), on a split the run never early-stopped on (test by default).
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.jobs import EvaluateJob
from tfstudio.qt.palette import swatch
from tfstudio.qt.review import RunChooser
from tfstudio.qt.subscribe import listen
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.jobs import JobResult

# Two-line headers: the score columns are as wide as their numbers (41-43 px; "Seg. F1",
# "Seg. ER" and "Event F1" on one line made them 55-64 px), and the class names get what the
# numbers leave.
COLUMNS = ("Class", "Seg.\nF1", "Seg.\nER", "Event\nF1", "Ref.", "Det.", "Thr.")
COLUMN_TIPS = (
    "The class (Overall: all classes together)",
    "F1 over 1 s segments (sed_eval segment-based)",
    "Error rate over 1 s segments: substitutions + deletions + insertions",
    "F1 of events matched with a 200 ms onset collar and 20 % offset tolerance",
    "Reference (labelled) events",
    "Detected events",
    "The detection threshold (↓: how far below it a detection runs on, its hysteresis)",
)
KEYS = ("segment_f1", "segment_er", "event_f1", "reference_events", "detected_events", "threshold")
COUNT_COLUMNS = (4, 5)
SCORE_ROLE = Qt.ItemDataRole.UserRole + 1
SWATCH = 10  # px: the class's colour beside its name
F1_COLUMNS = (1, 3)


def _fmt(value: Any, integer: bool = False) -> str:
    if value is None:
        return "–"
    return str(int(value)) if integer else f"{float(value):.3f}"


def _sentence(text: str) -> str:
    """A message of the command line's (lower case, no stop) as a sentence of the panel's."""
    return text[:1].upper() + text[1:].rstrip(".") + "."


class ScoreBarDelegate(QStyledItemDelegate):
    """An F1 as a thin bar under its number: the table reads at a glance."""

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        value = index.data(SCORE_ROLE)
        if value is None:
            return
        rect = option.rect.adjusted(6, option.rect.height() - 5, -6, -2)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(option.palette.color(QPalette.ColorRole.Mid).darker(250))
        painter.drawRect(rect)
        filled = QRect(rect)
        filled.setWidth(max(1, round(rect.width() * min(1.0, max(0.0, float(value))))))
        painter.setBrush(QColor("#4cc38a") if value >= 0.5 else QColor("#e69f00"))
        painter.drawRect(filled)
        painter.restore()


class EvaluationPanel(QWidget):
    """Run, split and threshold choice, an Evaluate button, and the per-class scores."""

    finished = Signal(object)  # JobResult of the latest evaluation

    def __init__(
        self,
        detections: DetectionModel,
        parent: QWidget | None = None,
        *,
        program: list[str] | None = None,
    ):
        super().__init__(parent)
        self.detections = detections
        self.workspace = ws = detections.workspace
        self.program = program
        self.job: EvaluateJob | None = None
        self.result: dict[str, Any] | None = None
        self._results: dict[tuple[int, str], dict[str, Any]] = {}

        self.run_chooser = RunChooser(ws)
        self.split_combo = QComboBox()
        self.split_combo.addItem("test split", "test")
        self.split_combo.addItem("val split", "val")
        self.split_combo.setToolTip(
            "Score on recordings of this split (their labels are the truth)"
        )
        self.use_slider = QCheckBox("At the review threshold")
        self.use_slider.setToolTip(
            "Score at the global threshold of the Review panel instead of the run's own"
        )
        self.evaluate_button = QPushButton("Evaluate")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        # A name too long for its column keeps its start and its end (the tooltip has it all).
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setFrameShape(QFrame.Shape.NoFrame)  # the dock frames it already
        delegate = ScoreBarDelegate(self.table)
        for col in F1_COLUMNS:
            self.table.setItemDelegateForColumn(col, delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for col, tip in enumerate(COLUMN_TIPS):
            header_item = self.table.horizontalHeaderItem(col)
            if header_item is not None:
                header_item.setToolTip(tip)

        # Evaluate beside the run it scores: with the split and the threshold choice on one
        # row the panel was 430 px wide, and a dock narrower than that hid the right of it.
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_chooser, 1)
        top.addWidget(self.evaluate_button)
        options = QHBoxLayout()
        options.setContentsMargins(0, 0, 0, 0)
        options.addWidget(self.split_combo)
        options.addWidget(self.use_slider, 1)
        busy = QHBoxLayout()
        busy.setContentsMargins(0, 0, 0, 0)
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self.busy_row = QWidget()
        self.busy_row.setLayout(busy)
        self.busy_row.hide()
        controls = QVBoxLayout()
        controls.setContentsMargins(4, 0, 4, 0)
        controls.setSpacing(4)
        controls.addLayout(top)
        controls.addLayout(options)
        controls.addWidget(self.busy_row)
        controls.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(controls)
        # The table from edge to edge of the dock: 8 px more for the class names.
        layout.addWidget(self.table, 1)

        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button.clicked.connect(self.cancel)
        self.split_combo.currentIndexChanged.connect(self._on_choice_change)
        listen(self, ws.events.run, self._on_choice_change)
        listen(self, ws.events.project, self._on_project_change)
        listen(self, ws.events.recordings, self._on_recordings_change)
        # Each split's number of recordings; None until counted for the project open.
        self._split_counts: dict[str, int] | None = None
        self._on_recordings_change()

    # ------------------------------------------------------------------ public
    def split(self) -> str:
        return str(self.split_combo.currentData())

    def set_split(self, split: str) -> None:
        self.split_combo.setCurrentIndex(max(0, self.split_combo.findData(split)))

    def is_running(self) -> bool:
        return self.job is not None and self.job.is_running()

    def evaluate(self) -> bool:
        """Start scoring the active run on the chosen split; False if it cannot start."""
        ws = self.workspace
        if ws.project is None or ws.run_id is None or self.is_running():
            return False
        threshold = self.detections.global_threshold if self.use_slider.isChecked() else None
        self.job = EvaluateJob(
            Path(ws.project.root),
            ws.run_id,
            self.split(),
            self,
            threshold=threshold,
            program=self.program,
        )
        self.job.finished.connect(self._on_job_finished)
        self.busy_row.show()
        self.evaluate_button.setEnabled(False)
        self.summary.setText(f"Scoring run {ws.run_id} on the {self.split()} split…")
        self.job.start()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.shutdown()

    def show_result(self, result: dict[str, Any]) -> None:
        """Fill the table from ``tfstudio evaluate --json`` output."""
        self.result = result
        classes = {c.name: c for c in self.workspace.classes()}
        per_class: dict[str, dict[str, Any]] = result.get("per_class") or {}
        overall = {k: result.get(k) for k in (*KEYS[:3], "event_er")}
        overall["reference_events"] = sum(
            int(s.get("reference_events") or 0) for s in per_class.values()
        )
        overall["detected_events"] = sum(
            int(s.get("detected_events") or 0) for s in per_class.values()
        )
        # Each class's own threshold, as `tfstudio evaluate` prints it (tuned per class on
        # val, or the one given); the overall row shows it only when it is one for all.
        threshold = result.get("threshold")
        used = dict(result.get("class_thresholds") or {})
        per_class = {
            name: {**scores, "threshold": used.get(name, threshold)}
            for name, scores in per_class.items()
        }
        hysteresis = {k: float(v) for k, v in (result.get("class_hysteresis") or {}).items()}
        distinct: set[float | None] = {round(float(t), 6) for t in used.values()} or {threshold}
        overall["threshold"] = threshold if len(distinct) == 1 else None
        rows = [("Overall", overall), *per_class.items()]
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, (name, scores) in enumerate(rows):
            cls = classes.get(name)
            item = QTableWidgetItem(name)
            item.setToolTip(name)  # the whole name where a narrow dock cuts it short
            if cls is not None:
                item.setIcon(swatch(cls.color, SWATCH))
            if r == 0:
                # Its name only: bold digits are wider, and each score column took 4 px more
                # from the names.
                item.setFont(bold)
            self.table.setItem(r, 0, item)
            for c, key in enumerate(KEYS, start=1):
                value = scores.get(key)
                text = _fmt(value, integer=c in COUNT_COLUMNS)
                if key == "threshold" and value is not None:
                    text = f"{float(value):.2f}"  # as the command line prints it
                cell = QTableWidgetItem(text)
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in F1_COLUMNS and value is not None:
                    cell.setData(SCORE_ROLE, float(value))
                if key == "event_f1":
                    cell.setToolTip(f"event-based error rate {_fmt(scores.get('event_er'))}")
                ratio = hysteresis.get(name, 1.0)
                if key == "threshold" and value is not None and r > 0 and ratio < 1:
                    # As `tfstudio evaluate` prints it in its "low" column.
                    low = float(value) * ratio
                    cell.setText(f"{text} ↓{low:.2f}")
                    cell.setToolTip(
                        f"A detection begins above {float(value):.3g} and goes on while the "
                        f"class's probability stays above {low:.3g} (hysteresis {ratio:g}, "
                        "tuned on val)"
                    )
                self.table.setItem(r, c, cell)
        shown = (
            f"threshold {_fmt(threshold)}"
            if len(distinct) == 1
            else "per-class thresholds tuned on val (Thr.)"
        )
        frames = ""
        if result.get("task") == "single-label":
            # What `tfstudio evaluate` prints for a single-label run besides the table.
            frames = (
                f" Frames: accuracy {_fmt(result.get('frame_accuracy'))}, macro F1 "
                f"{_fmt(result.get('macro_f1'))} (over the classes in play)."
            )
        self.summary.setText(
            f"Run {result.get('run')} (epoch {result.get('epoch', '?')}) on the "
            f"<b>{result.get('split')}</b> split: {result.get('recordings', 0)} recording(s), "
            f"{shown}. Segments of 1 s; events with a 200 ms collar.{frames}"
            + (
                f"<br><b>{html.escape(_sentence(result['note']), quote=False)}</b>"
                if result.get("note")
                else ""
            )
        )

    # ---------------------------------------------------------- notifications
    def _on_project_change(self) -> None:
        self._results.clear()
        self._split_counts = None
        self._on_recordings_change()

    def _on_recordings_change(self) -> None:
        """Each split's size in its menu entry; an empty test split gives way to a val split
        that has recordings (a project split automatically has none to test on)."""
        counts = dict(Counter(r.split for r in self.workspace.recordings() if r.split))
        if counts == self._split_counts:
            return  # a label edit (the signal says label counts too): nothing to redo
        first = self._split_counts is None
        self._split_counts = counts
        for index in range(self.split_combo.count()):
            split = str(self.split_combo.itemData(index))
            n = counts.get(split, 0)
            self.split_combo.setItemText(index, f"{split} split ({n} recording{'s' * (n != 1)})")
        if first and not counts.get("test") and counts.get("val"):
            self.set_split("val")  # calls _on_choice_change
        else:
            self._on_choice_change()

    def _on_choice_change(self, *_args) -> None:
        run_id = self.workspace.run_id
        split = self.split()
        counts = self._split_counts or {}
        empty = self.workspace.project is not None and not counts.get(split)
        self.evaluate_button.setEnabled(run_id is not None and not self.is_running() and not empty)
        cached = self._results.get((run_id, split)) if run_id is not None else None
        if cached is not None:
            self.show_result(cached)
            return
        self.result = None
        self.table.setRowCount(0)
        if run_id is None:
            self.summary.setText("Train a model first.")
        elif empty:
            other = "val" if split == "test" else "test"
            alternative = f"choose the {other} split above, or " if counts.get(other) else ""
            self.summary.setText(
                f"No recordings in the {split} split: {alternative}put labelled recordings "
                f"in it (Recordings list, right click ▸ Set split)."
            )
        else:
            self.summary.setText("Press Evaluate to score this run.")

    def _on_job_finished(self, outcome: JobResult) -> None:
        job = self.job
        self.busy_row.hide()
        self.evaluate_button.setEnabled(self.workspace.run_id is not None)
        if outcome.status == "done" and outcome.result.get("per_class") is not None:
            if job is not None:
                self._results[(job.run_id, job.split)] = outcome.result
            if job is None or job.run_id == self.workspace.run_id:
                self.show_result(outcome.result)
        elif outcome.status == "cancelled":
            self.summary.setText("Evaluation cancelled.")
        else:
            message = html.escape(outcome.message or "no scores in the output")
            self.summary.setText(f"<span style='color:#d55e00'>Evaluation failed:</span> {message}")
        self.finished.emit(outcome)
