"""A mistyped command is a usage mistake with a hint, never the app (issue 14); the GUI has an
entry point of its own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

from tfstudio.cli import main


def test_a_mistyped_command_suggests_the_right_one(capsys):
    assert main(["imprt", "proj"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'imprt'; did you mean 'import'?" in err
    assert err.startswith("usage: tfstudio")


def test_a_word_like_no_command_lists_them(capsys):
    assert main(["zzz", "proj"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'zzz' (commands: bench, check, demo" in err
    assert "did you mean" not in err


def test_the_command_line_says_so_without_opening_the_app(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", "exprot", str(tmp_path / "p"), "--format", "dcase"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "minimal-that-does-not-exist", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "did you mean 'export'?" in result.stderr and "Traceback" not in result.stderr


def test_the_gui_has_its_own_entry_point():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    target = pyproject["project"]["gui-scripts"]["tfstudio-gui"]
    assert target == pyproject["project"]["scripts"]["tfstudio"]
    module, function = target.split(":")
    assert callable(getattr(import_module(module), function))
