"""The screenshot command, run as a real child process: a folder that is not a project is one
line and exit 2 before any window (offscreen, a modal message box would wait forever)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_folder_that_is_not_a_project_is_one_error_line(tmp_path):
    folder = tmp_path / "bench"
    (folder / "project").mkdir(parents=True)
    out = tmp_path / "shots"
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio.qt.screenshots", str(out), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 2
    assert "not a tfstudio project" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() or not list(out.glob("*.png"))
    assert not (folder / "project.sqlite").exists()  # nothing was created in it
