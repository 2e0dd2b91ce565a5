"""A 1024 × 640 window: the spectrogram keeps a usable size (the docks give way), its axis
titles do not run into each other, the review list shows, and the toolbar keeps Train,
Detect and Show detections in view."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

SMALL = (1024, 640)


@pytest.fixture
def small_review_window(qtbot, detected_project):
    """The detected project with six classes, a run (so the Training dock shows), rec0 open
    in the Review tab, in a 1024 × 640 window."""
    from tests.qt.conftest import open_window
    from tfstudio.store import Project

    with Project.open(detected_project) as project:
        for name in ("tone", "sweep", "clicks", "noise_burst"):
            project.add_class(name)
    window = open_window(qtbot, detected_project, size=SMALL)
    rec0 = next(r for r in window.workspace.recordings() if r.stem == "rec0")
    window.workspace.set_recording(rec0.id)
    window.docks["review"].raise_()
    qtbot.waitUntil(window.view.has_image, timeout=5000)
    qtbot.waitUntil(lambda: window.view.post.isVisible(), timeout=5000)
    yield window
    window.close()


def test_the_spectrogram_keeps_its_room_in_a_small_window(small_review_window, qtbot):
    window = small_review_window
    view = window.view
    assert not window.docks["training"].isHidden()  # the curves are there too
    assert window.size().toTuple() == SMALL
    # The spectrogram was ~30 px tall here (~110 px without the posteriorgram).
    qtbot.waitUntil(lambda: view.spec_vb.height() >= 130, timeout=3000)
    assert view.spec_vb.width() >= 300
    # The axis titles stay beside their own plots.
    titles = [plot.getAxis("left").label for plot in (view.spec, view.post, view.lanes)]
    rects = [t.mapRectToScene(t.boundingRect()) for t in titles if t.isVisible()]
    for a, b in itertools.pairwise(rects):
        assert not a.intersects(b)
    spec_axis = view.spec.getAxis("left")
    assert spec_axis.label.mapRectToScene(spec_axis.label.boundingRect()).height() <= (
        spec_axis.sceneBoundingRect().height()
    )


def test_the_review_list_shows_in_a_small_window(small_review_window, qtbot):
    review = small_review_window.review
    table = review.table
    assert table.model().rowCount() >= 3
    row = table.rowHeight(0)

    def rows_in_view() -> int:
        return table.visibleRegion().boundingRect().height() // max(1, row)

    qtbot.waitUntil(lambda: rows_in_view() >= 3, timeout=3000)


def test_the_toolbar_keeps_its_main_actions_in_view(small_review_window):
    window = small_review_window
    toolbar = window.toolbar
    for action in (window.train_action, window.detect_tool_action, window.show_detections_action):
        button = toolbar.widgetForAction(action)
        assert button is not None and button.isVisible(), action.text()
    # Nothing went into the "»" menu: brightness and contrast made themselves smaller.
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible()
    assert window.display_controls.isVisible() and window.display_controls.compact
    # At the default size they are whole again.
    window.resize(1440, 880)
    assert not window.display_controls.compact
    assert window.display_controls.labels["Brightness"].text() == "Brightness"


def test_thirty_classes_leave_the_spectrogram_its_width(qtbot, tmp_path):
    from tests.qt.conftest import open_window
    from tests.qt.test_lanes import make_project

    window = open_window(qtbot, make_project(tmp_path, 30), size=SMALL)
    try:
        view = window.view
        qtbot.waitUntil(view.has_image, timeout=5000)
        assert view.strip.scrollbar.isVisible()  # the lanes scroll
        qtbot.waitUntil(lambda: view.spec_vb.width() >= 300, timeout=3000)  # was ~255
        view.graphics.setFocus()
        qtbot.keyClick(view.graphics, Qt.Key.Key_0)
    finally:
        window.close()


def test_a_first_window_fits_the_screen_it_opens_on(qtbot, small_project):
    # No saved geometry (isolated settings): the window was 1440 × 880 whatever the screen,
    # 78 px wider and 116 px taller than a 1366 × 768 laptop's. The test screen is 800 × 800.
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_project(small_project)
    free = window.screen().availableGeometry()
    try:
        assert free.width() < 1440 and free.height() < 880  # else the test shows nothing
        assert free.contains(window.frameGeometry()), (free, window.frameGeometry())
        # It takes what the screen offers, less the frame's room: not a small window.
        assert window.width() >= free.width() - 40 and window.height() >= free.height() - 80
        qtbot.waitUntil(window.view.has_image, timeout=5000)
        assert window.view.spec_vb.width() >= 200
    finally:
        window.close()
