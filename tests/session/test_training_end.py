"""How a training child's ending is decided and recorded on its run (real project files)."""

from __future__ import annotations

import os
import time

from tfstudio.session.jobs import JobResult
from tfstudio.session.training_end import settle_run
from tfstudio.store import Project
from tfstudio.train.events import DoneEvent, TrainingSummary


def _project_with_run(tmp_path, status="running"):
    root = tmp_path / "p"
    with Project.create(root) as project:
        run = project.create_run({"preset": "fast"})
        if status != "queued":
            project.update_run(run.id, status=status, message="from the engine")
    return root, run.id


def _settle(root, result, **kwargs):
    values = dict(done=None, stop_requested=False, run_id=None, pid=0, started_at=time.time())
    return settle_run(root, result, **{**values, **kwargs})


def _status(root, run_id):
    with Project.open(root) as project:
        run = project.run(run_id)
        return run.status, run.message


def test_a_crash_without_a_record_fails_the_run_with_the_reason(tmp_path):
    root, run_id = _project_with_run(tmp_path)
    crash = JobResult("failed", exit_code=None, crashed=True, stderr_tail=("MemoryError",))
    settled = _settle(root, crash, run_id=run_id)
    assert settled.summary.status == "failed" and settled.run_id == run_id
    status, message = _status(root, run_id)
    assert status == "failed" and message == settled.summary.message != ""
    assert settled.summary.kind == "finished" and settled.summary.crashed is True


def test_the_run_is_found_by_the_childs_pid_when_its_stream_never_named_it(tmp_path):
    root, run_id = _project_with_run(tmp_path)
    settled = _settle(root, JobResult("failed", exit_code=3), pid=os.getpid())
    assert settled.run_id == run_id and _status(root, run_id)[0] == "failed"
    # Another process's run is never taken for this child's.
    root2, run2 = _project_with_run(tmp_path / "other")
    settled = _settle(root2, JobResult("failed", exit_code=3), pid=os.getpid() + 1)
    assert settled.run_id is None and _status(root2, run2)[0] == "running"


def test_a_requested_stop_is_a_stopped_run_that_can_be_resumed(tmp_path):
    root, run_id = _project_with_run(tmp_path)
    settled = _settle(
        root, JobResult("cancelled", exit_code=-15), stop_requested=True, run_id=run_id
    )
    assert settled.summary.status == "stopped"
    assert _status(root, run_id) == ("stopped", settled.summary.message)
    assert "resume" in settled.summary.message.lower()


def test_a_clean_exit_that_never_said_done_and_left_the_run_open_is_a_failure(tmp_path):
    root, run_id = _project_with_run(tmp_path)
    settled = _settle(root, JobResult("done", exit_code=0), run_id=run_id)
    assert settled.summary.status == "failed" and _status(root, run_id)[0] == "failed"


def test_the_engines_own_record_wins_and_is_not_rewritten(tmp_path):
    root, run_id = _project_with_run(tmp_path, status="done")
    done = DoneEvent(run=run_id, status="done", best_checkpoint="runs/run-1/best.pt", message="ok")
    settled = _settle(root, JobResult("failed", exit_code=1), done=done, run_id=run_id)
    assert settled.summary.status == "done"
    assert settled.summary.best_checkpoint == "runs/run-1/best.pt"
    assert _status(root, run_id) == ("done", "from the engine")


def test_the_summary_carries_the_done_event_and_the_exit_under_the_old_keys(tmp_path):
    root, run_id = _project_with_run(tmp_path, status="stopped")
    done = DoneEvent(
        run=run_id,
        status="stopped",
        best_checkpoint=None,
        message="stopped on request",
        last_checkpoint="runs/run-1/last.pt",
        epoch=2,
        iteration=24,
        best_epoch=1,
    )
    result = JobResult("cancelled", exit_code=0)
    settled = _settle(root, result, done=done, stop_requested=True, run_id=run_id)
    summary = settled.summary
    assert isinstance(summary, TrainingSummary)
    assert (summary.last_checkpoint, summary.epoch, summary.iteration, summary.best_epoch) == (
        "runs/run-1/last.pt",
        2,
        24,
        1,
    )
    assert (summary.status, summary.message, summary.exit_code) == (
        "stopped",
        "stopped on request",
        0,
    )
    # The dict it replaced: the done event's keys, overwritten in place, then the exit's.
    data = summary.to_dict()
    legacy = {
        **done.to_dict(),
        "event": "finished",
        "run": run_id,
        "status": "stopped",
        "exit_code": 0,
        "crashed": False,
        "forced": False,
        "message": "stopped on request",
        "elapsed_s": data["elapsed_s"],
    }
    assert list(data) == list(legacy) and data == legacy


def test_an_unreadable_project_gives_a_warning_not_an_exception(tmp_path):
    settled = _settle(tmp_path / "gone", JobResult("failed", exit_code=1), run_id=4)
    assert settled.summary.status == "failed" and settled.run_id == 4
    assert settled.warning.startswith("could not read or record the run's status")
