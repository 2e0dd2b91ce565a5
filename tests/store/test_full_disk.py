"""A project on a full disk: every command says the disk is full (SQLite reports an I/O error
such as SQLITE_IOERR_SHMSIZE, once worded as a damaged project). A real full file system: a
small tmpfs, where this user may mount one (root on Linux); skipped elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.store.helpers import tfstudio

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="mounts a small tmpfs (root on Linux)",
)


def test_commands_on_a_full_disk_say_so(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        root = disk / "p"
        assert tfstudio("init", root).returncode == 0
        with open(disk / "filler", "wb") as filler:  # every block the disk has left
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        result = tfstudio("info", root)
        assert result.returncode != 0
        assert "the disk holding the project is full" in result.stderr, result.stderr
        assert "deleted while the project was open" not in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)
