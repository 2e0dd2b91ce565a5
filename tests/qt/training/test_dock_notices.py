"""The Training dock's messages (how the run ended, a run in another process) and its axes
at the sizes people use: on one line under the spectrogram on a laptop (1350 × 720), whole
where there is room; a run's key and its first epoch drawn as they should be."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.training.test_dock_on_a_laptop import LAPTOP, _assert_all_in_view, _dock
from tests.qt.training.test_further import finished_run
from tests.qt.training.test_runs_elsewhere import choose, resume_in_a_terminal
from tfstudio.store import Project

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 30_000


def _run_to_the_end(qtbot, panel, fake_program, args: list[str]) -> None:
    panel.process.program = [*fake_program, "--delay", "0.01", "--batches", "5"]
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start([*args, "--device", "cpu"])
    qtbot.wait(100)


def _one_line(banner) -> bool:
    return banner.height() <= banner.compact_height() and not banner.label.wordWrap()


def test_the_end_of_a_run_takes_one_line_on_a_laptop_and_unfolds(
    qtbot, small_project, fake_program
):
    """ "Run 7 done after 3 epochs: best validation loss … Train further… goes on in epoch 4"
    took two lines of the dock's 174 px and pushed the curves below the fold until it was
    dismissed. Now it is one line, the whole in its tooltip and behind Details; with room
    (a larger window) it is whole."""
    win, panel, area = _dock(qtbot, small_project)
    try:
        _run_to_the_end(qtbot, panel, fake_program, ["--epochs", "3"])
        banner = panel.banner
        assert banner.isVisible() and banner.level == "success"
        whole = banner.text()
        assert "goes on in epoch 4" in whole  # the text the other tests read
        qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() == 0)
        qtbot.waitUntil(lambda: _one_line(banner))
        _assert_all_in_view(panel, area, plot_px=110)
        assert _one_line(banner) and banner.is_elided()
        assert banner.label.text().endswith("…")
        assert banner.label.toolTip() == whole
        # Details unfolds it (the dock may scroll then), and folds it again.
        qtbot.mouseClick(banner.details_button, LEFT)
        qtbot.waitUntil(lambda: banner.height() > banner.compact_height())
        assert banner.label.text() == whole and banner.label.wordWrap()
        qtbot.mouseClick(banner.details_button, LEFT)
        qtbot.waitUntil(lambda: _one_line(banner))
        # With room the message is whole.
        win.resize(1900, 1000)
        qtbot.waitUntil(lambda: not banner.is_elided() and banner.label.text() == whole)
        assert not banner.details_button.isVisible() and not banner.label.toolTip()
        win.resize(*LAPTOP)
        qtbot.waitUntil(lambda: banner.is_elided())
        # ✕ still dismisses it, and the curves get their height back.
        qtbot.mouseClick(banner.close_button, LEFT)
        assert banner.isHidden() and banner.text() == ""
        qtbot.waitUntil(lambda: panel.val_plot.height() >= 120)
        _assert_all_in_view(panel, area)
    finally:
        win.close()


def test_a_failed_run_says_so_on_one_line_with_its_error_behind_details(
    qtbot, small_project, fake_program
):
    """The error of a failed run is never only behind an ellipsis: the line is red, says
    the run failed, has the whole in its tooltip and a Details button that shows it."""
    win, panel, area = _dock(qtbot, small_project)
    try:
        _run_to_the_end(qtbot, panel, fake_program, ["--epochs", "abc"])
        banner = panel.banner
        assert banner.level == "error"
        qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() == 0)
        qtbot.waitUntil(lambda: _one_line(banner))
        assert banner.label.text().startswith("Training failed")
        assert "invalid int value: 'abc'" in banner.label.toolTip()
        assert banner.details_button.isVisible()
        qtbot.mouseClick(banner.details_button, LEFT)
        qtbot.waitUntil(lambda: "invalid int value: &#x27;abc&#x27;" in banner.label.text())
    finally:
        win.close()


def test_a_run_in_another_process_is_told_of_in_one_line_with_its_button(
    qtbot, tmp_path, fake_program
):
    """ "Run 1 is training in another process. [Show it]" under the spectrogram on a laptop
    took a row as high as its button and pushed the curves below the fold."""
    root = tmp_path / "proj"
    with Project.create(root) as project:
        project.add_class("bird")
        one = finished_run(project)
        two = finished_run(project, val_losses=(0.6, 0.5, 0.45, 0.5))
    win, panel, area = _dock(qtbot, root)
    try:
        choose(panel, f"Run {two.id} ")
        qtbot.waitUntil(lambda: not panel.is_following())
        child = resume_in_a_terminal(root, fake_program, one.id, 40, delay=0.03)
        try:
            notice = panel.notice
            qtbot.waitUntil(lambda: notice.isVisible(), timeout=WAIT_MS)
            assert notice.text() == f"Run {one.id} is training in another process."
            qtbot.waitUntil(lambda: _one_line(notice))
            qtbot.waitUntil(lambda: panel.tf_plot.y() + panel.tf_plot.height() <= 174)
            _assert_all_in_view(panel, area, plot_px=110)
            assert _one_line(notice) and notice.label.text() == notice.text()
            button = notice.action_button
            assert button.isVisible() and button.height() <= notice.compact_height()
            child.wait(timeout=60)
        finally:
            child.kill()
            child.wait()
        qtbot.waitUntil(lambda: "finished" in notice.text(), timeout=WAIT_MS)
        qtbot.mouseClick(notice.action_button, LEFT)
        assert panel.run_id == one.id and notice.isHidden()
    finally:
        win.close()


def test_the_key_goes_under_the_title_where_it_does_not_fit_beside_it(qtbot, small_project):
    """At 800 × 800 the curves are in two rows of some 270 px, and the key in the title's
    line was cut: "Training loss ━━ raw ━━ smoothe". Each plot's title now fits its width:
    the key goes under the title where it does not fit beside it, and only there."""
    from tests.qt.conftest import open_window
    from tests.qt.training.test_panel_fits import with_a_finished_run

    with_a_finished_run(small_project)
    win = open_window(qtbot, small_project, (800, 800))
    try:
        dock = win.docks["training"]
        if dock.isHidden():
            dock.toggleViewAction().trigger()
        qtbot.waitUntil(lambda: dock.isVisible() and win._training is not None)
        panel = win.training
        qtbot.waitUntil(lambda: panel.tf_plot.width() > 0)
        for width in (250, 420, 250):
            dock.setMinimumWidth(width * 2 + 40)
            dock.setMaximumWidth(width * 2 + 40)
            qtbot.waitUntil(lambda w=width: abs(panel.loss_plot.width() - w) < 20, timeout=5000)
            qtbot.wait(50)
            for plot in panel.plots if not panel._one_row else ():
                item = plot.getPlotItem().titleLabel.item
                title = item.mapRectToScene(item.boundingRect())
                assert title.left() >= 0 and title.right() <= plot.width(), plot._title
            # "Loss per epoch ╍╍ training ━━ validation" needs some 280 px.
            if width == 250:
                assert not panel._one_row and panel.val_plot.key_below()
            elif not panel._one_row:  # a row of four has its keys under the titles
                assert not any(plot.key_below() for plot in panel.plots)
    finally:
        win.close()


def test_one_epoch_is_drawn_at_epoch_1_without_ticks_before_it(qtbot, small_project):
    """pyqtgraph widened one epoch's zero-width range by the view's previous width: the
    axis ran from -1 to 3 with a tick at "epoch -1" for a run of one epoch shown after one
    of five."""
    with Project.open(small_project) as project:
        longer = finished_run(project, epochs=5, val_losses=(0.9, 0.7, 0.6, 0.5, 0.45))
        run = project.create_run({"preset": "fast", "epochs": 1})
        project.add_metrics(
            run.id,
            [
                {"kind": "batch", "epoch": 1, "iteration": i, "tf_prob": 0.9, "loss": 1 / i}
                for i in (1, 2)
            ]
            + [{"kind": "epoch", "epoch": 1, "iteration": 2, "val_loss": 0.5, "f1": 0.5}],
        )
        project.update_run(run.id, status="done")
    win, panel, _ = _dock(qtbot, small_project)
    try:
        panel.show_run(longer.id)
        for plot in panel.plots:
            plot.grab()  # pyqtgraph ranges its view when it paints
        panel.show_run(run.id)
        for plot in (panel.val_plot, panel.score_plot):
            plot.grab()
            low, high = plot.getPlotItem().getViewBox().viewRange()[0]
            assert 0 < low < 1 < high < 2, (plot._title, low, high)
            axis = plot.getPlotItem().getAxis("bottom")
            ticks = [v for _, values in axis.tickValues(low, high, axis.width()) for v in values]
            assert ticks == [1.0], (plot._title, ticks)
        # The iteration axes never tick below 0.
        for plot in (panel.tf_plot, panel.loss_plot):
            plot.grab()
            low, high = plot.getPlotItem().getViewBox().viewRange()[0]
            axis = plot.getPlotItem().getAxis("bottom")
            ticks = [v for _, values in axis.tickValues(low, high, axis.width()) for v in values]
            assert ticks and min(ticks) >= 0, (plot._title, ticks)
    finally:
        win.close()
