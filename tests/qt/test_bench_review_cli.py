"""The threshold slider's benchmark, run as a real child process on a short recording: it
must make a recording of the length asked for, draw detections from the run's posteriors and
print its timings (it once made a 0.08 s file for 5 minutes and failed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import soundfile as sf


def _run(workdir, minutes: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tfstudio.qt.bench_review",
            "--minutes",
            minutes,
            "--classes",
            "3",
            "--per-class",
            "6",
            "--steps",
            "3",
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "TFSTUDIO_NO_AUDIO": "1"},
    )


def test_the_review_benchmark_draws_detections_from_a_recording_of_the_length_asked(tmp_path):
    workdir = tmp_path / "bench"
    result = _run(workdir, "0.5")
    assert result.returncode == 0, result.stderr
    (wav,) = workdir.glob("long-*.wav")
    assert sf.info(str(wav)).duration == 30.0
    assert "recording 0.5 min" in result.stdout
    drawn = re.search(r"detections at 0\.50: (\d+)", result.stdout)
    assert drawn is not None and int(drawn.group(1)) > 0, result.stdout
    assert "repaint" in result.stdout and "release: stored" in result.stdout

    # A cached file of another length is made again, not reused.
    wav.write_bytes(b"")
    assert _run(workdir, "0.5").returncode == 0
    assert sf.info(str(wav)).duration == 30.0
