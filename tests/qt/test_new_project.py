"""File ▸ New project…: the folder chosen in the dialog, and what happens when it is not empty."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QPushButton

from tests.conftest import write_wav
from tfstudio.store import DB_NAME

LEFT = Qt.MouseButton.LeftButton


def on_modal(kind: type, act: Callable, seen: list, timeout_ms: int = 10_000) -> None:
    """Once a modal ``kind`` is open, call ``act(it)`` (after noting it in ``seen``)."""
    waited = [0]

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, kind) and box.isVisible():
            seen.append(box)
            # A moment to settle: the file dialog typed into at once returned the folder it
            # was showing instead of the one typed.
            QTimer.singleShot(300, lambda: act(box))
        elif waited[0] < timeout_ms:
            waited[0] += 20
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def type_folder(dialog: QFileDialog, folder: Path) -> None:
    """Type ``folder`` where the dialog asks for the directory, and press Return."""
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    edit.setFocus()
    QTest.keyClicks(edit, str(folder))
    QTest.keyClick(edit, Qt.Key.Key_Return)


def click_button(box: QMessageBox, starts: str) -> None:
    (button,) = [b for b in box.findChildren(QPushButton) if b.text().startswith(starts)]
    QTest.mouseClick(button, LEFT)


def new_project(qtbot, window, folder: Path, answer: str | None) -> list:
    """Press the welcome page's New project…, type ``folder``, and answer the question about a
    folder that is not empty with the button whose text starts with ``answer``."""
    seen: list = []

    def then_answer(dialog: QFileDialog) -> None:
        if answer is not None:
            on_modal(QMessageBox, lambda box: click_button(box, answer), seen)
        type_folder(dialog, folder)

    on_modal(QFileDialog, then_answer, seen)
    (button,) = [b for b in window.welcome.findChildren(QPushButton) if b.text() == "New project…"]
    QTest.mouseClick(button, LEFT)
    return seen


@pytest.fixture
def bare_window(qtbot):
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_an_empty_folder_becomes_the_project(qtbot, bare_window, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    seen = new_project(qtbot, bare_window, folder, None)
    assert bare_window.workspace.project is not None
    assert bare_window.workspace.project.root == folder
    assert [type(s) for s in seen] == [QFileDialog]


@pytest.fixture
def recordings(tmp_path) -> Path:
    """A folder of the user's that already holds a recording."""
    folder = tmp_path / "site 1"
    folder.mkdir()
    write_wav(folder / "dawn.wav", 1.0)
    return folder


def test_a_folder_with_files_asks_and_offers_a_new_folder_inside(qtbot, bare_window, recordings):
    """A project in a folder that holds other things (the dialog's starting folder taken by
    mistake: the home folder, a source checkout) spread its database, cache and runs among
    them without a word; it asks, and a new folder inside is the first answer."""
    seen = new_project(qtbot, bare_window, recordings, "New folder")
    qtbot.waitUntil(lambda: bare_window.workspace.project is not None, timeout=10_000)
    assert [type(s) for s in seen] == [QFileDialog, QMessageBox]
    question = seen[1].text()
    assert str(recordings) in question and "dawn.wav" in question
    assert bare_window.workspace.project.root == recordings / "tfstudio-project"
    assert (recordings / "tfstudio-project" / DB_NAME).exists()
    assert sorted(p.name for p in recordings.iterdir()) == ["dawn.wav", "tfstudio-project"]


def test_the_user_may_keep_the_project_beside_the_files(qtbot, bare_window, recordings):
    new_project(qtbot, bare_window, recordings, "Here")
    qtbot.waitUntil(lambda: bare_window.workspace.project is not None, timeout=10_000)
    assert bare_window.workspace.project.root == recordings
    assert (recordings / DB_NAME).exists() and (recordings / "dawn.wav").exists()


def test_cancel_makes_nothing(qtbot, bare_window, recordings):
    seen = new_project(qtbot, bare_window, recordings, "Cancel")
    qtbot.waitUntil(lambda: len(seen) == 2 and not seen[1].isVisible(), timeout=10_000)
    qtbot.wait(100)
    assert bare_window.workspace.project is None
    assert [p.name for p in recordings.iterdir()] == ["dawn.wav"]


def test_opening_a_folder_that_is_no_project_says_how_to_make_one(qtbot, bare_window, recordings):
    """The window told a user who opened a folder of recordings to run 'tfstudio init' in a
    terminal; it names the menu that makes a project instead."""
    seen: list = []
    said: list[str] = []

    def read(box: QMessageBox) -> None:
        said.append(box.text())
        click_button(box, "OK")

    def then_read(dialog: QFileDialog) -> None:
        on_modal(QMessageBox, read, seen)
        type_folder(dialog, recordings)

    on_modal(QFileDialog, then_read, seen)
    (button,) = [
        b for b in bare_window.welcome.findChildren(QPushButton) if b.text() == "Open project…"
    ]
    QTest.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    (text,) = said
    assert str(recordings) in text and "File ▸ New project…" in text
    assert "tfstudio init" not in text
    assert bare_window.workspace.project is None
    assert [p.name for p in recordings.iterdir()] == ["dawn.wav"]
