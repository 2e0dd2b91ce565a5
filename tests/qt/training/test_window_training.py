"""Training in the main window: the Training dock and the window's project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.conftest import open_window
from tfstudio.store import Project

pytestmark = pytest.mark.slow

WAIT_MS = 30_000


def test_after_a_run_of_a_project_left_meanwhile_the_dock_follows_the_window(
    qtbot, tmp_path, fake_program
):
    """Another project opened while a run trains: the run keeps its project, but once it had
    ended the Training dock stayed on it, and Train… trained the project no longer open.
    The child is the fake engine: with the real one, niced, its first epoch took 20 s on an
    idle machine and more than the wait under a loaded one (it flaked); what is asserted here
    is the window's, and the real engine's stop is tested in test_real_training."""
    from tfstudio.cli import main

    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        assert main(["demo", str(root), "--recordings", "4", "--seconds", "4"]) == 0
    win = open_window(qtbot, first)
    panel = win.training
    panel.process.program = [*fake_program, "--delay", "0.05"]
    with qtbot.waitSignal(panel.process.epoch, timeout=WAIT_MS):
        panel.start(["--epochs", "1000", "--device", "cpu"])
    assert win.open_project(second)
    assert panel.project.root == first  # the run in progress keeps its project
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].status == "stopped"
    with Project.open(first) as project:
        assert project.run(finished.args[0].run).status == "stopped"
    assert panel.project.root == second
    assert panel.process.project_root == second
    assert panel.run_id is None and not panel.resume_button.isEnabled()  # second has no run
    assert "stopped" in panel.banner.text() and "first" in panel.banner.text()


def test_the_runs_dock_menu_trains_further_in_the_window(qtbot, small_project):
    """The Runs dock's Train further… in the window: offered (its menu stayed empty there,
    nothing was connected), and the Training dock comes to the front with the dialog."""
    from PySide6.QtTest import QTest

    from tests.qt.training.test_further import finished_run, when

    with Project.open(small_project) as project:
        run = finished_run(project)
    win = open_window(qtbot, small_project)
    win.docks["training"].hide()
    history = win.run_history
    menu = history.run_menu(run.id)  # what a right click on its row shows
    assert [(a.text(), a.isEnabled()) for a in menu.actions()] == [
        ("Show in the Training dock", True),
        ("Train further…", True),
    ]
    seen = {}

    def look(dialog) -> None:
        seen["title"] = dialog.windowTitle()
        seen["dock"] = win.docks["training"].isVisible()
        QTest.keyClick(dialog, Qt.Key.Key_Escape)

    when(lambda: win.training.further_dialog, look)
    menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: "title" in seen and win.training.further_dialog is None)
    assert seen == {"title": f"Train run {run.id} further", "dock": True}
    assert not win.training.is_running()


def test_the_runs_dock_menu_shows_an_older_run_in_the_training_dock(qtbot, small_project):
    """Show in the Training dock on an older run's row: the Training dock comes to the front
    with that run's curves, chosen (it no longer follows the newest)."""
    from tests.qt.training.test_further import finished_run

    with Project.open(small_project) as project:
        older = finished_run(project)
        newer = finished_run(project, val_losses=(0.6, 0.5, 0.45, 0.5))
    win = open_window(qtbot, small_project)
    win.docks["training"].hide()
    training = win.training
    qtbot.waitUntil(lambda: training.run_id == newer.id)
    menu = win.run_history.run_menu(older.id)
    show = next(a for a in menu.actions() if a.text() == "Show in the Training dock")
    show.trigger()
    qtbot.waitUntil(lambda: win.docks["training"].isVisible())
    assert training.run_id == older.id and not training.is_following()
    assert f"Run {older.id}" in training.status_label.text()
