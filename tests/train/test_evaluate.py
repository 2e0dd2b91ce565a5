"""Evaluation of a run on a split."""

from __future__ import annotations

import pytest

from tfstudio.train import TrainError, evaluate_run, train


def test_evaluate_keys_and_recorded_metric(demo_project, tiny_config):
    project = demo_project
    run_id = list(train(project, tiny_config(epochs=1)))[-1].run
    result = evaluate_run(project)
    for key in ("segment_f1", "segment_er", "event_f1", "per_class", "run", "split"):
        assert key in result
    assert result["run"] == run_id and result["split"] == "test"
    assert set(result["per_class"]) == {c.name for c in project.classes()}
    for scores in result["per_class"].values():
        assert {"segment_f1", "segment_er", "event_f1"} <= set(scores)
    assert result["segment_er"] >= 0
    rows = project.metrics(run_id, "test")
    assert len(rows) == 1 and rows[0]["split"] == "test"
    assert rows[0]["er"] == pytest.approx(result["segment_er"])

    val = evaluate_run(project, run_id, "val", threshold=0.0, record=False)
    assert val["split"] == "val" and val["threshold"] == 0.0
    assert len(project.metrics(run_id, "test")) == 1


def test_evaluate_errors(demo_project):
    with pytest.raises(TrainError, match="no finished training run"):
        evaluate_run(demo_project)
    with pytest.raises(TrainError, match="split"):
        evaluate_run(demo_project, split="nope")
