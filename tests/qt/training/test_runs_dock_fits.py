"""The Runs dock under the spectrogram on a laptop (1350 x 720: some 964 x 174 px): before,
its content needed 356 px and scrolled, one or two table rows showed and the second row of
plots was out of view. Wide and short, the table now stands beside one row of four plots."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from tests.qt.conftest import open_window
from tests.qt.training.test_history import add_run, curves_with_data
from tfstudio.store import Project

LAPTOP = (1350, 720)


def _in_view(widget, area) -> bool:
    top_left = widget.mapTo(area.viewport(), QPoint(0, 0))
    return area.viewport().rect().contains(QRect(top_left, widget.size()))


def _open_runs(qtbot, root, size):
    win = open_window(qtbot, root, size)
    dock = win.docks["runs"]
    if dock.isHidden():
        dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: win._run_history is not None, timeout=5000)
    dock.show()
    dock.raise_()
    history = win.run_history
    qtbot.waitUntil(lambda: dock.isVisible() and history.table.rowCount() == 6, timeout=5000)
    return win, dock, history


def test_the_runs_dock_fits_a_laptop_without_scrolling(qtbot, small_project):
    with Project.open(small_project) as project:
        ids = [add_run(project, "drossos" if i % 2 else "none", epochs=4) for i in range(6)]
    win, dock, history = _open_runs(qtbot, small_project, LAPTOP)
    area = dock.widget()
    try:
        qtbot.wait(50)
        # The oldest run: the last row, out of view in a short table.
        history.select_runs([ids[0]])
        assert area.viewport().height() < 200, area.viewport().size()
        # Was 182 px of scrolling.
        qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() == 0, timeout=3000)
        qtbot.wait(50)
        assert area.verticalScrollBar().maximum() == 0, history.minimumSizeHint()
        assert area.horizontalScrollBar().maximum() == 0
        table = history.table
        assert _in_view(table, area)
        row = table.visualRect(table.model().index(history.table.rowCount() - 1, 0))
        assert table.viewport().rect().contains(row), row
        assert table.item(table.rowCount() - 1, 0).text() == str(ids[0])
        for plot in history.plots:
            assert plot.isVisible() and _in_view(plot, area), plot
            assert curves_with_data(plot) >= 1
            # Its title whole over the curves.
            assert plot._title_width(plot._title) <= plot.title_room()
        # The four plots in one row, right of the table.
        tops = {plot.mapTo(history, QPoint(0, 0)).y() for plot in history.plots}
        assert len(tops) == 1
        assert history.tf_plot.mapTo(history, QPoint(0, 0)).x() > table.width()
        # Two runs still overlay; their swatches in the Run cells are the key.
        history.select_runs([ids[0], ids[1]])
        qtbot.wait(20)
        assert history.selected_runs() == [ids[1], ids[0]]
        assert curves_with_data(history.val_plot) == 2
        assert not table.item(table.rowCount() - 1, 0).icon().isNull()
        # The context menu still offers the Training dock.
        menu = history.run_menu(ids[1])
        assert "Show in the Training dock" in [a.text() for a in menu.actions()]
        menu.deleteLater()

        # A taller dock (dragged, or more room) gets the stacked layout back.
        dock.setFloating(True)
        dock.resize(900, 600)
        qtbot.waitUntil(lambda: not history.side_by_side, timeout=3000)
        qtbot.wait(50)
        assert area.verticalScrollBar().maximum() == 0
        assert (
            history.tf_plot.mapTo(history, QPoint(0, 0)).y()
            > table.mapTo(history, QPoint(0, 0)).y() + table.height() - 1
        )
        assert history.legend.isVisible()
        assert history.tf_plot._title == "Teacher-forcing probability"
        # Short and too narrow for four plots beside the table: stacked (it scrolls).
        dock.resize(560, 180)
        qtbot.wait(100)
        assert not history.side_by_side
        dock.resize(1000, 180)
        qtbot.waitUntil(lambda: history.side_by_side, timeout=3000)
    finally:
        win.close()


def test_the_selected_run_is_scrolled_into_the_table(qtbot, small_project):
    """Also where the table shows a row or two (stacked, at 800 x 800)."""
    with Project.open(small_project) as project:
        ids = [add_run(project, "drossos", epochs=2) for _ in range(6)]
    win, _dock, history = _open_runs(qtbot, small_project, (784, 752))
    try:
        qtbot.wait(50)
        history.select_runs([ids[0]])
        qtbot.wait(50)
        table = history.table
        row = table.visualRect(table.model().index(table.rowCount() - 1, 0))
        assert table.viewport().rect().contains(row), (row, table.viewport().rect())
    finally:
        win.close()
