"""The Training dock under the spectrogram at 1350 × 720 (what a 1366 × 768 laptop gives the
window): its four curves whole, their axis titles in view, without scrolling either way,
after a run and while one trains."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from tests.qt.conftest import training_dock
from tests.qt.training.test_panel_fits import with_a_finished_run

LAPTOP = (1350, 720)
WAIT_MS = 30_000


def _dock(qtbot, root):
    return training_dock(qtbot, root, LAPTOP)


def _axis_title_rect(plot, area) -> QRect:
    """The bottom axis title ("iteration (batches)", "epoch") in the area's viewport."""
    label = plot.getPlotItem().getAxis("bottom").label
    rect = label.mapRectToScene(label.boundingRect()).toAlignedRect()
    return rect.translated(plot.mapTo(area.viewport(), QPoint(0, 0)))


def _assert_all_in_view(panel, area, plot_px: int = 120) -> None:
    assert area.verticalScrollBar().maximum() == 0, panel.size()
    assert area.horizontalScrollBar().maximum() == 0, panel.minimumSizeHint()
    shown = area.viewport().rect()
    for plot in panel.plots:
        title = plot.getPlotItem().titleLabel.text
        top_left = plot.mapTo(area.viewport(), QPoint(0, 0))
        assert shown.contains(QRect(top_left, plot.size())), title
        assert plot.height() >= plot_px, title
        assert shown.contains(_axis_title_rect(plot, area)), title
    for widget in (panel.train_button, panel.status_label, panel.log_toggle):
        top_left = widget.mapTo(area.viewport(), QPoint(0, 0))
        assert shown.contains(QRect(top_left, widget.size()))


def test_the_curves_and_their_axis_titles_fit_the_dock_on_a_laptop(qtbot, small_project):
    """A progress bar and a "Show log" row of their own took 49 px of the dock's 174: the
    curves' axis titles were below the fold, behind a vertical scrollbar."""
    with_a_finished_run(small_project)
    win, panel, area = _dock(qtbot, small_project)
    try:
        assert area.viewport().height() < 200  # the default under the spectrogram: short
        qtbot.waitUntil(lambda: panel.val_plot.y() == panel.tf_plot.y())  # one row
        qtbot.wait(50)
        _assert_all_in_view(panel, area)
        assert "done" in panel.status_label.shown_text()
        # The log opens under the curves, scrolled into view; closed, all fits again.
        panel.log_toggle.click()
        qtbot.waitUntil(lambda: panel.log_view.visibleRegion().boundingRect().height() > 40)
        panel.log_toggle.click()
        qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() == 0)
    finally:
        win.close()


def test_while_a_run_trains_the_row_gives_way_and_the_curves_stay_whole(
    qtbot, small_project, fake_program
):
    """Training, the status, progress and time beside the buttons made the panel wider than
    the dock (972 px in 964): it scrolled sideways, and the scrollbar hid the axis titles.
    What the row leaves out is in its tooltips."""
    win, panel, area = _dock(qtbot, small_project)
    try:
        panel.process.program = [*fake_program, "--delay", "0.05", "--batches", "20"]
        with qtbot.waitSignal(panel.process.epoch, timeout=WAIT_MS):
            panel.start(["--epochs", "1000", "--device", "cpu"])
        qtbot.waitUntil(lambda: panel.progress_bar.format() != "", timeout=WAIT_MS)
        qtbot.wait(200)
        _assert_all_in_view(panel, area)
        status = panel.status_label
        shown = status.shown_text()
        assert shown.startswith(f"<b>Run {panel.run_id}</b>")
        assert "epoch " in shown and "/1000" in shown
        assert "ETA" in panel.time_label.shown_text()
        # What is left out is in the tooltip, and the whole is still the label's text.
        if shown != status.text():
            assert "on CPU" in status.toolTip()
        assert "on CPU" in status.text() and "Running" in status.text()
        bar = panel.progress_bar
        assert bar.isVisible() and bar.text() in bar.format()
        assert bar.fontMetrics().horizontalAdvance(bar.text()) < bar.width()
        # Widened (the window made larger), the row shows more of it.
        win.resize(1900, 1000)
        qtbot.waitUntil(lambda: "on CPU" in status.shown_text(), timeout=3000)
        qtbot.waitUntil(lambda: "Elapsed" in panel.time_label.shown_text(), timeout=3000)
        panel.stop()
        qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    finally:
        win.close()
