"""Entry point of the desktop app: ``tfstudio [PROJECT]`` calls ``run``."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from tfstudio import __version__
from tfstudio.qt import settings as qs
from tfstudio.store import DB_NAME


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
    """An error in a slot is shown, not lost on stderr (and the app keeps running)."""

    def hook(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.__stderr__.write(text)
        app = QApplication.instance()
        if app is not None and QApplication.activeWindow() is not None:
            QMessageBox.critical(
                QApplication.activeWindow(), "Unexpected error", f"{value}\n\n{text[-2000:]}"
            )

    sys.excepthook = hook


STARTUP_PROBE = "TFSTUDIO_STARTUP_PROBE"
# Packages the app's start must not load (each costs seconds); the probe says which it found.
HEAVY_PACKAGES = ("torch", "torchaudio", "torchlibrosa", "scipy", "pandas", "sed_eval")


class StartupProbe(QObject):
    """Wall-clock times (``time.time()``) of the start-up steps and the heavy packages loaded,
    written as JSON to the file named by ``$TFSTUDIO_STARTUP_PROBE``; the app quits at the
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
            report = {"times": self.times, "heavy": sorted(loaded.intersection(HEAVY_PACKAGES))}
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
    _install_excepthook()
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
