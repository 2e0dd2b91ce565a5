"""The Evaluation panel on a split whose recordings have no labels: dashes, and the reason
``tfstudio evaluate`` gives, from the command's own JSON (no 4.5e15 error rates)."""

from __future__ import annotations

import json

from tests.train.conftest import _tiny_config
from tfstudio.cli import main
from tfstudio.importer import create_demo
from tfstudio.train import train

from .conftest import open_window


def test_a_split_without_labels_shows_why_there_is_no_score(qtbot, tmp_path, capsys):
    root = tmp_path / "demo"
    project = create_demo(root, recordings=4, seconds=4.0, seed=3)
    done = list(train(project, _tiny_config(epochs=1)))[-1]
    assert done.status == "done", done.message
    test = project.recordings("test")
    assert test
    project.delete_events([e.id for r in test for e in project.labels(r.id)])
    project.close()
    capsys.readouterr()
    assert main(["evaluate", str(root), "--json", "--device", "cpu", "--threshold", "0"]) == 0
    result = json.loads(capsys.readouterr().out)

    win = open_window(qtbot, root)
    try:
        win.docks["evaluation"].raise_()
        win.evaluation.show_result(result)
        text = win.evaluation.summary.text()
        assert "<b>Nothing to score against: none of the test split's" in text
        table = win.evaluation.table
        assert table.item(0, 0).text() == "Overall"
        assert [table.item(0, c).text() for c in (1, 2, 3)] == ["–", "–", "–"]
        for row in range(1, table.rowCount()):
            assert table.item(row, 2).text() == "–"  # no error rate against nothing
    finally:
        win.close()
