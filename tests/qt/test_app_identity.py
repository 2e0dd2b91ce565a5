"""The application's icon and desktop id, as the window manager and desktop see them."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from tfstudio.qt.app import DESKTOP_ID, create_application


def test_the_app_has_tfstudios_icon_and_the_desktop_entry_id(qtbot):
    app = create_application()
    icon = app.windowIcon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64
    # The SVG was drawn: not a blank square.
    assert len({image.pixel(x, y) for x in range(0, 64, 4) for y in range(0, 64, 4)}) > 3
    assert QGuiApplication.desktopFileName() == DESKTOP_ID == "io.github.tfstudio.TFStudio"
    # The desktop entry that packaging/linux/install-desktop.sh installs has this id.
    from pathlib import Path

    linux = Path(__file__).resolve().parents[2] / "packaging" / "linux"
    assert (linux / f"{DESKTOP_ID}.desktop").is_file()
