"""The training panel and run history live in the main window and follow its project."""

from tfstudio.store import Project


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
