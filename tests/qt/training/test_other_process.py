"""A run another process trains (``tfstudio train`` in a terminal) as the window shows it."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.qt.conftest import open_window

pytestmark = pytest.mark.slow

TINY = ["--max-batches", "2", "--channels", "4", "--gru-hidden", "8", "--seq-len", "64"]


def test_the_training_dock_follows_a_run_trained_by_another_process(qtbot, tmp_path):
    """The project opened while ``tfstudio train`` trains it: the Training dock said
    "running" with the curves of the moment it opened, and still did after the run stopped."""
    from tfstudio.cli import main

    root = tmp_path / "proj"
    assert main(["demo", str(root), "--recordings", "4", "--seconds", "4"]) == 0
    command = [sys.executable, "-m", "tfstudio", "train", str(root), "--json", "--device", "cpu"]
    child = subprocess.Popen(
        [*command, *TINY, "--epochs", "1000", "--patience", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if '"event": "epoch"' in line:
                break
        win = open_window(qtbot, root)
        panel = win.training
        assert "another process" in panel.status_label.text()
        seen = len(panel.epoch_val)
        qtbot.waitUntil(lambda: len(panel.epoch_val) > seen + 1, timeout=60_000)
        assert not panel.resume_button.isEnabled()
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=60)
    qtbot.waitUntil(lambda: "stopped" in panel.status_label.text(), timeout=10_000)
    assert "another process" not in panel.status_label.text()
    assert panel.resume_button.isEnabled()
