"""tfstudio detect's closing line on very short recordings: the audio's length with enough
digits, and no speed where the time is the model's start (a 10 ms file said "0 s of audio …
(0× real time)")."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from tests.store.helpers import tfstudio

SR = 22050  # the fast preset's rate


@pytest.fixture
def trained(trained_demo):
    return trained_demo


def _wav(path, seconds):
    noise = np.random.default_rng(0).standard_normal(round(seconds * SR)).astype("float32")
    sf.write(path, noise * 0.1, SR)
    return path


def _last_line(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_a_10_ms_recording_is_said_in_hundredths_without_a_speed(trained, tmp_path):
    line = _last_line(tfstudio("detect", trained, "--run", "1", _wav(tmp_path / "t.wav", 0.01)))
    assert re.fullmatch(
        r"run 1: \d+ event\(s\) on 1 recording\(s\), 0.01 s of audio in [\d.]+ s", line
    ), line


def test_seconds_of_audio_keep_their_speed(trained, tmp_path):
    line = _last_line(tfstudio("detect", trained, "--run", "1", _wav(tmp_path / "m.wav", 2.5)))
    match = re.search(r", 2.5 s of audio in [\d.]+ s \(([\d.]+)× real time\)$", line)
    assert match is not None, line
    assert float(match.group(1)) > 0
