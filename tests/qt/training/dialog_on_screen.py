"""Show the Train dialog on the screen this process's Qt platform gives and print, as one
JSON line, what its user sees: where the window's frame lies on the screen's free area, and
which groups of settings and buttons are wholly in view without scrolling.

    python dialog_on_screen.py PROJECT SETTINGS_INI POINT_SIZE

test_dialog_fits.py runs it in a child process with the offscreen platform given a laptop's
screen (a test process has the one screen it started with).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGroupBox, QWidget


def wholly_in_view(widget: QWidget) -> bool:
    """Every pixel of ``widget`` is on screen: shown and not clipped by a scroll area."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


def main(argv: list[str]) -> int:
    project, settings_path, point_size = argv[1], argv[2], float(argv[3])
    app = QApplication([])
    font = app.font()
    font.setPointSizeF(point_size)
    app.setFont(font)

    from tfstudio.qt.training.dialog import TrainDialog
    from tfstudio.qt.training.engine import engine_info

    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    dialog = TrainDialog(project, engine=engine_info(known=True), settings=settings)
    dialog.show()
    QTest.qWaitForWindowExposed(dialog)
    QTest.qWait(100)
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    free, frame = screen.availableGeometry(), dialog.frameGeometry()
    groups = [box for box in dialog.findChildren(QGroupBox) if box.isVisibleTo(dialog)]
    report = {
        "available": free.getRect(),
        "frame": frame.getRect(),
        "frame_on_screen": free.contains(frame),
        "columns": getattr(dialog, "column_count", 2),
        "groups": [box.title() for box in groups],
        "groups_out_of_view": [box.title() for box in groups if not wholly_in_view(box)],
        "buttons_in_view": all(
            wholly_in_view(button) for button in (dialog.start_button, dialog.buttons)
        ),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
