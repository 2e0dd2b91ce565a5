"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Qt tests run without a display; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def project(tmp_path):
    """An empty project that is closed after the test."""
    from tfstudio.store import Project

    proj = Project.create(tmp_path / "proj")
    yield proj
    proj.close()


def fake_recording(
    project, name: str = "rec1.wav", duration: float = 10.0, split: str | None = "train"
):
    """Register a recording row without an audio file (store-only tests)."""
    return project.add_recording(
        path=project.root / name,
        sample_rate=16000,
        channels=1,
        frames=int(duration * 16000),
        duration=duration,
        size=int(duration * 32000),
        mtime=0.0,
        content_hash=f"hash-{name}",
        split=split,
    ).recording_id


def write_wav(path: Path, seconds: float, sample_rate: int = 16000, seed: int = 0) -> Path:
    """Noise with a 1 kHz tone during the first second of every four, written in blocks so
    long files need little memory."""
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(seed)
    block = sample_rate * 30
    total = int(seconds * sample_rate)
    with sf.SoundFile(path, "w", samplerate=sample_rate, channels=1, subtype="PCM_16") as f:
        for start in range(0, total, block):
            n = min(block, total - start)
            t = (start + np.arange(n)) / sample_rate
            x = 0.01 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 1000 * t) * ((t % 4) < 1)
            f.write(x.astype(np.float32))
    return path


def audiomoth_comment(path: Path, recorded_at: str) -> Path:
    """The WAV at ``path`` written again with the comment an AudioMoth writes into its files
    ("Recorded at 05:00:00 01/05/2024 (UTC+2) by AudioMoth …"; ``recorded_at`` is the part
    between "at " and " by"), in LIST/INFO/ICMT as libsndfile writes a comment."""
    import soundfile as sf

    data, rate = sf.read(path)
    with sf.SoundFile(path, "w", rate, 1, "PCM_16") as f:
        f.comment = f"Recorded at {recorded_at} by AudioMoth 24F3190160 at medium gain"
        f.write(data)
    return path


@pytest.fixture
def wav_writer():
    """``write_wav`` as a fixture: ``wav_writer(path, seconds, sample_rate=16000, seed=0)``."""
    return write_wav


@contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A real file system of ``megabytes`` mounted at ``folder`` (a tmpfs), to fill up: a full
    disk a test can make on demand. Skips the test where this user may not mount one (only
    root on Linux may)."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounts a small tmpfs (root on Linux)")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        # Lazy: a test's traceback may still hold a memory map of a file there.
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


# A profiling hook's test: is this event (frame, "call" / "return" / "c_return"…, arg) where
# Ctrl+C lands?
Hook = Callable[[Any, str, Any], bool]


@contextmanager
def ctrl_c_when(fires: Hook) -> Iterator[None]:
    """KeyboardInterrupt at the first profiling event ``fires(frame, event, arg)`` is true of."""

    def hook(frame: Any, event: str, arg: Any) -> None:
        if fires(frame, event, arg):
            sys.setprofile(None)
            raise KeyboardInterrupt

    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(None)
