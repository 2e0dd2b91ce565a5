"""RunHistory: lists the store's runs, shows one, overlays two, follows other writers."""

from __future__ import annotations

import time

from tfstudio.qt.training.history import RunHistory
from tfstudio.store import Project


def add_run(
    project: Project,
    schedule: str,
    *,
    status: str = "done",
    epochs: int = 3,
    task: str | None = None,
) -> int:
    config = {"preset": "fast", "schedule": schedule, "epochs": epochs, "lr": 2e-3}
    if task is not None:
        config["task"] = task
    run = project.create_run(config)
    rows = []
    for i in range(epochs * 4):
        p = 0.0 if schedule == "none" else max(0.05, 0.9 - 0.05 * i)
        rows.append(
            {
                "kind": "batch",
                "epoch": i // 4 + 1,
                "iteration": i,
                "tf_prob": p,
                "loss": 1 / (i + 1),
            }
        )
    for e in range(1, epochs + 1):
        rows.append(
            {
                "kind": "epoch",
                "epoch": e,
                "iteration": 4 * e,
                "loss": 0.5 / e,
                "val_loss": 0.6 / e,
                "f1": 0.3 * e,
                "er": 1 - 0.3 * e,
            }
        )
    project.add_metrics(run.id, rows)
    now = time.time()
    project.update_run(run.id, status=status, device="cpu", started_at=now - 65, finished_at=now)
    return run.id


def curves_with_data(plot) -> int:
    return sum(
        1
        for item in plot.getPlotItem().listDataItems()
        if item.getData()[0] is not None and len(item.getData()[0])
    )


def test_lists_runs_and_overlays_two(qtbot, empty_root):
    with Project.open(empty_root) as project:
        a = add_run(project, "drossos")
        b = add_run(project, "none", status="stopped")
    history = RunHistory(empty_root)
    qtbot.addWidget(history)
    history.show()
    assert history.table.rowCount() == 2
    row_of = {int(history.table.item(r, 0).text()): r for r in range(2)}
    cells = [history.table.item(row_of[a], c).text() for c in range(history.table.columnCount())]
    assert cells[1:4] == ["done", "fast", "drossos"]
    assert cells[4] == "3/3" and cells[5] == "0.002" and cells[7] == "cpu"
    assert cells[9] == "1 min 05 s" and cells[10] == "0.2000 (epoch 3)"
    assert all(plot._empty.isVisible() for plot in history.plots)

    with qtbot.waitSignal(history.selection_changed) as selected:
        history.select_runs([a])
    assert selected.args[0] == [a]
    assert curves_with_data(history.tf_plot) == 1
    assert curves_with_data(history.loss_plot) == 2  # raw + smoothed for a single run

    history.select_runs([a, b])
    assert curves_with_data(history.tf_plot) == 2
    assert curves_with_data(history.val_plot) == 2
    assert curves_with_data(history.score_plot) == 4  # F1 and ER per run
    pens = {
        item.opts["pen"].color().name() for item in history.tf_plot.getPlotItem().listDataItems()
    }
    assert len(pens) == 2  # distinct colours
    legend = history.legend.text()
    assert f"run {a} · drossos" in legend and f"run {b} · none" in legend
    assert not any(plot._empty.isVisible() for plot in history.plots)


def test_the_loss_axes_name_the_selected_runs_loss(qtbot, empty_root):
    """A single-label run trains with cross-entropy, a multi-label one (or one stored before
    tasks existed) with binary cross-entropy: the loss axes say which, as rows are clicked."""
    from PySide6.QtCore import Qt

    with Project.open(empty_root) as project:
        old = add_run(project, "drossos")
        single = add_run(project, "drossos", task="single-label")
    history = RunHistory(empty_root)
    qtbot.addWidget(history)
    history.resize(900, 700)
    history.show()
    qtbot.waitExposed(history)
    row_of = {int(history.table.item(r, 0).text()): r for r in range(2)}

    def click(run_id: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        item = history.table.item(row_of[run_id], 0)
        pos = history.table.visualItemRect(item).center()
        qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, modifier, pos)

    def labels() -> set[str]:
        return {
            p.getPlotItem().getAxis("left").labelText for p in (history.loss_plot, history.val_plot)
        }

    click(single)
    assert history.selected_runs() == [single] and labels() == {"CE loss"}
    click(old)
    assert history.selected_runs() == [old] and labels() == {"BCE loss"}
    click(single, Qt.KeyboardModifier.ControlModifier)
    assert sorted(history.selected_runs()) == [old, single] and labels() == {"BCE / CE loss"}


def test_follows_runs_written_by_another_process(qtbot, empty_root):
    history = RunHistory(empty_root, poll_ms=50)
    qtbot.addWidget(history)
    assert history.table.rowCount() == 0 and "No runs yet" in history.hint.text()
    with Project.open(empty_root) as other:  # a second connection, as the trainer has
        add_run(other, "constant", status="running")
    qtbot.waitUntil(lambda: history.table.rowCount() == 1, timeout=5_000)
    assert history.table.item(0, 1).text() == "running"


def test_a_borrowed_project_is_left_open_and_own_writes_show(qtbot, empty_root):
    project = Project.open(empty_root)
    try:
        history = RunHistory(project, poll_ms=50)
        qtbot.addWidget(history)
        add_run(project, "linear")  # same connection: data_version does not move
        qtbot.waitUntil(lambda: history.table.rowCount() == 1, timeout=5_000)
        history.close()
        assert project.runs()  # still open
    finally:
        project.close()
