"""Fixtures the command-line tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main


@pytest.fixture
def two_recordings(tmp_path) -> Path:
    """A project with rec1.wav and rec2.wav (9 s of silence each, 8 kHz)."""
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("rec1.wav", "rec2.wav"):
        sf.write(audio / name, np.zeros(9 * 8000, dtype="float32"), 8000)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    return root
