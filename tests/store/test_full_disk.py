"""A project on a full disk: every command says the disk is full (SQLite reports an I/O error
such as SQLITE_IOERR_SHMSIZE, once worded as a damaged project). A real full file system: a
small tmpfs, where this user may mount one (root on Linux); skipped elsewhere."""

from __future__ import annotations

from tests.conftest import small_disk
from tests.store.helpers import tfstudio


def test_commands_on_a_full_disk_say_so(tmp_path):
    with small_disk(tmp_path / "disk", 4) as disk:
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
