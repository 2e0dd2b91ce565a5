"""Several real processes on one project: no lost write, no 'database is locked', and a
SIGKILL mid-transaction leaves a sound database with every earlier commit."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import fake_recording
from tfstudio.store import Project

WRITER = Path(__file__).with_name("writer.py")
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}


def _spawn(root, rec, cls, count, batch, tag):
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(root), str(rec), str(cls), str(count), str(batch), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def test_concurrent_writers_lose_nothing(project):
    rec = fake_recording(project)
    cls = project.add_class("bird")
    writers = [_spawn(project.root, rec, cls.id, 60, 3, f"w{k}") for k in range(3)]
    # the test process writes too, like a GUI while a trainer runs
    mine = [project.add_event(rec, cls.id, 100 + i, 101 + i).id for i in range(40)]
    reported: list[int] = []
    for w in writers:
        out, errors = w.communicate(timeout=120)
        assert w.returncode == 0, errors
        assert "locked" not in errors
        reported += [int(x) for line in out.split() for x in [line]]
    ids = {e.id for e in project.events()}
    assert len(reported) == 3 * 60 * 3
    assert set(reported) <= ids and set(mine) <= ids
    assert len(ids) == 3 * 60 * 3 + 40


def test_sigkill_mid_write_keeps_every_committed_edit(tmp_path):
    root = tmp_path / "p"
    with Project.create(root) as project:
        rec = fake_recording(project)
        cls = project.add_class("bird").id
    # big batches so the kill very likely lands inside an open transaction
    writer = _spawn(root, rec, cls, 10_000, 400, "kill")
    committed: list[int] = []
    assert writer.stdout is not None
    for line in writer.stdout:
        committed += [int(x) for x in line.split()]
        if len(committed) >= 20 * 400:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    writer.stdout.close()
    writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL

    with Project.open(root) as project:
        assert project.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {e.id for e in project.events()}
        assert set(committed) <= ids
        # every batch is whole: a transaction is all or nothing
        assert len(ids) % 400 == 0
        # the history still undoes the last committed batch as one step
        before = len(ids)
        assert project.undo() is not None
        assert len(project.events()) in (before, before - 400)
