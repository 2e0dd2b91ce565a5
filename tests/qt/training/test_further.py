"""Train further: a finished run goes on to more epochs from the Training panel and the Runs
dock's context menu, as ``tfstudio train PROJECT --resume N --epochs M`` would, and a run
that cannot go on says why."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from tfstudio.qt.training.further import TrainFurtherDialog
from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.session.jobs import train_args
from tfstudio.store import Project

WAIT_MS = 180_000
TINY = ["--preset", "fast", "--max-batches", "2", "--device", "cpu"]


def further_to(epochs: int):
    """Answer the Train further dialog as a user does: type the epochs, click Start."""

    def answer(dialog: TrainFurtherDialog) -> None:
        type_into(dialog.epochs_spin, str(epochs))
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    return answer


def when(ready: Callable[[], object], then: Callable[[object], None], timeout_ms=10_000) -> None:
    """Call ``then(value)`` once ``ready()`` gives a value: for what a modal dialog or a menu
    shows while its own event loop runs."""
    waited = {"ms": 0}

    def poll() -> None:
        value = ready()
        if value:
            then(value)
        elif waited["ms"] < timeout_ms:
            waited["ms"] += 20
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def type_into(spin, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), text)


@pytest.fixture
def panel(qtbot, demo_root, engine, settings):
    widget = TrainingPanel(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    if widget.is_running():
        widget.process.shutdown(5)


@pytest.mark.slow
def test_a_finished_run_is_trained_further_from_the_panel(qtbot, panel, demo_root):
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start([*TINY, "--epochs", "2"])
    run_id = finished.args[0].run
    assert finished.args[0].status == "done"
    assert panel.further_button.isEnabled()
    assert "Train further… goes on in epoch 3" in panel.banner.text()
    seen = {}

    def choose(dialog: TrainFurtherDialog) -> None:
        seen["range"] = (dialog.epochs_spin.minimum(), dialog.epochs_spin.value())
        seen["intro"] = dialog.intro.text()
        type_into(dialog.epochs_spin, "3")
        seen["more"] = dialog.more_label.text()
        seen["patience"] = dialog.patience_note.text()
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    when(lambda: panel.further_dialog, choose)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        QTest.mouseClick(panel.further_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert seen["range"] == (3, 7)  # one more than it trained; half as many again, at least 5
    assert f"Run {run_id} trained all its 2 epochs" in seen["intro"]
    assert seen["more"] == "in all (1 more than the 2 it has trained)"
    assert "Early stopping does not start again" in seen["patience"]
    # The command line's own arguments: one truth.
    assert panel.process.args == train_args(demo_root, ["--resume", str(run_id), "--epochs", "3"])
    assert (result.status, result.run) == ("done", run_id), result
    # Its banner says where it goes on now, not where it went on before.
    assert "Train further… goes on in epoch 4" in panel.banner.text()
    # The curves go on from the run's earlier epochs.
    assert points(panel.val_curve) == 3 and list(panel.epoch_val.x) == [1, 2, 3]
    with Project.open(demo_root) as project:
        assert [r["epoch"] for r in project.metrics(run_id, "epoch")] == [1, 2, 3]
        assert project.run(run_id).config_dict["epochs"] == 3
        assert len(project.runs()) == 1


def finished_run(project, *, epochs=4, val_losses=(0.9, 0.7, 0.8, 0.75)):
    """A finished run as the store and its folder keep one (the window reads no checkpoint)."""
    run = project.create_run({"preset": "fast", "epochs": epochs, "patience": 3})
    folder = project.run_dir(run.id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("best.pt", "last.pt"):
        (folder / name).write_bytes(b"x")
    project.add_metrics(
        run.id,
        [
            {"kind": "epoch", "epoch": i + 1, "iteration": i, "val_loss": v}
            for i, v in enumerate(val_losses)
        ],
    )
    return project.update_run(
        run.id,
        status="done",
        best_checkpoint=f"runs/run-{run.id}/best.pt",
        last_checkpoint=f"runs/run-{run.id}/last.pt",
    )


def right_click(qtbot, history: RunHistory, run_id: int, then: Callable[[QMenu], None]) -> None:
    table = history.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == str(run_id))
    rect = history.table.visualItemRect(history.table.item(row, 1))
    qtbot.waitExposed(history)
    when(lambda: history.menu, then)
    # Through the window, as the platform delivers it: a right press there is also the
    # context-menu event (a click sent to the widget itself is not).
    viewport = history.table.viewport()
    QTest.mouseClick(
        history.window().windowHandle(),
        Qt.MouseButton.RightButton,
        Qt.KeyboardModifier.NoModifier,
        viewport.mapTo(history.window(), rect.center()),
    )


def test_the_runs_context_menu_trains_a_run_further(qtbot, tmp_path, engine, settings):
    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
    panel = TrainingPanel(root, engine=engine, settings=settings)
    history = RunHistory(root)
    for widget in (panel, history):
        qtbot.addWidget(widget)
        widget.show()
    history.train_further_requested.connect(panel.train_further)
    history.resume_requested.connect(panel.resume)
    seen = {}

    def pick(menu: QMenu) -> None:
        seen["menu"] = [(a.text(), a.isEnabled()) for a in menu.actions()]
        QTest.keyClick(menu, Qt.Key.Key_Down)
        QTest.keyClick(menu, Qt.Key.Key_Return)

    def look(dialog: TrainFurtherDialog) -> None:
        seen["title"] = dialog.windowTitle()
        seen["args"] = dialog.arguments()
        type_into(dialog.patience_spin, "6")
        seen["patience"] = dialog.patience_note.text()
        seen["changed"] = dialog.arguments()
        QTest.keyClick(dialog, Qt.Key.Key_Escape)

    when(lambda: panel.further_dialog, look)
    right_click(qtbot, history, run.id, pick)
    qtbot.waitUntil(lambda: "changed" in seen and panel.further_dialog is None)
    assert seen["menu"] == [("Train further…", True)]  # done: nothing to resume
    assert seen["title"] == f"Train run {run.id} further"
    assert seen["args"] == ["--resume", str(run.id), "--epochs", "9"]
    # Two epochs gone since its best (epoch 2): with patience 6, four more.
    assert "ends after 4 more epoch(s) without a better one" in seen["patience"]
    assert seen["changed"] == ["--resume", str(run.id), "--epochs", "9", "--patience", "6"]
    assert not panel.is_running()  # cancelled


def test_a_run_without_its_best_checkpoint_says_why_it_cannot_go_on(
    qtbot, tmp_path, engine, settings
):
    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
        (project.run_dir(run.id) / "best.pt").unlink()
    panel = TrainingPanel(root, engine=engine, settings=settings)
    history = RunHistory(root)
    for widget in (panel, history):
        qtbot.addWidget(widget)
        widget.show()
    history.train_further_requested.connect(panel.train_further)
    assert panel.run_id == run.id and not panel.further_button.isEnabled()
    assert f"run {run.id}: best checkpoint is missing" in panel.further_button.toolTip()
    menu = history.run_menu(run.id)  # what a right click on its row shows
    seen = {"menu": [(a.text(), a.isEnabled(), a.toolTip()) for a in menu.actions()]}
    (further, further_on, tip), (why, why_on, _) = seen["menu"]
    assert (further, further_on) == ("Train further…", False)
    assert "best checkpoint is missing" in tip
    assert why == f"run {run.id}: best checkpoint is missing: runs/run-{run.id}/best.pt"
    assert not why_on
    # Asked anyway (a script, a stale menu): the reason, and no child.
    panel.train_further(run.id)
    assert "best checkpoint is missing" in panel.banner.text() and not panel.is_running()


def test_the_menu_offers_only_what_is_connected(qtbot, tmp_path):
    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
    history = RunHistory(root)
    qtbot.addWidget(history)
    assert history.run_menu(run.id).isEmpty()
    QApplication.processEvents()


def test_the_train_dialog_offers_a_finished_run_with_the_epochs_it_takes(
    qtbot, tmp_path, engine, settings
):
    from tfstudio.qt.training.dialog import TrainDialog

    root = tmp_path / "proj"
    with Project.create(root) as project:
        done = finished_run(project)
        stopped = finished_run(project, val_losses=(0.9, 0.8))
        project.add_metrics(stopped.id, [{"kind": "batch", "epoch": 3, "iteration": 5}])
        project.update_run(stopped.id, status="stopped")
    dialog = TrainDialog(root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.show()
    labels = [dialog.resume_combo.itemText(i) for i in range(dialog.resume_combo.count())]
    assert labels[1].startswith(f"Resume run {stopped.id} (stopped after epoch 2")
    assert labels[2].startswith(f"Train run {done.id} further (done after 4 epochs")
    combo = dialog.resume_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)  # the stopped run: it has begun epoch 3
    assert combo.currentData() == stopped.id and dialog.epochs_spin.minimum() == 3
    assert dialog.start_button.text() == "Resume training"
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == done.id
    assert (dialog.epochs_spin.minimum(), dialog.epochs_spin.value()) == (5, 9)
    assert dialog.start_button.text() == "Train further"
    type_into(dialog.epochs_spin, "4")  # below what it has trained: not taken
    dialog.epochs_spin.interpretText()
    assert dialog.epochs_spin.value() >= 5
    assert dialog.config()[:4] == [
        "--resume",
        str(done.id),
        "--epochs",
        str(dialog.epochs_spin.value()),
    ]
    QTest.keyClick(combo, Qt.Key.Key_Home)  # back to a new run: any number again
    assert combo.currentData() is None and dialog.epochs_spin.minimum() == 1


def test_return_in_the_epochs_box_trains_further(qtbot, tmp_path, fake_program, engine, settings):
    """Typing the epochs and pressing Return starts the run, as the dialog's purpose is; it
    cancelled it (Cancel was the dialog's default button, and nothing said so)."""
    from tfstudio.qt.training.process import TrainingJob

    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
    assert run.id == 1
    panel = TrainingPanel(
        root,
        process=TrainingJob(root, program=fake_program),
        engine=engine,
        settings=settings,
    )
    qtbot.addWidget(panel)
    panel.show()
    seen = {}

    def type_and_return(dialog: TrainFurtherDialog) -> None:
        seen["default"] = dialog.start_button.isDefault()
        type_into(dialog.epochs_spin, "12")
        QTest.keyClick(dialog.epochs_spin.lineEdit(), Qt.Key.Key_Return)

    when(lambda: panel.further_dialog, type_and_return)
    panel.train_further(run.id)
    assert " --resume 1 --epochs 12 " in f" {' '.join(panel.process.args)} "
    assert seen["default"]
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)


