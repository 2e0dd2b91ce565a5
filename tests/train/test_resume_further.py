"""A finished run trained further (``train --resume N --epochs M``): what the loop does with
an early-stopped run and with its early-stopping count, as the app's Train further says."""

from __future__ import annotations

import pytest
import torch

from tfstudio.session.runs import extension
from tfstudio.train import TrainError, train
from tfstudio.train.checkpoint import read_checkpoint, write_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]


def early_stopped(project, tiny_config, *, epochs: int, patience: int):
    """A run that trained 2 epochs and, as its checkpoint and the store say, was stopped by
    early stopping with ``patience`` epochs gone without a better validation loss and
    ``epochs`` its own number. Its best loss is made unbeatable, so what follows is known."""
    done = list(train(project, tiny_config(epochs=2, patience=patience)))[-1]
    assert done.status == "done"
    run = project.run(done.run)
    last = project.root / run.last_checkpoint
    state = read_checkpoint(last)
    state["train_config"] = {**state["train_config"], "epochs": epochs}
    state["bad_epochs"] = patience
    state["best_val_loss"] = -1e9
    write_checkpoint(last, state)
    project.update_run(run.id, config=state["train_config"])
    return project.run(run.id)


def epochs_trained(events) -> list[int]:
    return [e.epoch for e in events if e.kind == "epoch"]


def test_an_early_stopped_run_goes_on_and_its_count_goes_on_too(demo_project, tiny_config):
    run = early_stopped(demo_project, tiny_config, epochs=6, patience=1)
    ext = extension(demo_project, run)
    assert ext.early_stopped and (ext.begun, ext.minimum) == (2, 3)
    # Fewer epochs than its own number go on too (once refused: "finished its 6 epoch(s)").
    with pytest.raises(TrainError, match=r"stopped early after 2 of its 6 epoch\(s\)"):
        list(train(demo_project, resume=run.id, overrides={"epochs": 2}))
    # Its count does not start again (the checkpoint keeps it, as the app's Train further
    # says): one epoch without a better loss ends it.
    events = list(train(demo_project, resume=run.id, overrides={"epochs": 6}))
    assert epochs_trained(events) == [3]
    assert events[-1].status == "done" and "early stop after epoch 3" in events[-1].message


def test_a_higher_patience_counts_on_from_the_epochs_already_gone(demo_project, tiny_config):
    run = early_stopped(demo_project, tiny_config, epochs=9, patience=2)
    # Two epochs gone without a better one, patience 4: two more (the app's arithmetic,
    # Extension.patience_text, tested in tests/session/test_extension.py).
    events = list(train(demo_project, resume=run.id, overrides={"epochs": 9, "patience": 4}))
    assert epochs_trained(events) == [3, 4]
    state = torch.load(demo_project.root / run.last_checkpoint, weights_only=True)
    assert state["bad_epochs"] == 4 and state["train_config"]["patience"] == 4


def test_an_early_stopped_run_given_more_patience_goes_on_up_to_its_own_epochs(
    demo_project, tiny_config, capsys
):
    """``--resume N --patience P`` alone: an early-stopped run goes on from where it stopped
    up to its own number of epochs (it was refused: "given more --epochs" only); a patience
    no higher than the epochs it went without a better loss leaves it none to wait and is
    refused, in one line saying what to give."""
    from tfstudio.cli import main

    run = early_stopped(demo_project, tiny_config, epochs=6, patience=2)
    for patience in (1, 2):
        with pytest.raises(TrainError) as refused:
            list(train(demo_project, resume=run.id, overrides={"patience": patience}))
        assert str(refused.value) == (
            f"run {run.id} stopped early after 2 of its 6 epoch(s), the last 2 without a better "
            f"validation loss; --patience {patience} leaves it no epoch to wait: give "
            "--patience 3 or more to go on up to its 6 epochs"
        )
    # The command line's own words, one line, and nothing trained.
    root = str(demo_project.root)
    assert main(["train", root, "--resume", str(run.id), "--patience", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "give --patience 3 or more" in err and len(err.splitlines()) == 1
    assert main(["train", root, "--resume", str(run.id)]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "the last 2 without a better validation loss; to go on, give --patience 3 or more "
            "(up to its 6 epochs) or --epochs 3 or more"
        )
    )
    assert len(demo_project.metrics(run.id, "epoch")) == 2
    # Patience 4: two more epochs without a better one, and its epochs stay its own.
    events = list(train(demo_project, resume=run.id, overrides={"patience": 4}))
    assert epochs_trained(events) == [3, 4]
    assert events[0].epochs == 6
    assert events[-1].status == "done" and "early stop after epoch 4" in events[-1].message
    assert demo_project.run(run.id).config_dict["epochs"] == 6


def test_a_finished_run_without_its_best_checkpoint_is_not_trained_further(
    demo_project, tiny_config
):
    done = list(train(demo_project, tiny_config(epochs=1)))[-1]
    best = demo_project.root / demo_project.run(done.run).best_checkpoint
    best.unlink()
    with pytest.raises(TrainError, match=f"run {done.run}: best checkpoint is missing: {best}"):
        list(train(demo_project, resume=done.run, overrides={"epochs": 2}))
    assert extension(demo_project, demo_project.run(done.run)).problem.startswith(
        f"run {done.run}: best checkpoint is missing"
    )
