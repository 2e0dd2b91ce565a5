"""Mean teacher: unlabelled recordings (no labels, no split) join training by consistency."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tfstudio.train import train


def _make_unlabelled(project):
    """The test recording becomes unlabelled audio: labels removed, split cleared."""
    rec = project.recordings("test")[0]
    project.delete_events([e.id for e in project.labels(rec.id)])
    project.set_split([rec.id], None)
    return rec


def test_unlabelled_recordings_train_the_model_through_a_teacher(demo_project, tiny_config):
    project = demo_project
    _make_unlabelled(project)
    events = list(train(project, tiny_config(consistency_weight=5.0, consistency_rampup_epochs=0)))
    done = events[-1]
    assert done.status == "done", done.message
    rows = project.metrics(done.run, "batch")
    consistency = [r.get("consistency") for r in rows]
    state = torch.load(project.root / project.run(done.run).last_checkpoint, weights_only=True)
    teacher, model = state["teacher"], state["model"]
    assert teacher, "the teacher is saved with the run"
    # The teacher is an average of the model's past weights: close to it, not equal.
    name = "classifier.weight"
    assert not torch.equal(teacher[name], model[name])
    assert torch.allclose(teacher[name], model[name], atol=0.5)
    assert rows and all(c is not None and 0 <= c < 1 for c in consistency)


def test_without_unlabelled_recordings_there_is_no_teacher(demo_project, tiny_config):
    done = list(train(demo_project, tiny_config(consistency_weight=5.0)))[-1]
    state = torch.load(
        demo_project.root / demo_project.run(done.run).last_checkpoint, weights_only=True
    )
    assert state["teacher"] == {}


def test_the_consistency_loss_changes_training(demo_project, tiny_config):
    _make_unlabelled(demo_project)
    with_mt = [
        e.loss
        for e in train(
            demo_project, tiny_config(consistency_weight=50.0, consistency_rampup_epochs=0)
        )
        if e.kind == "batch"
    ]
    without = [
        e.loss
        for e in train(demo_project, tiny_config(consistency_weight=0.0))
        if e.kind == "batch"
    ]
    # The first batch starts from the same weights (batch norm sees the unlabelled batch too,
    # so it differs a little); later ones differ because the consistency term moved them.
    assert with_mt[0] == pytest.approx(without[0], rel=0.05)
    assert not np.allclose(with_mt[1:], without[1:], rtol=1e-3)


def test_a_resumed_mean_teacher_run_repeats_the_uninterrupted_one(demo_project, tiny_config):
    project = demo_project
    _make_unlabelled(project)
    config = tiny_config(consistency_weight=5.0, consistency_rampup_epochs=0)
    straight = [e.loss for e in train(project, config) if e.kind == "batch"]
    count = {"n": 0}
    interrupted = []
    for event in train(project, config, stop=lambda: count["n"] >= 2):
        if event.kind == "batch":
            interrupted.append(event.loss)
            count["n"] += 1
    run_id = project.runs()[-1].id
    interrupted += [e.loss for e in train(project, resume=run_id) if e.kind == "batch"]
    assert interrupted == pytest.approx(straight, rel=1e-5)
