"""TrainingPanel with the fake engine: curves fill, errors show, stop and resume work."""

from __future__ import annotations

import numpy as np

from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.qt.training.process import TrainingJob
from tfstudio.session.stream import format_duration
from tfstudio.store import Project
from tfstudio.train.events import TrainingSummary

WAIT_MS = 30_000


def points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def make_panel(qtbot, root, program, engine, settings, **kw) -> TrainingPanel:
    panel = TrainingPanel(
        root,
        process=TrainingJob(root, program=program, **kw),
        engine=engine,
        settings=settings,
    )
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    return panel


def test_curves_fill_and_the_status_reads_done(qtbot, empty_root, fake_program, engine, settings):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    assert not panel.stop_button.isEnabled() and panel.train_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "3", "--batches", "4"])
        assert panel.stop_button.isEnabled() and not panel.train_button.isEnabled()
    assert points(panel.tf_curve) == 12
    assert points(panel.loss_raw_curve) == 12 and points(panel.loss_ema_curve) == 12
    assert points(panel.val_curve) == 3 and points(panel.f1_curve) == 3
    assert points(panel.er_curve) == 3 and points(panel.epoch_train_curve) == 3
    assert panel.banner.level == "success" and "best validation loss" in panel.banner.text()
    assert "done" in panel.status_label.text() and panel.run_id is not None
    assert "100 %" in panel.progress_bar.text()
    assert not any(plot._empty.isVisible() for plot in panel.plots)
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()


def test_the_panel_shows_the_ending_the_job_summarised(
    qtbot, empty_root, fake_program, engine, settings
):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start(["--epochs", "1", "--batches", "2"])
    summary = finished.args[0]
    assert isinstance(summary, TrainingSummary) and summary.run == panel.run_id
    assert f"Elapsed {format_duration(summary.elapsed_s)}" in panel.time_label.text()
    # The job's word for a child it had to kill: the banner warns with its message, and the
    # time is the summary's, not the clock's.
    killed = TrainingSummary(
        run=summary.run,
        status="stopped",
        message="Stopped by force.",
        crashed=True,
        forced=True,
        elapsed_s=3725.0,
    )
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as again:
        panel.process.finished.emit(killed)
    assert again.args[0] is killed
    assert panel.banner.level == "warning" and panel.banner.text() == "Stopped by force."
    assert "stopped" in panel.status_label.text()
    assert f"Elapsed {format_duration(3725.0)}" in panel.time_label.text()


def test_a_failure_is_shown_and_the_widget_lives_on(
    qtbot, empty_root, fake_program, engine, settings
):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "3", "--batches", "4", "--nan-at", "5"])
    assert panel.banner.isVisible() and panel.banner.level == "error"
    assert "NaN" in panel.banner.text()
    assert "failed" in panel.status_label.text()
    # The NaN batch is a gap in the loss curve, not a crash of the plot.
    _, loss = panel.loss_raw_curve.getData()
    assert np.isnan(loss[-1]) and np.isfinite(loss[:-1]).all()
    with Project.open(empty_root) as project:
        assert project.run(panel.run_id).status == "failed"
    # Still usable: a second run starts and finishes in the same panel.
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start(["--epochs", "1", "--batches", "2"])
    assert finished.args[0].status == "done" and panel.banner.level != "error"


def test_stop_then_resume_continues_the_curves(qtbot, empty_root, fake_program, engine, settings):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    with qtbot.waitSignal(panel.process.epoch, timeout=WAIT_MS):
        panel.start(["--epochs", "50", "--batches", "4", "--delay", "0.05"])
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.stop()
    assert finished.args[0].status == "stopped"
    assert panel.banner.level == "info" and "Resume" in panel.banner.text()
    run_id = panel.run_id
    assert panel.resumable_run() == run_id and panel.resume_button.isEnabled()
    drawn = points(panel.tf_curve)
    with qtbot.waitSignal(panel.process.batch, timeout=WAIT_MS):
        panel.resume()
    # The earlier batches came back from the store, so the curve continues, not restarts.
    qtbot.waitUntil(lambda: points(panel.tf_curve) > drawn, timeout=WAIT_MS)
    x, _ = panel.tf_curve.getData()
    assert x[0] == 0 and np.all(np.diff(x) == 1)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)


