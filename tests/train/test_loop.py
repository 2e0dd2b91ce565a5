"""The training generator: events, store rows, schedules, stop/resume, failures."""

from __future__ import annotations

import threading

import pytest
import torch

from tfstudio.model.schedules import make_schedule
from tfstudio.train import TrainConfig, TrainError, checkpoint_paths, train


def _kinds(events):
    return [e.kind for e in events]


def test_events_and_store_rows(demo_project, tiny_config):
    project = demo_project
    events = list(train(project, tiny_config(schedule="drossos", gamma=2.0)))
    kinds = _kinds(events)
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("batch") == 6 and kinds.count("epoch") == 2
    assert "checkpoint" in kinds
    start, done = events[0], events[-1]
    assert start.batches_per_epoch == 3 and start.device == "cpu"
    assert done.status == "done" and done.run == start.run
    assert done.best_checkpoint is not None

    batches = [e for e in events if e.kind == "batch"]
    assert [b.iteration for b in batches] == list(range(6))
    assert [b.epoch for b in batches] == [1, 1, 1, 2, 2, 2]
    schedule = make_schedule("drossos", batches_per_epoch=3, gamma=2.0)
    for b in batches:
        assert b.tf_prob == pytest.approx(schedule.probability(b.iteration))
    assert batches[0].tf_prob > batches[-1].tf_prob  # the schedule moves with iterations

    run = project.run(done.run)
    assert run.status == "done" and run.device == "cpu" and run.finished_at is not None
    assert run.best_checkpoint == "runs/run-1/best.pt"
    assert run.config_dict["schedule"] == "drossos"
    rows = project.metrics(run.id, "batch")
    assert [r["iteration"] for r in rows] == list(range(6))
    for r in rows:
        assert r["tf_prob"] == pytest.approx(schedule.probability(r["iteration"]))
        assert r["loss"] > 0
    epochs = project.metrics(run.id, "epoch")
    assert [r["epoch"] for r in epochs] == [1, 2]
    for r in epochs:
        assert r["val_loss"] > 0 and r["loss"] > 0 and r["er"] >= 0
        assert 0 <= r["f1"] <= 1

    epoch_events = [e for e in events if e.kind == "epoch"]
    assert epoch_events[0].val_loss == pytest.approx(epochs[0]["val_loss"])
    for event in events:
        d = event.to_dict()
        assert d["event"] == event.kind


@pytest.mark.parametrize("name", ["none", "constant", "linear", "exponential", "inverse-sigmoid"])
def test_tf_prob_follows_the_chosen_schedule(demo_project, name, tiny_config):
    cfg = tiny_config(schedule=name, epochs=1, decay_epochs=1.0)
    events = list(train(demo_project, cfg))
    schedule = make_schedule(name, batches_per_epoch=3, decay_epochs=1.0)
    probs = [e.tf_prob for e in events if e.kind == "batch"]
    assert probs == pytest.approx([schedule.probability(i) for i in range(3)])
    if name == "none":
        assert probs == [0.0, 0.0, 0.0]


def test_step_unit_counts_time_steps(demo_project, tiny_config):
    cfg = tiny_config(epochs=1, unit="step", gamma=0.5)
    probs = [e.tf_prob for e in train(demo_project, cfg) if e.kind == "batch"]
    schedule = make_schedule("drossos", batches_per_epoch=3, gamma=0.5)
    assert probs == pytest.approx([schedule.probability(i * 64) for i in range(3)])


def test_checkpoints_load_with_weights_only(demo_project, tiny_config):
    events = list(train(demo_project, tiny_config(epochs=1)))
    best, last = checkpoint_paths(demo_project, events[-1].run)
    for path in (best, last):
        state = torch.load(path, weights_only=True)
        assert state["classes"] == [c.name for c in demo_project.classes()]
        assert state["iteration"] == 3 and state["epoch"] == 1
        assert set(state["normalizer"]) == {"mean", "std", "background_percentile"}
        assert state["train_config"]["seq_len"] == 64
        assert "model" in state and "optimizer" in state and "rng" in state


