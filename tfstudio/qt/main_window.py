"""The annotation window: menus, docks, transport, status bar; wires widgets to the workspace."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tfstudio.qt import settings as qs
from tfstudio.qt.actions import build_menus, build_toolbar
from tfstudio.qt.axes import format_hz, format_time
from tfstudio.qt.browser import RecordingBrowser
from tfstudio.qt.dialogs import (
    SCALE_NAMES,
    Cancelled,
    ExportDialog,
    ReportDialog,
    SettingsDialog,
    exec_once,
    run_with_progress,
)
from tfstudio.qt.display_controls import DisplayControls
from tfstudio.qt.evaluation import EvaluationPanel
from tfstudio.qt.event_table import EventTable
from tfstudio.qt.fit import TextDialog, fit_to_screen
from tfstudio.qt.jobs import Detector
from tfstudio.qt.palette import ClassPalette, swatch
from tfstudio.qt.playback import SPEEDS, Player
from tfstudio.qt.review import ReviewPanel
from tfstudio.qt.spectrogram import SpectrogramView
from tfstudio.qt.status import MessageBar
from tfstudio.qt.subscribe import listen
from tfstudio.qt.workspace import qt_detections, qt_uncertainty, qt_workspace
from tfstudio.session.folders import free_folder, listing, other_entries
from tfstudio.session.jobs import JobResult
from tfstudio.session.view_settings import ViewSettings
from tfstudio.session.workspace import Reveal
from tfstudio.store import DB_NAME, Project, ProjectError
from tfstudio.store.recorded import clock_text, parse_stored

if TYPE_CHECKING:
    from tfstudio.qt.training import RunHistory, TrainingPanel

# Bump when docks are added or rearranged: a layout saved by an older version is then ignored.
LAYOUT_VERSION = 3
BOTTOM_DOCKS = ("training", "runs")
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.aif *.aiff *.w64 *.rf64 *.au *.caf);;All files (*)"
LABEL_FILTER = "Label files (*.tsv *.txt *.csv *.TextGrid *.json *.svl *.sv);;All files (*)"


class _Page(QWidget):
    """A centred column of text and buttons (welcome and empty states)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        self.title = QLabel(title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setMaximumWidth(520)
        column.addWidget(self.title)
        column.addWidget(self.text)
        self.buttons = QHBoxLayout()
        column.addSpacing(12)
        column.addLayout(self.buttons)
        self.extra = QVBoxLayout()
        column.addLayout(self.extra)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(column)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def add_button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumHeight(32)
        button.clicked.connect(slot)
        self.buttons.addWidget(button)
        return button


# Tiles start after the window's first paint; the player loads QtMultimedia and the training
# widgets are built after the open recording's first image. Each waits at most this long (after
# the window is shown, or after its paint).
TRAINING_BUILD_FALLBACK_MS = 1500

# Docks whose content scrolls when there is not room for all of it.
SCROLLED_DOCKS = ("review", "evaluation", "training", "runs")
# The most height they ask for before scrolling.
DOCK_MIN_HEIGHT = 120


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setMinimumHeight(DOCK_MIN_HEIGHT)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return area


class _Readout(QLabel):
    """A status bar readout: ``width`` px wide while it shows something, none when empty."""

    def __init__(self, width: int):
        super().__init__()
        self._width = width
        self.setMinimumWidth(0)

    def setText(self, text: str) -> None:
        self.setMinimumWidth(self._width if text else 0)
        super().setText(text)

    def set_width(self, width: int) -> None:
        """The width to keep while it shows something (from the next text on)."""
        self._width = width

    def clear(self) -> None:
        self.setMinimumWidth(0)
        super().clear()


class _Dock(QDockWidget):
    """A dock that says when the user closed it (its close button; the View menu's toggle is
    its toggleViewAction)."""

    closed = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()


class MainWindow(QMainWindow):
    """tfstudio's main window."""

    # Made by tfstudio.qt.actions (build_menus, build_toolbar); the window enables,
    # disables and checks them.
    recent_menu: QMenu
    model_menu: QMenu
    project_actions: list[QAction]
    scale_actions: dict[str, QAction]
    waveform_action: QAction
    clock_action: QAction
    display_controls: DisplayControls
    undo_action: QAction
    redo_action: QAction
    play_action: QAction
    step_event_actions: tuple[QAction, QAction]
    play_sel_action: QAction
    loop_action: QAction
    train_action: QAction
    detect_actions: dict[str, QAction]
    cancel_detect_action: QAction
    show_detections_action: QAction
    detect_tool_action: QAction
    speed_combo: QComboBox
    toolbar: QToolBar

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("tfstudio")
        # A first window of 1440 × 880, within the screen's free area: on a 1366 × 768 laptop
        # it was 78 px wider and 116 px taller than the screen (a saved size, restored when a
        # project opens, is kept on screen by restoreGeometry).
        fit_to_screen(self, QSize(1440, 880))
        # Audio and label files and folders dropped on the window are imported.
        self.setAcceptDrops(True)
        self.workspace = qt_workspace(self)
        self.view_settings = qs.load_view_settings()
        self.player = Player(self)
        self.detections = qt_detections(self.workspace, self)
        self.detector = Detector(self.detections, self)

        self.view = SpectrogramView(self.workspace, self.view_settings, detections=self.detections)
        self.uncertainty = qt_uncertainty(self.detections, self)
        self.browser = RecordingBrowser(self.workspace, uncertainty=self.uncertainty)
        self.palette_widget = ClassPalette(self.workspace)
        self.events = EventTable(self.workspace)
        self.review = ReviewPanel(self.detections)
        self.evaluation = EvaluationPanel(self.detections)
        # The training panel and the run history (eight plots, ~0.5 s to build) are made when
        # first needed, or just after the window's first paint: see _ensure_training.
        self._training: TrainingPanel | None = None
        self._detected_ids: list[int] = []  # the recordings of the detection last started
        self._layout_without_project: QByteArray | None = None  # the docks' when it closed
        self._run_history: RunHistory | None = None
        self._awaiting_paint = False
        self._build_pages()
        self._build_docks()
        self._build_actions()
        self.scale_actions[self.view_settings.freq_scale].setChecked(True)
        self.waveform_action.setChecked(self.view_settings.waveform)
        self.clock_action.setChecked(self.view_settings.clock_time)
        # Slider moves are remembered once they settle, not at every step.
        self._save_settings_timer = QTimer(self, singleShot=True, interval=500)
        self._save_settings_timer.timeout.connect(lambda: qs.save_view_settings(self.view_settings))
        self._build_status()
        self._connect()
        self._restore_window()
        self._on_project_change()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """Brightness and contrast as signs and shorter sliders when the toolbar has not the
        room for all of it (a 1024 px window), so that nothing goes into its "»" menu."""
        controls = getattr(self, "display_controls", None)
        if controls is None:  # a resize while the window is being built
            return
        full = self.toolbar.sizeHint().width() - controls.sizeHint().width()
        controls.set_compact(full + controls.full_width() > self.width())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._training is None and not self._awaiting_paint:
            # Until the window has painted (a zero timer can fire before the first paint), or
            # a while if no paint comes (offscreen), spectrogram tiles wait, the player does
            # not load QtMultimedia and the training widgets are not built: together they
            # would hold the interpreter for a second or more.
            self._awaiting_paint = True
            self.view.tiles.queue.hold()
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
            QTimer.singleShot(TRAINING_BUILD_FALLBACK_MS, self._after_first_paint)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self._awaiting_paint
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and watched.window() is self
        ):
            self._stop_awaiting_paint()
            self._after_first_image()
        return super().eventFilter(watched, event)

    def _after_first_image(self) -> None:
        """Once the window has painted: the player and the training widgets after the open
        recording's first spectrogram image (built while the tile thread makes it, they held
        the interpreter and delayed the image by 0.3-0.5 s), or at once when no image is
        coming; at most TRAINING_BUILD_FALLBACK_MS after the paint in any case."""
        if self.view.image.audio is None or self.view.has_image():
            QTimer.singleShot(0, self._after_first_paint)
            return
        self.view.firstImage.connect(self._on_first_image)
        QTimer.singleShot(TRAINING_BUILD_FALLBACK_MS, self._after_first_paint)

    def _on_first_image(self, _seconds: float) -> None:
        self.view.firstImage.disconnect(self._on_first_image)
        QTimer.singleShot(0, self._after_first_paint)

    def _stop_awaiting_paint(self) -> None:
        if self._awaiting_paint:
            self._awaiting_paint = False
            self.view.tiles.queue.release()
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)

    def _after_first_paint(self) -> None:
        if not self.player.started:
            self.player.start()
            self._on_playing_change(self.player.playing)
        self._ensure_training()

    @property
    def training(self) -> TrainingPanel:
        """The Training dock's panel (built on first use)."""
        self._ensure_training()
        assert self._training is not None
        return self._training

    @property
    def run_history(self) -> RunHistory:
        """The Runs dock's history (built on first use)."""
        self._ensure_training()
        assert self._run_history is not None
        return self._run_history

    def _ensure_training(self) -> None:
        self._stop_awaiting_paint()
        if self._training is not None:
            return
        # Imported here, with the widgets, after the first paint (~35 ms: the training config).
        from tfstudio.qt.training import RunHistory, TrainingPanel

        self._training = TrainingPanel(None)
        self._run_history = RunHistory(None)
        self._training.run_finished.connect(self._on_run_finish)
        # The Runs dock's menu offers its entries only once they are connected.
        self._run_history.train_further_requested.connect(self._train_further)
        self._run_history.resume_requested.connect(self._resume_run)
        self._run_history.show_requested.connect(self._show_run_in_training)
        self._dock_content("training", self._training)
        self._dock_content("runs", self._run_history)
        project = self.workspace.project
        root = project.root if project is not None else None
        self._training.set_project(root)
        self._run_history.set_project(root)

    def _dock_content(self, name: str, widget: QWidget) -> None:
        dock = self.docks[name]
        area = dock.widget()
        if isinstance(area, QScrollArea):
            area.setWidget(widget)  # the placeholder goes
        else:
            dock.setWidget(widget)

    def _training_running(self) -> bool:
        return self._training is not None and self._training.is_running()

    # ------------------------------------------------------------------ layout
    def _build_pages(self) -> None:
        self.stack = QStackedWidget()
        self.welcome = _Page(
            "tfstudio",
            "Label sound events on spectrograms, train a detector, review its detections.\n"
            "Start with a project folder (or drop one here), or try the generated demo.",
        )
        self.welcome.add_button("New project…", self.ask_new_project)
        self.welcome.add_button("Open project…", self.ask_open_project)
        self.welcome.add_button("Create demo project…", self.ask_create_demo)
        self.recent_list = QListWidget()
        self.recent_list.setMaximumHeight(180)
        self.recent_list.itemActivated.connect(
            lambda item: self.open_project(Path(item.data(Qt.ItemDataRole.UserRole)))
        )
        self.recent_label = QLabel("Recent projects")
        self.welcome.extra.addSpacing(16)
        self.welcome.extra.addWidget(self.recent_label)
        self.welcome.extra.addWidget(self.recent_list)

        self.empty = _Page(
            "No recordings yet",
            "Import audio files (WAV, FLAC, OGG, MP3…) or a whole folder, or drop them here; "
            "existing labels (Raven, BirdNET, Audacity, Praat…) come with a dropped folder "
            "or can be imported afterwards.",
        )
        self.empty.add_button("Import recordings…", self.ask_import_recordings)
        self.empty.add_button("Import folder…", self.ask_import_folder)

        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        self.setCentralWidget(self.stack)

    def _build_docks(self) -> None:
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        # The classes, events and review column runs down to the status bar: the training
        # curves under the spectrogram took its bottom third, and in a small window the
        # review list was left no room at all.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.docks: dict[str, QDockWidget] = {}
        for name, title, widget, area in (
            ("recordings", "Recordings", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("classes", "Classes", self.palette_widget, Qt.DockWidgetArea.RightDockWidgetArea),
            ("events", "Events", self.events, Qt.DockWidgetArea.RightDockWidgetArea),
            ("review", "Review", self.review, Qt.DockWidgetArea.RightDockWidgetArea),
            ("evaluation", "Evaluation", self.evaluation, Qt.DockWidgetArea.RightDockWidgetArea),
            ("training", "Training", QWidget(), Qt.DockWidgetArea.BottomDockWidgetArea),
            ("runs", "Runs", QWidget(), Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = _Dock(title, self)
            dock.setObjectName(f"dock-{name}")
            if name in SCROLLED_DOCKS:
                # Their panels want ~300-400 px; in a scroll area a small screen squeezes them
                # (they scroll) instead of pushing the window past the screen's bottom.
                dock.setWidget(_scrolled(widget))
            else:
                dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            self.addDockWidget(area, dock)
            self.docks[name] = dock
            if name in BOTTOM_DOCKS:
                # Only the user's own toggles (View menu, the close button) count, not hiding
                # for want of a project.
                dock.toggleViewAction().triggered.connect(
                    lambda shown, name=name: qs.set_dock_closed(name, not shown)
                )
                dock.closed.connect(lambda name=name: qs.set_dock_closed(name, True))
        # Labels, detections and scores share the column under the classes, one tab each.
        self.tabifyDockWidget(self.docks["events"], self.docks["review"])
        self.tabifyDockWidget(self.docks["review"], self.docks["evaluation"])
        self.tabifyDockWidget(self.docks["training"], self.docks["runs"])
        self.docks["events"].raise_()
        self.docks["training"].raise_()
        self._default_dock_sizes = True  # until a saved layout is restored or they are set

    def _apply_default_dock_sizes(self) -> None:
        # Only once the docks are shown: hiding and showing them (no project, then one)
        # redistributes the space and would undo sizes set earlier.
        self._default_dock_sizes = False
        # Sizes relative to the window: on a 1024 × 640 one the fixed 400 + 380 px columns and
        # a third of the height for the curves left the spectrogram a strip. The spectrogram
        # keeps about half the width; the recordings column is as wide as its columns need.
        width, height = self.width(), self.height()
        left = min(self.browser.preferred_width(), 400, max(220, int(width * 0.36) - 120))
        right = min(380, int(width * 0.3))
        self.resizeDocks(
            [self.docks["recordings"], self.docks["classes"]],
            [max(left, 160), max(right, 200)],
            Qt.Orientation.Horizontal,
        )
        # The classes list shows up to eight classes (six at least) before it scrolls: at a
        # fifth of a 720 px window it showed four and a half of the demo's six. Qt shares the
        # column out in proportion to the sizes given: the Events tabs get the rest of it.
        classes = min(self._classes_dock_height(), int(height * 0.35))
        column = self.docks["classes"].height() + self.docks["events"].height()
        self.resizeDocks(
            [self.docks["classes"], self.docks["events"]],
            [classes, max(column, int(height * 0.7)) - classes],
            Qt.Orientation.Vertical,
        )
        # 30 % of the window at most: the spectrogram is what the user came for (its minimum
        # size makes the dock give way further when the window is smaller still).
        training = min(330, int(height * 0.3))
        self.resizeDocks([self.docks["training"]], [training], Qt.Orientation.Vertical)

    def _classes_dock_height(self, rows: int | None = None) -> int:
        """The Classes dock's height that lists ``rows`` classes whole (by default the
        project's, between six and eight) with its buttons and title bar."""
        palette = self.palette_widget
        classes = palette.list
        if rows is None:
            rows = min(8, max(6, len(self.workspace.classes())))
        # A row as the list draws it (the list may not have heard of the project's classes
        # yet when a project opens): one made like its own.
        sample = QListWidget()
        sample.setFont(classes.font())
        sample.setIconSize(classes.iconSize())
        sample.addItem(QListWidgetItem(swatch("#000000", 14), "1  Xg  (9)"))
        row = sample.sizeHintForRow(0)
        sample.deleteLater()
        layout = palette.layout()
        spacing = layout.spacing() if layout is not None else 6
        others = palette.sizeHint().height() - (
            classes.sizeHint().height() + spacing if classes.isVisibleTo(palette) else 0
        )
        if palette.hint.isVisibleTo(palette):  # no classes yet: the list replaces the hint
            others -= palette.hint.sizeHint().height() + spacing
        dock = self.docks["classes"]
        title = dock.minimumSizeHint().height() - palette.minimumSizeHint().height()
        return rows * row + 2 * classes.frameWidth() + spacing + others + title

    def _action(
        self,
        menu: QMenu | None,
        text: str,
        slot: Callable[[], object],
        keys: str | QKeySequence.StandardKey | list | None = None,
        *,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            sequences = keys if isinstance(keys, list) else [keys]
            action.setShortcuts([QKeySequence(k) for k in sequences])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(lambda *_: slot())
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        build_menus(self)
        build_toolbar(self)

    def _build_status(self) -> None:
        status = MessageBar(self)
        self.setStatusBar(status)
        # The readouts keep their width while they show something (it does not jump as the
        # pointer moves) and give it to the messages when empty.
        self.cursor_label = _Readout(210)
        self.span_label = _Readout(150)
        self.play_label = QLabel()
        for label in (self.cursor_label, self.span_label, self.play_label):
            status.add_readout(label)
        self._on_playing_change(False)

    def _connect(self) -> None:
        ws = self.workspace
        listen(self, ws.events.project, self._on_project_change)
        listen(self, ws.events.recordings, self._on_recordings_change)
        listen(self, ws.events.recording, self._on_recording_change)
        listen(self, ws.events.history, self._on_history_change)
        listen(self, ws.events.selection, self._on_selection_change)
        listen(self, ws.events.reveal, self._on_reveal)
        listen(self, ws.events.message, lambda text: self.statusBar().showMessage(text, 6000))
        self.view.cursorMoved.connect(self._on_cursor_change)
        self.view.spanChanged.connect(self._on_span_change)
        self.view.seekRequested.connect(self.player.seek)
        self.review.playRequested.connect(self._on_review_play)
        self.review.adjustRequested.connect(self._on_review_adjust)
        self.review.cancelRequested.connect(self.detector.cancel)
        self.detector.started.connect(self._on_detect_start)
        self.detector.progress.connect(self._on_detect_progress)
        self.detector.finished.connect(self._on_detect_finish)
        listen(self, self.detections.events.visible, self._on_detections_visible_change)
        self.player.positionChanged.connect(self._on_play_position_change)
        self.player.playingChanged.connect(self._on_playing_change)
        self.player.error.connect(
            lambda text: self.statusBar().showMessage(f"Playback: {text}", 8000)
        )

    # ----------------------------------------------------------------- project
    def open_project(self, path: Path | str) -> bool:
        path = Path(path)
        if path.is_dir() and not (path / DB_NAME).exists() and not (path / DB_NAME).is_symlink():
            # The store's message names the command line ('tfstudio init'): here, the menu.
            QMessageBox.warning(
                self,
                "Not a project",
                f"{path} is not a tfstudio project: it has no {DB_NAME}.\n\n"
                "File ▸ New project… makes one (in this folder, or in a new one inside it); "
                "File ▸ Import recordings from folder… then brings in its recordings.",
            )
            qs.forget_project(path)
            return False
        try:
            self.workspace.open_project(path)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, "Cannot open project", str(exc))
            if not (path / DB_NAME).exists():
                qs.forget_project(path)
            return False
        qs.remember_project(path)
        self._restore_frequency_scale()
        self._restore_recording()
        return True

    def close_project(self) -> None:
        self._remember_recording()
        self.player.load(None)
        self.workspace.close_project()

    def ask_new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose or create an empty folder for the new project", self._start_folder()
        )
        if not folder:
            return
        path = Path(folder)
        if (path / DB_NAME).exists():
            self.open_project(path)
            return
        chosen = self._confirm_project_folder(path)
        if chosen is None:
            self.statusBar().showMessage("New project cancelled: nothing was made", 6000)
            return
        path = chosen
        try:
            self.workspace.open_project(path, create=True)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, "Cannot create project", str(exc))
            return
        qs.remember_project(path)

    def _start_folder(self) -> str:
        """Where the folder dialogs begin: beside the last project, else the home folder (not
        the folder tfstudio was started from, which a stray Choose would take)."""
        recent = next(iter(qs.recent_projects()), None)
        if recent is not None and recent.parent.is_dir():
            return str(recent.parent)
        return str(Path.home())

    def _confirm_project_folder(self, path: Path) -> Path | None:
        """``path`` when it is empty; else ask: a new folder inside it (the default), this
        folder beside what it holds, or nothing (None)."""
        entries = other_entries(path)
        if not entries:
            return path
        inside = free_folder(path)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "The folder is not empty",
            f"{path} already holds {len(entries)} file(s) or folder(s): {listing(entries)}.\n\n"
            "A project keeps its database (project.sqlite), its feature cache and its runs "
            f"in its folder. Make the project in a new folder, {inside.name}, inside this "
            "one, or here, beside what it holds?",
            parent=self,
        )
        new = box.addButton(f"New folder {inside.name}", QMessageBox.ButtonRole.AcceptRole)
        here = box.addButton("Here", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(new)
        exec_once(box)
        clicked = box.clickedButton()
        if clicked is new:
            return inside
        return path if clicked is here else None

    def ask_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open a project folder", self._start_folder()
        )
        if folder:
            self.open_project(Path(folder))

    def ask_create_demo(self) -> None:
        parent = QFileDialog.getExistingDirectory(
            self, "Where should the demo project go?", self._start_folder()
        )
        if not parent:
            return
        self.create_demo(free_folder(Path(parent), "tfstudio-demo"))

    def create_demo(self, folder: Path, **options) -> bool:
        from tfstudio.importer import create_demo

        def job(progress):
            create_demo(folder, progress=progress, **options).close()

        try:
            run_with_progress(self, "Demo project", "Generating recordings…", job)
        except Cancelled:
            self.statusBar().showMessage("Demo cancelled", 5000)
            return False
        except Exception as exc:
            QMessageBox.warning(self, "Cannot create the demo project", str(exc))
            return False
        return self.open_project(folder)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = qs.recent_projects()
        for path in recent:
            # '&&': a menu would take a lone '&' ("R&D") for its shortcut's mark.
            self.recent_menu.addAction(
                str(path).replace("&", "&&"), partial(self.open_project, path)
            )
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ------------------------------------------------------------ import/export
    def ask_import_recordings(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import recordings", "", AUDIO_FILTER)
        if files:
            self.import_recordings([Path(f) for f in files])

    def ask_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import every recording in a folder")
        if folder:
            self.import_recordings([Path(folder)])

    def import_recordings(self, paths: list[Path], *, show_report: bool = True):
        from tfstudio.importer import import_audio

        return self._import(
            "Import recordings",
            "Reading audio files…",
            lambda project, progress: import_audio(project, paths, progress=progress),
            show_report,
        )

    def ask_import_labels(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import labels", "", LABEL_FILTER)
        if files:
            self.import_labels([Path(f) for f in files])

    def ask_import_label_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Import every label file in a folder (BirdNET's, Raven's …)"
        )
        if folder:
            self.import_paths([Path(folder)], audio=False, title="Import labels")

    def import_paths(
        self, paths: list[Path], *, audio: bool = True, title: str = "Import", show_report=True
    ):
        """Audio and labels from files and folders (dropped on the window): the audio
        first, then the labels (:func:`tfstudio.importer.import_paths`); without ``audio``
        the labels only."""
        from tfstudio.importer import import_paths

        return self._import(
            title,
            "Reading files…",
            lambda project, progress: import_paths(project, paths, audio=audio, progress=progress),
            show_report,
        )

    def _dropped(self, event: QDragEnterEvent | QDropEvent) -> list[Path]:
        """The local files and folders a drag carries for this window (none: not for it): to
        import into the open project, or, with none open, one project's folder to open."""
        data = event.mimeData()
        if not data.hasUrls():
            return []
        urls = data.urls()
        if not all(url.isLocalFile() for url in urls):
            return []
        paths = [Path(url.toLocalFile()) for url in urls]
        if self.workspace.project is None and not (
            len(paths) == 1 and (paths[0] / DB_NAME).is_file()
        ):
            return []
        return paths

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._dropped(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # After the drop has returned: the drag's source waits for it, and the import
        # shows a progress dialog and its report.
        if self.workspace.project is None:
            QTimer.singleShot(0, lambda: self.open_project(paths[0]))
        else:
            QTimer.singleShot(0, lambda: self.import_paths(paths))

    def import_labels(self, paths: list[Path], *, show_report: bool = True):
        from tfstudio.importer import import_labels

        return self._import(
            "Import labels",
            "Reading label files…",
            lambda project, progress: import_labels(project, paths, progress=progress),
            show_report,
        )

    def _import(self, title: str, label: str, fn, show_report: bool):
        if self.workspace.project is None:
            return None
        root = self.workspace.project.root

        def job(progress):
            # The GUI's connection belongs to the GUI thread: the worker opens its own.
            with Project.open(root) as project:
                return fn(project, progress)

        try:
            report = run_with_progress(self, title, label, job)
        except Cancelled:
            self.workspace.refresh()
            self.statusBar().showMessage(f"{title}: cancelled", 6000)
            return None
        except Exception as exc:
            QMessageBox.warning(self, title, f"{title} failed:\n{exc}")
            return None
        self.workspace.refresh()
        if show_report:
            details = [*report.skipped, *report.label_issues]
            exec_once(ReportDialog(self, title, report.summary(), details, report.warnings))
        return report

    def ask_export(self) -> None:
        project = self.workspace.project
        if project is None:
            return
        from tfstudio.exporter import default_output
        from tfstudio.formats import FORMATS

        dialog = ExportDialog(FORMATS, lambda fmt, src: default_output(project, fmt, src), self)
        if exec_once(dialog):
            self.export(*dialog.values())

    def export(self, fmt: str, source: str, out: Path, *, show_report: bool = True) -> list[Path]:
        """Export; an existing output is replaced only after the user says so, and what the
        format could not carry is listed (``show_report``: in a dialog, else the status bar)."""
        from tfstudio.exporter import ExportRefused, export_labels

        project = self.workspace.project
        if project is None:
            return []
        overwrite = False
        while True:
            skipped: list[str] = []
            warnings: list[str] = []
            try:
                written = export_labels(
                    project,
                    fmt,
                    out,
                    source=source,
                    overwrite=overwrite,
                    skipped=skipped,
                    warnings=warnings,
                )
                break
            except ExportRefused as exc:
                if not exc.exists or overwrite:
                    QMessageBox.warning(self, "Export failed", str(exc))
                    return []
                answer = QMessageBox.question(
                    self,
                    "Replace the export?",
                    f"{out} already exists.\n\nReplace it with this export? "
                    "(For a folder, only the files of the same name are replaced.)",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Cancel,
                )
                if answer != QMessageBox.StandardButton.Yes:
                    self.statusBar().showMessage("Export cancelled: nothing was written", 8000)
                    return []
                overwrite = True
            except (ValueError, OSError) as exc:
                QMessageBox.warning(self, "Export failed", str(exc))
                return []
        where = written[0] if len(written) == 1 else out
        self.statusBar().showMessage(f"Exported {len(written)} file(s) to {where}", 8000)
        if skipped or warnings:
            # What the format could not carry (a label after its recording's end in a TextGrid)
            # or had to change is said, as the command line says it (and exits 3), never dropped
            # quietly.
            summary = (
                f"Exported {len(written)} file(s) to {where}. {len(skipped)} event(s) left "
                f"out, {len(warnings)} changed to fit the {fmt} format."
            )
            self.statusBar().showMessage(summary, 8000)
            if show_report:
                exec_once(ReportDialog(self, "Export", summary, skipped, warnings))
        return written

    # --------------------------------------------------------------- settings
    def ask_locate(self) -> None:
        """Find a missing recording's file: the open one if it is missing, else the first."""
        missing = [r for r in self.workspace.recordings() if r.status == "missing"]
        current = self.workspace.recording
        rec = current if current is not None and current in missing else next(iter(missing), None)
        if rec is None:
            self.statusBar().showMessage("No recording is missing its file", 4000)
            return
        self.browser.ask_locate(rec.id)

    def find_class(self) -> None:
        """Ctrl+F: the lanes' filter when they scroll (many classes), else the class list."""
        if self.view.strip.focus_filter():
            return
        dock = self.docks["classes"]
        dock.show()
        dock.raise_()
        self.palette_widget.focus_list()

    def ask_settings(self) -> None:
        audio = self.view.audio
        dialog = SettingsDialog(
            self.view_settings,
            self,
            nyquist=audio.nyquist if audio else 0,
            show_machine=self.show_about,
        )
        if exec_once(dialog):
            self.apply_settings(dialog.values())

    def apply_settings(self, settings: ViewSettings) -> None:
        self.view_settings = settings
        qs.save_view_settings(settings)
        self._remember_frequency_scale()
        self._show_settings(settings)

    def _show_settings(self, settings: ViewSettings) -> None:
        self.view_settings = settings
        self.view.set_settings(settings)
        for kind, action in self.scale_actions.items():
            action.setChecked(kind == settings.freq_scale)
        self.waveform_action.setChecked(settings.waveform)
        self.clock_action.setChecked(settings.clock_time)
        self._show_clock()
        self.display_controls.set_values(settings.brightness, settings.contrast)

    def set_waveform_shown(self, shown: bool) -> None:
        """View ▸ Show waveform: the strip above the spectrogram, remembered."""
        self.apply_settings(self.view_settings.with_changes(waveform=shown))

    def set_clock_time_shown(self, shown: bool) -> None:
        """View ▸ Clock time: times of day on the time axis where the start is known."""
        self.apply_settings(self.view_settings.with_changes(clock_time=shown))

    def set_brightness_contrast(self, brightness: float, contrast: float) -> None:
        """The toolbar's sliders: colour levels change at once, tiles are not recomputed."""
        settings = self.view_settings.with_changes(
            brightness=brightness, contrast=contrast
        ).validated()
        self._show_settings(settings)
        self._save_settings_timer.start()

    def set_frequency_scale(self, kind: str) -> None:
        """Linear, log or mel frequency axis: for this project, and the default for others."""
        if kind != self.view_settings.freq_scale:
            self.apply_settings(self.view_settings.with_changes(freq_scale=kind))
        else:
            self._show_settings(self.view_settings)

    def cycle_frequency_scale(self) -> None:
        kinds = list(SCALE_NAMES)
        current = kinds.index(self.view_settings.freq_scale)
        kind = kinds[(current + 1) % len(kinds)]
        self.set_frequency_scale(kind)
        self.statusBar().showMessage(f"Frequency scale: {SCALE_NAMES[kind].lower()}", 3000)

    def _remember_frequency_scale(self) -> None:
        key = self._project_key("freq_scale")
        if key:
            qs.qsettings().setValue(key, self.view_settings.freq_scale)

    def _restore_frequency_scale(self) -> None:
        """The scale this project was last shown with (others keep the default)."""
        key = self._project_key("freq_scale")
        kind = qs.qsettings().value(key) if key else None
        if kind in SCALE_NAMES and kind != self.view_settings.freq_scale:
            self._show_settings(self.view_settings.with_changes(freq_scale=kind))

    def show_about(self) -> None:
        from tfstudio.qt.about import show_about  # loaded when asked for, not at start

        show_about(self, self.workspace)

    def show_help(self) -> None:
        help_dialog = TextDialog(
            self,
            "Keyboard and mouse",
            "<b>Mouse</b><br>"
            "Drag on the spectrogram: new event (Shift+drag: time–frequency box)<br>"
            "Drag in a class lane: new event of that class<br>"
            "Drag the selected event's edges or body: adjust it<br>"
            "Ctrl+click: add to or take from the selection · Ctrl+drag: select what a "
            "rectangle touches (1–9, Del and the arrows then act on all of them)<br>"
            "Click: select; click again: next overlapping event; click on empty space: "
            "move the playback cursor<br>"
            "Wheel: zoom time · Ctrl+wheel: zoom frequency (over the waveform: its "
            "amplitude) · Shift+wheel: scroll · middle or Alt+drag: pan<br><br>"
            "<b>Keys</b><br>"
            "1–9: class of the selected event and of new events · Del: delete · Esc: deselect<br>"
            "Tab / Shift+Tab: next / previous event · PgDown / PgUp: next / previous recording · "
            "Ctrl+U: next unlabelled recording (in the list's order: sorted by Unsure, the "
            "one the model is least sure about)<br>"
            "Space: play / pause · Shift+Space or P: play the selected event · L: loop · "
            "[ ]: speed<br>"
            "+ / −: zoom · Z: zoom to selection · 0: whole recording · ← →: scroll<br>"
            "With an event selected: ← → nudge it (Alt: by one pixel) · Shift+← →: its end · "
            "I / O: onset / offset at the playback cursor · . / ,: next / previous event of "
            "its class<br>"
            "Ctrl+F: find a class · Ctrl+Shift+F: next frequency scale (linear, log, mel) · "
            "Ctrl+Shift+W: show / hide the waveform<br>"
            "Ctrl+Shift+T: clock time on the time axis (where the start is known)<br>"
            "Ctrl+G: go to a time (a time of day with clock time on)<br>"
            "Ctrl+Z / Ctrl+Shift+Z: undo / redo (kept with the project)<br><br>"
            "<b>Reviewing detections</b><br>"
            "Ctrl+D: detect on this recording · A: accept (it becomes a label) · "
            "R: reject (kept as a negative) · E or Enter: adjust (dragging an edge accepts) · "
            "N / J: next · K (P in the list): previous · Space in the list: play it<br>"
            "Ctrl+Shift+H: show / hide detections",
        )
        exec_once(help_dialog)

    # ---------------------------------------------------------------- editing
    def _typing(self) -> bool:
        return isinstance(QApplication.focusWidget(), QLineEdit | QAbstractSpinBox)

    def _step_event(self, step: int) -> None:
        if self._typing():
            # The key is the field's (a table cell's editor commits and moves to the next
            # cell; a line edit passes the focus on): sent to it past the shortcut that
            # took it. Moving the focus from here closed a cell's editor without its value.
            key = Qt.Key.Key_Tab if step > 0 else Qt.Key.Key_Backtab
            mods = Qt.KeyboardModifier.NoModifier if step > 0 else Qt.KeyboardModifier.ShiftModifier
            field = QApplication.focusWidget()
            if field is None:
                return
            enabled = [action.isEnabled() for action in self.step_event_actions]
            for action in self.step_event_actions:
                action.setEnabled(False)  # a key sent is offered to the shortcuts again
            try:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(field, QKeyEvent(kind, key, mods))
            finally:
                for action, on in zip(self.step_event_actions, enabled, strict=True):
                    action.setEnabled(on)
            return
        position = self.view.play_position() or self.view.view_range()[0]
        event_id = self.workspace.step_event(step, position)
        event = self.workspace.labels.get(event_id)
        if event is not None:
            self.view.ensure_visible(event)

    # Nudges: a hundredth of the visible span, or one pixel's worth when fine.
    def _nudge_seconds(self, fine: bool) -> float:
        t0, t1 = self.view.view_range()
        return (t1 - t0) / (max(1.0, self.view.spec_vb.pixel_width()) if fine else 100.0)

    def arrow(self, step: int) -> None:
        """Left/Right: nudge the selected event, or scroll when none is selected."""
        if self.workspace.selected_event() is not None:
            self.nudge(step, "both", fine=False)
        else:
            self.view.pan(0.25 * step)

    def nudge(self, step: int, edge: str, fine: bool) -> None:
        if self._typing():
            return
        event = self.workspace.nudge_selected(step * self._nudge_seconds(fine), edge=edge)
        if event is not None:
            self.view.ensure_visible(event)

    def set_edge(self, edge: str) -> None:
        """I / O: the selected event's onset / offset at the playback cursor."""
        position = self.view.play_position()
        if position is None:
            self.statusBar().showMessage("Place the playback cursor first (click the time)", 4000)
            return
        if self.workspace.set_edge_at(edge, position) is None:
            self.statusBar().showMessage("Select an event first", 4000)

    def step_same_class(self, step: int) -> None:
        event_id = self.workspace.step_same_class(step)
        event = self.workspace.labels.get(event_id)
        if event is not None:
            self.view.ensure_visible(event)

    def _set_class_key(self, key: str) -> None:
        cls = next((c for c in self.workspace.classes() if c.hotkey == key), None)
        if cls is None:
            self.statusBar().showMessage(f"No class on key {key}", 4000)
            return
        self.workspace.set_selected_class(cls.id)

    # -------------------------------------------------------------- detection
    def detect(self, scope: str) -> bool:
        """Detect with the active run on ``current``, ``selected`` or ``unlabelled`` recordings."""
        ws = self.workspace
        if scope == "current":
            ids = [ws.recording.id] if ws.recording is not None else []
        elif scope == "selected":
            ids = self.browser.selected_ids()
        else:
            ids = [r.id for r in ws.recordings() if not ws.label_totals(r.id).labels]
            if not ids:
                self.statusBar().showMessage("Every recording has labels", 5000)
                return False
        self._detected_ids = list(ids)
        return self.detector.detect(ids)

    def _on_detect_start(self, total: int) -> None:
        self.cancel_detect_action.setEnabled(True)
        for action in (*self.detect_actions.values(), self.detect_tool_action):
            action.setEnabled(False)
        self.review.set_job(True, 0, total, "Loading the model")
        self.docks["review"].show()
        self.docks["review"].raise_()
        self.statusBar().showMessage(f"Detecting on {total} recording(s)…")

    def _on_detect_progress(self, done: int, total: int, name: str) -> None:
        text = f"Detecting: {name}" if name and done else "Loading the model"
        self.review.set_job(True, done, total, text)

    def _on_detect_finish(self, outcome: JobResult) -> None:
        self.cancel_detect_action.setEnabled(False)
        for action in (*self.detect_actions.values(), self.detect_tool_action):
            action.setEnabled(True)
        self.review.set_job(False)
        current = self.workspace.recording
        if outcome.status in ("done", "cancelled") and any(
            current is None or rec_id != current.id for rec_id in self._detected_ids
        ):
            # Detections on other recordings: the list shows them all, and N goes to the
            # first (on 'this recording' it said there were none, and N did nothing).
            self.review.set_scope("all")
        if outcome.status == "done":
            r = outcome.result
            summary = (
                f"Detected {r.get('events', '?')} event(s) on {r.get('recordings', '?')} "
                f"recording(s) in {outcome.elapsed_s:.0f} s"
            )
            shown = summary
            if len(self._detected_ids) > 1:
                # Several recordings scored: which of them to label is the next question.
                shown += "; sort Recordings by Unsure to label the most uncertain first"
            self.statusBar().showMessage(shown, 12000)
            left_out = list(r.get("left_out") or [])
            if left_out:
                exec_once(
                    ReportDialog(
                        self,
                        "Detection",
                        f"{summary}. {len(left_out)} recording(s) left out: their audio cannot "
                        "be read.",
                        left_out,
                    )
                )
        elif outcome.status == "cancelled":
            self.statusBar().showMessage("Detection cancelled (finished recordings are kept)", 8000)
        else:
            QMessageBox.warning(self, "Detection failed", outcome.message)

    def _review(self, command: str) -> None:
        if self._typing():
            return
        self.review.run_command(command)

    def _on_review_play(self, onset: float, offset: float) -> None:
        if not self.player.available:
            self.statusBar().showMessage(f"Playback is off: {self.player.reason}", 5000)
            self.player.seek(onset)
            return
        self.player.play(onset, offset)

    def _on_review_adjust(self, event_id: int) -> None:
        event = self.workspace.detections.get(event_id) or self.workspace.labels.get(event_id)
        if event is None:
            self.view.zoom_to_selection()
        else:
            # As much again on each side (0.5 s at least): the model often caught part of
            # the sound, and an edge is dragged out past where it ends.
            room = max(event.offset - event.onset, 0.5)
            self.view.show_range(event.onset - room, event.offset + room)
        self.view.graphics.setFocus()
        self.statusBar().showMessage(
            "Drag the detection's edges to adjust it: it is accepted when you let go "
            "(A accepts it as it is)",
            8000,
        )

    def ask_evaluate(self) -> bool:
        """Show the Evaluation panel and start scoring; False if it could not start (the
        panel says why)."""
        self.docks["evaluation"].show()
        self.docks["evaluation"].raise_()
        return self.evaluation.evaluate()

    # --------------------------------------------------------------- playback
    def toggle_play(self) -> None:
        if not self.player.available:
            self.statusBar().showMessage(f"Playback is off: {self.player.reason}", 5000)
            return
        self.player.toggle()

    def play_selection(self) -> None:
        event = self.workspace.selected_event()
        if event is None:
            self.statusBar().showMessage("Select an event to play it", 4000)
            return
        if not self.player.available:
            self.statusBar().showMessage(f"Playback is off: {self.player.reason}", 5000)
            self.player.seek(event.onset)
            return
        self.player.play(event.onset, event.offset)

    def _on_loop_toggle(self) -> None:
        self.player.set_loop(self.loop_action.isChecked())
        self._on_playing_change(self.player.playing)

    def _step_speed(self, step: int) -> None:
        index = min(max(0, self.speed_combo.currentIndex() + step), len(SPEEDS) - 1)
        self.speed_combo.setCurrentIndex(index)
        self._on_playing_change(self.player.playing)

    def _set_speed(self, speed: float) -> None:
        self.speed_combo.setCurrentIndex(SPEEDS.index(speed))
        self._on_playing_change(self.player.playing)

    def _on_play_position_change(self, seconds: float) -> None:
        self.view.set_play_position(seconds, follow=self.player.playing)

    def _on_playing_change(self, playing: bool) -> None:
        style = self.style()
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_action.setIcon(style.standardIcon(icon))
        # Before the player has started (until the first paint) it is taken to be on.
        if self.player.started and not self.player.available:
            self.play_label.setText(f"Playback off: {self.player.reason}")
            self.play_label.setStyleSheet("color: #d55e00")
            return
        parts = ["Playing" if playing else "Stopped", f"{self.player.rate:g}×"]
        if self.player.loop:
            parts.append("loop")
        self.play_label.setText(" · ".join(parts))

    # ---------------------------------------------------------- notifications
    def ask_train(self) -> None:
        """Show the training dock and open the Train dialog."""
        self._show_training()
        self.training.open_dialog()

    def _show_training(self) -> None:
        qs.set_dock_closed("training", False)
        self.docks["training"].show()
        self.docks["training"].raise_()

    def _train_further(self, run_id: int) -> None:
        """The Runs dock's Train further…: the Training dock comes to the front, where the
        run's curves go on."""
        self._show_training()
        self.training.train_further(run_id)

    def _show_run_in_training(self, run_id: int) -> None:
        """The Runs dock's Show in the Training dock: that run's curves, chosen (they stay
        while another run trains elsewhere; the dock's notice line tells of that one)."""
        self._show_training()
        self.training.show_run(run_id)

    def _resume_run(self, run_id: int) -> None:
        self._show_training()
        self.training.resume(run_id)

    def _on_run_finish(self, _summary: object) -> None:
        """The first run of a project: its Runs dock comes, as it does when a project with
        runs is opened (unless the user closed it); the Training dock stays in front. A run
        of a project the window has left meanwhile: the dock follows the window's now."""
        project = self.workspace.project
        root = project.root if project is not None else None
        if self._training is not None and self._training.project.root != root:
            self._training.follow_project(root)
        runs = self.docks["runs"]
        if runs.isHidden() and "runs" not in qs.closed_docks():
            runs.show()
            if not self.docks["training"].isHidden():
                self.docks["training"].raise_()

    def _on_project_change(self) -> None:
        project = self.workspace.project
        # The training widgets open their own connection (by folder): a run in progress keeps
        # its project even when the window switches to another one.
        root = project.root if project is not None else None
        if self._training is not None and self._run_history is not None:
            if not self._training.is_running():
                self._training.set_project(root)
            self._run_history.set_project(root)
        for action in self.project_actions:
            action.setEnabled(project is not None)
        self.toolbar.setEnabled(project is not None)
        closed = qs.closed_docks()
        has_runs = project is not None and any(not r.imported for r in project.runs())
        shown = {
            # Training curves take room from the spectrogram: shown once there are runs
            # (or on Train), unless the user closed them, which holds across starts.
            name: (has_runs and name not in closed) or self._training_running()
            if name in BOTTOM_DOCKS
            else project is not None
            for name in self.docks
        }
        if project is None and any(dock.isVisible() for dock in self.docks.values()):
            # Docks hidden and shown again get their room shared out anew (the classes list
            # grew at every close and reopen, the tabs under it shrank): kept for the next.
            self._layout_without_project = self.saveState(LAYOUT_VERSION)
        for name, dock in self.docks.items():
            dock.setVisible(shown[name])
        if project is not None and self._layout_without_project is not None:
            self.restoreState(self._layout_without_project, LAYOUT_VERSION)
            self._layout_without_project = None
            for name, dock in self.docks.items():  # this project's, not the last one's
                dock.setVisible(shown[name])
        if project is not None and self._default_dock_sizes:
            self._apply_default_dock_sizes()
        self.setWindowTitle(f"{project.root.name} — tfstudio" if project else "tfstudio")
        self._fill_recent_list()
        self._on_recordings_change()
        self._on_history_change()

    def _on_recordings_change(self) -> None:
        if self.workspace.project is None:
            self.stack.setCurrentWidget(self.welcome)
        elif not self.workspace.recordings():
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.view)
            if self.workspace.recording is None:
                self.workspace.set_recording(self.workspace.recordings()[0].id)

    def ask_go_to_time(self) -> None:
        """View ▸ Go to time… (Ctrl+G): a time into the recording, or with Clock time on a
        time of day, as field notes give one ("owl at 05:12:30")."""
        if self.workspace.recording is None or self.view.audio is None:
            return
        clock = self.events.model.clock
        label = "Time of day (hh:mm:ss)" if clock else "Time into the recording (s, m:ss, h:mm:ss)"
        text, ok = QInputDialog.getText(self, "Go to time", f"{label}:")
        if ok and text.strip():
            self.go_to_time(text)

    def go_to_time(self, text: str) -> bool:
        """Centre the view on a typed time (as the Events table reads times: seconds, or times
        of day with Clock time on) and put the playback cursor there; False, said in the
        status bar, for text that is no time of this recording."""
        rec = self.workspace.recording
        if rec is None:
            return False
        clock = self.events.model.clock
        try:
            seconds = self.events.model.parse_time_text(text.strip())
        except ValueError:
            form = "hh:mm:ss, a time of day" if clock else "seconds, m:ss or h:mm:ss"
            self.workspace.report(f"Not a time: {text.strip()!r} ({form})")
            return False
        if not 0.0 <= seconds <= rec.duration:
            if clock is not None:
                first, last = (
                    clock_text(clock, t, date=False, zone=False) for t in (0.0, rec.duration)
                )
                span = f"{first}–{last}"
            else:
                span = f"0–{format_time(rec.duration, 1)} s"
            self.workspace.report(f"{text.strip()} is not in this recording ({span})")
            return False
        t0, t1 = self.view.view_range()
        half = (t1 - t0) / 2
        self.view.show_range(seconds - half, seconds + half)
        self.player.seek(seconds)
        return True

    def _show_clock(self) -> None:
        """The Events table in times of day where the time axis has them (View ▸ Clock time
        on a recording whose start is known), else in seconds."""
        rec = self.workspace.recording
        start = None
        if self.view_settings.clock_time and rec is not None:
            start = parse_stored(rec.recorded_at)
        self.events.set_clock(start)

    def _on_recording_change(self) -> None:
        self._show_clock()
        self.player.load(self.workspace.recording_path())
        # The readout was about the last recording (its level too) until the pointer moves.
        self.cursor_label.clear()
        rec = self.workspace.recording
        if rec is not None and self.workspace.project is not None:
            shown = self.workspace.shown_name(rec.id)
            self.setWindowTitle(f"{shown} — {self.workspace.project.root.name} — tfstudio")

    def _on_history_change(self) -> None:
        undo = self.workspace.undo_description()
        redo = self.workspace.redo_description()
        # Class names are the user's: an "&" in one is text, not a mnemonic.
        undo_text, redo_text = (d.replace("&", "&&") if d else d for d in (undo, redo))
        self.undo_action.setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        self.redo_action.setText(f"&Redo {redo_text}" if redo_text else "&Redo")
        self.undo_action.setEnabled(undo is not None)
        self.redo_action.setEnabled(redo is not None)

    def _on_detections_visible_change(self, visible: bool) -> None:
        self.show_detections_action.setChecked(visible)

    def _on_reveal(self, reveal: Reveal) -> None:
        """An undo or redo changed events here: the view shows where (the least scroll)."""
        if reveal.span is not None:
            self.view.reveal_span(*reveal.span, opened=reveal.opened)

    def _on_selection_change(self) -> None:
        event = self.workspace.selected_event()
        if event is not None:
            self.view.ensure_visible(event)

    def _on_cursor_change(self, seconds: float, hz: float | None) -> None:
        text = f"t {format_time(max(0.0, seconds), 3)}"
        rec = self.workspace.recording
        start = parse_stored(rec.recorded_at) if rec is not None else None
        clock = ""
        if start is not None:  # the time of day too, on the recorder's clock
            clock = f" ({clock_text(start, max(0.0, seconds), date=False, decimals=1, zone=False)})"
            text += clock
        # As wide as the readout needs with the clock or without: it does not jump as it moves.
        self.cursor_label.set_width(210 + self.cursor_label.fontMetrics().horizontalAdvance(clock))
        if hz is not None:
            text += f"   f {format_hz(max(0.0, hz))}"
            level = self.view.level_at(seconds, hz)
            if level is not None:
                text += f"   {level:.0f} dB"
        self.cursor_label.setText(text)

    def _on_span_change(self, seconds: float | None) -> None:
        self.span_label.setText("" if seconds is None else f"Selection {seconds:.3f} s")

    def _fill_recent_list(self) -> None:
        """Recent projects, newest first; one that is gone (a moved folder, an unplugged
        disk) stays listed, greyed, so the user sees where it was."""
        self.recent_list.clear()
        recent = qs.recent_projects()
        for path in recent:
            item = QListWidgetItem(f"{path.name}    —    {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            if not (path / DB_NAME).exists():
                item.setText(f"{item.text()}    (not found)")
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(f"{path} holds no project now; File ▸ Open project… finds it")
            self.recent_list.addItem(item)
        self.recent_list.setVisible(bool(recent))
        self.recent_label.setVisible(bool(recent))

    # ------------------------------------------------------------- persistence
    def _project_key(self, name: str) -> str | None:
        """A QSettings key for something remembered per project."""
        project = self.workspace.project
        return None if project is None else f"projects/{project.root.absolute()}/{name}"

    def _recording_key(self) -> str | None:
        return self._project_key("recording")

    def _remember_recording(self) -> None:
        key, rec = self._recording_key(), self.workspace.recording
        if key and rec is not None:
            qs.qsettings().setValue(key, rec.path)

    def _restore_recording(self) -> None:
        key = self._recording_key()
        path = qs.qsettings().value(key) if key else None
        rec = next((r for r in self.workspace.recordings() if r.path == path), None)
        if rec is not None and rec != self.workspace.recording:
            self.workspace.set_recording(rec.id)

    def _restore_window(self) -> None:
        store = qs.qsettings()
        geometry = store.value("window/geometry")
        state = store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self._default_dock_sizes = not self.restoreState(state, LAYOUT_VERSION)
            if not self._default_dock_sizes:
                # Restored before the docks are shown (they show with a project): shown, they
                # would have their room shared out anew, as at a close and reopen.
                self._layout_without_project = state

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._save_settings_timer.isActive():
            self._save_settings_timer.stop()
            qs.save_view_settings(self.view_settings)
        store = qs.qsettings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self._remember_recording()
        self.player.stop()
        if self._training is not None and self._run_history is not None:
            if self._training.is_running():
                # The run keeps its last checkpoint and can be resumed from the Training panel.
                self._training.process.shutdown(5)
            # Stop their polling timers and close their connections before the widgets go.
            self._training.set_project(None)
            self._run_history.set_project(None)
        self.detector.shutdown()
        self.evaluation.shutdown()
        self.view.shutdown()
        self.workspace.close_project(emit=False)
        super().closeEvent(event)
