"""The Evaluation panel on a single-label run: besides the table it says the frame accuracy
and macro F1 that ``tfstudio evaluate`` prints for such a run, from the command's own JSON."""

from __future__ import annotations

import json

from tests.train.test_single_label import TINY_SINGLE
from tfstudio.cli import main
from tfstudio.train import TrainConfig, train
from tfstudio.train.demo_single import create_single_label_demo

from .conftest import open_window


def test_a_single_label_runs_frame_scores_are_shown(qtbot, tmp_path, capsys):
    root = tmp_path / "mono"
    project = create_single_label_demo(root, classes=4, recordings=4, seconds=4.0, seed=2)
    config = TrainConfig.from_preset("fast", **{**TINY_SINGLE, "epochs": 1})
    done = list(train(project, config))[-1]
    project.close()
    assert done.status == "done", done.message
    capsys.readouterr()
    assert main(["evaluate", str(root), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "single-label"

    win = open_window(qtbot, root)
    try:
        win.docks["evaluation"].raise_()
        win.evaluation.show_result(result)
        text = win.evaluation.summary.text()
        assert f"accuracy {result['frame_accuracy']:.3f}" in text
        assert f"macro F1 {result['macro_f1']:.3f}" in text
        assert win.evaluation.table.item(0, 0).text() == "Overall"
    finally:
        win.close()
