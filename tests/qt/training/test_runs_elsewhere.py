"""What other processes do to the runs while the Training and Runs docks show them: a run
trained in a terminal while the user looks at the run they chose, a run on show deleted."""

from __future__ import annotations

import shutil
import subprocess

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu

from tests.qt.training.test_further import finished_run, when
from tests.qt.training.test_history import add_run, curves_with_data
from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.qt.training.process import TrainingJob
from tfstudio.store import Project

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20_000


def make_panel(qtbot, root, program, engine, settings) -> TrainingPanel:
    panel = TrainingPanel(
        root, process=TrainingJob(root, program=program), engine=engine, settings=settings
    )
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def choose(panel: TrainingPanel, entry: str) -> None:
    """Pick the entry of the Runs ▾ menu that starts with ``entry``, with the mouse."""

    def pick(menu: QMenu) -> None:
        action = next(a for a in menu.actions() if a.text().startswith(entry))
        QTest.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())

    menu = panel.runs_button.menu()
    when(lambda: menu if menu.isVisible() and menu.actions() else None, pick)
    QTest.mouseClick(panel.runs_button, LEFT)


def resume_in_a_terminal(root, fake_program, run_id: int, epochs: int, delay: float):
    """``tfstudio train PROJECT --resume N --epochs M`` in another process (the fake engine)."""
    command = [*fake_program, "train", str(root), "--resume", str(run_id), "--epochs", str(epochs)]
    return subprocess.Popen(
        [*command, "--delay", str(delay), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def delete_run(root, run_id: int) -> None:
    """Delete a run as another process would: its row (its metrics go with it) and folder."""
    with Project.open(root) as project:
        folder = project.run_dir(run_id)
        with project.write():
            project.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
    shutil.rmtree(folder, ignore_errors=True)


def val_losses(panel: TrainingPanel) -> list[float]:
    return [round(float(v), 3) for v in panel.epoch_val.y]


def test_a_chosen_run_stays_on_show_while_a_terminal_trains_an_older_one(
    qtbot, tmp_path, fake_program, engine, settings
):
    """The user looks at run 2, chosen in Runs ▾; a terminal resumes run 1 to 40 epochs. The
    dock had switched to run 1: now run 2 stays, and a line says run 1 trains elsewhere, with
    a button that shows it. Left to follow (no run chosen), the dock goes to the run that
    trains, as before."""
    root = tmp_path / "proj"
    with Project.create(root) as project:
        one = finished_run(project)
        two = finished_run(project, val_losses=(0.6, 0.5, 0.45, 0.5))
    panel = make_panel(qtbot, root, fake_program, engine, settings)
    assert panel.run_id == two.id and panel.is_following()

    choose(panel, f"Run {two.id} ")
    qtbot.waitUntil(lambda: not panel.is_following())
    assert panel.run_id == two.id
    child = resume_in_a_terminal(root, fake_program, one.id, 40, delay=0.03)
    try:
        qtbot.waitUntil(lambda: panel.notice.isVisible(), timeout=WAIT_MS)
        assert panel.notice.text() == f"Run {one.id} is training in another process."
        assert panel.run_id == two.id and val_losses(panel) == [0.6, 0.5, 0.45, 0.5]
        assert f"Run {two.id}" in panel.status_label.text()
        assert "another process" not in panel.status_label.text()
        assert panel.further_button.isEnabled()  # Train further… is still about run 2
        assert f"run {two.id} further" in panel.further_button.toolTip()
        child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()
    # Its ending is told as well; run 2 is still on show.
    qtbot.waitUntil(lambda: "finished" in panel.notice.text(), timeout=WAIT_MS)
    assert panel.notice.text() == f"Run {one.id} finished in another process."
    assert panel.run_id == two.id and not panel.is_following()

    # Show it: run 1 as it now is, and the dock follows again.
    qtbot.mouseClick(panel.notice.action_button, LEFT)
    assert panel.run_id == one.id and panel.epoch_val.last_x() == 40
    assert panel.is_following() and panel.notice.isHidden()

    # Following, a run resumed elsewhere takes the place of the one on show.
    child = resume_in_a_terminal(root, fake_program, two.id, 6, delay=0.01)
    child.wait(timeout=60)
    qtbot.waitUntil(lambda: panel.run_id == two.id, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.epoch_val.last_x() == 6, timeout=WAIT_MS)
    assert panel.notice.isHidden()


def test_a_chosen_older_run_and_follow_training_from_the_runs_menu(
    qtbot, tmp_path, fake_program, engine, settings
):
    """Runs ▾ lists the runs, the one on show checked; choosing an older run keeps it while a
    terminal trains the newest further, and Follow training goes to the run that trains."""
    root = tmp_path / "proj"
    with Project.create(root) as project:
        one = finished_run(project)
        two = finished_run(project, val_losses=(0.6, 0.5, 0.45, 0.5))
    panel = make_panel(qtbot, root, fake_program, engine, settings)
    seen = {}

    def look(menu: QMenu) -> None:
        seen["entries"] = [(a.text(), a.isChecked()) for a in menu.actions() if a.text()]
        menu.close()

    menu = panel.runs_button.menu()
    when(lambda: menu if menu.isVisible() and menu.actions() else None, look)
    QTest.mouseClick(panel.runs_button, LEFT)
    qtbot.waitUntil(lambda: "entries" in seen)
    assert seen["entries"] == [
        ("Follow training", True),
        (f"Run {two.id} — done · fast", True),
        (f"Run {one.id} — done · fast", False),
    ]

    choose(panel, f"Run {one.id} ")
    qtbot.waitUntil(lambda: panel.run_id == one.id)
    assert val_losses(panel) == [0.9, 0.7, 0.8, 0.75] and not panel.is_following()
    child = resume_in_a_terminal(root, fake_program, two.id, 400, delay=0.02)
    try:
        qtbot.waitUntil(lambda: panel.notice.isVisible(), timeout=WAIT_MS)
        assert panel.notice.text() == f"Run {two.id} is training in another process."
        assert panel.run_id == one.id
        choose(panel, "Follow training")
        qtbot.waitUntil(lambda: panel.run_id == two.id, timeout=WAIT_MS)
        assert panel.is_following() and panel.notice.isHidden()
        assert "running" in panel.status_label.text()
        seen_epoch = panel.epoch_val.last_x()
        qtbot.waitUntil(lambda: panel.epoch_val.last_x() > seen_epoch, timeout=WAIT_MS)
    finally:
        child.kill()
        child.wait()


def test_a_run_on_show_that_is_deleted_is_drawn_no_more(
    qtbot, tmp_path, fake_program, engine, settings
):
    """Deleted by another process, run 2 stayed drawn in the dock (and Train further…
    offered it). Now the dock goes to the newest run left and says why in one line; with the
    last run deleted it is empty, as for a project without runs."""
    root = tmp_path / "proj"
    with Project.create(root) as project:
        one = finished_run(project)
        two = finished_run(project, val_losses=(0.6, 0.5, 0.45, 0.5))
        three = finished_run(project, val_losses=(0.5, 0.4))
    panel = make_panel(qtbot, root, fake_program, engine, settings)
    assert panel.run_id == three.id

    delete_run(root, three.id)
    qtbot.waitUntil(lambda: panel.run_id != three.id, timeout=WAIT_MS)
    assert panel.run_id == two.id and val_losses(panel) == [0.6, 0.5, 0.45, 0.5]
    assert panel.notice.text() == f"Run {three.id} was deleted; the dock now shows run {two.id}."
    assert f"run {two.id} further" in panel.further_button.toolTip()

    # A run the user chose and that is deleted: the dock follows again, from the newest.
    choose(panel, f"Run {one.id} ")
    qtbot.waitUntil(lambda: panel.run_id == one.id)
    assert panel.notice.isHidden()  # "… now shows run 2" was no longer so
    delete_run(root, one.id)
    qtbot.waitUntil(lambda: panel.run_id != one.id, timeout=WAIT_MS)
    assert panel.run_id == two.id and panel.is_following()
    assert panel.notice.text() == f"Run {one.id} was deleted; the dock now shows run {two.id}."

    delete_run(root, two.id)
    qtbot.waitUntil(lambda: panel.run_id is None, timeout=WAIT_MS)
    assert panel.notice.text() == f"Run {two.id} was deleted; no run is left."
    assert len(panel.epoch_val) == 0 and len(panel.tf) == 0
    assert all(plot._empty.isVisible() for plot in panel.plots)
    assert all("No run yet" in plot._empty.toPlainText() for plot in panel.plots)
    assert panel.status_label.text() == "No training running"
    assert not panel.further_button.isEnabled() and not panel.runs_button.isEnabled()

    # The next run another process makes is followed.
    with Project.open(root) as project:
        four = finished_run(project)
    qtbot.waitUntil(lambda: panel.run_id == four.id, timeout=WAIT_MS)
    assert panel.notice.isHidden()


def test_runs_dock_curves_of_a_deleted_run_go(qtbot, empty_root):
    """The Runs dock drew a selected run's curves after another process had deleted it."""
    with Project.open(empty_root) as project:
        first = add_run(project, "drossos")
        second = add_run(project, "constant")
    history = RunHistory(empty_root, poll_ms=50)
    qtbot.addWidget(history)
    history.show()
    history.select_runs([first, second])
    assert curves_with_data(history.val_plot) == 2

    with qtbot.waitSignal(history.selection_changed, timeout=WAIT_MS) as changed:
        delete_run(empty_root, second)
    assert changed.args == [[first]]
    assert history.selected_runs() == [first]
    assert curves_with_data(history.val_plot) == 1
    assert f"Run {second} was deleted" in history.hint.text()
    assert f"run {second} " not in history.legend.text()
    # Told until the user chooses again.
    history.select_runs([first])
    assert "deleted" not in history.hint.text()


def test_runs_dock_selection_stays_on_its_run_when_another_process_adds_one(qtbot, empty_root):
    """A run added above moved the selection by a row: run 1 selected (its curves drawn),
    run 2 started in a terminal, and the table said run 2 was the selected one."""
    with Project.open(empty_root) as project:
        first = add_run(project, "drossos")
    history = RunHistory(empty_root, poll_ms=50)
    qtbot.addWidget(history)
    history.show()
    history.select_runs([first])
    with Project.open(empty_root) as project:
        second = add_run(project, "constant", status="running")
    qtbot.waitUntil(lambda: history.table.rowCount() == 2, timeout=WAIT_MS)
    assert history.selected_runs() == [first]
    assert (
        f"run {first} " in history.legend.text() and f"run {second} " not in history.legend.text()
    )
