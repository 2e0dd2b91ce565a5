"""The training docks where they are narrow: at 800 x 800 (the offscreen screen's size) the
Training dock is 561 px wide; four plots in a row on a laptop are some 212 px each."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt

from tests.qt.conftest import training_dock
from tests.qt.training.test_history import add_run
from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.plots import TrainingPlot
from tfstudio.store import Project

WAIT_MS = 30_000
# The window on an 800 x 800 screen, less its frame.
SMALL = (784, 752)


def _in_view(widget, area) -> bool:
    top_left = widget.mapTo(area.viewport(), QPoint(0, 0))
    return area.viewport().rect().contains(QRect(top_left, widget.size()))


def test_the_training_dock_needs_no_sideways_scrolling_at_800_by_800(
    qtbot, small_project, fake_program
):
    """After a run the top row needed 659 px in the 561 px dock (the style makes every
    button at least 80 px wide): the panel scrolled sideways. Now the buttons are as narrow
    as their texts there, and what the row leaves out is in the tooltips; wide, it is as
    before."""
    win, panel, area = training_dock(qtbot, small_project, SMALL)
    try:
        panel.process.program = [*fake_program, "--delay", "0.01", "--batches", "10"]
        with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
            panel.start(["--epochs", "2", "--device", "cpu"])
        qtbot.wait(100)
        assert area.viewport().width() < 600, area.viewport().size()
        assert area.horizontalScrollBar().maximum() == 0, panel.minimumSizeHint()
        row = (panel.train_button, panel.stop_button, panel.further_button, panel.runs_button)
        for widget in (*row, panel.status_label, panel.log_toggle):
            assert widget.isVisible() and _in_view(widget, area), widget
        status = panel.status_label
        assert "done" in status.shown_text()
        # Each button shows its whole text, and asks no more room than that.
        for button in (panel.train_button, panel.stop_button, panel.further_button):
            text = button.fontMetrics().horizontalAdvance(button.text())
            assert text < button.width() < 80 or button.text() == "Train further…"
        # The progress bar, left out, is in the status's tooltip.
        if not panel.progress_bar.isVisible():
            assert "100 %" in status.toolTip()

        win.resize(1900, 1000)
        qtbot.waitUntil(lambda: panel.train_button.width() >= 80, timeout=3000)
        assert panel.progress_bar.isVisible() and "100 %" in panel.progress_bar.text()
        assert "Progress" not in status.toolTip()
    finally:
        win.close()


def test_while_a_run_trains_in_a_narrow_dock_the_disabled_buttons_make_room(
    qtbot, small_project, fake_program
):
    """Training at 800 x 800 the row needed 694 px in 561: Resume and Train further… (of no
    use until the run ends) leave it, and the progress bar and the time left stay."""
    win, panel, area = training_dock(qtbot, small_project, SMALL)
    try:
        panel.process.program = [*fake_program, "--delay", "0.05", "--batches", "20"]
        with qtbot.waitSignal(panel.process.epoch, timeout=WAIT_MS):
            panel.start(["--epochs", "1000", "--device", "cpu"])
        qtbot.waitUntil(lambda: panel.progress_bar.format() != "", timeout=WAIT_MS)
        qtbot.wait(100)
        assert area.horizontalScrollBar().maximum() == 0, panel.minimumSizeHint()
        for widget in (panel.stop_button, panel.progress_bar, panel.time_label):
            assert widget.isVisible() and _in_view(widget, area), widget
        assert "ETA" in panel.time_label.shown_text()
        assert panel.further_button.isHidden() and not panel.further_button.isEnabled()
        panel.stop()
        qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: panel.further_button.isVisible(), timeout=3000)
    finally:
        win.close()


def test_a_key_under_the_title_fits_a_plot_of_four_in_a_row(qtbot):
    """'╍╍ training   ━━ validation' ran 3 px past the right edge of a 212 px plot."""
    plot = TrainingPlot(
        "Loss per epoch",
        x_label="epoch",
        x_from=1,
        y_label="BCE loss",
        key=[("training", "#0072B2", "dashed"), ("validation", "#D55E00", "solid")],
    )
    qtbot.addWidget(plot)
    plot.set_key_below(True)
    plot.resize(212, 130)
    plot.show()
    qtbot.waitExposed(plot)
    plot.plot([1, 2, 3], [0.5, 0.3, 0.2])
    plot.set_empty(False)  # tick values: the left axis widens, the curves' view narrows
    qtbot.waitUntil(lambda: plot.getPlotItem().getAxis("left").width() > 30)
    qtbot.wait(50)
    title = plot.getPlotItem().titleLabel.item

    def right() -> int:
        return plot.mapFromScene(title.mapRectToScene(title.boundingRect())).boundingRect().right()

    qtbot.waitUntil(lambda: right() <= plot.width(), timeout=2000)
    assert plot.key_below()
    assert "validation" in title.toPlainText()
    narrow = plot.key_width()
    # Wide, the key is as before: its entries farther apart.
    plot.resize(600, 130)
    qtbot.waitUntil(lambda: plot.key_width() > narrow)
    assert plot.key_below() and "validation" in title.toPlainText()


def test_the_runs_docks_epoch_plots_count_from_epoch_one(qtbot, empty_root):
    """As in the Training dock: a long run's epoch axis had a tick at epoch 0."""
    with Project.open(empty_root) as project:
        long_run = add_run(project, "drossos", epochs=60)
        one_epoch = add_run(project, "drossos", epochs=1)
    history = RunHistory(empty_root)
    qtbot.addWidget(history)
    history.resize(900, 600)
    history.show()
    qtbot.waitExposed(history)
    table = history.table
    for run_id in (long_run, one_epoch):
        row = [table.item(r, 0).text() for r in range(table.rowCount())].index(str(run_id))
        rect = table.visualItemRect(table.item(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert history.selected_runs() == [run_id]
        qtbot.wait(50)
        for plot in (history.val_plot, history.score_plot):
            plot.grab()  # the view's range is fitted when it is drawn
            low, high = plot.getPlotItem().getViewBox().viewRange()[0]
            axis = plot.getPlotItem().getAxis("bottom")
            ticks = [v for _, values in axis.tickValues(low, high, axis.width()) for v in values]
            assert ticks and min(ticks) >= 1, (run_id, low, high, ticks)
            if run_id == one_epoch:
                assert 0 < low < 1 < high < 2, (low, high)
    history.close()
