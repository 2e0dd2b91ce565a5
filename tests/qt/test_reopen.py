"""Closing a project and opening it again from the welcome page leaves the window as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.conftest import open_window


def close_and_reopen(qtbot, win) -> None:
    """File ▸ Close project, then a double click on the project in the welcome page's list."""
    close = next(a for a in win.project_actions if a.text() == "&Close project")
    close.trigger()
    assert win.workspace.project is None
    items = win.recent_list
    qtbot.waitUntil(lambda: items.count() > 0 and items.isVisible())
    where = items.visualItemRect(items.item(0)).center()
    qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(items.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: win.workspace.project is not None)
    qtbot.wait(50)


def test_the_docks_keep_their_sizes_across_close_and_reopen(qtbot, small_project):
    """Hiding every dock with the project and showing them again let Qt share their room out
    anew: the classes list grew at each close and reopen (120 -> 443 -> 552 -> 610 px) and the
    events, review and evaluation tabs under it shrank to a strip."""
    win = open_window(qtbot, small_project, (1440, 880))
    qtbot.wait(50)
    sizes = {name: win.docks[name].size() for name in ("recordings", "classes", "events")}
    for _ in range(3):
        close_and_reopen(qtbot, win)
        assert {name: win.docks[name].size() for name in sizes} == sizes
    win.close()
