"""The screenshot command: run as a real child process, a folder that is not a project is one
line and exit 2 before any window (offscreen, a modal message box would wait forever); a
modal box that opens while it waits for a job is closed and its text raised."""

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


def test_a_modal_warning_while_waiting_is_raised_not_waited_on(qtbot):
    """A failed detection warns in a modal box; the screenshot tool, waiting for the job's
    signal, used to sit under it until its timeout (300 s seen). Now the box is closed and its
    text raised."""
    import time

    import pytest
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

    from tfstudio.qt.screenshots import _wait_for

    class Job(QObject):
        finished = Signal(object)

    job = Job()
    parent = QWidget()
    qtbot.addWidget(parent)
    QTimer.singleShot(
        50, lambda: QMessageBox.warning(parent, "Detection failed", "checkpoint file is missing")
    )

    def rescue() -> None:  # without the fix the box would wait for ever: close it late
        widget = QApplication.activeModalWidget()
        if widget is not None:
            widget.close()

    QTimer.singleShot(15_000, rescue)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="Detection failed: checkpoint file is missing"):
        _wait_for(QApplication.instance(), job.finished, timeout_s=20)
    assert time.monotonic() - start < 10
    assert QApplication.activeModalWidget() is None