def test_a_forced_kill_marks_the_run_stopped(qtbot, empty_root, fake_program, engine, settings):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings, stop_timeout_s=0.3)
    with qtbot.waitSignal(panel.process.batch, timeout=WAIT_MS):
        panel.start(["--epochs", "50", "--batches", "4", "--delay", "0.05", "--ignore-term"])
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.stop()
    assert panel.banner.level == "warning" and "by force" in panel.banner.text()
    with Project.open(empty_root) as project:
        assert project.run(panel.run_id).status == "stopped"


def test_redraws_are_throttled(qtbot, empty_root, fake_program, engine, settings):
    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "4", "--batches", "50", "--delay", "0"])
    assert points(panel.tf_curve) == 200
    # 200 batches in well under a second: a handful of redraws, not one per line.
    assert len(panel.redraw_seconds) < 60


def test_a_new_panel_shows_the_projects_latest_run(
    qtbot, empty_root, fake_program, engine, settings
):
    first = make_panel(qtbot, empty_root, fake_program, engine, settings)
    assert first.run_id is None and points(first.tf_curve) == 0
    with qtbot.waitSignal(first.run_finished, timeout=WAIT_MS):
        first.start(["--epochs", "2", "--batches", "3"])
    run_id = first.run_id
    # Opening the project again (a new window) draws that run from the store.
    again = make_panel(qtbot, empty_root, fake_program, engine, settings)
    assert again.run_id == run_id
    assert points(again.tf_curve) == 6 and points(again.val_curve) == 2
    text = again.status_label.text()
    assert f"Run {run_id}" in text and "done" in text
    assert not any(plot._empty.isVisible() for plot in again.plots)


def test_the_loss_axes_say_which_loss_the_run_trains_with(
    qtbot, empty_root, fake_program, engine, settings
):
    """Single-label runs train with cross-entropy: "BCE loss" on their curves was wrong."""

    def labels(panel) -> set[str]:
        return {
            p.getPlotItem().getAxis("left").labelText for p in (panel.loss_plot, panel.val_plot)
        }

    panel = make_panel(qtbot, empty_root, fake_program, engine, settings)
    assert labels(panel) == {"BCE loss"}
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "1", "--batches", "2", "--task", "single-label"])
    assert labels(panel) == {"CE loss"}
    again = make_panel(qtbot, empty_root, fake_program, engine, settings)  # from the store
    assert labels(again) == {"CE loss"}
    with qtbot.waitSignal(again.run_finished, timeout=WAIT_MS):
        again.start(["--epochs", "1", "--batches", "2"])
    assert labels(again) == {"BCE loss"}


def test_epochs_without_a_score_draw_no_points_and_no_warning(qtbot, recwarn):
    """A run whose epochs have no F1 (a val split without labels, an older run): the score
    curves' symbols are empty, and pyqtgraph prints no 'All-NaN slice' RuntimeWarning."""
    from tfstudio.qt.training.plots import TrainingPlot

    plot = TrainingPlot("Validation scores", x_label="epoch", y_label="score")
    qtbot.addWidget(plot)
    plot.show()
    curve = plot.curve("F1", "#00aa00", symbol="o")
    curve.setData([1, 2, 3], [float("nan")] * 3, connect="finite")
    plot.getPlotItem().getViewBox().autoRange()
    qtbot.wait(10)
    assert curve.getData()[0] is None or len(curve.getData()[0]) == 0
    curve.setData([1, 2, 3], [0.1, float("nan"), 0.3], connect="finite")
    assert len(curve.getData()[0]) == 3  # a score among them: drawn as given
    assert not [w for w in recwarn if "All-NaN" in str(w.message)]
