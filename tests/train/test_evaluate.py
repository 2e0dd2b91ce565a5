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


def test_a_split_without_labels_has_nothing_to_score_against(demo_project, tiny_config):
    """Test recordings imported without labels: sed_eval's rates divide by Nref + eps, which
    made each insertion an error rate of ~4.5e15; the scores are undefined instead, and
    the result says why."""
    project = demo_project
    run_id = list(train(project, tiny_config(epochs=1)))[-1].run
    test = project.recordings("test")
    project.delete_events([e.id for r in test for e in project.labels(r.id)])
    # Threshold 0: every frame detected, so every class has insertions and nothing else.
    result = evaluate_run(project, run_id, "test", threshold=0.0)
    assert result["segment_f1"] is None and result["event_f1"] is None
    assert result["segment_er"] is None and result["event_er"] is None
    for scores in result["per_class"].values():
        assert scores["reference_events"] == 0 and scores["detected_events"] > 0
        assert scores["segment_er"] is None and scores["event_er"] is None
    assert result["note"].startswith(
        f"nothing to score against: none of the test split's {len(test)} recording(s) has "
        f"labels of run {run_id}'s classes"
    )
    assert not project.metrics(run_id, "test")  # nothing recorded
    # sed_eval's own numbers stay in the detail.
    assert result["segment"]["error_rate"] > 1e15

    # A split with labels scores as before and says nothing.
    val = evaluate_run(project, run_id, "val", threshold=0.0)
    assert "note" not in val and val["segment_er"] is not None


def test_a_class_without_reference_events_has_no_error_rate(demo_project, tiny_config):
    project = demo_project
    run_id = list(train(project, tiny_config(epochs=1)))[-1].run
    test = project.recordings("test")
    labels = [e for r in test for e in project.labels(r.id)]
    gone = labels[0].class_id
    project.delete_events([e.id for e in labels if e.class_id == gone])
    result = evaluate_run(project, run_id, "test", threshold=0.0)
    name = project.event_class(gone).name
    assert result["per_class"][name]["reference_events"] == 0
    assert result["per_class"][name]["segment_er"] is None
    others = [s for n, s in result["per_class"].items() if s["reference_events"]]
    assert others and all(0 <= s["segment_er"] < 100 for s in others)
    assert 0 <= result["segment_er"] < 100 and "note" not in result
