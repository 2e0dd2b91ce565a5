"""The Training dock in the window: its four curves in view at the dock's default height."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt

from tests.qt.conftest import open_window
from tfstudio.store import Project


def with_a_finished_run(root):
    with Project.open(root) as project:
        run = project.create_run({"preset": "fast", "epochs": 3, "patience": 3})
        project.add_metrics(
            run.id,
            [
                {"kind": "epoch", "epoch": e, "iteration": e * 5, "val_loss": 1 / e, "f1": e / 4}
                for e in (1, 2, 3)
            ],
        )
        project.update_run(run.id, status="done")


def in_view(widget, area) -> bool:
    """Whether ``widget`` is wholly inside what the scroll area ``area`` shows."""
    shown = area.viewport().rect()
    top_left = widget.mapTo(area.viewport(), QPoint(0, 0))
    return shown.contains(QRect(top_left, widget.size()))


def test_every_curve_is_in_view_in_the_docks_default_height(qtbot, small_project):
    """The dock takes 30 % of the window's height: the curves in two rows needed more, and
    the second row (validation loss, F1 and ER: what tells whether the run is any good) was
    below the fold until the dock was scrolled or enlarged."""
    with_a_finished_run(small_project)
    win = open_window(qtbot, small_project, (1440, 880))
    dock = win.docks["training"]
    qtbot.waitUntil(lambda: dock.isVisible() and win._training is not None)
    panel = win.training
    area = dock.widget()
    qtbot.waitUntil(lambda: panel.height() > 0)
    qtbot.wait(50)
    assert area.viewport().height() < 300  # the default: short
    for plot in panel.plots:
        assert in_view(plot, area), plot.getPlotItem().titleLabel.text
        assert plot.height() >= 120

    # Made tall (the dock dragged up, or floated), the curves go back to two rows.
    win.resizeDocks([dock], [700], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: panel.val_plot.y() > panel.tf_plot.y())
    for plot in panel.plots:
        assert in_view(plot, area)
    win.close()


def test_in_one_row_no_curve_is_wider_than_its_place(qtbot, small_project):
    """A legend in the title line made a quarter-width plot wider than its widget: the right
    of its curves and legend was cut off."""
    with_a_finished_run(small_project)
    win = open_window(qtbot, small_project, (1440, 880))
    qtbot.waitUntil(lambda: win.docks["training"].isVisible() and win._training is not None)
    panel = win.training
    qtbot.waitUntil(lambda: panel.val_plot.y() == panel.tf_plot.y())  # one row
    qtbot.wait(50)
    for plot in panel.plots:
        assert plot.getPlotItem().geometry().width() <= plot.width() + 0.5
    win.close()
