"""The training panel and run history live in the main window and follow its project."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton

from tfstudio.store import Project

LEFT = Qt.MouseButton.LeftButton


def test_training_docks_follow_the_project_and_show_once_there_are_runs(
    window, small_project, tmp_path
):
    assert window.training.project.root == small_project
    assert window.run_history.project.root == small_project
    # no run yet: the curves do not take room from the spectrogram
    assert window.docks["training"].isHidden() and window.docks["runs"].isHidden()
    assert window.train_action.isEnabled() and window.train_action.shortcut().toString() == "Ctrl+T"

    with Project.open(small_project) as project:
        project.create_run({"preset": "fast"})
    window.close_project()
    assert window.open_project(small_project)
    assert not window.docks["training"].isHidden() and not window.docks["runs"].isHidden()


def test_switching_projects_retargets_idle_training_widgets(window, tmp_path):
    other = tmp_path / "other"
    Project.create(other).close()
    assert window.open_project(other)
    assert window.training.project.root == other
    assert window.run_history.project.root == other


def test_recordings_can_be_moved_between_splits_from_the_browser(window, small_project, qtbot):
    window.browser.select_ids([r.id for r in window.workspace.recordings()][:2])
    chosen = window.browser.selected_ids()
    assert len(chosen) == 2
    menu = window.browser.split_menu()
    next(a for a in menu.actions() if a.text() == "&Validation").trigger()
    with Project.open(small_project) as project:
        assert {r.id for r in project.recordings("val")} == set(chosen)
    next(a for a in menu.actions() if a.text().startswith("&None")).trigger()
    with Project.open(small_project) as project:
        assert all(project.recording(i).split is None for i in chosen)
    # the browser's Split column follows
    qtbot.waitUntil(lambda: window.browser.model.rowCount() == 3)


def test_training_widgets_are_built_after_the_first_paint_not_before(qtbot, small_project):
    """The eight training plots (~0.5 s) are not in the way of the window's first paint; they
    follow the project once built, and a project with runs shows them in its docks."""
    from PySide6.QtWidgets import QScrollArea

    from tfstudio.qt.main_window import MainWindow
    from tfstudio.qt.training import RunHistory, TrainingPanel

    with Project.open(small_project) as project:
        project.create_run({"preset": "fast"})
    win = MainWindow()
    qtbot.addWidget(win)
    assert win._training is None and win._run_history is None  # not built while constructing
    assert win.open_project(small_project)
    win.show()
    qtbot.waitUntil(lambda: win._training is not None, timeout=5000)  # once the loop turns
    for name, kind in (("training", TrainingPanel), ("runs", RunHistory)):
        area = win.docks[name].widget()
        assert isinstance(area, QScrollArea) and isinstance(area.widget(), kind)
        assert not win.docks[name].isHidden()
    assert win.training.project.root == small_project
    assert win.run_history.project.root == small_project
    win.close()


def test_the_training_widgets_wait_for_the_first_spectrogram_image(
    qtbot, small_project, tmp_path, monkeypatch
):
    """Built while the tile thread makes the first image, they delayed it; with a recording
    open they come after it, without one right after the paint (the fallback is set far off
    here, so neither can be its doing)."""
    import tfstudio.qt.main_window as main_window

    monkeypatch.setattr(main_window, "TRAINING_BUILD_FALLBACK_MS", 60_000)
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    assert win.open_project(small_project)
    not_built_at_image: list[bool] = []
    win.view.firstImage.connect(lambda _s: not_built_at_image.append(win._training is None))
    win.show()
    qtbot.waitUntil(lambda: win._training is not None, timeout=20_000)
    assert not_built_at_image == [True]
    assert win.view.has_image() and win.player.started

    Project.create(tmp_path / "empty").close()
    empty = main_window.MainWindow()
    qtbot.addWidget(empty)
    assert empty.open_project(tmp_path / "empty")
    empty.show()
    qtbot.waitUntil(lambda: empty._training is not None, timeout=20_000)
    assert empty.player.started


def test_the_runs_dock_shows_when_the_first_run_finishes(window, qtbot):
    """A first training in the window: the Training dock shows at Train, the Runs dock once
    the run has finished (it showed only after reopening the project)."""
    import sys

    from tests.qt.training.conftest import FAKE_TRAIN

    training, runs = window.docks["training"], window.docks["runs"]
    assert training.isHidden() and runs.isHidden()
    window.training.process.program = [sys.executable, str(FAKE_TRAIN)]
    with qtbot.waitSignal(window.training.run_finished, timeout=30_000) as finished:
        window.docks["training"].show()
        window.training.start(["--epochs", "1", "--batches", "2"])
    assert finished.args[0].status == "done"
    assert not training.isHidden() and not runs.isHidden()
    assert training.visibleRegion().isEmpty() is False  # the curves stay in front

    # Closed by the user, it stays closed after the next run.
    qtbot.mouseClick(runs.findChild(QAbstractButton, "qt_dockwidget_closebutton"), LEFT)
    assert runs.isHidden()
    with qtbot.waitSignal(window.training.run_finished, timeout=30_000):
        window.training.start(["--epochs", "1", "--batches", "2"])
    assert runs.isHidden()
