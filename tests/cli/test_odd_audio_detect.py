"""tfstudio detect on recordings whose audio turns out damaged when it is read: the others are
still detected on and stored, and every one left out is named with what is wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.store.helpers import tfstudio
from tfstudio.store import Project
from tfstudio.train.layout import posteriors_file

SR = 22050  # the fast preset's rate: no resampling, no note about it


@pytest.fixture
def trained(trained_demo):
    return trained_demo


def _noise(seconds: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((int(seconds * SR), 1)) * 0.1).astype(
        np.float32
    )


def _damaged_flac(path):
    """A FLAC whose header and tail are sound (the import takes it) but whose middle is not."""
    sf.write(path, _noise(4.0, 1), SR)
    data = bytearray(path.read_bytes())
    at = len(data) // 3
    data[at : at + 2000] = np.random.default_rng(1).integers(0, 256, 2000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def test_recordings_that_cannot_be_read_are_named_and_the_others_detected(trained, tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "a good one.wav", _noise(3.0, 2), SR)
    _damaged_flac(audio / "b damaged.flac")
    nan = _noise(2.0, 3)
    nan[SR : SR + 10] = np.nan
    sf.write(audio / "c nan.wav", nan, SR, subtype="FLOAT")
    sf.write(audio / "d good too.wav", _noise(2.0, 4), SR)

    result = tfstudio("detect", trained, audio, "-q")

    # Done, with what was left out said (exit 3, as for any skipped PATH): the summary stays.
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2
    assert f"skipped {audio / 'b damaged.flac'}: damaged audio" in skipped[0]
    assert f"skipped {audio / 'c nan.wav'}: holds samples that are not numbers" in skipped[1]
    assert "from 1.00 s on" in skipped[1]
    assert "a good one.wav:" in result.stdout and "d good too.wav:" in result.stdout
    assert "on 2 recording(s)" in result.stdout
    with Project.open(trained) as project:
        run = project.runs()[-1]
        by_name = {rec.name: rec for rec in project.recordings()}
        for name in ("a good one.wav", "d good too.wav"):
            assert posteriors_file(project, run.id, by_name[name]).exists(), name
        for name in ("b damaged.flac", "c nan.wav"):
            assert not posteriors_file(project, run.id, by_name[name]).exists(), name


def test_the_json_summary_lists_what_was_left_out(trained, tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "good.wav", _noise(2.0, 2), SR)
    _damaged_flac(audio / "damaged.flac")
    result = tfstudio("detect", trained, audio, "--json")
    assert result.returncode == 3, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["event"] == "summary" and summary["recordings"] == 1
    [line] = summary["left_out"]
    assert line.startswith(f"{audio / 'damaged.flac'}: damaged audio")
    assert summary["skipped"] == [line]


def test_json_progress_names_same_named_recordings_with_their_folders(trained, tmp_path):
    """An AudioMoth card of two sites: each progress line names its recording as the app
    shows it, so a program following the lines can tell the sites apart."""
    audio = tmp_path / "card"
    for i, site in enumerate(("site1", "site2")):
        (audio / site).mkdir(parents=True)
        sf.write(audio / site / "20240501_050000.WAV", _noise(2.0, 10 + i), SR)
    result = tfstudio("detect", trained, audio, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    named = sorted({line["recording"] for line in lines if line.get("event") == "progress"})
    assert named == ["site1/20240501_050000.WAV", "site2/20240501_050000.WAV"]
    # The counts per recording too: the same file name at two sites is two recordings.
    summary = lines[-1]
    assert sorted(summary["per_recording"]) == named
