"""A new project's first steps: the Classes panel says how to begin labelling."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QToolButton

from tests.conftest import write_wav
from tests.qt.conftest import open_window, settle_layout


@pytest.fixture
def classless_project(tmp_path):
    """Recordings imported, no class yet: where a new user stands after Import folder…."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    write_wav(audio / "dawn.wav", 10.0, seed=1)
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
        return project.root


def test_an_empty_class_list_says_how_to_begin(qtbot, classless_project):
    """It was a blank box: nothing said that labelling starts with a class, nor where."""
    win = open_window(qtbot, classless_project, (1440, 880))
    palette = win.palette_widget
    qtbot.waitUntil(lambda: palette.hint.isVisible())
    assert "+ Add class" in palette.hint.text() and "Ctrl+K" in palette.hint.text()

    def name_it() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, name_it)
            return
        field = dialog.findChild(QLineEdit)
        qtbot.keyClicks(field, "wren")
        qtbot.keyClick(field, Qt.Key.Key_Return)

    QTimer.singleShot(0, name_it)
    (add,) = [b for b in palette.findChildren(QToolButton) if b.text() == "+ Add class"]
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [c.name for c in win.workspace.classes()] == ["wren"])
    assert not palette.hint.isVisible()
    win.close()


def test_a_drag_before_any_class_says_how_to_add_one(qtbot, classless_project):
    from tests.qt.test_annotation import drag, mid_hz

    win = open_window(qtbot, classless_project, (1440, 880))
    qtbot.waitUntil(lambda: win.view.has_image(), timeout=5000)
    settle_layout(qtbot, win.view)
    drag(qtbot, win.view, "spec", (2.0, mid_hz(win.view)), (3.0, mid_hz(win.view)))
    message = win.statusBar().currentMessage()
    assert "+ Add class" in message and "Ctrl+K" in message
    win.close()
