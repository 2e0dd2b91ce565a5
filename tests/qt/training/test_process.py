"""TrainingJob against the fake engine: typed events, robustness, stop, kill, crash, and the
store repaired when the child could not record its end."""

from __future__ import annotations

import os

import pytest

from tfstudio.qt.training.process import TrainingJob
from tfstudio.store import Project
from tfstudio.train.events import BatchEvent, DoneEvent, EpochEvent, StartEvent

WAIT_MS = 30_000


def collect(proc: TrainingJob) -> dict[str, list]:
    names = ("run_started", "batch", "epoch", "event", "output", "line", "failed")
    seen: dict[str, list] = {k: [] for k in names}
    for name, values in seen.items():
        getattr(proc, name).connect(values.append)
    return seen


def test_a_run_streams_events_and_ends_done(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    seen = collect(proc)
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.start(["--epochs", "2", "--batches", "3", "--noise"])
    result = finished.args[0]
    assert result.status == "done" and result.exit_code == 0
    assert result.best_checkpoint.endswith("best.pt")
    # Typed records; a newer engine's extra keys are dropped there but kept on ``output``.
    assert len(seen["run_started"]) == 1 and isinstance(seen["run_started"][0], StartEvent)
    assert seen["run_started"][0].run == result.run and proc.start_event is not None
    assert seen["output"][0]["future_key"] == [1, 2]
    assert all(isinstance(b, BatchEvent) for b in seen["batch"])
    assert [b.iteration for b in seen["batch"]] == [0, 1, 2, 3, 4, 5]
    assert [e.epoch for e in seen["epoch"]] == [1, 2] and isinstance(seen["epoch"][0], EpochEvent)
    assert {"start", "batch", "epoch", "done"} == {e.kind for e in seen["event"]}
    assert isinstance(seen["event"][-1], DoneEvent)
    # The garbled line that was written in two pieces still arrives once, whole: a batch
    # without its fields, logged as malformed, not drawn. An unknown kind is only output.
    malformed = [line for line in seen["line"] if "malformed" in line]
    assert len(malformed) == 1 and '"partial": 1' in malformed[0]
    assert {"event": "mystery", "x": 1} in seen["output"]
    assert not any("mystery" in line for line in seen["line"])
    assert "a plain log line" in seen["line"] and "{not json}" in seen["line"]
    assert "a warning on stderr" in seen["line"]
    assert seen["failed"] == []
    assert not proc.is_running() and proc.state == "idle"
    with Project.open(empty_root) as project:
        assert project.run(result.run).status == "done"


def test_without_a_start_event_the_run_is_followed_and_found(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    seen = collect(proc)
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.start(["--epochs", "1", "--batches", "2", "--no-start"])
    assert seen["run_started"] == [] and len(seen["batch"]) == 2
    assert finished.args[0].status == "done" and finished.args[0].run is not None


def test_graceful_stop_finishes_the_batch_and_marks_the_run_stopped(
    qtbot, empty_root, fake_program
):
    proc = TrainingJob(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05"])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.stop()
        assert proc.state == "stopping"
    result = finished.args[0]
    assert result.status == "stopped" and not result.forced
    with Project.open(empty_root) as project:
        assert project.run(result.run).status == "stopped"


def test_a_child_that_ignores_stop_is_killed_and_the_store_repaired(
    qtbot, empty_root, fake_program
):
    proc = TrainingJob(empty_root, program=fake_program, stop_timeout_s=0.5)
    failed = []
    proc.failed.connect(failed.append)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05", "--ignore-term"])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.stop()
    result = finished.args[0]
    assert result.status == "stopped" and result.forced and result.crashed
    assert "by force" in result.message and "in time" in result.message  # a timeout
    assert failed == []  # a stop the user asked for is not a failure
    with Project.open(empty_root) as project:
        run = project.run(result.run)
    assert run.status == "stopped" and run.finished_at is not None


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix scheduling priorities")
def test_the_child_yields_the_cpu_to_the_gui(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05"])
    assert os.getpriority(os.PRIO_PROCESS, proc.pid) >= 10
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        proc.kill()


def test_pressing_stop_twice_kills_at_once(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program, stop_timeout_s=60)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05", "--ignore-term"])
    with qtbot.waitSignal(proc.finished, timeout=5_000) as finished:
        proc.stop()
        proc.stop()
    result = finished.args[0]
    assert result.forced
    # The user's choice, not a timeout: it said "it did not finish its batch in time".
    assert result.message.startswith("Stopped at once, as asked (Force stop)")
    assert "in time" not in result.message


def test_a_crash_is_a_failure_with_a_plain_message(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    order = []
    proc.failed.connect(lambda m: order.append(("failed", m)))
    proc.finished.connect(lambda r: order.append(("finished", r)))
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        proc.start(["--epochs", "3", "--batches", "4", "--crash-at", "2"])
    assert [name for name, _ in order] == ["failed", "finished"]
    message, result = order[0][1], order[1][1]
    assert "exit code 1" in message and "Out of GPU memory" in message
    assert result.status == "failed" and result.message == message
    with Project.open(empty_root) as project:
        run = project.run(result.run)
    # The child died without saying so; the GUI side recorded why.
    assert run.status == "failed" and "Out of GPU memory" in run.message


def test_a_nan_loss_fails_with_the_engines_reason(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.failed, timeout=WAIT_MS) as failed:
        proc.start(["--epochs", "3", "--batches", "4", "--nan-at", "3"])
    assert "Loss is NaN at iteration 3" in failed.args[0]
    assert "lower learning rate" in failed.args[0]


def test_a_missing_program_fails_without_a_process(qtbot, empty_root):
    proc = TrainingJob(empty_root, program=["/nonexistent/python"])
    with qtbot.waitSignals([proc.failed, proc.finished], timeout=WAIT_MS):
        proc.start([])
    assert not proc.is_running()


def test_starting_twice_is_refused(qtbot, empty_root, fake_program):
    proc = TrainingJob(empty_root, program=fake_program)
    proc.start(["--epochs", "1", "--batches", "1"])
    with pytest.raises(RuntimeError):
        proc.start([])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        pass