def test_stop_between_batches_then_resume(demo_project, tiny_config):
    project = demo_project
    stop = threading.Event()
    seen = []
    for event in train(project, tiny_config(epochs=3), stop=stop):
        seen.append(event)
        if event.kind == "batch" and event.iteration == 3:
            stop.set()  # during epoch 2, after its first batch
    assert [e.iteration for e in seen if e.kind == "batch"] == [0, 1, 2, 3]
    done = seen[-1]
    assert done.kind == "done" and done.status == "stopped" and done.iteration == 4
    run = project.run(done.run)
    assert run.status == "stopped" and run.last_checkpoint == "runs/run-1/last.pt"
    assert torch.load(project.root / run.last_checkpoint, weights_only=True)["iteration"] == 4

    resumed = list(train(project, resume=run.id))
    assert resumed[0].kind == "start" and resumed[0].resumed and resumed[0].run == run.id
    batches = [e for e in resumed if e.kind == "batch"]
    assert [b.iteration for b in batches] == [4, 5, 6, 7, 8]
    assert [b.epoch for b in batches] == [2, 2, 3, 3, 3]
    assert resumed[-1].status == "done"
    assert project.run(run.id).status == "done"
    assert len(project.runs()) == 1
    assert [r["iteration"] for r in project.metrics(run.id, "batch")] == list(range(9))
    assert [r["epoch"] for r in project.metrics(run.id, "epoch")] == [1, 2, 3]


def test_resume_reproduces_an_uninterrupted_run(demo_project, tiny_config):
    project = demo_project
    straight = [e.loss for e in train(project, tiny_config()) if e.kind == "batch"]
    stop_after = {"n": 0}

    def stop() -> bool:
        return stop_after["n"] >= 2

    interrupted = []
    for event in train(project, tiny_config(), stop=stop):
        if event.kind == "batch":
            interrupted.append(event.loss)
            stop_after["n"] += 1
    run_id = project.runs()[-1].id
    interrupted += [e.loss for e in train(project, resume=run_id) if e.kind == "batch"]
    assert interrupted == pytest.approx(straight, rel=1e-5)


def test_resume_may_extend_epochs_but_not_change_the_recipe(demo_project, tiny_config):
    project = demo_project
    run_id = list(train(project, tiny_config(epochs=1)))[-1].run
    more = list(train(project, resume=run_id, overrides={"epochs": 2}))
    assert [e.epoch for e in more if e.kind == "epoch"] == [2]
    # Finished with all its epochs: nothing to go on with (it would only rewrite the model
    # its detections came from).
    with pytest.raises(TrainError, match="has finished its 2 epoch"):
        list(train(project, resume=run_id))
    with pytest.raises(TrainError, match="has finished its 2 epoch"):
        list(train(project, resume=run_id, overrides={"epochs": 2}))
    with pytest.raises(TrainError, match="only these may change"):
        list(train(project, resume=run_id, overrides={"lr": 0.1}))
    # The run's own options given again (its command line with --resume N added) change
    # nothing, so they do not stop it: they were refused as changes.
    stored = project.run(run_id).config_dict
    same = {"lr": stored["lr"], "seq_len": stored["seq_len"], "epochs": 3}
    same["model"] = {"channels": stored["model"]["channels"]}
    assert [
        e.epoch for e in train(project, resume=run_id, overrides=same) if e.kind == "epoch"
    ] == [3]
    with pytest.raises(TrainError, match=r"only these may change: .* \(not model\)"):
        list(train(project, resume=run_id, overrides={"model": {"channels": 3}, "epochs": 4}))
    with pytest.raises(TrainError, match="no run"):
        list(train(project, resume=999))


def test_resume_refuses_fewer_epochs_than_the_run_has_begun(demo_project, tiny_config):
    """A run stopped in epoch 3 resumed with --epochs 2 ended 'done' at once and stored
    epochs: 2 for a model trained 3; a mistake, said so."""
    stop = {"now": False}
    events = []
    for event in train(demo_project, tiny_config(epochs=5), stop=lambda: stop["now"]):
        events.append(event)
        if event.kind == "epoch" and event.epoch == 2:
            stop["now"] = True
    run_id = events[-1].run
    assert events[-1].status == "stopped"
    with pytest.raises(TrainError, match=r"--epochs 1 is fewer than the 2 epoch\(s\) run"):
        list(train(demo_project, resume=run_id, overrides={"epochs": 1}))
    assert demo_project.run(run_id).config_dict["epochs"] == 5  # nothing stored
    more = list(train(demo_project, resume=run_id, overrides={"epochs": 3}))
    assert [e.epoch for e in more if e.kind == "epoch"] == [3]