def test_the_progress_bar_of_a_run_trained_further_counts_its_earlier_epochs(
    qtbot, tmp_path, fake_program, engine, settings
):
    """From 4 epochs to 40: the bar is over the whole run, as its status (epoch 5/40) is, so
    it starts a tenth full; its label says whose epochs those are (it read a bare '12 %')."""
    from tfstudio.qt.training.process import TrainingJob

    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
    panel = TrainingPanel(
        root,
        # 5 batches an epoch, slow enough to look at the bar while it runs.
        process=TrainingJob(root, program=[*fake_program, "--delay", "0.02"]),
        engine=engine,
        settings=settings,
    )
    qtbot.addWidget(panel)
    panel.show()

    when(lambda: panel.further_dialog, further_to(40))
    panel.train_further(run.id)
    bar = panel.progress_bar
    qtbot.waitUntil(lambda: bar.format() != "", timeout=WAIT_MS)
    first = (bar.value(), bar.format(), panel.status_label.text(), bar.toolTip())
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    value, text, status, tip = first
    assert 100 <= value < 1000, first  # 4 of 40 epochs were done before it started
    shown = re.fullmatch(r"(\d+) % of 40 epochs \(the first 4 trained earlier\)", text)
    assert shown and 10 <= int(shown[1]) < 100, first
    assert re.search(r"epoch \d+/40", status), first
    assert "the first 4 were trained before it went on" in tip
    assert bar.format() == "100 % of 40 epochs (the first 4 trained earlier)"
    # A new run's bar says what it counts, and nothing of earlier epochs.
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start(["--epochs", "2"])
    assert bar.format() == "100 % of 2 epochs"


