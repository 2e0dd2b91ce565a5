"""Real processes for the store's safety tests: the ``tfstudio`` command line (optionally
without root's power to ignore permission bits) and a connection that holds the write lock."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


def tfstudio(
    *args: object, unprivileged: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the real command line in a child process; ``unprivileged``: one that file
    permissions apply to (see :func:`without_privileges`)."""
    prefix = without_privileges() if unprivileged else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tfstudio", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


def without_privileges() -> list[str]:
    """A command prefix under which permission bits apply. Root may read and write anything;
    as root the child keeps its user but loses the capabilities that allow it."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single 'error:' line a user mistake or a damaged file must give (no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@contextmanager
def write_lock_held(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds the project's write lock (an import or a trainer mid-write)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE classes SET position = position")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()