def test_closing_the_generator_marks_the_run_stopped(demo_project, tiny_config):
    gen = train(demo_project, tiny_config())
    for event in gen:
        if event.kind == "batch":
            break
    gen.close()
    run = demo_project.runs()[-1]
    assert run.status == "stopped" and run.last_checkpoint is not None


def test_diverging_loss_fails_the_run_cleanly(demo_project, tiny_config):
    events = list(train(demo_project, tiny_config(lr=1e30, epochs=3)))
    done = events[-1]
    assert done.kind == "done" and done.status == "failed"
    assert "learning rate" in done.message
    run = demo_project.run(done.run)
    assert run.status == "failed" and "learning rate" in run.message
    assert run.finished_at is not None


def test_problems_before_a_run_exists(demo_project, monkeypatch, tiny_config):
    project = demo_project
    with pytest.raises(TrainError, match="CUDA"):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        list(train(project, tiny_config(device="cuda")))
    project.set_split([r.id for r in project.recordings("val")], "test")
    with pytest.raises(TrainError, match="val split"):
        list(train(project, tiny_config(val_within=0.0)))  # with it, the train split's end
    assert project.runs() == []
    with pytest.raises(TrainError, match="unknown preset"):
        TrainConfig.from_preset("huge")
    with pytest.raises(TrainError, match="unknown training option"):
        TrainConfig.from_dict({"epochs": 3, "colour": "red"})
    with pytest.raises(TrainError, match="features"):
        tiny_config(features={"n_fft": 1023})


def test_internal_errors_mark_the_run_failed_and_propagate(demo_project, monkeypatch, tiny_config):
    from tfstudio.train import loop

    def broken(self):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(loop._Trainer, "_validate", broken)
    with pytest.raises(ZeroDivisionError):
        list(train(demo_project, tiny_config(epochs=1)))
    run = demo_project.runs()[-1]
    assert run.status == "failed" and "ZeroDivisionError" in run.message


def _worsening(monkeypatch):
    """Validation that gets worse every epoch after the first."""
    from tfstudio.train import loop

    losses = iter([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    monkeypatch.setattr(loop._Trainer, "_validate", lambda self: (next(losses), 0.5, 0.5))


def test_early_stopping_on_validation_loss(demo_project, monkeypatch, tiny_config):
    _worsening(monkeypatch)
    events = list(train(demo_project, tiny_config(epochs=6, patience=2)))
    assert [e.epoch for e in events if e.kind == "epoch"] == [1, 2, 3]
    done = events[-1]
    assert done.status == "done" and "early stop" in done.message and done.best_epoch == 1
    best = torch.load(
        demo_project.root / demo_project.run(done.run).best_checkpoint, weights_only=True
    )
    assert best["epoch"] == 1


def test_learning_rate_decays_on_plateau(demo_project, monkeypatch, tiny_config):
    _worsening(monkeypatch)
    cfg = tiny_config(epochs=4, patience=10, lr=1e-3, lr_decay_patience=2, lr_decay_factor=0.5)
    rates = [e.lr for e in train(demo_project, cfg) if e.kind == "epoch"]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4])


def test_stop_during_validation_resumes_with_validation(demo_project, tiny_config):
    project = demo_project
    stop = threading.Event()
    events = []
    for event in train(project, tiny_config(epochs=2), stop=stop):
        events.append(event)
        if event.kind == "batch" and event.iteration == 2:  # the last batch of epoch 1
            stop.set()
    assert events[-1].status == "stopped" and not [e for e in events if e.kind == "epoch"]
    resumed = list(train(project, resume=events[-1].run))
    kinds = [e.kind for e in resumed]
    # Straight to epoch 1's validation, then epoch 2.
    assert kinds.index("epoch") < kinds.index("batch")
    assert [e.epoch for e in resumed if e.kind == "epoch"] == [1, 2]
    assert [e.iteration for e in resumed if e.kind == "batch"] == [3, 4, 5]


