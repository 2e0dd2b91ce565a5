"""TrainingProcess against the fake engine: signals, robustness, stop, kill, crash."""

from __future__ import annotations

import os
import sys

import pytest

from tfstudio.qt.training.process import TrainingProcess, tfstudio_command, train_command
from tfstudio.store import Project

WAIT_MS = 30_000


def test_the_command_is_this_python_running_tfstudio_train(tmp_path):
    program, args = train_command(tmp_path, ["--epochs", "2"])
    assert program == sys.executable
    assert args == ["-m", "tfstudio", "train", str(tmp_path), "--epochs", "2", "--json"]
    assert train_command(tmp_path, ["--json"])[1].count("--json") == 1


def test_a_frozen_app_runs_itself_for_a_command(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert tfstudio_command(["doctor", "--json"]) == (sys.executable, ["doctor", "--json"])
    assert train_command(tmp_path, [])[1] == ["train", str(tmp_path), "--json"]


def collect(proc: TrainingProcess) -> dict[str, list]:
    seen: dict[str, list] = {k: [] for k in ("started", "batch", "epoch", "event", "log", "failed")}
    for name, values in seen.items():
        getattr(proc, name).connect(values.append)
    return seen


def test_a_run_streams_events_and_ends_done(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    seen = collect(proc)
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.start(["--epochs", "2", "--batches", "3", "--noise"])
    result = finished.args[0]
    assert result["status"] == "done" and result["exit_code"] == 0
    assert result["best_checkpoint"].endswith("best.pt")
    assert len(seen["started"]) == 1 and seen["started"][0]["future_key"] == [1, 2]
    # The garbled line that was written in two pieces still arrives once, whole.
    iterations = [b.get("iteration") for b in seen["batch"]]
    assert iterations == [None, 0, 1, 2, 3, 4, 5]
    assert [e["epoch"] for e in seen["epoch"]] == [1, 2]
    assert {"start", "batch", "epoch", "done", "mystery"} <= {e["event"] for e in seen["event"]}
    assert "a plain log line" in seen["log"] and "{not json}" in seen["log"]
    assert "a warning on stderr" in seen["log"]
    assert seen["failed"] == []
    assert not proc.is_running() and proc.state == "idle"
    with Project.open(empty_root) as project:
        assert project.run(result["run"]).status == "done"


def test_without_a_start_event_started_is_still_emitted(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    seen = collect(proc)
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        proc.start(["--epochs", "1", "--batches", "2", "--no-start"])
    assert len(seen["started"]) == 1 and len(seen["batch"]) == 2


def test_graceful_stop_finishes_the_batch_and_marks_the_run_stopped(
    qtbot, empty_root, fake_program
):
    proc = TrainingProcess(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05"])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.stop()
        assert proc.state == "stopping"
    result = finished.args[0]
    assert result["status"] == "stopped" and not result["forced"]
    with Project.open(empty_root) as project:
        assert project.run(result["run"]).status == "stopped"


def test_a_child_that_ignores_stop_is_killed_and_the_store_repaired(
    qtbot, empty_root, fake_program
):
    proc = TrainingProcess(empty_root, program=fake_program, stop_timeout_s=0.5)
    failed = []
    proc.failed.connect(failed.append)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05", "--ignore-term"])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS) as finished:
        proc.stop()
    result = finished.args[0]
    assert result["status"] == "stopped" and result["forced"] and result["crashed"]
    assert "by force" in result["message"]
    assert failed == []  # a stop the user asked for is not a failure
    with Project.open(empty_root) as project:
        run = project.run(result["run"])
    assert run.status == "stopped" and run.finished_at is not None


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix scheduling priorities")
def test_the_child_yields_the_cpu_to_the_gui(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05"])
    assert os.getpriority(os.PRIO_PROCESS, proc.pid) >= 10
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        proc.kill()


def test_pressing_stop_twice_kills_at_once(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program, stop_timeout_s=60)
    with qtbot.waitSignal(proc.batch, timeout=WAIT_MS):
        proc.start(["--epochs", "100", "--batches", "10", "--delay", "0.05", "--ignore-term"])
    with qtbot.waitSignal(proc.finished, timeout=5_000) as finished:
        proc.stop()
        proc.stop()
    assert finished.args[0]["forced"]


def test_a_crash_is_a_failure_with_a_plain_message(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    order = []
    proc.failed.connect(lambda m: order.append(("failed", m)))
    proc.finished.connect(lambda r: order.append(("finished", r)))
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        proc.start(["--epochs", "3", "--batches", "4", "--crash-at", "2"])
    assert [name for name, _ in order] == ["failed", "finished"]
    message, result = order[0][1], order[1][1]
    assert "exit code 1" in message and "Out of GPU memory" in message
    assert result["status"] == "failed" and result["message"] == message
    with Project.open(empty_root) as project:
        run = project.run(result["run"])
    # The child died without saying so; the GUI side recorded why.
    assert run.status == "failed" and "Out of GPU memory" in run.message


def test_a_nan_loss_fails_with_the_engines_reason(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    with qtbot.waitSignal(proc.failed, timeout=WAIT_MS) as failed:
        proc.start(["--epochs", "3", "--batches", "4", "--nan-at", "3"])
    assert "Loss is NaN at iteration 3" in failed.args[0]
    assert "lower learning rate" in failed.args[0]


def test_a_missing_program_fails_without_a_process(qtbot, empty_root):
    proc = TrainingProcess(empty_root, program=["/nonexistent/python"])
    with qtbot.waitSignals([proc.failed, proc.finished], timeout=WAIT_MS):
        proc.start([])
    assert not proc.is_running()


def test_starting_twice_is_refused(qtbot, empty_root, fake_program):
    proc = TrainingProcess(empty_root, program=fake_program)
    proc.start(["--epochs", "1", "--batches", "1"])
    with pytest.raises(RuntimeError):
        proc.start([])
    with qtbot.waitSignal(proc.finished, timeout=WAIT_MS):
        pass
