"""Run history: every run in the store, and the curves of the selected ones, overlaid.

Reads only the store, so it shows runs started from the CLI or another window as well; it
notices their writes by polling ``Project.data_version`` (a cheap pragma) once a second.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import os
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QMetaMethod, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt.fit import follow_parent
from tfstudio.qt.training.plots import MIN_HEIGHT_PX, TrainingPlot, run_color
from tfstudio.session.project_ref import ProjectRef
from tfstudio.session.runs import (
    RunSummary,
    can_resume,
    extension,
    format_lr,
    load_curves,
    resume_text,
    summarise,
)
from tfstudio.session.stream import format_duration
from tfstudio.store import Change, Project, ProjectError
from tfstudio.train.config import loss_name

POLL_MS = 1000
# Curves of a running run are re-read at most this often (the table follows every change).
LIVE_CURVES_S = 5.0
COLUMNS = (
    "Run",
    "Status",
    "Preset",
    "Schedule",
    "Epochs",
    "LR",
    "Batch",
    "Device",
    "Started",
    "Duration",
    "Best val loss",
    "F1 at best",
    "Note",
)
NOTE_COLUMN = len(COLUMNS) - 1
PLOT_SPACING = 6
# Side by side (a wide, short dock: under the spectrogram on a laptop), the table is at
# least this wide: Run, Status, Preset and some of Schedule; it scrolls sideways for the rest.
SIDE_TABLE_MIN_WIDTH = 200
SIDE_PLOT_WIDTH = 180
# The plots' titles, stacked and side by side (some 180 px each there).
TITLES = (
    ("Teacher-forcing probability", "Teacher forcing"),
    ("Training loss (smoothed)", "Training loss"),
    ("Validation loss per epoch", "Validation loss"),
    ("Validation scores", "Scores"),
)
STATUS_COLORS = {
    "done": "#1B7F3B",
    "failed": "#B3261E",
    "stopped": "#8A5A00",
    "running": "#0B5CAD",
    "queued": "#555555",
}


class RunHistory(QWidget):
    """The table of runs and their curves. Select one run to see it, several to compare.

    ``project`` is an open :class:`~tfstudio.store.Project` (this thread's) or a folder.
    ``selection_changed(list)`` carries the selected run ids, newest first. A run's context
    menu asks for it to be trained further (``train_further_requested(int)``) or resumed
    (``resume_requested(int)``); the training panel does it (its ``train_further`` and
    ``resume``), and the menu offers only what something is connected to.
    """

    selection_changed = Signal(list)
    train_further_requested = Signal(int)
    show_requested = Signal(int)
    resume_requested = Signal(int)

    def __init__(self, project: Any, parent: QWidget | None = None, *, poll_ms: int = POLL_MS):
        super().__init__(parent)
        self.project = ProjectRef(project)
        self._summaries: dict[int, RunSummary] = {}
        self._order: list[int] = []
        self._data_version: int | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._curves_read_at: dict[int, float] = {}
        self._deleted: list[int] = []  # selected runs that another process deleted
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._on_poll_timer_timeout)
        self._attach()
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = self.main_layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.hint = _Hint()
        layout.addWidget(self.hint)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NOTE_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection_change)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.table.setMinimumWidth(SIDE_TABLE_MIN_WIDTH)
        self.menu: QMenu | None = None  # the context menu while it is shown
        splitter.addWidget(self.table)

        plots = QWidget()
        grid = self.grid = QGridLayout(plots)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(PLOT_SPACING)
        empty = "Select a run above; Ctrl+click another to compare"
        self.tf_plot = TrainingPlot(
            "Teacher-forcing probability",
            x_label="iteration",
            x_units="batches",
            y_label="p_tf",
            empty_text=empty,
        )
        self.tf_plot.fix_probability_axis()
        self.loss_plot = TrainingPlot(
            "Training loss (smoothed)",
            x_label="iteration",
            x_units="batches",
            y_label="BCE loss",
            empty_text=empty,
        )
        # Epochs count from 1, as in the Training dock: no tick at epoch 0.
        self.val_plot = TrainingPlot(
            "Validation loss per epoch",
            x_label="epoch",
            x_from=1,
            y_label="BCE loss",
            empty_text=empty,
        )
        grey = "#777777"
        self.score_plot = TrainingPlot(
            "Validation scores",
            x_label="epoch",
            x_from=1,
            y_label="F1, ER (1 s segments)",
            empty_text=empty,
            key=[("F1 ↑", grey, "solid"), ("ER ↓", grey, "dashed")],
        )
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self._has_legend = False
        splitter.addWidget(plots)
        self.splitter = splitter
        self.side_by_side = False
        self._place_plots()
        self._user_sized = False
        splitter.splitterMoved.connect(self._on_splitter_move)
        self._watched: QWidget | None = None

    def _place_plots(self) -> None:
        """Stacked: the legend over two rows of two plots. Side by side: one row of four, and
        no legend (the Run cells' swatches beside them are the key)."""
        grid = self.grid
        grid.removeWidget(self.legend)
        for plot in self.plots:
            grid.removeWidget(plot)
        for row in range(3):
            grid.setRowStretch(row, 0)
        for plot, (full, short) in zip(self.plots, TITLES, strict=True):
            plot.set_title(short if self.side_by_side else full)
        if self.side_by_side:
            for col, plot in enumerate(self.plots):
                grid.addWidget(plot, 0, col)
            grid.setRowStretch(0, 1)
            self.legend.hide()
        else:
            grid.addWidget(self.legend, 0, 0, 1, 2)
            for i, plot in enumerate(self.plots):
                grid.addWidget(plot, 1 + i // 2, i % 2)
            grid.setRowStretch(1, 1)
            grid.setRowStretch(2, 1)
            self.legend.setVisible(self._has_legend)

    # ------------------------------------------------------------------ layout
    def _room(self) -> tuple[int, int]:
        """The room the dock gives: its scroll area's viewport when in one (this widget may be
        taller than that, scrolled), else this widget's size."""
        viewport = self.parentWidget()
        if viewport is not None and isinstance(viewport.parentWidget(), QScrollArea):
            return viewport.width(), viewport.height()
        return self.width(), self.height()

    def _stacked_height(self) -> int:
        """The least height the stacked layout needs to show three rows and both rows of
        plots whole."""
        table = self.table
        line = self.hint.fontMetrics().lineSpacing()
        return (
            16
            + line
            + 6
            + table.horizontalHeader().sizeHint().height()
            + 3 * table.verticalHeader().defaultSectionSize()
            + 2 * table.frameWidth()
            + self.splitter.handleWidth()
            + line
            + PLOT_SPACING
            + 2 * MIN_HEIGHT_PX
            + PLOT_SPACING
        )

    def _side_width(self) -> int:
        """The least width that puts the table beside one row of four plots."""
        plots = 4 * self.tf_plot.minimumWidth() + 3 * PLOT_SPACING
        return 16 + SIDE_TABLE_MIN_WIDTH + self.splitter.handleWidth() + plots

    def _choose_layout(self) -> None:
        width, height = self._room()
        if width <= 0 or height <= 0:
            return
        side = height < self._stacked_height() and width >= self._side_width()
        if side == self.side_by_side:
            return
        self.side_by_side = side
        self._user_sized = False
        self.splitter.setOrientation(Qt.Orientation.Horizontal if side else Qt.Orientation.Vertical)
        margin = 4 if side else 8
        self.main_layout.setContentsMargins(margin, margin, margin, margin)
        self._place_plots()
        self._fit_table()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self, self._choose_layout)
        return super().eventFilter(watched, event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._watched = follow_parent(self, self._watched)
        self._choose_layout()

    def _on_splitter_move(self, *_args: object) -> None:
        self._user_sized = True

    def _fit_table(self) -> None:
        """Stacked, make the table as tall as its runs (up to eight rows); side by side, as
        wide as its columns, leaving the plots their room; unless the user chose."""
        if self._user_sized:
            return
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        table = self.table
        if self.side_by_side:
            # The plots take what the table can spare, at least 180 px each where there is.
            plots = 4 * SIDE_PLOT_WIDTH + 3 * PLOT_SPACING
            columns = sum(table.columnWidth(c) for c in range(NOTE_COLUMN)) + 2 * table.frameWidth()
            width = max(SIDE_TABLE_MIN_WIDTH, min(columns, total - plots, total // 2))
            self.splitter.setSizes([width, total - width])
        else:
            rows = min(max(table.rowCount(), 2), 8)
            scrollbar = table.horizontalScrollBar()
            height = (
                table.horizontalHeader().height()
                + rows * table.verticalHeader().defaultSectionSize()
                + 2 * table.frameWidth()
                + (scrollbar.sizeHint().height() if scrollbar.isVisible() else 0)
                + 4
            )
            self.splitter.setSizes([height, max(200, total - height)])
        self._show_selected()

    def _show_selected(self) -> None:
        """Scroll the table to the first selected run."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        if rows:
            self.table.scrollTo(
                self.table.model().index(rows[0], 0),
                QAbstractItemView.ScrollHint.EnsureVisible,
            )

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.hint.fit(self.width() - 2 * self.main_layout.contentsMargins().left())
        self._choose_layout()
        self._fit_table()

    @property
    def plots(self) -> tuple[TrainingPlot, ...]:
        return (self.tf_plot, self.loss_plot, self.val_plot, self.score_plot)

    # ------------------------------------------------------------------- project
    def set_project(self, project: Any) -> None:
        """Show another project's runs (an open Project, a folder, or None)."""
        self._detach()
        self.project.close()
        self.project = ProjectRef(project)
        self._summaries.clear()
        self._curves_read_at.clear()
        self._deleted = []
        self._attach()
        self.refresh()

    def _attach(self) -> None:
        with self.project.open() as project:
            if project is None:
                return
            self._data_version = project.data_version()
            # Our own connection's writes do not change data_version: listen for them.
            self._unsubscribe = project.subscribe(self._on_store_change)
        self._timer.start()

    def _detach(self) -> None:
        self._timer.stop()
        if self._unsubscribe is not None:
            with contextlib.suppress(ValueError):
                self._unsubscribe()
            self._unsubscribe = None

    def _on_store_change(self, change: Change) -> None:
        if change.table in ("runs", "metrics"):
            QTimer.singleShot(0, self, self.refresh)  # dropped if self is deleted first

    def _on_poll_timer_timeout(self) -> None:
        with self.project.open() as project:
            if project is None:
                return
            version = project.data_version()
        if version != self._data_version:
            self._data_version = version
            self.refresh()
        elif any(self._summaries[i].status == "running" for i in self._order):
            self._update_durations()

    # -------------------------------------------------------------------- table
    def refresh(self) -> None:
        """Re-read the runs (cheaply: finished runs' summaries are cached) and redraw. The
        selection stays on the same runs; a selected run that was deleted is drawn no more,
        and the hint says so."""
        # Read before the rows change: a run added above moves them (row 0 was run 2, is run 3).
        selected = self.selected_runs()
        with self.project.open() as project:
            fresh = {} if project is None else self._summarise_runs(project)
        changed_live = [
            i for i, s in fresh.items() if self._summaries.get(i) != s and i in selected
        ]
        gone = [i for i in selected if i not in fresh]
        self._summaries = fresh
        self._order = sorted(fresh, reverse=True)
        if gone:
            self._deleted = sorted(gone)
        self._fill_table(set(selected))
        if gone:
            self._draw_curves(force=True)
            self.selection_changed.emit(self.selected_runs())
        elif changed_live:
            self._draw_curves(force=False)

    def _summarise_runs(self, project: Project) -> dict[int, RunSummary]:
        fresh: dict[int, RunSummary] = {}
        for run in project.runs():
            if run.imported:  # nothing was trained: no curves to compare
                continue
            cached = self._summaries.get(run.id)
            if (
                cached is not None
                and cached.status == run.status
                and cached.finished_at == run.finished_at
                and run.status not in ("running", "queued")
            ):
                fresh[run.id] = cached
            else:
                fresh[run.id] = summarise(project, run)
        return fresh

    def _fill_table(self, selected: set[int]) -> None:
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(self._order))
        for row, run_id in enumerate(self._order):
            s = self._summaries[run_id]
            values = (
                str(s.id),
                s.status,
                s.preset or "—",
                s.schedule_text,
                _epochs_text(s),
                format_lr(s.lr),
                "—" if s.batch_size is None else str(s.batch_size),
                s.device or "—",
                _when(s.started_at or s.created_at),
                format_duration(s.duration()),
                "—" if s.best_val_loss is None else f"{s.best_val_loss:.4f} (epoch {s.best_epoch})",
                "—" if s.f1_at_best is None else f"{s.f1_at_best:.3f}",
                s.message,
            )
            cells: list[QTableWidgetItem] = []
            for col, text in enumerate(values):
                item = table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(row, col, item)
                cells.append(item)
                item.setText(text)
                item.setData(Qt.ItemDataRole.UserRole, run_id)
                if col in (0, 4, 5, 6, 9, 10, 11):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
            cells[1].setForeground(QColor(STATUS_COLORS.get(s.status, "#333333")))
            tip = s.message or s.status
            for cell in cells:  # one per column
                cell.setToolTip(tip)
        table.clearSelection()
        model = table.selectionModel()
        for row, run_id in enumerate(self._order):
            if run_id in selected:
                model.select(
                    table.model().index(row, 0),
                    model.SelectionFlag.Select | model.SelectionFlag.Rows,
                )
        table.blockSignals(False)
        self._mark_selected_colors(sorted(selected))
        QTimer.singleShot(0, self, self._fit_table)
        self._update_hint()

    def _update_hint(self) -> None:
        n = len(self._order)
        if n == 0:
            text = "No runs yet. Train a model and its runs will appear here."
        else:
            text = (
                f"{n} run{'s' if n != 1 else ''}. Select one to see its curves; "
                "Ctrl+click (⌘-click) another to overlay them."
            )
        if self._deleted:
            ids = ", ".join(str(i) for i in self._deleted)
            deleted = f"Runs {ids} were" if len(self._deleted) > 1 else f"Run {ids} was"
            text = f"{deleted} deleted. {text}"
        self.hint.setText(text)

    def _update_durations(self) -> None:
        for row, run_id in enumerate(self._order):
            item = self.table.item(row, 9)
            if item is not None:
                item.setText(format_duration(self._summaries[run_id].duration()))

    # --------------------------------------------------------------- selection
    def selected_runs(self) -> list[int]:
        """Selected run ids, newest first."""
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return [self._order[r] for r in sorted(rows) if r < len(self._order)]

    def select_runs(self, run_ids: list[int]) -> None:
        """Select these runs (and show their curves)."""
        wanted = set(run_ids)
        table = self.table
        table.blockSignals(True)
        table.clearSelection()
        model = table.selectionModel()
        for row, run_id in enumerate(self._order):
            if run_id in wanted:
                model.select(
                    table.model().index(row, 0),
                    model.SelectionFlag.Select | model.SelectionFlag.Rows,
                )
        table.blockSignals(False)
        self._show_selected()
        self._on_selection_change()

    def _on_selection_change(self) -> None:
        if self._deleted:
            self._deleted = []  # told; the user has chosen since
            self._update_hint()
        self._draw_curves(force=True)
        self.selection_changed.emit(self.selected_runs())

    # ------------------------------------------------------------- context menu
    def run_menu(self, run_id: int) -> QMenu:
        """The context menu of run ``run_id``: Show in the Training dock, Train further…
        (disabled, with the reason as its tooltip, when the run cannot go on) and Resume for a
        stopped or failed run (each once the window has connected it)."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        with self.project.open() as project:
            if project is None:
                return menu
            try:
                run = project.run(run_id)
            except ProjectError:  # deleted meanwhile
                return menu
            ext = extension(project, run)
            root = f"{project.root}{os.sep}"
        if self._listened(self.show_requested):
            show = QAction("Show in the Training dock", menu)
            show.setToolTip("Its curves in the Training dock, which stays on it until you choose")
            show.triggered.connect(lambda: self.show_requested.emit(run_id))
            menu.addAction(show)
        if self._listened(self.train_further_requested):
            further = QAction("Train further…", menu)
            further.setEnabled(ext.possible)
            further.setToolTip(
                f"More epochs in all, going on in epoch {ext.next_epoch} where it left off"
                if ext.possible
                else f"Cannot: {ext.problem}"
            )
            further.triggered.connect(lambda: self.train_further_requested.emit(run_id))
            menu.addAction(further)
            if not ext.possible:
                # A tooltip is easy to miss: the reason is also a line of the menu.
                # "&&": a menu takes a lone "&" (a path's "R&D") for its shortcut's mark.
                why = QAction(_short(ext.problem.replace(root, "")).replace("&", "&&"), menu)
                why.setEnabled(False)
                why.setToolTip(ext.problem)
                menu.addAction(why)
        if can_resume(run) and self._listened(self.resume_requested):
            resume = QAction("Resume", menu)
            resume.setToolTip(resume_text(run))
            resume.triggered.connect(lambda: self.resume_requested.emit(run_id))
            menu.addAction(resume)
        return menu

    def _listened(self, signal: Any) -> bool:
        return self.isSignalConnected(QMetaMethod.fromSignal(signal))

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        item = self.table.itemAt(pos)
        if item is None:
            return
        run_id = int(item.data(Qt.ItemDataRole.UserRole))
        menu = self.run_menu(run_id)
        if menu.isEmpty():
            menu.deleteLater()
            return
        self.menu = menu
        menu.aboutToHide.connect(self._on_menu_hide)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _on_menu_hide(self) -> None:
        menu, self.menu = self.menu, None
        if menu is not None:
            # Later: the chosen action's triggered signal is still to come.
            QTimer.singleShot(0, menu.deleteLater)

    # ------------------------------------------------------------------ curves
    def _draw_curves(self, *, force: bool) -> None:
        selected = self.selected_runs()
        now = time.monotonic()
        if not force:
            # A live run writes every few seconds; re-reading its metrics that often is waste.
            live = [i for i in selected if self._summaries[i].status == "running"]
            if live and all(now - self._curves_read_at.get(i, 0) < LIVE_CURVES_S for i in live):
                return
        for plot in self.plots:
            plot.getPlotItem().clear()
        single = len(selected) == 1
        entries = []
        # Oldest first, so colours follow the table's order when comparing.
        with self.project.open() as project:
            if project is None:
                return
            for index, run_id in enumerate(sorted(selected)):
                curves = load_curves(project, run_id)
                self._curves_read_at[run_id] = now
                color = run_color(index)
                summary = self._summaries[run_id]
                self._plot_run(summary, curves, color, single)
                entries.append(_legend_entry(summary, color))
        name = loss_name(self._summaries[run_id].task for run_id in selected)
        self.loss_plot.set_y_label(name)
        self.val_plot.set_y_label(name)
        self.legend.setText("&nbsp;&nbsp;&nbsp;&nbsp;".join(entries))
        self._has_legend = bool(entries)
        self.legend.setVisible(self._has_legend and not self.side_by_side)
        for plot in self.plots:
            plot.set_empty(not selected)
            plot.getPlotItem().enableAutoRange(x=True)
        self.tf_plot.fix_probability_axis()
        self._mark_selected_colors(sorted(selected))

    def _mark_selected_colors(self, run_ids: list[int]) -> None:
        """A swatch of each selected run's curve colour in its Run cell."""
        colors = {run_id: run_color(i) for i, run_id in enumerate(run_ids)}
        for row, run_id in enumerate(self._order):
            item = self.table.item(row, 0)
            if item is None:
                continue
            color = colors.get(run_id)
            item.setIcon(_swatch(color) if color else QIcon())

    def _plot_run(self, summary: RunSummary, c: Any, color: str, single: bool) -> None:
        name = summary.label
        self.tf_plot.curve(name, color).setData(c.iteration, c.tf_prob, connect="finite")
        if single:
            # One run: its raw loss too, faint, behind the smoothed curve.
            self.loss_plot.curve(None, color, width=1.0, alpha=70).setData(
                c.iteration, c.loss, connect="finite"
            )
        self.loss_plot.curve(name, color, width=2.0).setData(
            c.iteration, c.loss_smooth, connect="finite"
        )
        self.val_plot.curve(name, color, symbol="o").setData(c.epoch, c.val_loss, connect="finite")
        self.score_plot.curve(f"{name} F1", color, symbol="o").setData(
            c.epoch, c.f1, connect="finite"
        )
        self.score_plot.curve(
            f"{name} ER", color, symbol="t", style=Qt.PenStyle.DashLine, width=1.5
        ).setData(c.epoch, c.er, connect="finite")

    def closeEvent(self, event: Any) -> None:
        self._detach()
        self.project.close()
        super().closeEvent(event)


class _Hint(QLabel):
    """A wrapped line whose height is set from its width by the owner: a height-for-width
    child would make the dock's scroll area size the whole history by its size hints."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)

    def hasHeightForWidth(self) -> bool:
        return False

    def fit(self, width: int) -> None:
        if width > 0:
            self.setFixedHeight(self.heightForWidth(width))

    def setText(self, text: str) -> None:
        super().setText(text)
        self.fit(self.width())


def _short(problem: str, limit: int = 70) -> str:
    """A menu line of a reason: its first clause, cut at ``limit`` characters."""
    text = problem.split(";")[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def _legend_entry(s: RunSummary, color: str) -> str:
    details = ", ".join(
        part
        for part in (s.preset, f"lr {format_lr(s.lr)}" if s.lr is not None else "", s.status)
        if part
    )
    return (
        f"<span style='color:{color}; font-weight:bold'>━━</span>&nbsp;"
        f"<b>{html.escape(s.label)}</b> ({html.escape(details)})"
    )


def _epochs_text(s: RunSummary) -> str:
    if s.epochs is None:
        return str(s.epochs_done) if s.epochs_done else "—"
    return f"{s.epochs_done}/{s.epochs}"


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "—"
    moment = datetime.datetime.fromtimestamp(timestamp)
    today = datetime.date.today()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")
