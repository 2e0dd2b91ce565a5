"""`tfstudio import` keeps when each recording started and `tfstudio info` says the span."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.conftest import project_of, write_sites
from tfstudio.cli import main
from tfstudio.store import Project


def test_an_audiomoth_deployment_is_dated_and_info_gives_its_span(tmp_path, capsys):
    audio = write_sites(tmp_path / "card")  # 20240501_050000.WAV and _060000 at two sites
    # One site's AudioMoth was set to UTC+2: its comment says so (libsndfile writes ICMT).
    for hour in ("05", "06"):
        path = audio / "site2" / f"20240501_{hour}0000.WAV"
        data, rate = sf.read(path)
        with sf.SoundFile(path, "w", rate, 1, "PCM_16") as f:
            f.comment = f"Recorded at {hour}:00:00 01/05/2024 (UTC+2) by AudioMoth 24F3190160 at medium gain"
            f.write(data)
    root = project_of(tmp_path / "proj", audio)
    with Project.open(root) as project:
        starts = {
            "/".join(r.path.split("/")[-2:]): (r.recorded_at, r.recorded_at_source)
            for r in project.recordings()
        }
    assert starts == {
        "site1/20240501_050000.WAV": ("2024-05-01T05:00:00", "name"),
        "site1/20240501_060000.WAV": ("2024-05-01T06:00:00", "name"),
        "site2/20240501_050000.WAV": ("2024-05-01T05:00:00+02:00", "audiomoth"),
        "site2/20240501_060000.WAV": ("2024-05-01T06:00:00+02:00", "audiomoth"),
    }
    capsys.readouterr()
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "recorded    2024-05-01 05:00:00 – 2024-05-01 06:00:00 UTC+02:00  (4 of 4 dated)" in out
    assert main(["info", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["recorded"] == {
        "dated": 4,
        "first": "2024-05-01T05:00:00",
        "last": "2024-05-01T06:00:00+02:00",
    }


def test_info_says_nothing_of_starts_where_no_recording_has_one(tmp_path, capsys):
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "take1.wav", np.zeros(8000, dtype="float32"), 8000)
    root = project_of(tmp_path / "proj", audio)
    capsys.readouterr()
    assert main(["info", str(root)]) == 0
    assert "recorded" not in capsys.readouterr().out
