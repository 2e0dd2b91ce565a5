"""Polyak averaging (average_decay): validation, tuning and detection use averaged weights."""

from __future__ import annotations

import pytest
import torch

from tfstudio.train import TrainConfig, TrainError, train
from tfstudio.train.detect import load_model


def _checkpoint(project, run_id, which="last_checkpoint"):
    return torch.load(project.root / getattr(project.run(run_id), which), weights_only=True)


def test_the_average_trails_the_model_and_detection_uses_it(demo_project, tiny_config):
    project = demo_project
    done = list(train(project, tiny_config(average_decay=0.9)))[-1]
    assert done.status == "done", done.message
    state = _checkpoint(project, done.run)
    averaged, model = state["averaged"], state["model"]
    name = "classifier.weight"
    assert not torch.equal(averaged[name], model[name])
    assert torch.allclose(averaged[name], model[name], atol=0.5)
    loaded = load_model(project.root / project.run(done.run).last_checkpoint, "cpu")
    assert torch.equal(loaded.model.state_dict()[name], averaged[name])


def test_without_averaging_detection_uses_the_model(demo_project, tiny_config):
    done = list(train(demo_project, tiny_config(average_decay=0.0)))[-1]
    state = _checkpoint(demo_project, done.run)
    assert state["averaged"] == {}
    loaded = load_model(demo_project.root / demo_project.run(done.run).last_checkpoint, "cpu")
    name = "classifier.weight"
    assert torch.equal(loaded.model.state_dict()[name], state["model"][name])


def test_averaging_changes_validation_not_training(demo_project, tiny_config):
    plain = list(train(demo_project, tiny_config(average_decay=0.0)))
    averaged = list(train(demo_project, tiny_config(average_decay=0.9)))
    # Same batches and steps: the training losses agree; validation sees other weights.
    assert [e.loss for e in plain if e.kind == "batch"] == pytest.approx(
        [e.loss for e in averaged if e.kind == "batch"], rel=1e-5
    )
    val = [[e.val_loss for e in events if e.kind == "epoch"] for events in (plain, averaged)]
    assert val[0] != pytest.approx(val[1], rel=1e-6)


def test_a_resumed_averaging_run_repeats_the_uninterrupted_one(demo_project, tiny_config):
    project = demo_project
    config = tiny_config(average_decay=0.9)
    straight = [e.val_loss for e in train(project, config) if e.kind == "epoch"]
    count = {"n": 0}
    interrupted = []
    for event in train(project, config, stop=lambda: count["n"] >= 2):
        if event.kind == "batch":
            count["n"] += 1
        if event.kind == "epoch":
            interrupted.append(event.val_loss)
    run_id = project.runs()[-1].id
    interrupted += [e.val_loss for e in train(project, resume=run_id) if e.kind == "epoch"]
    assert interrupted == pytest.approx(straight, rel=1e-5)


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_decay_must_be_below_one(decay):
    assert TrainConfig.from_preset("fast").average_decay == 0.99
    assert TrainConfig.from_preset("paper").average_decay == 0.0
    with pytest.raises(TrainError, match="weight-averaging decay"):
        TrainConfig(average_decay=decay)
