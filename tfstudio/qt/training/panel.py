"""The training panel: start, stop and resume a run, and watch it learn.

Curves come from the child's JSON stream (not from the store), are buffered as they arrive
and drawn at most ten times a second, so a fast GPU run that prints hundreds of batches a
second costs the GUI a few milliseconds per frame, never a stall.
"""

from __future__ import annotations

import html
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.dialogs import exec_once
from tfstudio.qt.fit import follow_parent
from tfstudio.qt.training.dialog import TrainDialog
from tfstudio.qt.training.engine import engine_probe
from tfstudio.qt.training.further import TrainFurtherDialog
from tfstudio.qt.training.plots import (
    ER_COLOR,
    F1_COLOR,
    LOSS_EMA_COLOR,
    LOSS_RAW_COLOR,
    TF_COLOR,
    TRAIN_LOSS_COLOR,
    VAL_LOSS_COLOR,
    TrainingPlot,
    pen,
)
from tfstudio.qt.training.process import TrainingJob
from tfstudio.session.engine import EngineInfo
from tfstudio.session.project_ref import ProjectRef
from tfstudio.session.runs import Extension, can_resume, extension, resume_text
from tfstudio.session.series import Series
from tfstudio.session.stream import Ema, Progress, finite, format_duration
from tfstudio.session.training_end import UNFINISHED
from tfstudio.store import Project, ProjectError, Run
from tfstudio.train.config import loss_name
from tfstudio.train.events import (
    BatchEvent,
    EpochEvent,
    PrepareEvent,
    StartEvent,
    TrainEvent,
    TrainingSummary,
)

# Each plot is redrawn at most every PLOT_MS (10 Hz: smooth enough to watch), and never two
# plots in one event-loop turn (TURN_MS apart): a repaint of one 1200×800 panel's plot costs
# a few ms, all four at once would cost a frame or more (tfstudio.qt.training.bench).
PLOT_MS = 100
TURN_MS = 25
GROUPS = ("tf", "loss", "val", "scores")
CLOCK_MS = 1000
LOG_LINES = 2000
EMA_ALPHA = 0.05
# How often the store is looked at while the run on show trains in another process.
FOLLOW_MS = 2000
# The newest runs the Runs ▾ menu lists (the Runs dock lists them all).
MENU_RUNS = 25
# Reasons for recordings left out of a run that the banner names (the log has all).
LEFT_OUT_SHOWN = 3
# Below this height a plot in two rows is cramped, and the curves go in one row when each
# is at least this wide there.
TWO_ROWS_MIN_PX = 170
ONE_ROW_MIN_PX = 200
# The progress bar in the top row: this wide with room, half as wide at least.
PROGRESS_MIN_PX = 120
TOP_ROW_GAP_PX = 12  # between the run's buttons and Runs ▾
# What the top row keeps where it is narrow, most needed last: the device goes first, then
# "Running" (the Stop button and the bar say it), the elapsed time, the bar's "of N
# epochs", the epoch and batch; the time left, the state and the run's number stay.
KEEP_DEVICE, KEEP_RUNNING, KEEP_ELAPSED, KEEP_EPOCHS = 1, 2, 3, 4
KEEP_POSITION, KEEP_ETA, KEEP_STATE, KEEP_RUN = 5, 6, 7, 8

BANNER_STYLES = {
    "error": ("#FDECEA", "#8A1C12", "#E0A39B"),
    "warning": ("#FFF4E0", "#7A4B00", "#E8C48A"),
    "info": ("#E8F1FB", "#123D66", "#A9C6E6"),
    "success": ("#E7F5EC", "#14532D", "#A3D3B5"),
}
BANNER_MARGINS = (10, 6, 6, 6)  # left, top, right, bottom; with room
COMPACT_MARGIN_PX = 1  # above and below a banner on one line
BANNER_GAP_PX = 2  # between the top row and the banners
QWIDGETSIZE_MAX = (1 << 24) - 1
IDLE_TEXT = "No run yet: press Train… to start one"
# How a run that ended in another process is told of, by its status.
ENDED_TEXT = {"done": "finished", "stopped": "was stopped", "failed": "failed"}
STATUS_TEXT = {
    "idle": "No training running",
    "starting": "Starting…",
    "running": "Running",
    "stopping": "Stopping after the current batch…",
}


class Banner(QFrame):
    """A dismissible message above the plots (errors are never only in a log), with an
    optional button after the text (``action_button``, hidden unless named).

    Where the dock is short (:meth:`set_compact`) it takes one line: the text elided, the
    whole in its tooltip and behind Details, which unfolds it; with room it wraps. Two lines
    of it under the spectrogram on a laptop pushed the curves below the fold."""

    dismissed = Signal()  # its ✕ was clicked (not emitted when the code clears it)
    changed = Signal()  # shown, cleared or given another message

    def __init__(self, parent: QWidget | None = None, *, name: str = "trainingBanner") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        layout = QHBoxLayout(self)
        self._row = layout
        self.label = QLabel()
        # Messages come escaped: as plain text (no tag in them) a quote read "&#x27;".
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Its width is what the row leaves it: one line long, its text is elided to that.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.toggled.connect(self._on_details_toggle)
        self.details_button.hide()
        self.action_button = QPushButton()
        self.action_button.hide()
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self._on_close_clicked)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.level = ""
        self._text = ""  # the message as given (escaped rich text)
        self._plain = ""
        self._compact = False
        self._one_line: bool | None = None
        self._set_one_line(False)
        self.hide()

    def show_message(self, level: str, text: str, *, action: str = "") -> None:
        background, foreground, border = BANNER_STYLES[level]
        self.level = level
        name = self.objectName()
        self.setStyleSheet(
            f"#{name} {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 4px; }} #{name} QLabel {{ color: {foreground}; }}"
            f" #{name} QToolButton {{ color: {foreground}; }}"
        )
        self._text = text
        document = QTextDocument()
        document.setHtml(text)
        self._plain = document.toPlainText()
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action))
        self.details_button.setChecked(False)
        self._fit_text()
        self.show()
        self.changed.emit()

    def clear(self) -> None:
        """Dismiss the message: hidden, it kept its text, which told of a state long gone
        (a hidden 'goes on in epoch 5' read back after the run had gone on to 40)."""
        self.hide()
        self._text = self._plain = ""
        self.label.clear()
        self.label.setToolTip("")
        self.action_button.hide()
        self.details_button.setChecked(False)
        self.details_button.hide()
        self.level = ""
        self.changed.emit()

    def text(self) -> str:
        """The whole message (as given: escaped rich text), however much of it is shown."""
        return self._text

    def is_elided(self) -> bool:
        """Whether the message is cut to one line (the whole in the tooltip, and Details)."""
        return self.details_button.isVisibleTo(self) and not self.details_button.isChecked()

    def set_compact(self, compact: bool) -> None:
        """One line (the dock is short) or as many as the text needs."""
        if compact != self._compact:
            self._compact = compact
            self._fit_text()

    def is_compact(self) -> bool:
        return self._compact

    def compact_height(self) -> int:
        """The banner's height on one line."""
        return self._line_height() + 2 * COMPACT_MARGIN_PX + 2

    def wrapped_height(self, width: int) -> int:
        """The banner's height with its text wrapped to ``width`` (the banner's)."""
        margins = BANNER_MARGINS
        spacing = self._row.spacing()
        buttons: list[QWidget] = [self.close_button]
        if self.action_button.text():
            buttons.append(self.action_button)
        room = width - margins[0] - margins[2]
        room -= sum(b.sizeHint().width() + spacing for b in buttons)
        metrics = self.label.fontMetrics()
        flags = Qt.TextFlag.TextWordWrap
        text = metrics.boundingRect(0, 0, max(room, 40), 100_000, flags, self._plain).height()
        tallest = max([text, *(b.sizeHint().height() for b in buttons)])
        return tallest + margins[1] + margins[3]

    def _line_height(self) -> int:
        return self.label.fontMetrics().height() + 2

    def _on_details_toggle(self, shown: bool) -> None:
        self.details_button.setText("Less" if shown else "Details")
        self._fit_text()
        self.changed.emit()

    def _on_close_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def _set_one_line(self, one_line: bool) -> None:
        if one_line == self._one_line:
            return
        self._one_line = one_line
        layout = self._row
        if one_line:
            layout.setContentsMargins(10, COMPACT_MARGIN_PX, 4, COMPACT_MARGIN_PX)
            height = self._line_height()
            for button in (self.details_button, self.action_button, self.close_button):
                button.setFixedHeight(height)
            self.action_button.setStyleSheet("QPushButton { padding: 0 8px; }")
        else:
            layout.setContentsMargins(*BANNER_MARGINS)
            for button in (self.details_button, self.action_button, self.close_button):
                button.setMinimumHeight(0)
                button.setMaximumHeight(QWIDGETSIZE_MAX)
            self.action_button.setStyleSheet("")
        self.label.setWordWrap(not one_line)

    def _fit_text(self) -> None:
        """The whole text, or on one line what fits of it (the whole in the tooltip)."""
        unfolded = self.details_button.isChecked()
        room = self._label_room(details=False)
        metrics = self.label.fontMetrics()
        cut = self._compact and metrics.horizontalAdvance(self._plain) > room
        self._set_one_line(self._compact and not unfolded)
        self.details_button.setVisible(cut or unfolded)
        if cut and not unfolded:
            room = self._label_room(details=True)
            shown = html.escape(
                metrics.elidedText(self._plain, Qt.TextElideMode.ElideRight, max(room, 0))
            )
            self.label.setToolTip(self._plain)
            self.details_button.setToolTip("Show the whole message")
        else:
            shown = self._text
            self.label.setToolTip("")
            self.details_button.setToolTip("Back to one line")
        if shown != self.label.text():
            self.label.setText(shown)

    def _label_room(self, *, details: bool) -> int:
        """The width the label gets on one line, beside the buttons shown."""
        spacing = self._row.spacing()
        room = self.width() - 10 - 4
        buttons: list[QWidget] = [self.close_button]
        if self.action_button.text():
            buttons.append(self.action_button)
        if details:
            buttons.append(self.details_button)
        return room - sum(b.sizeHint().width() + spacing for b in buttons) - 2


