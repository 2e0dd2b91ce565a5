"""Training in child processes: SIGKILL then resume, SIGTERM, and DDP with gloo on the CPU."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from tfstudio.store import Project

pytestmark = pytest.mark.slow

TINY_ARGS = [
    "--batch-size", "4", "--seq-len", "64", "--channels", "4", "--gru-hidden", "8",
    "--device", "cpu", "--json",
]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Children import torch from scratch; let them keep compiled bytecode between tests
    # (outside the repository) instead of compiling every module on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "tfstudio-test-pycache")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tfstudio", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _read_until(proc: subprocess.Popen, predicate) -> list[dict]:
    lines = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        if predicate(lines[-1]):
            return lines
    proc.wait()
    raise AssertionError(
        f"child ended early (rc {proc.returncode}): {proc.stderr.read() if proc.stderr else ''}"
    )


@pytest.fixture
def demo_root(demo_template, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    return root


def test_sigkill_then_resume(demo_root):
    # A checkpoint after every batch, so the kill lands after a few of them.
    proc = _start(
        "train", str(demo_root), "--epochs", "2", "--max-batches", "4", "--checkpoint-every", "0",
        *TINY_ARGS,
    )  # fmt: skip
    try:
        seen = _read_until(proc, lambda x: x["event"] == "checkpoint" and x["iteration"] >= 3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    run_id = seen[0]["run"]
    with Project.open(demo_root) as project:
        run = project.run(run_id)
        # Opening the project sees the trainer's process is gone (issue 10).
        assert (run.status, run.message) == ("stopped", "process ended unexpectedly")
        saved = torch.load(project.root / run.last_checkpoint, weights_only=True)["iteration"]
    assert saved >= 3

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfstudio",
            "train",
            str(demo_root),
            "--resume",
            str(run_id),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    lines = [json.loads(x) for x in resumed.stdout.splitlines()]
    assert lines[0]["event"] == "start" and lines[0]["resumed"] and lines[0]["iteration"] == saved
    batches = [x["iteration"] for x in lines if x["event"] == "batch"]
    assert batches[0] == saved and batches == list(range(saved, saved + len(batches)))
    assert lines[-1]["event"] == "done" and lines[-1]["status"] == "done"
    total = lines[0]["batches_per_epoch"] * 2
    assert batches[-1] == total - 1
    with Project.open(demo_root) as project:
        assert project.run(run_id).status == "done"
        # Iterations done twice (after the last checkpoint, before the kill) are stored once.
        assert [r["iteration"] for r in project.metrics(run_id, "batch")] == list(range(total))


def test_sigterm_stops_gracefully(demo_root):
    proc = _start("train", str(demo_root), "--epochs", "50", *TINY_ARGS)
    try:
        seen = _read_until(proc, lambda x: x["event"] == "batch")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = seen + [json.loads(x) for x in out.splitlines()]
    done = lines[-1]
    assert done["event"] == "done" and done["status"] == "stopped" and done["last_checkpoint"]
    with Project.open(demo_root) as project:
        run = project.run(done["run"])
        assert run.status == "stopped" and run.last_checkpoint and run.finished_at


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_to_the_process_group_with_loader_workers_stops_gracefully(demo_root, sig):
    """A terminal's Ctrl+C (and a service manager's SIGTERM) reach every process of the
    group: loader workers once died of it with tracebacks and failed the run."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfstudio", "train", str(demo_root), "--epochs", "50",
         "--workers", "1", *TINY_ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # its own group, as a shell job is
    )  # fmt: skip
    try:
        seen = _read_until(proc, lambda x: x["event"] == "batch")
        os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "DataLoader worker" not in err, err
    done = [*seen, *map(json.loads, out.splitlines())][-1]
    assert done["event"] == "done" and done["status"] == "stopped" and done["last_checkpoint"]


DDP_ARGS = ["--standalone", "--nproc_per_node=2", "-m", "tfstudio", "train"]


def test_ddp_on_cpu_with_gloo(demo_root):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            *DDP_ARGS,
            str(demo_root),
            "--epochs",
            "2",
            *TINY_ARGS,
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=400,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    starts = [x for x in lines if x["event"] == "start"]
    assert len(starts) == 1 and starts[0]["world_size"] == 2  # only rank 0 speaks
    # 3 recordings of 301 frames → 27 windows of 64; 14 per rank → 4 batches of 4.
    assert starts[0]["batches_per_epoch"] == 4
    assert [x["iteration"] for x in lines if x["event"] == "batch"] == list(range(8))
    assert lines[-1]["event"] == "done" and lines[-1]["status"] == "done"
    with Project.open(demo_root) as project:
        (run,) = project.runs()
        assert run.status == "done" and run.best_checkpoint
        assert len(project.metrics(run.id, "batch")) == 8
        assert len(project.metrics(run.id, "epoch")) == 2
