"""Job, the GUI's one way to run a child: real children (``python -c``) that print JSON in
pieces, fail, crash, ignore SIGTERM or outlive the object that owns them."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest
from PySide6.QtCore import QObject

from tfstudio.qt.job import CliJob, Job
from tfstudio.session.jobs import JobResult

WAIT_MS = 30_000

unix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix signals")


def python(code: str) -> list[str]:
    """A stand-in for ``tfstudio``: runs ``code`` (the job's arguments follow it)."""
    return [sys.executable, "-c", textwrap.dedent(code)]


def collect(job: Job) -> dict[str, list]:
    seen: dict[str, list] = {"started": [], "line": [], "output": [], "state": []}
    job.started.connect(lambda: seen["started"].append(True))
    job.line.connect(seen["line"].append)
    job.output.connect(seen["output"].append)
    job.state_changed.connect(seen["state"].append)
    return seen


# A child that says it is ready (its SIGTERM handler is set), then waits to be stopped.
PATIENT = """
    import json, signal, sys, time
    signal.signal(signal.SIGTERM, {handler})
    print(json.dumps({{"ready": True}}), flush=True)
    for _ in range(600):
        time.sleep(0.05)
"""


def test_json_written_in_pieces_arrives_once_and_whole(qtbot):
    job = Job(
        ["detect", "--json"],
        program=python("""
            import json, sys, time
            print("a plain line", flush=True)
            sys.stdout.write('{"done": 1, "tot')
            sys.stdout.flush()
            time.sleep(0.2)
            sys.stdout.write('al": 2}\\n{not json}\\n[1, 2]\\n')
            sys.stdout.flush()
            print("to stderr", file=sys.stderr, flush=True)
            sys.stdout.write(json.dumps({"summary": sys.argv[1:]}))  # no final newline
        """),
    )
    seen = collect(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    result = finished.args[0]
    assert isinstance(result, JobResult)
    assert result.status == "done" and result.exit_code == 0 and not result.crashed
    assert seen["output"] == [{"done": 1, "total": 2}, {"summary": ["detect", "--json"]}]
    assert result.result == {"summary": ["detect", "--json"]}  # the last object
    assert seen["line"][0].startswith("$ ") and seen["line"][0].endswith("detect --json")
    assert {"a plain line", "{not json}", "[1, 2]", "to stderr"} <= set(seen["line"])
    assert seen["started"] == [True]
    assert seen["state"] == ["starting", "running", "idle"]
    assert not job.is_running() and job.pid == 0


def test_a_non_zero_exit_fails_with_the_clis_error_line(qtbot):
    job = Job(
        ["detect"],
        program=python("""
            import sys
            print("some progress", file=sys.stderr)
            print("error: no finished training run", file=sys.stderr)
            sys.exit(2)
        """),
    )
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    result = finished.args[0]
    assert result.status == "failed" and result.exit_code == 2 and not result.crashed
    assert result.message == "no finished training run"
    assert result.stderr_tail == ("some progress", "error: no finished training run")


def test_a_traceback_without_an_error_line_names_the_exit_code_and_the_tail(qtbot):
    job = Job(["evaluate"], program=python("raise RuntimeError('boom')"))
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    message = finished.args[0].message
    assert message.startswith("'tfstudio evaluate' exited with code 1")
    assert "RuntimeError: boom" in message


@unix_only
def test_a_child_killed_by_a_signal_is_a_crash(qtbot):
    job = Job(["train"], program=python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    result = finished.args[0]
    assert result.status == "failed" and result.crashed and result.exit_code is None
    assert "crashed" in result.message and not result.forced


@unix_only
def test_stop_asks_and_a_child_that_listens_ends_as_cancelled(qtbot):
    code = PATIENT.format(handler="lambda *a: sys.exit(0)")
    job = Job(["detect"], program=python(code), stop_timeout_s=30)
    with qtbot.waitSignal(job.output, timeout=WAIT_MS):
        job.start()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.stop()
        assert job.state == "stopping"
    result = finished.args[0]
    assert result.status == "cancelled" and result.exit_code == 0 and not result.forced


@unix_only
def test_a_child_that_ignores_stop_is_killed_after_the_timeout(qtbot):
    job = Job(["detect"], program=python(PATIENT.format(handler="signal.SIG_IGN")))
    job.stop_timeout_s = 0.3
    lines = []
    job.line.connect(lines.append)
    with qtbot.waitSignal(job.output, timeout=WAIT_MS):
        job.start()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.stop()
    result = finished.args[0]
    assert result.status == "cancelled" and result.forced and result.crashed
    assert any("did not stop within 0.3 s" in line for line in lines)


@unix_only
def test_stopping_twice_kills_at_once(qtbot):
    job = Job(["detect"], program=python(PATIENT.format(handler="signal.SIG_IGN")))
    job.stop_timeout_s = 60
    with qtbot.waitSignal(job.output, timeout=WAIT_MS):
        job.start()
    with qtbot.waitSignal(job.finished, timeout=5_000) as finished:
        job.stop()
        job.stop()
    assert finished.args[0].forced


@unix_only
def test_shutdown_blocks_until_the_child_is_gone_and_finished_has_been_said(qtbot):
    job = Job(["detect"], program=python(PATIENT.format(handler="signal.SIG_IGN")))
    results = []
    job.finished.connect(results.append)
    with qtbot.waitSignal(job.output, timeout=WAIT_MS):
        job.start()
    pid = job.pid
    job.shutdown(timeout_s=0.3)
    assert len(results) == 1 and results[0].forced
    assert not job.is_running() and not _alive(pid)


def test_a_missing_program_finishes_without_starting(qtbot):
    job = Job(["detect"], program=["/nonexistent/tfstudio"])
    seen = collect(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    result = finished.args[0]
    assert result.status == "failed" and not result.started
    assert result.message.startswith("Could not start 'tfstudio detect'")
    assert seen["started"] == [] and not job.is_running() and job.state == "idle"


def test_starting_twice_is_refused_and_a_job_can_run_again(qtbot):
    job = Job(["detect"], program=python("import sys; print(len(sys.argv))"))
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
        with pytest.raises(RuntimeError, match="already running"):
            job.start()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as again:
        job.start()
    assert again.args[0].status == "done" and again.args[0].result == {}


def test_conclude_is_the_hook_for_what_finished_carries(qtbot):
    class Repairing(Job):
        def conclude(self, result: JobResult) -> object:
            return ("repaired", result.status, result.exit_code)

    job = Repairing(["train"], program=python("raise SystemExit(3)"))
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    assert finished.args[0] == ("repaired", "failed", 3)


@unix_only
@pytest.mark.parametrize("owned", [True, False], ids=["owner-deleted", "job-collected"])
def test_a_destroyed_job_kills_and_reaps_its_child(qtbot, qtlog, owned):
    """No child outlives its window, and Qt never warns "Destroyed while process is running"."""
    owner = QObject() if owned else None
    job = Job(["detect"], owner, program=python(PATIENT.format(handler="signal.SIG_IGN")))
    with qtbot.waitSignal(job.output, timeout=WAIT_MS):
        job.start()
    pid = job.pid
    assert _alive(pid)
    del job
    if owner is not None:
        owner.deleteLater()
        qtbot.wait(50)  # the deferred delete runs in the event loop
    qtbot.waitUntil(lambda: not _alive(pid), timeout=5_000)
    assert not any("Destroyed while process" in r.message for r in qtlog.records)


def test_cli_job_adds_json_once_and_reads_progress_lines(qtbot):
    job = CliJob(
        "detect",
        ["PROJECT", "--json"],
        program=python("""
            import json, sys
            assert sys.argv[1:] == ["detect", "PROJECT", "--json"], sys.argv
            for done in (1, 2):
                print(json.dumps({"done": done, "total": 2, "recording": f"r{done}"}))
            print(json.dumps({"events": 5}))
        """),
    )
    progress = []
    job.progress.connect(lambda *args: progress.append(args))
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS) as finished:
        job.start()
    assert finished.args[0].status == "done", finished.args[0].message
    assert progress == [(1, 2, "r1"), (2, 2, "r2")]
    assert finished.args[0].result == {"events": 5}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
