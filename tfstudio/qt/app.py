"""Entry point of the desktop app: ``tfstudio [PROJECT]`` calls ``run``."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from tfstudio import __version__
from tfstudio.logs import current_log_file, log_exception, logger, setup_logging
from tfstudio.paths import resource_path
from tfstudio.qt import settings as qs
from tfstudio.store import DB_NAME

# The desktop entry's id (packaging/linux/install-desktop.sh installs it under this name):
# Wayland compositors find the window's icon and menu entry through it.
DESKTOP_ID = "io.github.tfstudio.TFStudio"
ICON = "icons/tfstudio.svg"


def app_icon() -> QIcon:
    """tfstudio's icon (the shipped SVG); an empty icon when the file is missing."""
    path = resource_path(ICON)
    return QIcon(str(path)) if path.is_file() else QIcon()


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists, e.g. under pytest-qt)."""
    QCoreApplication.setOrganizationName(qs.ORGANIZATION)
    QCoreApplication.setApplicationName(qs.APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    QGuiApplication.setDesktopFileName(DESKTOP_ID)
    QGuiApplication.setWindowIcon(app_icon())
    return app  # type: ignore[return-value]


def dark_palette() -> QPalette:
    """A calm dark theme: spectrograms read best next to dark chrome."""
    p = QPalette()
    base, window, text = QColor("#1e2026"), QColor("#262930"), QColor("#e3e5ea")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#23262d"),
        QPalette.ColorRole.ToolTipBase: QColor("#31343c"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2f323a"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Highlight: QColor("#3d7bd9"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#6aa7ff"),
        QPalette.ColorRole.PlaceholderText: QColor("#8a8f98"),
        QPalette.ColorRole.Mid: QColor("#8a8f98"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    disabled = QColor("#7a7f88")
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def _install_excepthook() -> None:
    """An error in a slot is logged with its traceback and shown in a dialog that names the
    log file; the app keeps running (every edit is already in the project's database)."""

    def hook(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        if sys.__stderr__ is not None:
            sys.__stderr__.write(text)
        log_exception(kind, value, tb)
        if QApplication.instance() is not None:
            show_error_dialog(value, text)

    sys.excepthook = hook


_error_box: QMessageBox | None = None


def show_error_dialog(error: BaseException, details: str) -> QMessageBox | None:
    """A non-blocking dialog for an unexpected error, naming the log file; while one is open,
    further errors only go to the log (a slot that fails on every paint must not stack up
    dialogs). None when one is already open."""
    global _error_box
    if _error_box is not None:
        return None
    parent = QApplication.activeWindow() or next(
        (w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()), None
    )
    log = current_log_file()
    where = f"Details are in the log file:\n{log}" if log else "No log file could be written."
    box = QMessageBox(parent)
    box.setObjectName("unexpectedErrorDialog")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Unexpected error")
    box.setText(f"Something went wrong: {type(error).__name__}: {error}")
    box.setInformativeText(
        "tfstudio keeps running, and your project is safe: every edit was saved when it was "
        f"made.\n\n{where}"
    )
    box.setDetailedText(details[-6000:])
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    if log is not None:
        folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log.parent)))
        )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def forget() -> None:
        global _error_box
        _error_box = None

    box.finished.connect(forget)
    _error_box = box
    box.open()
    return box


STARTUP_PROBE = "TFSTUDIO_STARTUP_PROBE"
# Packages the app's start must not load (each costs seconds); the probe says which it found.
HEAVY_PACKAGES = ("torch", "torchaudio", "torchlibrosa", "scipy", "pandas", "sed_eval")


class StartupProbe(QObject):
    """Wall-clock times (``time.time()``) of the start-up steps, the process's CPU seconds up to
    the first paint (``cpu_s``: what a busy machine does not inflate) and the heavy packages
    loaded, written as JSON to the file named by ``$TFSTUDIO_STARTUP_PROBE``; the app quits at the
    first paint of its main window. ``tfstudio bench startup`` uses it to time a cold start."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._window: QWidget | None = None
        self.times: dict[str, float] = {"run": time.time()}

    def mark(self, step: str) -> None:
        self.times[step] = time.time()

    def watch(self, app: QApplication, window: QWidget) -> None:
        self._window = window
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and "painted" not in self.times
            and isinstance(watched, QWidget)
            and watched.window() is self._window
        ):
            self.mark("painted")
            loaded = {name.partition(".")[0] for name in sys.modules}
            report = {
                "times": self.times,
                "cpu_s": time.process_time(),
                "heavy": sorted(loaded.intersection(HEAVY_PACKAGES)),
            }
            Path(self._path).write_text(json.dumps(report), encoding="utf-8")
            QTimer.singleShot(0, QApplication.quit)
        return False


def run(project: str | None) -> int:
    """Open the main window on ``project`` (or the most recent one) and run the event loop."""
    probe_path = os.environ.get(STARTUP_PROBE)
    probe = StartupProbe(probe_path) if probe_path else None
    from tfstudio.qt.main_window import MainWindow

    if probe is not None:
        probe.mark("imported")
    app = create_application()
    setup_logging()
    _install_excepthook()
    logger.info("app started (project %s)", project or "most recent")
    window = MainWindow()
    if probe is not None:
        probe.watch(app, window)
    window.show()
    if probe is not None:
        probe.mark("shown")
    if project is not None:
        window.open_project(Path(project))
    else:
        recent = next((p for p in qs.recent_projects() if (p / DB_NAME).exists()), None)
        if recent is not None:
            window.open_project(recent)
    if probe is not None:
        probe.mark("opened")
    return int(app.exec())
