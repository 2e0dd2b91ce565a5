"""A run's hysteresis where the scores are read: ``tfstudio evaluate`` (its JSON and its "low"
column) and the window's Evaluation panel (the lower threshold beside the threshold)."""

from __future__ import annotations

import json

from tests.train.conftest import _tiny_config
from tfstudio.cli import main
from tfstudio.importer import create_demo
from tfstudio.session.detections import RunInfo
from tfstudio.train import train

from .conftest import open_window


def test_a_class_that_runs_on_below_its_threshold_shows_how_far(qtbot, tmp_path, capsys):
    root = tmp_path / "demo"
    project = create_demo(root, recordings=4, seconds=4.0, seed=3)
    done = list(train(project, _tiny_config(epochs=1, tune_postprocess=False)))[-1]
    assert done.status == "done", done.message
    info = RunInfo.from_run(project, project.run(done.run))
    assert info is not None
    held, config = info.classes[1], project.run(done.run).config_dict
    project.update_run(
        done.run, config={**config, "threshold": 0.4, "class_hysteresis": {held: 0.5}}
    )
    project.close()

    capsys.readouterr()
    assert main(["evaluate", str(root), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["class_hysteresis"] == {c: 0.5 if c == held else 1.0 for c in info.classes}
    assert main(["evaluate", str(root), "--device", "cpu"]) == 0
    table = capsys.readouterr().out.splitlines()
    header = next(line for line in table if line.startswith("class"))
    assert header.split()[-2:] == ["thr", "low"]
    rows = {line.split()[0]: line.split() for line in table if line.split()[:1] == [held]}
    assert rows[held][-2:] == ["0.40", "0.20"]

    win = open_window(qtbot, root)
    try:
        win.docks["evaluation"].raise_()
        win.evaluation.show_result(result)
        grid = win.evaluation.table
        cells = {grid.item(r, 0).text(): grid.item(r, 6) for r in range(1, grid.rowCount())}
        assert cells[held].text() == "0.40 ↓0.20"
        names = [grid.item(r, 0) for r in range(1, grid.rowCount())]
        assert all(item.toolTip() == item.text() for item in names)  # cut short when narrow
        assert "above 0.2 (hysteresis 0.5" in cells[held].toolTip()
        others = [name for name in cells if name != held]
        assert others and all(cells[name].text() == "0.40" for name in others)
    finally:
        win.close()
