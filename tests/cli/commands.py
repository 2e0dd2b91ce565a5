"""What the command-line tests of label files from other tools share: the real command in a
child process, and a project of silent WAV files at their own sample rates."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from tfstudio.cli import main


def tfstudio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``tfstudio ARGS`` in a child process; a traceback on its stderr fails the test."""
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def project_of(tmp_path: Path, recordings: Iterable[tuple[str, int, float]]) -> Path:
    """A project in ``tmp_path / "proj"`` with a silent WAV for each (name, sample rate,
    seconds) imported from ``tmp_path / "audio"`` (names may hold folders)."""
    audio = tmp_path / "audio"
    for name, rate, seconds in recordings:
        (audio / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(audio / name, np.zeros(int(rate * seconds), dtype="float32"), rate)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    return root
