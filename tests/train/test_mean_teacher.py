"""Mean teacher: unlabelled recordings (no labels, no split) join training by consistency;
its parts (tfstudio.train.mean_teacher): the ramp, the moving average, the paired batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tfstudio.train import train
from tfstudio.train.mean_teacher import UnlabelledBatches, consistency_weight, moving_average


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


def test_the_consistency_weight_ramps_up_over_its_epochs(tiny_config):
    config = tiny_config(consistency_weight=4.0, consistency_rampup_epochs=2)
    weights = [consistency_weight(config, i, batches_per_epoch=5) for i in range(14)]
    assert weights[0] == pytest.approx(4.0 * math.exp(-5.0))
    assert weights[:11] == sorted(set(weights[:11]))  # rising until epoch 2
    assert weights[10:] == [4.0] * 4
    flat = tiny_config(consistency_weight=4.0, consistency_rampup_epochs=0)
    assert consistency_weight(flat, 0, batches_per_epoch=5) == 4.0


def test_the_moving_average_starts_fast_and_copies_batch_norm():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    average = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model[1].running_mean.fill_(7.0)
    before = average[0].weight.clone()
    moving_average(average, model, decay=0.99, iteration=0)  # decay min(0.99, 1 - 1/2) = 0.5
    assert torch.allclose(average[0].weight, (before + model[0].weight) / 2)
    assert torch.equal(average[1].running_mean, model[1].running_mean)
    moving_average(average, model, decay=0.0, iteration=1000)
    assert torch.equal(average[0].weight, model[0].weight)


def test_the_unlabelled_batches_are_the_same_for_the_same_epoch_and_index(demo_project):
    from tfstudio.features import FEATURE_PRESETS
    from tfstudio.train.augment import SpecAugment
    from tfstudio.train.data import Normalizer, load_recordings

    rec = _make_unlabelled(demo_project)
    classes = [c.name for c in demo_project.classes()]
    data = load_recordings(demo_project, [rec], classes, FEATURE_PRESETS["fast"])
    normalizer = Normalizer.fit(d.features() for d in data)
    augment = SpecAugment(4, 8, 3.0, 0)

    def batches():
        return UnlabelledBatches(data, normalizer, augment, seq_len=64, batch_size=2, seed=0)

    first, again = batches(), batches()
    augmented, clean = first.pair(epoch=1, index=3)
    n_mels = FEATURE_PRESETS["fast"].n_mels
    assert augmented["features"].shape == clean["features"].shape == (2, 64, n_mels)
    assert not torch.equal(augmented["features"], clean["features"])  # only one is augmented
    repeat = again.pair(epoch=1, index=3)  # a resumed run: a new object, the same batch
    assert torch.equal(repeat[0]["features"], augmented["features"])
    assert torch.equal(repeat[1]["features"], clean["features"])
    other = first.pair(epoch=2, index=3)
    assert not torch.equal(other[1]["features"], clean["features"])
