"""Quitting the app and starting it again on the project leaves the docks as they were."""

from __future__ import annotations

from tests.qt.conftest import open_window

DOCKS = ("recordings", "classes", "review", "training")


def test_the_docks_keep_their_sizes_across_restarts(qtbot, detected_project):
    """The saved layout was restored while the docks were hidden (they show with a project),
    so Qt shared their room out anew when they showed: on a laptop-sized window the classes
    list grew at every start (155 -> 363 -> 445 px) and the Review tab under it shrank until
    its list showed one detection."""
    win = open_window(qtbot, detected_project, (1350, 720))
    win.docks["review"].raise_()
    qtbot.wait(50)
    sizes = {name: win.docks[name].size() for name in DOCKS}
    for _ in range(2):
        win.close()  # saves the window's geometry and state, as quitting does
        win = open_window(qtbot, detected_project, (1350, 720))
        qtbot.wait(50)
        assert {name: win.docks[name].size() for name in DOCKS} == sizes
    assert win.review.table.height() > 150  # several detections in view, not one
    win.close()