class PartsLabel(QLabel):
    """A one-line rich-text label made of parts joined by " · ", of which it shows those
    needed at the level it is given (:meth:`set_level`), the whole in its tooltip where
    some are left out: the panel's top row leaves out what is least needed where it is
    narrow, instead of growing wider than its dock.

    :meth:`set_parts` takes ``(html, keep)`` pairs; at level ``k`` the parts of ``keep``
    above ``k`` are shown, and the one of highest ``keep`` always. :meth:`text` is the
    whole text, whatever part of it is shown.
    """

    SEPARATOR = " · "

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self._parts: list[tuple[str, int]] = []
        self._level = -1
        self._tip = ""
        self._widths: dict[str, float] = {}

    def set_parts(self, parts: list[tuple[str, int]]) -> None:
        if parts != self._parts:
            self._parts = list(parts)
            self._show()

    def set_level(self, level: int) -> None:
        if level != self._level:
            self._level = level
            self._show()

    def set_tip(self, tip: str) -> None:
        """The tooltip (after the whole text where part of it is left out)."""
        self._tip = tip
        self._show()

    def tip(self) -> str:
        return self._tip

    def text(self) -> str:  # type: ignore[override]
        return self.SEPARATOR.join(text for text, _ in self._parts)

    def shown_text(self) -> str:
        return super().text()

    def keeps(self) -> set[int]:
        return {keep for _, keep in self._parts}

    def width_at(self, level: int) -> int:
        """The width the label needs to show its parts at ``level``."""
        shown = self._shown(level)
        if not shown:
            return 0
        margins = self.contentsMargins()
        return math.ceil(self._width(shown)) + margins.left() + margins.right() + 2

    def _shown(self, level: int) -> str:
        if not self._parts:
            return ""
        top = max(keep for _, keep in self._parts)
        return self.SEPARATOR.join(t for t, keep in self._parts if keep > level or keep == top)

    def _width(self, text: str) -> float:
        width = self._widths.get(text)
        if width is None:
            doc = QTextDocument()
            doc.setDocumentMargin(0)
            doc.setDefaultFont(self.font())
            doc.setHtml(text)
            width = self._widths[text] = doc.idealWidth()
            if len(self._widths) > 256:
                self._widths.clear()
        return width

    def _show(self) -> None:
        shown = self._shown(self._level)
        if shown != super().text():
            super().setText(shown)
        tip = self._tip
        if shown != self.text():
            whole = QTextDocument()
            whole.setHtml(self.text())
            tip = whole.toPlainText() + (f"\n\n{tip}" if tip else "")
        self.setToolTip(tip)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return QSize(self.width_at(self._level), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.width_at(1 << 30), super().minimumSizeHint().height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._widths.clear()
            self.updateGeometry()


class RowButton(QPushButton):
    """A button of the panel's top row that can be as narrow as its text
    (:meth:`set_compact`): the style's least width of 80 px made "Stop" 80 px wide, and the
    row wider than a narrow dock. Its least width is always the narrow one, so that the row
    does not hold the panel wider than the dock before it is fitted."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._compact = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            self.updateGeometry()

    def is_compact(self) -> bool:
        return self._compact

    def width_at(self, compact: bool) -> int:
        """The width the button asks for, as wide as the style makes it or as its text."""
        full = super().sizeHint().width()
        if not compact:
            return full
        style = self.style()
        padding = 2 * (
            style.pixelMetric(QStyle.PixelMetric.PM_ButtonMargin, None, self)
            + style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, self)
        )
        return min(full, self.fontMetrics().horizontalAdvance(self.text()) + padding)

    def sizeHint(self) -> QSize:
        return QSize(self.width_at(self._compact), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.width_at(True), super().minimumSizeHint().height())


class ProgressBar(QProgressBar):
    """The run's progress in the panel's top row: ``40 % of 40 epochs``, or ``40 %`` where
    that does not fit (the whole in its tooltip); :meth:`set_short` asks for room for the
    short text only. ``wanted`` says whether the bar has anything to show; the row may
    still leave it out where it is narrow (a finished run's, which its status says)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._short = False
        self.wanted = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMaximumWidth(3 * PROGRESS_MIN_PX)

    def text(self) -> str:
        whole = super().text()
        if self._text_width(whole) > self.contentsRect().width():
            return whole.split(" of ", 1)[0]
        return whole

    def _text_width(self, text: str) -> int:
        return self.fontMetrics().horizontalAdvance(text) + 24

    def set_short(self, short: bool) -> None:
        if short != self._short:
            self._short = short
            self.updateGeometry()
            self.update()

    def width_at(self, short: bool) -> int:
        if not self.wanted:
            return 0
        text = self.format().split(" of ", 1)[0] if short else self.format()
        return max(PROGRESS_MIN_PX // 2 if short else PROGRESS_MIN_PX, self._text_width(text))

    def sizeHint(self) -> QSize:
        return QSize(self.width_at(self._short), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(PROGRESS_MIN_PX // 2, super().minimumSizeHint().height())

    def setFormat(self, format: str) -> None:
        if format != self.format():
            super().setFormat(format)
            self.updateGeometry()


class TrainingPanel(QWidget):
    """Train button, live curves and status of one training child at a time.

    ``project`` is an open :class:`~tfstudio.store.Project` (used on this thread only) or a
    project folder. ``process`` lets a caller supply its own :class:`TrainingJob`
    (tests use one with a fake engine). Signals: ``run_started(int)`` with the run id,
    ``run_finished(TrainingSummary)`` with how the child ended (run, status, message…).
    """

    run_started = Signal(int)
    run_finished = Signal(object)

    def __init__(
        self,
        project: Any,
        parent: QWidget | None = None,
        *,
        process: TrainingJob | None = None,
        settings: QSettings | None = None,
        engine: EngineInfo | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = ProjectRef(project)
        self.settings = settings
        self.engine = engine
        self.process = process or TrainingJob(self.project.root or Path(), self)
        if self.process.parent() is None:
            self.process.setParent(self)
        self.run_id: int | None = None
        self.further_dialog: TrainFurtherDialog | None = None  # while Train further… asks
        self.device = ""
        self._progress: Progress | None = None
        # Epochs a resumed run (Resume, Train further) had trained before its child started:
        # the progress bar counts them done, and its label says so.
        self._trained_before = 0
        self._started_at: float | None = None
        self._skip_iteration = -1  # a resumed run's batches already drawn from the store
        self._skip_epoch = -1
        self._ema = Ema(EMA_ALPHA)
        self._dirty: set[str] = set()
        self._drawn_at: dict[str, float] = {}
        self._pending_log: list[str] = []
        # Where the running child is (epoch, batch in it), how the run on show ended (done,
        # stopped, failed; "" while one runs) and the last child's summary.
        self._position: tuple[int, int] | None = None
        self._ended = ""
        self._summary: TrainingSummary | None = None
        self._preparing = ""
        self._got_start = False
        # What the running child's start event said it left out (unreadable recordings).
        self._left_out: list[str] = []
        self.redraw_seconds: list[float] = []  # time spent per redraw (for benchmarks)

        self.tf = Series()
        self.loss = Series()
        self.loss_ema = Series()
        self.epoch_train = Series(64)
        self.epoch_val = Series(64)
        self.epoch_f1 = Series(64)
        self.epoch_er = Series(64)

        self._build()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(TURN_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._on_clock_timeout)
        # The run on show trains in another process (a terminal, another window): its curves
        # and ending come from the store, looked at every FOLLOW_MS.
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._on_follow_timer_timeout)
        self._followed_version: int | None = None
        self._known_runs: dict[int, tuple[object, ...]] = {}
        # The user chose the run on show (Runs ▾): runs another process trains meanwhile are
        # told of in the notice line (with a button to them) instead of taking its place.
        # Otherwise the dock follows: the run that trains, wherever it does, or the newest.
        self._chosen = False
        self._notice_run: int | None = None  # the run the notice tells of (its button shows it)

        self.show_latest_run()

        p = self.process
        p.run_started.connect(self._on_started)
        p.batch.connect(self._on_batch)
        p.epoch.connect(self._on_epoch)
        p.event.connect(self._on_event)
        p.line.connect(self._on_log)
        p.failed.connect(self._on_failed)
        p.finished.connect(self._on_finished)
        p.state_changed.connect(self._on_state_change)
        self._on_state_change(p.state)
        if engine is None:
            # Warm the device probe now, so the dialog opens with the GPU's name in it.
            QTimer.singleShot(1500, engine_probe().request)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        # One row of buttons and status above the curves, the log below them: under the
        # spectrogram on a 1366 × 768 laptop the dock shows some 175 px, and a progress bar
        # and a "Show log" row of their own pushed the curves' axis titles below the fold.
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)

        bar = QHBoxLayout()
        self.train_button = RowButton("Train…")
        self.train_button.setToolTip("Choose settings and start a training run")
        self.train_button.clicked.connect(self.open_dialog)
        self.stop_button = RowButton("Stop")
        self.stop_button.setToolTip(
            "Finish the current batch, save a checkpoint and stop; press again to force"
        )
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = RowButton("Resume")
        self.resume_button.clicked.connect(self._on_resume_clicked)
        self.further_button = RowButton("Train further…")
        self.further_button.clicked.connect(self._on_further_clicked)
        for button in (
            self.train_button,
            self.stop_button,
            self.resume_button,
            self.further_button,
        ):
            bar.addWidget(button)
        bar.addSpacing(TOP_ROW_GAP_PX)
        self.runs_button = QToolButton()
        self.runs_button.setText("Runs ▾")
        self.runs_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # The style's own arrow squeezes into the text's corner: the text has one.
        self.runs_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        self.runs_menu = QMenu(self.runs_button)
        self.runs_menu.setToolTipsVisible(True)
        self.runs_menu.aboutToShow.connect(self._fill_runs_menu)
        self.runs_button.setMenu(self.runs_menu)
        bar.addWidget(self.runs_button)
        self.status_label = PartsLabel()
        bar.addWidget(self.status_label)
        bar.addStretch(0)  # the row's slack, while the progress bar (which takes it) is hidden
        self.progress_bar = ProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("")
        self.progress_bar.setMaximumHeight(16)
        self.progress_bar.hide()  # until a run of this dock's reports progress
        bar.addWidget(self.progress_bar, 1, Qt.AlignmentFlag.AlignVCenter)
        self.time_label = PartsLabel()
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.set_tip(
            "Time left if every planned epoch runs; early stopping may end the run sooner"
        )
        bar.addWidget(self.time_label)
        self.log_toggle = QToolButton()
        self.log_toggle.setText("Log")
        self.log_toggle.setCheckable(True)
        self.log_toggle.setAutoRaise(True)
        self.log_toggle.setToolTip("Show the training process's output under the curves")
        self.log_toggle.toggled.connect(self._on_log_toggle_change)
        bar.addWidget(self.log_toggle)
        # The messages hang closely under the row: each line counts in a short dock.
        head = QVBoxLayout()
        head.setSpacing(BANNER_GAP_PX)
        head.addLayout(bar)
        layout.addLayout(head)
        self._bar = bar
        self._head = head

        self.banner = Banner()
        head.addWidget(self.banner)
        # One line about the other runs: one training in another process while the user
        # looks at the run they chose, the run on show deleted.
        self.notice = Banner(name="trainingNotice")
        self.notice.action_button.clicked.connect(self._on_notice_action_clicked)
        self.notice.dismissed.connect(self._on_notice_dismiss)
        head.addWidget(self.notice)
        for banner in (self.banner, self.notice):
            # One line or whole: as the dock's height allows.
            banner.changed.connect(self._fit_plots)

        grid = QGridLayout()
        grid.setSpacing(6)
        idle = IDLE_TEXT
        self.tf_plot = TrainingPlot(
            "Teacher-forcing probability",
            x_label="iteration",
            x_units="batches",
            y_label="p_tf",
            empty_text=idle,
        )
        self.tf_plot.fix_probability_axis()
        self.tf_curve = self.tf_plot.curve("p_tf", TF_COLOR)
        self.loss_plot = TrainingPlot(
            "Training loss",
            x_label="iteration",
            x_units="batches",
            y_label="BCE loss",
            empty_text=idle,
            key=[("raw", LOSS_RAW_COLOR, "solid"), ("smoothed", LOSS_EMA_COLOR, "solid")],
        )
        self.loss_raw_curve = self.loss_plot.curve("raw", LOSS_RAW_COLOR, width=1.0, alpha=150)
        self.loss_ema_curve = self.loss_plot.curve("smoothed (EMA)", LOSS_EMA_COLOR, width=2.5)
        self.val_plot = TrainingPlot(
            "Loss per epoch",
            x_label="epoch",
            x_from=1,
            y_label="BCE loss",
            empty_text=idle,
            key=[("training", TRAIN_LOSS_COLOR, "dashed"), ("validation", VAL_LOSS_COLOR, "solid")],
        )
        self.epoch_train_curve = self.val_plot.curve(
            "training (mean)", TRAIN_LOSS_COLOR, symbol="o", style=Qt.PenStyle.DashLine
        )
        self.val_curve = self.val_plot.curve("validation", VAL_LOSS_COLOR, symbol="s")
        # Where the best checkpoint comes from: the epoch of lowest validation loss.
        self.best_line = pg.InfiniteLine(
            angle=90,
            pen=pen(VAL_LOSS_COLOR, 1.0, 160, Qt.PenStyle.DotLine),
            label="best",
            # Left of the line: the best epoch is often the last one drawn, at the right edge.
            labelOpts={"position": 0.97, "color": VAL_LOSS_COLOR, "anchors": [(1, 0), (1, 0)]},
        )
        self.best_line.hide()
        self.val_plot.addItem(self.best_line, ignoreBounds=True)
        self.score_plot = TrainingPlot(
            "Validation scores",
            x_label="epoch",
            x_from=1,
            y_label="F1, ER (1 s segments)",
            empty_text=idle,
            key=[("F1 ↑", F1_COLOR, "solid"), ("ER ↓", ER_COLOR, "solid")],
        )
        self.f1_curve = self.score_plot.curve("F1 (higher is better)", F1_COLOR, symbol="o")
        self.er_curve = self.score_plot.curve("ER (lower is better)", ER_COLOR, symbol="t")
        self._grid = grid
        self._one_row: bool | None = None
        self._watched: QWidget | None = None
        self._place_plots(one_row=False)
        layout.addLayout(grid, 1)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setMaximumHeight(140)
        self.log_view.hide()
        layout.addWidget(self.log_view)
        self._update_status()

    @property
    def plots(self) -> tuple[TrainingPlot, ...]:
        return (self.tf_plot, self.loss_plot, self.val_plot, self.score_plot)

    # ----------------------------------------------------------------- layout
    def _place_plots(self, *, one_row: bool) -> None:
        """The four curves in two rows of two, or in one row of four: in the window's dock,
        30 % of its height, two rows did not fit, and the second (validation loss, F1 and
        ER: whether the run is any good) was below the fold."""
        if one_row == self._one_row:
            return
        self._one_row = one_row
        for i, plot in enumerate(self.plots):
            row, column = (0, i) if one_row else divmod(i, 2)
            # Out of its cell first. The grid was filled before it joined the dock's layout,
            # so PySide keeps a Python wrapper of each cell's item; a widget added again
            # elsewhere makes Qt delete its old item behind that wrapper's back, and a QObject
            # made later at the freed address came back to Python as a QWidgetItem (or the
            # process crashed). removeWidget lets PySide drop the wrapper first.
            self._grid.removeWidget(plot)
            self._grid.addWidget(plot, row, column)
            plot.set_key_below(one_row)
        for column in range(4):
            self._grid.setColumnStretch(column, 1 if one_row or column < 2 else 0)

    def _fit_plots(self) -> None:
        """One row when two would be cramped in the height shown and four fit side by side."""
        parent = self.parentWidget()
        # In a scroll area the panel is never shorter than its minimum: what counts is the
        # height the area shows.
        shown = parent.height() if parent is not None else self.height()
        layout = self.layout()
        if layout is None:
            return
        spacing = self._grid.spacing()
        margins = layout.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        # The messages count on one line here: whether they wrap is chosen below.
        banners = [b for b in (self.banner, self.notice) if not b.isHidden()]
        gap = self._head.spacing()
        now = sum(b.minimumSizeHint().height() + gap for b in banners)
        one_line = sum(b.compact_height() + gap for b in banners)
        chrome = layout.minimumSize().height() - self._grid.minimumSize().height()
        chrome += one_line - now
        two_rows = (shown - chrome - spacing) / 2
        one_row_width = (width - 3 * spacing) / 4
        self._place_plots(one_row=two_rows < TWO_ROWS_MIN_PX and one_row_width >= ONE_ROW_MIN_PX)
        # Wrapped where the curves keep their height whole, else on one line each.
        rows = 1 if self._one_row else 2
        curves = rows * max(p.minimumHeight() for p in self.plots) + (rows - 1) * spacing
        wrapped = sum(b.wrapped_height(width) + gap for b in banners)
        compact = chrome - one_line + wrapped + curves > shown
        for banner in banners:
            banner.set_compact(compact)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._watched = follow_parent(self, self._watched)
        self._fit_plots()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_top_row()
        self._fit_plots()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.Resize:
            self._fit_top_row()
            self._fit_plots()
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ commands
    def open_dialog(self) -> None:
        """Ask for settings in :class:`TrainDialog` and start (or resume) a run."""
        if self.process.is_running():
            return
        dialog = TrainDialog(self.project.value, self, engine=self.engine, settings=self.settings)
        if exec_once(dialog) == QDialog.DialogCode.Accepted:
            self.start(dialog.config())

    def start(self, args: list[str]) -> None:
        """Start ``tfstudio train PROJECT *args --json`` (args as :meth:`TrainDialog.config`)."""
        if self.process.is_running():
            raise RuntimeError("a training run is already in progress")
        self.process.start(args)

    def resume(self, run_id: int | None = None) -> None:
        """Continue ``run_id`` (default: the newest stopped or failed run) from its checkpoint."""
        if run_id is None:
            run_id = self.resumable_run()
        if run_id is None or self.process.is_running():
            return
        self.process.resume(run_id)

    def stop(self) -> None:
        """Graceful stop; a second press (or a timeout) kills the child."""
        self.process.stop()

    def is_running(self) -> bool:
        return self.process.is_running()

    def resumable_run(self) -> int | None:
        """The newest run that stopped or failed (:func:`~tfstudio.session.runs.can_resume`)."""
        run = self._resumable()
        return run.id if run is not None else None

    def _resumable(self) -> Run | None:
        with self.project.open() as project:
            if project is None:
                return None
            return next((r for r in reversed(project.runs()) if can_resume(r)), None)

    def _on_resume_clicked(self) -> None:
        self.resume()

    def extension(self, run_id: int | None = None) -> Extension | None:
        """How far run ``run_id`` (default: the run on show) can be trained further; None
        when there is no such run."""
        run_id = self.run_id if run_id is None else run_id
        if run_id is None:
            return None
        with self.project.open() as project:
            if project is None:
                return None
            try:
                run = project.run(run_id)
            except ProjectError:
                return None
            return extension(project, run)

    def train_further(self, run_id: int | None = None) -> None:
        """Ask how many epochs in all (:class:`TrainFurtherDialog`) and go on with run
        ``run_id`` (default: the run on show) as ``tfstudio train --resume N --epochs M``
        would; a run that cannot go on says why instead."""
        if self.process.is_running():
            return
        ext = self.extension(run_id)
        if ext is None:
            return
        if not ext.possible:
            self.banner.show_message(
                "warning", html.escape(f"Cannot train run {ext.run_id} further: {ext.problem}.")
            )
            return
        dialog = TrainFurtherDialog(ext, self)
        self.further_dialog = dialog  # for tests: the dialog while it is open
        try:
            if exec_once(dialog) == QDialog.DialogCode.Accepted:
                self.process.resume(ext.run_id, dialog.changes())
        finally:
            self.further_dialog = None

    def _on_further_clicked(self) -> None:
        self.train_further()

    # -------------------------------------------------------------------- state
    def _clear_curves(self) -> None:
        for series in (
            self.tf,
            self.loss,
            self.loss_ema,
            self.epoch_train,
            self.epoch_val,
            self.epoch_f1,
            self.epoch_er,
        ):
            series.clear()
        self._ema.reset()

    def _reset(self) -> None:
        """Forget the previous run's curves: a new child is starting (whoever started it)."""
        self._clear_curves()
        self._skip_iteration = self._skip_epoch = -1
        self.run_id = None
        self.device = ""
        self._preparing = ""
        self._got_start = False
        self._left_out = []
        self._forget_ending()
        self._started_at = time.time()
        self._progress = Progress(started=self._started_at)
        self._trained_before = 0
        self.banner.clear()
        # The dock's own run is on show now: the user acted, the dock follows it.
        self._chosen = False
        self._clear_notice()
        self.log_view.clear()
        for plot in self.plots:
            plot.set_empty_text("Waiting for the first batch…")
        for plot in (self.val_plot, self.score_plot):
            plot.set_empty_text("Appears after the first epoch")
        self._redraw()
        self._clock.start()

    def _on_state_change(self, state: str) -> None:
        if state == "starting":
            self._follow_timer.stop()
            self._reset()
        running = state != "idle"
        self.train_button.setEnabled(not running and self.project.root is not None)
        self.stop_button.setEnabled(running)
        self.stop_button.setText("Force stop" if state == "stopping" else "Stop")
        resumable = None if running else self._resumable()
        self.resume_button.setEnabled(resumable is not None)
        self.resume_button.setToolTip(
            resume_text(resumable)
            if resumable is not None
            else "Nothing to resume: no stopped or failed run"
        )
        self._update_further_button()
        self._update_runs_button()
        self._update_status()

    def _update_further_button(self) -> None:
        """Train further… offers the run on show when it can go on, and says why not."""
        ext = None if self.process.state != "idle" else self.extension()
        self.further_button.setEnabled(ext is not None and ext.possible)
        if ext is None:
            tip = "Train the run on show further: no finished run on show"
        elif ext.possible:
            tip = (
                f"Train run {ext.run_id} further: more epochs in all, going on in epoch "
                f"{ext.next_epoch} where it left off"
            )
        else:
            tip = f"Cannot train run {ext.run_id} further: {ext.problem}"
        self.further_button.setToolTip(tip)

    def _on_started(self, start: StartEvent) -> None:
        self._name_losses(start.config.get("task"))
        self.run_id = start.run
        self.device = start.device
        self._preparing = ""
        self._got_start = True
        if self._progress is not None:
            self._progress.batches_per_epoch = start.batches_per_epoch or None
            self._progress.epochs = start.epochs or None
        if start.resumed or start.iteration:
            self._trained_before = start.epoch
            self._load_history(self.run_id)
        self._left_out = list(start.left_out)
        if self._left_out:
            # Not only in the log: the run learns from less than the user chose.
            self.banner.show_message(
                "warning",
                html.escape(f"Run {self.run_id} trains on; {self._left_out_text()}"),
            )
        self.run_started.emit(self.run_id)
        self._update_status()

    def _load_history(self, run_id: int) -> None:
        """A resumed run's earlier curves, from the store; the stream continues them."""
        with self.project.open() as project:
            if project is None:
                return
            batches = project.metrics(run_id, "batch")
            epochs = project.metrics(run_id, "epoch")
        for row in sorted(batches, key=lambda r: r["iteration"]):
            self._add_batch(row["iteration"], row.get("tf_prob"), row.get("loss"))
            self._skip_iteration = max(self._skip_iteration, int(row["iteration"]))
        for row in sorted(epochs, key=lambda r: r["epoch"]):
            self._add_epoch(row)
            self._skip_epoch = max(self._skip_epoch, int(row["epoch"]))
        self._dirty.update(GROUPS)
        self._schedule_redraw()

    def _on_batch(self, event: BatchEvent) -> None:
        iteration = event.iteration
        if iteration <= self._skip_iteration:
            return
        self._add_batch(iteration, event.tf_prob, event.loss)
        self._dirty.update(("tf", "loss"))
        if self._progress is not None:
            if not self._progress.batches_per_epoch:
                self._progress.batches_per_epoch = event.batches_per_epoch or None
            self._progress.on_batch(iteration, time.time())
        self._position = (event.epoch, event.batch)
        self._schedule_redraw()

    def _add_batch(self, iteration: int, tf_prob: Any, loss: Any) -> None:
        self.tf.append(iteration, finite(tf_prob))
        value = finite(loss)
        self.loss.append(iteration, value)
        if value is not None:
            self.loss_ema.append(iteration, self._ema.update(value))

    def _on_epoch(self, event: EpochEvent) -> None:
        if event.epoch <= self._skip_epoch:
            return
        self._add_epoch(event.to_dict())
        self._dirty.update(("val", "scores"))
        self._schedule_redraw()

    def _add_epoch(self, row: dict) -> None:
        epoch = int(row["epoch"])
        train_loss = row.get("train_loss", row.get("loss"))
        self.epoch_train.append(epoch, finite(train_loss))
        self.epoch_val.append(epoch, finite(row.get("val_loss")))
        self.epoch_f1.append(epoch, finite(row.get("f1")))
        self.epoch_er.append(epoch, finite(row.get("er")))

    def _on_event(self, event: TrainEvent) -> None:
        if isinstance(event, PrepareEvent):
            # "done" counts finished recordings; "name" is the one being computed now.
            self._preparing = f"Computing features {event.done + 1}/{event.total}"
            self._update_status()

    def _on_log(self, line: str) -> None:
        self._pending_log.append(line)
        self._schedule_redraw()

    def _on_failed(self, message: str) -> None:
        self.banner.show_message("error", html.escape(message))

    def _on_finished(self, summary: TrainingSummary) -> None:
        self._clock.stop()
        self._redraw_timer.stop()
        self._redraw()  # everything, at once: the run is over
        self._position = None
        self._ended, self._summary = summary.status, summary
        status = summary.status
        if summary.run is not None:
            self.run_id = summary.run
        left_out = f" {self._left_out_text()}" if self._left_out else ""
        if status == "done":
            text = self._done_text(summary) + left_out
            self.banner.show_message("warning" if left_out else "success", html.escape(text))
        elif status == "stopped":
            text = summary.message or "Stopped."
            if summary.forced:
                self.banner.show_message("warning", html.escape(text + left_out))
            else:
                text = (
                    f"Run {self.run_id} stopped after epoch {self._epoch_reached()}. "
                    "Resume continues it from its last checkpoint."
                )
                self.banner.show_message(
                    "warning" if left_out else "info", html.escape(text + left_out)
                )
        for plot in self.plots:
            plot.set_empty_text("No data from this run")
        self._update_further_button()
        self._update_status()
        with self.project.open() as project:
            # The store as this child left it; what others do from now on is followed.
            self._watch_store(project, _trained_runs(project))
        self.run_finished.emit(summary)

    def _left_out_text(self) -> str:
        """``2 recordings left out, their audio cannot be read: why | why.`` (three at most)."""
        n = len(self._left_out)
        reasons = " | ".join(self._left_out[:LEFT_OUT_SHOWN])
        more = f" | and {n - LEFT_OUT_SHOWN} more (Show log)" if n > LEFT_OUT_SHOWN else ""
        which = "1 recording left out, its" if n == 1 else f"{n} recordings left out, their"
        return f"{which} audio cannot be read: {reasons}{more}."

    def _epoch_reached(self) -> int:
        last = self.epoch_val.last_x()
        return int(last) if last is not None else 0

    def _done_text(self, summary: TrainingSummary) -> str:
        epochs = self._epoch_reached()
        text = f"Run {self.run_id} done after {epochs} epoch{'s' if epochs != 1 else ''}"
        val, f1 = self.epoch_val.y, self.epoch_f1.y
        if len(val) and np.isfinite(val).any():
            best = int(np.nanargmin(val))
            text += f": best validation loss {val[best]:.3f} at epoch {self.epoch_val.x[best]:.0f}"
            if best < len(f1) and np.isfinite(f1[best]):
                text += f" (F1 {f1[best]:.3f})"
        message = summary.message
        if "early" in message:
            # The one ending worth a word: it stopped before the planned epochs.
            text += f"; {message}"
        text += ". Its best checkpoint is ready for detection"
        ext = self.extension()
        if ext is not None and ext.possible:
            text += f"; Train further… goes on in epoch {ext.next_epoch}"
        return text + "."

    # ------------------------------------------------------------------- drawing
    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_redraw_timer_timeout(self) -> None:
        now = time.monotonic()
        ready = [
            g
            for g in GROUPS
            if g in self._dirty and now - self._drawn_at.get(g, 0.0) >= PLOT_MS / 1000
        ]
        if ready:
            # The plot that waited longest goes first; the others get the next turns.
            self._redraw(min(ready, key=lambda g: self._drawn_at.get(g, 0.0)))
        elif self._pending_log:
            self._flush_log()
        if self._dirty or self._pending_log:
            self._redraw_timer.start()

    def _redraw(self, *groups: str) -> None:
        """Push buffered points to the given plots (all when none are named)."""
        t0 = time.perf_counter()
        groups = groups or GROUPS
        if "tf" in groups:
            self.tf_curve.setData(self.tf.x, self.tf.y, connect="finite")
            self.tf_plot.set_empty(len(self.tf) == 0)
        if "loss" in groups:
            self.loss_raw_curve.setData(self.loss.x, self.loss.y, connect="finite")
            self.loss_ema_curve.setData(self.loss_ema.x, self.loss_ema.y)
            self.loss_plot.set_empty(len(self.loss) == 0)
        if "val" in groups:
            self.epoch_train_curve.setData(self.epoch_train.x, self.epoch_train.y, connect="finite")
            self.val_curve.setData(self.epoch_val.x, self.epoch_val.y, connect="finite")
            self.val_plot.set_empty(len(self.epoch_val) == 0)
            val = self.epoch_val.y
            if len(val) and np.isfinite(val).any():
                self.best_line.setValue(float(self.epoch_val.x[int(np.nanargmin(val))]))
                self.best_line.show()
            else:
                self.best_line.hide()
        if "scores" in groups:
            self.f1_curve.setData(self.epoch_f1.x, self.epoch_f1.y, connect="finite")
            self.er_curve.setData(self.epoch_er.x, self.epoch_er.y, connect="finite")
            self.score_plot.set_empty(len(self.epoch_f1) == 0)
        now = time.monotonic()
        for group in groups:
            self._dirty.discard(group)
            self._drawn_at[group] = now
        self._flush_log()
        self._update_status()
        self.redraw_seconds.append(time.perf_counter() - t0)

    def _flush_log(self) -> None:
        if self._pending_log:
            self.log_view.appendPlainText("\n".join(self._pending_log))
            self._pending_log.clear()

    def _on_clock_timeout(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        state = self.process.state
        # (html, keep): where the row is narrow the part of lowest keep goes first (KEEP_*).
        parts: list[tuple[str, int]] = []
        if self.run_id is not None:
            parts.append((f"<b>Run {self.run_id}</b>", KEEP_RUN))
        if state == "idle" and self._ended in UNFINISHED:
            parts.append((f"<b>{self._ended}</b> in another process", KEEP_STATE))
        elif state == "idle" and self._ended:
            status = self._ended
            colour = {"done": "#1B7F3B", "failed": "#B3261E", "stopped": "#8A5A00"}.get(status, "")
            parts.append((f"<span style='color:{colour}'><b>{status}</b></span>", KEEP_STATE))
        elif state == "running" and not len(self.tf):
            if self._preparing:
                parts.append((self._preparing + "…", KEEP_STATE))
            elif self._got_start:
                parts.append(("Waiting for the first batch…", KEEP_STATE))
            else:
                parts.append(("Starting (loading PyTorch)…", KEEP_STATE))
        else:
            keep = KEEP_RUNNING if state == "running" else KEEP_STATE
            parts.append((STATUS_TEXT.get(state, state), keep))
        if self.device:
            parts.append((f"on {html.escape(device_text(self.device, self.engine))}", KEEP_DEVICE))
        progress = self._progress
        if progress is not None and self._position is not None and state != "idle":
            epoch, batch = self._position
            text = f"epoch {epoch}"
            if progress.epochs:
                text += f"/{progress.epochs}"
            if progress.batches_per_epoch:
                # The engine counts batches within an epoch from 1.
                text += f", batch {batch}/{progress.batches_per_epoch}"
            parts.append((text, KEEP_POSITION))
        self.status_label.set_parts(parts)

        if self._started_at is None:
            self.time_label.set_parts([])
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("")
            self.progress_bar.setToolTip("")
            self.progress_bar.wanted = False
            self._fit_top_row()
            return
        elapsed = (
            self._summary.elapsed_s
            if state == "idle" and self._summary is not None
            else time.time() - self._started_at
        )
        eta = progress.eta() if progress is not None and state != "idle" else None
        keep = KEEP_ELAPSED if state != "idle" else KEEP_ETA
        times = [(f"Elapsed {format_duration(elapsed)}", keep)]
        if state != "idle":
            eta_text = "≤ " + format_duration(eta) if eta is not None else "—"
            times.append((f"ETA {eta_text}", KEEP_ETA))
        self.time_label.set_parts(times)
        fraction = progress.fraction() if progress is not None else None
        self.progress_bar.setValue(int(1000 * (fraction or 0.0)))
        self.progress_bar.setFormat(self._progress_text(fraction))
        self.progress_bar.setToolTip(self._progress_tip())
        self.progress_bar.wanted = True
        self._fit_top_row()

    def _fit_top_row(self) -> None:
        """Make the top row fit the width the dock shows: wider than its dock, the row made
        the panel scroll sideways, its horizontal scrollbar over the curves' axis titles.

        First the status, progress and time leave out what is least needed (KEEP_*) up to
        the bar's "of N epochs"; then the buttons become as narrow as their texts (at 800 x
        800 the row needed 659 px in a 561 px dock); then Resume and Train further… leave
        the row while they are disabled (the whole of a run); last a run's progress bar
        once it has ended (its status says how), and the rest of the parts may go. All that
        is left out is in the tooltips."""
        bar = self._bar
        buttons = (self.train_button, self.stop_button, self.resume_button, self.further_button)
        droppable = (self.resume_button, self.further_button)
        others = (self.runs_button, self.log_toggle)
        status, time_label, progress = self.status_label, self.time_label, self.progress_bar
        room = self._row_room() - sum(w.sizeHint().width() for w in others) - TOP_ROW_GAP_PX
        levels = sorted(status.keeps() | time_label.keeps() | {KEEP_EPOCHS})
        running = self.process.state != "idle"
        first = [-1, *[v for v in levels if v <= KEEP_EPOCHS]]
        # (compact buttons, disabled ones left out, progress bar left out, levels to try)
        steps = [
            (False, False, False, first),
            (True, False, False, first),
            (True, True, False, first),
            (True, True, not running, [-1, *levels]),
        ]
        chosen = (True, True, not running, levels[-1])
        for compact, drop, no_bar, tried in steps:
            kept = [b for b in buttons if not (drop and b in droppable and not b.isEnabled())]
            left = room - sum(b.width_at(compact) for b in kept)
            shown = sum(1 for w in (status, time_label) if w.text())
            shown += progress.wanted and not no_bar
            left -= bar.spacing() * (len(others) + len(kept) + shown - 1)
            fits = [
                level
                for level in tried
                if status.width_at(level)
                + time_label.width_at(level)
                + (0 if no_bar else progress.width_at(level >= KEEP_EPOCHS))
                <= left
            ]
            if fits:
                chosen = (compact, drop, no_bar, fits[0])
                break
        compact, drop, no_bar, level = chosen
        for button in buttons:
            button.set_compact(compact)
            if button in droppable:
                button.setVisible(not (drop and not button.isEnabled()))
        status.set_level(level)
        time_label.set_level(level)
        progress.set_short(level >= KEEP_EPOCHS)
        progress.setVisible(progress.wanted and not no_bar)
        tip = f"Progress: {progress.format()}" if progress.wanted and no_bar else ""
        if tip != status.tip():
            status.set_tip(tip)

    def _row_room(self) -> int:
        """The width for the top row: in a scroll area the one it shows (the panel is never
        narrower than its least width), less the panel's margins."""
        parent = self.parentWidget()
        width = self.width()
        if parent is not None and isinstance(parent.parentWidget(), QScrollArea):
            width = parent.width()
        layout = self.layout()
        if layout is not None:
            margins = layout.contentsMargins()
            width -= margins.left() + margins.right()
        return width

    def _progress_text(self, fraction: float | None) -> str:
        """``40 % of 40 epochs``; a resumed run's (Resume, Train further) bar counts the whole
        run, as its status does (``epoch 5/40``), and says that its first epochs were done
        before: going from 4 to 40 epochs, it starts at 10 %, not at 0."""
        if fraction is None:
            return ""
        text = f"{100 * fraction:.0f} %"
        epochs = self._progress.epochs if self._progress is not None else None
        if epochs:
            text += f" of {epochs} epochs"
            if self._trained_before:
                text += f" ({self._earlier()} trained earlier)"
        return text

    def _progress_tip(self) -> str:
        epochs = self._progress.epochs if self._progress is not None else None
        if not epochs:
            return ""
        tip = f"Progress over all {epochs} epochs of the run"
        if self._trained_before:
            tip += (
                f"; {self._earlier()} {'was' if self._trained_before == 1 else 'were'} "
                "trained before it went on (Resume or Train further), so the bar starts "
                "part-full"
            )
        return tip + ". Early stopping may end the run sooner."

    def _earlier(self) -> str:
        n = self._trained_before
        return "epoch 1" if n == 1 else f"the first {n}"

    def _on_log_toggle_change(self, shown: bool) -> None:
        self.log_view.setVisible(shown)
        self.log_toggle.setToolTip(
            "Hide the log" if shown else "Show the training process's output under the curves"
        )
        if shown:
            # In a short dock the log opens below the fold: bring it into view.
            QTimer.singleShot(0, self._on_log_shown)

    def _on_log_shown(self) -> None:
        area = self.parentWidget()
        area = area.parentWidget() if area is not None else None
        if isinstance(area, QScrollArea) and self.log_view.isVisible():
            area.ensureWidgetVisible(self.log_view, 0, 0)

    # ------------------------------------------------------------------- project
    def set_project(self, project: Any) -> None:
        """Follow another project (refused while a run is in progress)."""
        if self.process.is_running():
            raise RuntimeError("stop the training run before switching projects")
        self.project.close()
        self.project = ProjectRef(project)
        self.process.project_root = self.project.root or Path()
        self._follow_timer.stop()
        self._started_at = None
        self.run_id = None
        self._forget_ending()
        self.banner.clear()
        self._chosen = False
        self._clear_notice()
        self._on_state_change(self.process.state)
        self.show_latest_run()

    def follow_project(self, project: Any) -> None:
        """Follow the window's project, once the run that kept its own has ended; the banner
        still says how that run ended, and where (its Runs are that project's)."""
        left, summary = self.project.root, self._summary
        self.set_project(project)
        if left is None or summary is None or summary.run is None:
            return
        level = "error" if summary.status == "failed" else "info"
        text = f"Run {summary.run} of {left.name} ({left}) ended {summary.status}"
        text += f": {summary.message}" if summary.message else "."
        self.banner.show_message(level, html.escape(text))

    def show_latest_run(self) -> None:
        """Draw the project's newest run from the store (its curves and status), so opening a
        trained project shows how its model learnt, not "No run yet"; then watch the store
        for runs that other processes train (:meth:`_on_follow_timer_timeout`)."""
        if self.process.is_running():
            return
        with self.project.open() as project:
            runs = _trained_runs(project)
            self._watch_store(project, runs)
        if runs:
            self._show_run(runs[-1])

    def _watch_store(self, project: Project | None, runs: list[Run]) -> None:
        """From now on, compare the store with ``runs`` as they are: what another process
        does to them (a terminal's ``train --resume``, another window) redraws the dock."""
        if project is None:
            self._follow_timer.stop()
            return
        self._followed_version = project.data_version()
        self._known_runs = _run_states(runs)
        self._update_runs_button()
        self._follow_timer.start()

    def _show_run(self, run: Run) -> None:
        """Draw ``run`` as the store has it; the progress and time of this dock's last child
        go (they told of that child, not of what another process did since)."""
        self._started_at = self._progress = None
        self._trained_before = 0
        self.device = run.device or ""
        self._clear_curves()
        self._name_losses(run.config_dict.get("task"))
        self.run_id = run.id
        self._load_history(run.id)
        self._forget_ending()
        self._ended = run.status
        for plot in self.plots:
            plot.set_empty_text(f"Run {run.id} stored no data for this plot")
        self._redraw()
        self._update_further_button()
        self._update_status()

    def _show_no_run(self) -> None:
        """The empty dock of a project without runs (its last one was deleted)."""
        self._started_at = self._progress = None
        self._trained_before = 0
        self.device = ""
        self._clear_curves()
        self.run_id = None
        self._forget_ending()
        for plot in self.plots:
            plot.set_empty_text(IDLE_TEXT)
        self._redraw()
        self._update_further_button()
        self._update_status()

    # -------------------------------------------------------------- run on show
    def show_run(self, run_id: int) -> None:
        """Show run ``run_id``, as the user chose it (Runs ▾): it stays on show when another
        process trains another run meanwhile; the notice line tells of that one instead."""
        if self.process.is_running():
            return
        with self.project.open() as project:
            if project is None:
                return
            try:
                run = project.run(run_id)
            except ProjectError:  # deleted meanwhile
                return
        self._chosen = True
        if self._notice_run in (None, run_id):
            # Told of this run, or of one deleted ("… now shows run 2"): said and done.
            self._clear_notice()
        if run_id != self.run_id:
            self.banner.clear()  # it told of the run that was on show
        self._show_run(run)
        self._on_state_change(self.process.state)

    def follow_runs(self, run_id: int | None = None) -> None:
        """Follow the runs again (no run chosen): show ``run_id``, or else the run that
        trains in another process, or else the newest; from now on a run that starts, goes
        on or ends there takes its place."""
        if self.process.is_running():
            return
        with self.project.open() as project:
            runs = _trained_runs(project)
        run = next((r for r in runs if r.id == run_id), None)
        if run is None:
            live = [r for r in runs if r.status in UNFINISHED]
            run = (live or runs)[-1] if runs else None
        self._chosen = False
        self._clear_notice()
        if run is None:
            self._show_no_run()
        else:
            if run.id != self.run_id:
                self.banner.clear()
            self._show_run(run)
        self._on_state_change(self.process.state)

    def is_following(self) -> bool:
        """True unless the user chose the run on show (Runs ▾)."""
        return not self._chosen

    def _update_runs_button(self) -> None:
        idle = self.process.state == "idle"
        self.runs_button.setEnabled(idle and bool(self._known_runs))
        if not idle:
            tip = "The dock shows the run it trains; the Runs dock shows the others"
        elif not self._known_runs:
            tip = "No run to show yet"
        else:
            tip = (
                "Choose the run the dock shows. Unless you choose one it follows the run "
                "that trains, here or in another process, or shows the newest."
            )
        self.runs_button.setToolTip(tip)

    def _fill_runs_menu(self) -> None:
        """Runs ▾: Follow training, then the newest runs, the one on show checked."""
        menu = self.runs_menu
        menu.clear()
        follow = menu.addAction("Follow training")
        follow.setCheckable(True)
        follow.setChecked(not self._chosen)
        follow.setToolTip(
            "Show the run that trains, here or in another process (a terminal's "
            "'tfstudio train'), or else the newest; a run chosen below stays on show instead"
        )
        follow.triggered.connect(lambda: self.follow_runs())
        menu.addSeparator()
        with self.project.open() as project:
            runs = _trained_runs(project)
        for run in reversed(runs[-MENU_RUNS:]):
            status = run.status
            if status in UNFINISHED:
                status = f"{status} in another process"
            preset = run.config_dict.get("preset")
            action = menu.addAction(
                f"Run {run.id} — {status}" + (f" · {preset}" if isinstance(preset, str) else "")
            )
            action.setCheckable(True)
            action.setChecked(run.id == self.run_id)
            action.triggered.connect(lambda _=False, run_id=run.id: self.show_run(run_id))
        if len(runs) > MENU_RUNS:
            older = menu.addAction(f"{len(runs) - MENU_RUNS} older runs: see the Runs dock")
            older.setEnabled(False)

    # ------------------------------------------------------------------- notice
    def _tell_of(self, run: Run) -> None:
        """The notice: ``run`` trains (or ended) in another process, with a button to it."""
        if run.status in UNFINISHED:
            what = "is training"
        else:
            what = ENDED_TEXT.get(run.status, f"ended {run.status}")
        self._notice_run = run.id
        self.notice.show_message(
            "info", html.escape(f"Run {run.id} {what} in another process."), action="Show it"
        )
        self.notice.action_button.setToolTip(f"Show run {run.id} and follow training again")

    def _clear_notice(self) -> None:
        self._notice_run = None
        self.notice.clear()

    def _on_notice_dismiss(self) -> None:
        self._notice_run = None

    def _on_notice_action_clicked(self) -> None:
        self.follow_runs(self._notice_run)

    def _update_notice(self, runs: list[Run], others: list[Run]) -> None:
        """While a chosen run is on show: tell of the run another process trains, or of how
        the one told of ended (a run that trains wins over one that ended)."""
        by_id = {r.id: r for r in runs}
        candidates = {r.id: r for r in others}
        told = self._notice_run
        if told is not None and told in by_id:
            candidates.setdefault(told, by_id[told])
        elif told is not None:
            self._clear_notice()  # its run was deleted
        if not candidates:
            return
        live = [r for r in candidates.values() if r.status in UNFINISHED]
        self._tell_of(max(live or candidates.values(), key=lambda r: r.id))

    def _on_shown_run_delete(self, gone: int, runs: list[Run], changed: list[Run]) -> None:
        """The run on show was deleted (another process, another window): it is drawn no
        more; the dock follows again, from the newest run left, and says why it moved."""
        self._chosen = False
        self.banner.clear()  # it told of the deleted run
        run = changed[-1] if changed else (runs[-1] if runs else None)
        if run is None:
            self._show_no_run()
            text = f"Run {gone} was deleted; no run is left."
        else:
            self._show_run(run)
            text = f"Run {gone} was deleted; the dock now shows run {run.id}."
        self._notice_run = None
        self.notice.show_message("info", html.escape(text))

    def _on_follow_timer_timeout(self) -> None:
        """Redraw from the store when another process has changed it: the run on show goes
        on training there (its process ended without a word: it is marked stopped, as
        opening the project would), it was trained further or resumed there, it was deleted,
        or a run started or ended there. A run the user chose stays on show: the notice line
        tells of the others. The banner, which told of this dock's last ending (and where
        Train further goes on), goes once the run on show has moved on."""
        if self.process.is_running():
            self._follow_timer.stop()
            return
        with self.project.open() as project:
            if project is None:
                self._follow_timer.stop()
                return
            unfinished = any(state[0] in UNFINISHED for state in self._known_runs.values())
            marked = unfinished and project.mark_dead_runs(wait=False)
            version = project.data_version()
            if not marked and version == self._followed_version:
                return
            self._followed_version = version
            runs = _trained_runs(project)
        states = _run_states(runs)
        changed = [r for r in runs if self._known_runs.get(r.id) != states[r.id]]
        self._known_runs = states
        shown = next((r for r in runs if r.id == self.run_id), None)
        if self.run_id is not None and shown is None:
            self._on_shown_run_delete(self.run_id, runs, changed)
            self._on_state_change(self.process.state)
            return
        others = [r for r in changed if r.id != self.run_id]
        if self._chosen:
            self._update_notice(runs, others)
        run: Run | None
        if shown is not None and shown in changed:
            run = shown
        elif others and not self._chosen:
            run = others[-1]  # started, resumed or ended in another process
        elif shown is not None and shown.status in UNFINISHED:
            run = shown  # its curves go on
        else:
            run = None  # labels, detections, another run while one is chosen
        if run is None:
            if changed:
                self._on_state_change(self.process.state)  # Resume: another run stopped
            return
        if run in changed:
            self.banner.clear()
        if run.id != self.run_id:
            self._clear_notice()  # it told of the run on show until now
        self._show_run(run)
        self._on_state_change(self.process.state)  # Resume follows the run's ending

    def _name_losses(self, task: object) -> None:
        """The loss axes say which loss the shown run trains with (BCE or CE)."""
        name = loss_name([task])
        self.loss_plot.set_y_label(name)
        self.val_plot.set_y_label(name)

    def _forget_ending(self) -> None:
        self._position = None
        self._ended = ""
        self._summary = None

    def closeEvent(self, event: Any) -> None:
        self.project.close()
        super().closeEvent(event)


def _trained_runs(project: Project | None) -> list[Run]:
    """The project's runs that trained (detections imported from other tools have no curves)."""
    return [r for r in project.runs() if not r.imported] if project is not None else []


def _run_states(runs: list[Run]) -> dict[int, tuple[object, ...]]:
    """What of each run changes when it starts, goes on or ends (not its tuned thresholds,
    which detection stores in its configuration)."""
    return {r.id: (r.status, r.started_at, r.finished_at, r.last_checkpoint) for r in runs}


def device_text(device: str, engine: EngineInfo | None) -> str:
    """``cuda:0`` → ``CUDA: NVIDIA H100 80GB HBM3`` (when known), ``cpu`` → ``CPU``."""
    kind, _, index = device.partition(":")
    if kind == "cuda":
        names = engine.cuda if engine is not None else ()
        i = int(index) if index.isdigit() else 0
        return f"CUDA: {names[i]}" if i < len(names) else device.upper()
    return {"cpu": "CPU", "mps": "Apple MPS"}.get(kind, device)
