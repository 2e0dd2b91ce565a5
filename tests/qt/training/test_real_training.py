"""The real engine (``python -m tfstudio train … --json``) driven through the GUI path.

Tiny on purpose: a 4-recording demo, the fast preset, one or two batches per epoch. The
trainings share one demo project, so the later ones reuse its feature cache.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.store import Project

# Importing torch and warming up takes 10-20 s on a busy two-core machine.
WAIT_MS = 180_000
TINY = ["--preset", "fast", "--max-batches", "2", "--device", "cpu"]

pytestmark = pytest.mark.slow


def points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


@pytest.fixture
def panel(qtbot, demo_root, engine, settings):
    widget = TrainingPanel(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    if widget.is_running():
        widget.process.shutdown(5)


def test_a_tiny_real_training_draws_its_curves_and_is_recorded(qtbot, panel, demo_root):
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start([*TINY, "--epochs", "2"])
    result = finished.args[0]
    assert result.status == "done", result
    assert result.exit_code == 0 and result.best_checkpoint
    for curve in (panel.tf_curve, panel.loss_raw_curve, panel.loss_ema_curve):
        assert points(curve) > 0
    for curve in (panel.val_curve, panel.f1_curve, panel.er_curve):
        assert points(curve) == 2
    assert panel.device == "cpu" and "on CPU" in panel.status_label.text()
    with Project.open(demo_root) as project:
        run = project.run(result.run)
        assert run.status == "done" and run.best_checkpoint
        assert len(project.metrics(run.id, "epoch")) == 2
        assert project.metrics(run.id, "batch")


def test_stop_resume_and_compare_in_the_history(qtbot, panel, demo_root):
    with qtbot.waitSignal(panel.process.batch, timeout=WAIT_MS):
        panel.start([*TINY, "--epochs", "500", "--schedule", "none"])
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        panel.stop()
    result = finished.args[0]
    assert result.status == "stopped" and not result.forced, result
    assert not panel.is_running() and panel.process.state == "idle"
    run_id = result.run
    with Project.open(demo_root) as project:
        assert project.run(run_id).status == "stopped"
        epochs_done = len(project.metrics(run_id, "epoch"))

    # Resume to one more epoch than it reached: it picks up where it stopped and ends done.
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.process.resume(run_id, ["--epochs", str(epochs_done + 1)])
    assert finished.args[0].status == "done", finished.args[0]
    assert finished.args[0].run == run_id
    assert points(panel.val_curve) == epochs_done + 1

    history = RunHistory(demo_root)
    qtbot.addWidget(history)
    runs = [int(history.table.item(r, 0).text()) for r in range(history.table.rowCount())]
    assert run_id in runs and len(runs) >= 2
    history.select_runs(runs[:2])
    assert len(history.tf_plot.getPlotItem().listDataItems()) == 2


def test_an_invalid_option_fails_plainly_and_the_panel_survives(qtbot, panel):
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start(["--bogus"])
    assert finished.args[0].status == "failed" and finished.args[0].exit_code == 2
    assert panel.banner.level == "error"
    assert "Unrecognized arguments: --bogus" in panel.banner.text()
    assert panel.train_button.isEnabled()


def test_a_project_without_labels_fails_before_any_run(qtbot, empty_root, engine, settings):
    panel = TrainingPanel(empty_root, engine=engine, settings=settings)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start([*TINY, "--epochs", "1"])
    assert finished.args[0].status == "failed" and finished.args[0].run is None
    assert "exit code 2" in panel.banner.text()
    assert "error:" not in panel.banner.text()  # the plain sentence, not the CLI's prefix
    with Project.open(empty_root) as project:
        assert project.runs() == []


@pytest.fixture(scope="module")
def mono_root(tmp_path_factory):
    """A tiny single-label demo: 6 recordings of 5 s, 8 sound types."""
    from tfstudio.cli import main

    root = tmp_path_factory.mktemp("mono") / "proj"
    args = ["demo", str(root), "--task", "single-label", "--classes", "8"]
    assert main([*args, "--recordings", "6", "--seconds", "5"]) == 0
    return root


@pytest.mark.parametrize("sampled", [0, 4], ids=["full-softmax", "sampled-softmax"])
def test_a_single_label_run_chosen_in_the_dialog_trains_in_the_panel(
    qtbot, mono_root, engine, settings, sampled
):
    """Issue 13 from the GUI, with and without the sampled head: the Train dialog's task and
    candidate count chosen by keys, the run started by the panel as the window does, and the
    run's stored config says what was chosen."""
    from PySide6.QtCore import Qt

    from tfstudio.qt.training.dialog import TrainDialog

    dialog = TrainDialog(mono_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.sampled_spin.isEnabled()  # multi-label first: no sampled head
    dialog.task_combo.setFocus()
    target = dialog.task_combo.findData("single-label")
    while dialog.task_combo.currentIndex() != target:
        qtbot.keyClick(dialog.task_combo, Qt.Key.Key_Down)
    assert dialog.sampled_spin.isEnabled()
    if sampled:
        dialog.sampled_spin.setFocus()
        qtbot.keyClick(dialog.sampled_spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(dialog.sampled_spin, str(sampled))
        qtbot.keyClick(dialog.sampled_spin, Qt.Key.Key_Tab)
        assert dialog.sampler_combo.isEnabled()
    dialog.epochs_spin.setValue(1)
    dialog.extra_spins["--max-batches"].setValue(2)
    args = dialog.config()
    assert "--task" in args
    assert ("--sampled-softmax" in args) == bool(sampled)
    panel = TrainingPanel(mono_root, engine=engine, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    try:
        with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
            panel.start([*args, "--device", "cpu"])
        result = finished.args[0]
        assert result.status == "done", result
        assert points(panel.val_curve) == 1 and points(panel.loss_raw_curve) > 0
        assert points(panel.tf_curve) > 0
        with Project.open(mono_root) as project:
            config = project.run(result.run).config_dict
        assert config["task"] == "single-label"
        assert config["sampled_softmax"] == sampled
    finally:
        if panel.is_running():
            panel.process.shutdown(5)


def shown_text(label) -> str:
    """What a QLabel shows, as a user reads it (rich text rendered, plain text as is)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as QtGui
    from PySide6.QtGui import QTextDocument

    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def test_a_message_with_quotes_reads_as_written_in_the_banner(qtbot, panel):
    """The banner's messages are escaped for rich text; shown as plain text (no tag in them)
    a quote read "&#x27;abc&#x27;"."""
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "abc"])
    assert panel.banner.level == "error"
    shown = shown_text(panel.banner.label)
    assert "'abc'" in shown and "&#x27;" not in shown


def test_recordings_left_out_are_named_in_the_panel_while_and_after_it_trains(
    qtbot, tmp_path, engine, settings
):
    """A train recording's file removed before training: the run goes on without it, and the
    panel says so as soon as the run starts and in its ending (the done banner kept only an
    "early stop" from the run's message, so the left-out recording was in the hidden log only)."""
    from tfstudio.cli import main

    root = tmp_path / "proj"
    assert main(["demo", str(root), "--recordings", "5", "--seconds", "4"]) == 0
    with Project.open(root) as project:
        gone = project.recordings("train")[0]
        project.absolute_path(gone).unlink()
    panel = TrainingPanel(root, engine=engine, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    banners: list[tuple[str, str]] = []
    panel.process.run_started.connect(
        lambda _start: banners.append((panel.banner.level, panel.banner.text()))
    )
    tiny = ["--channels", "4", "--gru-hidden", "8", "--seq-len", "64"]
    try:
        with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
            panel.start([*TINY, *tiny, "--epochs", "1"])
    finally:
        if panel.is_running():
            panel.process.shutdown(5)
    assert finished.args[0].status == "done", finished.args[0]
    assert banners and banners[0][0] == "warning" and gone.name in banners[0][1]
    assert panel.banner.level == "warning"
    assert gone.name in panel.banner.text() and "left out" in panel.banner.text()
    assert "best validation loss" in panel.banner.text()


def test_a_run_stopped_while_its_features_are_computed_resumes_from_the_panel(
    qtbot, tmp_path, engine, settings
):
    """Stopped before its first checkpoint, the engine says "resume it to start again", and
    ``train --resume`` does; the Resume button and the dialog offered only runs with a
    checkpoint, so the window could not."""
    from tfstudio.cli import main
    from tfstudio.qt.training.dialog import TrainDialog
    from tfstudio.train.events import PrepareEvent

    root = tmp_path / "proj"
    assert main(["demo", str(root), "--recordings", "6", "--seconds", "30"]) == 0
    panel = TrainingPanel(root, engine=engine, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    tiny = ["--channels", "4", "--gru-hidden", "8", "--seq-len", "64", "--epochs", "1"]
    try:
        with qtbot.waitSignal(
            panel.process.event,
            timeout=WAIT_MS,
            check_params_cb=lambda e: isinstance(e, PrepareEvent),
        ):
            panel.start([*TINY, *tiny])
        with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
            qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        stopped = finished.args[0]
        assert stopped.status == "stopped" and not stopped.best_checkpoint, stopped
        with Project.open(root) as project:
            assert not project.run(stopped.run).last_checkpoint

        dialog = TrainDialog(root, engine=engine, settings=settings)
        qtbot.addWidget(dialog)
        assert dialog.resume_combo.findData(stopped.run) > 0
        assert panel.resume_button.isEnabled()
        assert str(stopped.run) in panel.resume_button.toolTip()
        with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
            qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    finally:
        if panel.is_running():
            panel.process.shutdown(5)
    resumed = finished.args[0]
    assert resumed.status == "done" and resumed.run == stopped.run, resumed
    assert not panel.resume_button.isEnabled()
