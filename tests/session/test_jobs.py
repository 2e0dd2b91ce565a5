"""A tfstudio child's command line and environment, and why it failed, without Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import tfstudio
from tfstudio.session.jobs import child_variables, exit_failure, tfstudio_command, train_command


def test_the_command_is_this_python_running_tfstudio_train(tmp_path):
    program, args = train_command(tmp_path, ["--epochs", "2"])
    assert program == sys.executable
    assert args == ["-m", "tfstudio", "train", str(tmp_path), "--epochs", "2", "--json"]
    assert train_command(tmp_path, ["--json"])[1].count("--json") == 1


def test_a_frozen_app_runs_itself_for_a_command(tmp_path, monkeypatch):
    from tfstudio.paths import self_command

    assert self_command() == [sys.executable, "-m", "tfstudio"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    # The start-up benchmark and the screenshot script start the app the same way.
    assert self_command() == [sys.executable]
    assert tfstudio_command(["doctor", "--json"]) == (sys.executable, ["doctor", "--json"])
    assert train_command(tmp_path, [])[1] == ["train", str(tmp_path), "--json"]


def test_a_child_prints_unbuffered_utf8_and_imports_this_tfstudio(monkeypatch):
    here = str(Path(tfstudio.__file__).resolve().parents[1])
    env = child_variables({"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONUNBUFFERED"] == "1" and env["PYTHONIOENCODING"] == "utf-8"
    assert env["PYTHONPATH"] == here + os.pathsep + "/elsewhere"
    assert child_variables({})["PYTHONPATH"] == here
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert "PYTHONPATH" not in child_variables({"PYTHONPATH": "/elsewhere"})


def test_a_failure_is_the_clis_error_line_else_the_exit_and_the_tail():
    tail = ["Traceback (most recent call last):", "  ...", "error: no classes"]
    assert exit_failure("tfstudio detect", tail, 2, False) == "no classes"
    assert exit_failure("tfstudio detect", [], 3, False) == "'tfstudio detect' exited with code 3"
    crashed = exit_failure("tfstudio train", [f"line {i}" for i in range(9)], None, True)
    assert crashed.splitlines() == ["the 'tfstudio train' process crashed"] + [
        f"line {i}" for i in range(3, 9)
    ]
