"""The Evaluation panel and the project's splits: each split's size in its menu, an empty
test split giving way to the val split (a project split automatically has no test split),
and an empty split saying what to do instead of starting a job that fails."""

from __future__ import annotations

from tests.qt.training.test_further import finished_run
from tfstudio.store import Project

from .conftest import open_window


def test_an_empty_test_split_gives_way_to_val_and_says_what_to_do(qtbot, small_project):
    with Project.open(small_project) as project:
        first, second, third = project.recordings()
        project.set_split([first.id, second.id], "train")
        project.set_split([third.id], "val")
        finished_run(project)
    win = open_window(qtbot, small_project)
    try:
        panel = win.evaluation
        combo = panel.split_combo
        assert [combo.itemText(i) for i in range(combo.count())] == [
            "test split (0 recordings)",
            "val split (1 recording)",
        ]
        assert panel.split() == "val"  # nothing to test on: the val split is chosen
        assert panel.evaluate_button.isEnabled()

        combo.setCurrentIndex(combo.findData("test"))
        assert not panel.evaluate_button.isEnabled()
        text = panel.summary.text()
        assert text.startswith("No recordings in the test split: choose the val split above")
        assert "Set split" in text

        # A recording put in the test split (through the window): counted, and Evaluate is on.
        win.workspace.set_split([first.id], "test")
        qtbot.waitUntil(lambda: combo.itemText(0) == "test split (1 recording)")
        assert panel.split() == "test" and panel.evaluate_button.isEnabled()
        assert panel.summary.text() == "Press Evaluate to score this run."
    finally:
        win.close()