def test_a_run_trained_further_in_another_process_is_shown_as_it_now_is(
    qtbot, tmp_path, fake_program, engine, settings
):
    """The dock's banner said 'Train further… goes on in epoch 11' (its button too) after a
    terminal had trained the run on show on to 40 epochs: nothing looked at the store once
    the dock's own run had ended. Now the dock follows, and the banner of an ending gone by
    goes."""
    import subprocess

    from tfstudio.qt.training.process import TrainingJob

    root = tmp_path / "proj"
    with Project.create(root) as project:
        run = finished_run(project)
    panel = TrainingPanel(
        root, process=TrainingJob(root, program=fake_program), engine=engine, settings=settings
    )
    qtbot.addWidget(panel)
    panel.show()

    when(lambda: panel.further_dialog, further_to(10))
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.train_further(run.id)
    assert "Train further… goes on in epoch 11" in panel.banner.text()
    # A write that is not about runs (detection tunes the run's thresholds): the banner stays.
    with Project.open(root) as project:
        project.update_run(run.id, config={**run.config_dict, "thresholds": [0.4]})
    qtbot.wait(2500)  # more than a look at the store (FOLLOW_MS)
    assert panel.banner.isVisible() and "goes on in epoch 11" in panel.banner.text()

    # A terminal trains the run on show on to 40 epochs.
    command = [*fake_program, "train", str(root), "--resume", str(run.id), "--epochs", "40"]
    subprocess.run([*command, "--json"], stdout=subprocess.DEVNULL, check=True, timeout=60)
    qtbot.waitUntil(lambda: panel.epoch_val.last_x() == 40, timeout=10_000)
    assert panel.banner.isHidden() and panel.banner.text() == ""
    assert "going on in epoch 41" in panel.further_button.toolTip()
    # Nor does the bar tell of the dock's own child any more ('100 % of 10 epochs').
    assert panel.progress_bar.format() == "" and panel.time_label.text() == ""
    seen = {}

    def look(dialog: TrainFurtherDialog) -> None:
        seen["intro"] = dialog.intro.text()
        QTest.keyClick(dialog, Qt.Key.Key_Escape)

    when(lambda: panel.further_dialog, look)
    QTest.mouseClick(panel.further_button, Qt.MouseButton.LeftButton)
    assert "It goes on in epoch 41" in seen["intro"]
