"""Entry point of the desktop app: ``tfstudio [PROJECT]`` calls ``run``."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

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


def run(project: str | None) -> int:
    """Open the main window on ``project`` (or the most recent one) and run the event loop."""
    from tfstudio.qt.main_window import MainWindow

    app = create_application()
    _install_excepthook()
    window = MainWindow()
    window.show()
    if project is not None:
        window.open_project(Path(project))
    else:
        recent = next((p for p in qs.recent_projects() if (p / DB_NAME).exists()), None)
        if recent is not None:
            window.open_project(recent)
    return int(app.exec())