def test_a_run_whose_process_lives_is_not_resumed_until_it_has_ended(demo_project, tiny_config):
    # A real process stands for another training process still holding the run; once it has
    # ended (or its pid belongs to a younger process) the run may be resumed.
    import sqlite3
    import subprocess
    import sys

    from tfstudio.train import TrainError

    project = demo_project
    stop = threading.Event()
    for event in train(project, tiny_config(epochs=2), stop=stop):
        if event.kind == "batch":
            stop.set()
    run_id = event.run
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        project.update_run(run_id, status="running", pid=holder.pid)
        with pytest.raises(TrainError, match=f"run {run_id} is still running"):
            next(iter(train(project, resume=run_id)))
        # The same pid recorded with another start time: the pid was reused, the run's
        # process is gone. (No API writes a start time; a reused pid cannot be made on
        # demand, so the file is edited as another process's writes would leave it.)
        stamped = project.run(run_id)
        assert stamped.pid_started is not None
        with sqlite3.connect(project.root / "project.sqlite") as db:
            db.execute(
                "UPDATE runs SET pid_started = ? WHERE id = ?",
                (stamped.pid_started - 100.0, run_id),
            )
        assert next(iter(train(project, resume=run_id))).kind == "start"
    finally:
        holder.kill()
        holder.wait()
    project.update_run(run_id, status="running", pid=holder.pid)  # ended, reaped
    resumed = list(train(project, resume=run_id))
    assert resumed[0].resumed and resumed[-1].status == "done"


def test_fp16_training_scales_the_loss_and_resumes_with_the_scaler(
    demo_project, tiny_config, monkeypatch
):
    """The fp16 path (a GPU without bf16: autocast fp16 and a GradScaler) has only ever run
    here: the CPU's autocast has fp16 too, so it is forced on for this test (no GPU needed)."""
    import tfstudio.train.device as device
    import tfstudio.train.loop as loop

    def fp16(dev, enabled):
        return torch.float16 if enabled else None

    monkeypatch.setattr(device, "amp_dtype", fp16)
    monkeypatch.setattr(loop, "amp_dtype", fp16)
    project = demo_project
    stopped = {"n": 0}

    def stop() -> bool:
        return stopped["n"] >= 2

    first = []
    config = tiny_config(model={"channels": 4, "gru_hidden": 8, "context_hidden": 4})
    for event in train(project, config, stop=stop):
        first.append(event)
        if event.kind == "batch":
            stopped["n"] += 1
    assert first[0].amp == "float16"
    run_id = first[0].run
    state = torch.load(checkpoint_paths(project, run_id)[1], weights_only=False)
    assert state["scaler"]["scale"] > 0  # the scaler's state is saved with the run
    rest = list(train(project, resume=run_id))
    assert rest[-1].status == "done"
    losses = [e.loss for e in first + rest if e.kind == "batch"]
    assert len(losses) == 6 and all(torch.isfinite(torch.tensor(losses)))
    # Detection under the same autocast: the CNN in fp16, the rest in float32.
    from tfstudio.train.detect import detect_recordings

    report = detect_recordings(project, project.recordings("test"), threshold=0.0)
    stored = project.events(source="model", run_id=run_id)
    assert len(stored) == report.events > 0
    assert all(0 < e.confidence <= 1 for e in stored)


def test_a_stop_while_features_are_computed_ends_at_once_and_resume_starts_again(
    demo_project, tiny_config
):
    """A big project computes features for minutes before the first batch: a stop there
    does not wait for all of them, and the run, with no checkpoint yet, can be resumed (it
    starts again from the beginning, as the same run)."""
    import shutil

    shutil.rmtree(demo_project.cache_dir / "features", ignore_errors=True)
    asked = []

    def stop_after_two() -> bool:
        asked.append(True)
        return len(asked) > 2

    events = list(train(demo_project, tiny_config(epochs=1), stop=stop_after_two))
    done = events[-1]
    assert done.kind == "done" and done.status == "stopped"
    assert "while computing features (2 of 4 recordings cached)" in done.message  # train + val
    assert [e.kind for e in events].count("prepare") == 2 and "start" not in [
        e.kind for e in events
    ]
    run = demo_project.run(done.run)
    assert run.status == "stopped" and run.last_checkpoint is None

    again = list(train(demo_project, resume=done.run))
    assert again[-1].status == "done" and again[-1].run == done.run
    assert len(demo_project.runs()) == 1
    assert demo_project.run(done.run).best_checkpoint is not None
    # Nothing to start again for a run that is done, nor for one imported from another tool.
    with pytest.raises(TrainError, match="has finished"):
        list(train(demo_project, resume=done.run))
