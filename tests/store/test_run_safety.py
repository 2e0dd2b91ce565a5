"""Runs survive what happens to their processes and folders (issue 10, cases 2 and 7): a killed
run is marked stopped when the project is next opened, a live one is left alone, a reused pid
is not mistaken for the run's process, and a new run never takes a folder already on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.store.helpers import ENV, tfstudio, write_lock_held
from tfstudio.store import DB_NAME, Project

# A trainer as the store sees it: a run in its own process, running until killed.
TRAINER = """
import os, sys, time
from tfstudio.store import Project
with Project.open(sys.argv[1]) as project:
    run = project.create_run({"preset": "fast"})
    project.update_run(run.id, status="running", pid=os.getpid(), started_at=time.time())
    print(run.id, flush=True)
    time.sleep(600)
"""


def _start_trainer(root) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stdout:
        proc.stdout.close()


def test_a_killed_run_is_marked_stopped_on_open(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    proc, run_id = _start_trainer(root)
    try:
        with Project.open(root) as project:  # while it lives
            run = project.run(run_id)
            assert run.status == "running" and run.pid == proc.pid and run.host
            assert run.pid_started is not None
    finally:
        _kill(proc)
    with Project.open(root) as project:
        run = project.run(run_id)
        assert (run.status, run.message) == ("stopped", "process ended unexpectedly")
        assert run.finished_at is not None
    info = tfstudio("info", root)
    assert info.returncode == 0, info.stderr
    assert f"{run_id}  stopped" in info.stdout and "process ended unexpectedly" in info.stdout
    listed = json.loads(tfstudio("info", root, "--json").stdout)["run_list"]
    assert [(r["id"], r["status"]) for r in listed] == [(run_id, "stopped")]


def test_a_reused_pid_is_not_taken_for_the_run(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    proc, run_id = _start_trainer(root)
    _kill(proc)
    # Another process now has a pid the run recorded: make the run name a live process's pid
    # (this test's own parent), started at another time than the run's process.
    with Project.open(root, mark_dead=False) as project:
        project.conn.execute(
            "UPDATE runs SET status = 'running', pid = ? WHERE id = ?", (os.getppid(), run_id)
        )
        assert [r.id for r in project.dead_runs()] == [run_id]
    with Project.open(root) as project:
        assert project.run(run_id).status == "stopped"


def test_a_run_on_another_machine_is_left_alone(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    proc, run_id = _start_trainer(root)
    _kill(proc)
    with Project.open(root, mark_dead=False) as project:
        # A trainer on a GPU server writing to a shared folder: its pid means nothing here.
        project.conn.execute("UPDATE runs SET host = 'gpu-server-7' WHERE id = ?", (run_id,))
    with Project.open(root) as project:
        assert project.run(run_id).status == "running"


def test_opening_does_not_wait_to_mark_a_dead_run(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    proc, run_id = _start_trainer(root)
    _kill(proc)
    with write_lock_held(root / DB_NAME):
        start = time.monotonic()
        with Project.open(root) as project:
            assert project.run(run_id).status == "running"  # marked at a later open
        assert time.monotonic() - start < 20
    with Project.open(root) as project:
        assert project.run(run_id).status == "stopped"


def test_a_new_run_never_reuses_a_folder_on_disk(tmp_path):
    root = tmp_path / "p"
    with Project.create(root) as project:
        first = project.create_run({})
        (project.run_dir(first.id) / "best.pt").write_bytes(b"the only copy of run 1")
    # The database is replaced (restored from an old backup, or deleted and made anew): it
    # knows no runs, but runs/run-1 and a stray runs/run-2 are still on disk.
    (root / DB_NAME).unlink()
    (root / "runs" / "run-2").mkdir()
    with Project.create(root) as project:
        run = project.create_run({})
        assert run.id == 3 and project.run_dir(3).is_dir()
        assert project.create_run({}).id == 4
    assert (root / "runs" / "run-1" / "best.pt").read_bytes() == b"the only copy of run 1"
