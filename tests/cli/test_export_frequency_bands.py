"""Exporting time–frequency boxes (a bat's call marked 40–80 kHz in Raven) to a format of times
only (DCASE, Label Studio, Audition, REAPER) writes the times and says, per recording, that the
band was left behind; formats that hold the band say nothing and keep it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main
from tfstudio.store import Project


@pytest.fixture
def bat_project(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    rng = np.random.default_rng(0)
    for name in ("night1.wav", "night2.wav"):
        sf.write(audio / name, (0.01 * rng.standard_normal(384_000)).astype("float32"), 384_000,
                 subtype="PCM_16")  # fmt: skip
    (audio / "night1.Table.1.selections.txt").write_text(
        "Selection\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tSpecies\n"
        "1\t0.1\t0.11\t40000\t80000\tPipistrellus\n"
        "2\t0.5\t0.51\t42000\t79000\tPipistrellus\n"
    )
    (audio / "night2.txt").write_text("0.2\t0.3\tbuzz\n")  # times only
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    for labels in ("night1.Table.1.selections.txt", "night2.txt"):
        assert main(["import", str(root), "--labels", str(audio / labels), "-q"]) == 0
    return root


@pytest.mark.parametrize("fmt", ["dcase", "labelstudio", "audition", "reaper"])
def test_a_band_the_format_cannot_hold_is_named_per_recording(bat_project, tmp_path, fmt, capsys):
    capsys.readouterr()
    out = tmp_path / f"out-{fmt}"

    code = main(["export", str(bat_project), "--format", fmt, "-o", str(out), "--json"])

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["events"] == 3
    [warning] = summary["warnings"]
    assert warning["message"].startswith(
        f"night1.wav: 2 event(s) with a frequency band, which {fmt} files cannot hold"
    )


@pytest.mark.parametrize("fmt", ["raven", "audacity", "sonicvisualiser", "soundevent", "json"])
def test_formats_that_hold_the_band_keep_it_without_a_word(bat_project, tmp_path, fmt, capsys):
    capsys.readouterr()
    out = tmp_path / f"out-{fmt}"

    assert main(["export", str(bat_project), "--format", fmt, "-o", str(out)]) == 0

    assert "warning" not in capsys.readouterr().err
    again = tmp_path / "again"
    assert main(["init", str(again)]) == 0
    assert main(["import", str(again), str(tmp_path / "audio"), "-q"]) == 0
    assert main(["import", str(again), "--labels", str(out), "-q"]) == 0
    with Project.open(again) as project:
        bands = sorted((e.low_hz, e.high_hz) for e in project.labels() if e.low_hz is not None)
    assert bands == [(40_000, 80_000), (42_000, 79_000)]
