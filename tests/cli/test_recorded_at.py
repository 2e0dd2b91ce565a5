"""`tfstudio import` keeps when each recording started and `tfstudio info` says the span."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.cli.conftest import project_of, write_sites
from tests.conftest import audiomoth_comment
from tfstudio.cli import main
from tfstudio.store import Project


def test_an_audiomoth_deployment_is_dated_and_info_gives_its_span(tmp_path, capsys):
    audio = write_sites(tmp_path / "card")  # 20240501_050000.WAV and _060000 at two sites
    # One site's AudioMoth was set to UTC+2: its comment says so (libsndfile writes ICMT).
    for hour in ("05", "06"):
        audiomoth_comment(
            audio / "site2" / f"20240501_{hour}0000.WAV", f"{hour}:00:00 01/05/2024 (UTC+2)"
        )
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
    # Imported again, it says what it read (the import said it the first time too).
    assert main(["import", str(root), str(audio)]) == 0
    assert (
        "recorded: 2024-05-01 05:00:00 – 2024-05-01 06:00:00 UTC+02:00 "
        "(4 of 4 dated: 2 by AudioMoth comment, 2 by file name)"
    ) in capsys.readouterr().out
    assert main(["import", str(root), str(audio), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recordings"]["dated"] == 4
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


def _labelled_deployment(tmp_path) -> Path:
    audio = write_sites(tmp_path / "card")
    audiomoth_comment(audio / "site2" / "20240501_050000.WAV", "23:59:58 30/04/2024 (UTC+2)")
    root = project_of(tmp_path / "proj", audio)
    with Project.open(root) as project:
        bird = project.add_class("bird")
        for rec in project.recordings():
            project.add_event(rec.id, bird.id, 1.2345, 3.5)
    return root


def test_raven_tables_give_each_selections_date_and_clock_time(tmp_path):
    root = _labelled_deployment(tmp_path)
    out = tmp_path / "tables"
    assert main(["export", str(root), "--format", "raven", "-o", str(out)]) == 0
    rows = {}
    for table in sorted(out.rglob("*.txt")):
        header, row = (line.split("\t") for line in table.read_text().splitlines())
        rows[table.relative_to(out).as_posix()] = dict(zip(header, row, strict=True))
    crossing = next(row for name, row in rows.items() if "site2" in name and "_05" in name)
    # Begins on the last day of April and ends on the first of May, on the AudioMoth's clock.
    assert [
        crossing[k] for k in ("Begin Date", "Begin Clock Time", "End Date", "End Clock Time")
    ] == [
        "2024/04/30",
        "23:59:59.235",
        "2024/05/01",
        "00:00:01.500",
    ]
    named = next(row for name, row in rows.items() if "site1" in name and "_06" in name)
    assert (named["Begin Date"], named["Begin Clock Time"]) == ("2024/05/01", "06:00:01.235")
    # The columns are Raven's measurements: a fresh project imports the same labels.
    again = project_of(tmp_path / "again", tmp_path / "card")
    assert main(["import", str(again), "--labels", str(out), "-q"]) == 0
    with Project.open(root) as a, Project.open(again) as b:

        def labels(p):
            names = {r.id: "/".join(r.path.split("/")[-2:]) for r in p.recordings()}
            return sorted((names[e.recording_id], e.onset, e.offset) for e in p.labels())

        assert labels(a) == labels(b) and len(labels(b)) == 4


def test_a_soundevent_export_gives_the_recordings_date_and_time(tmp_path):
    root = _labelled_deployment(tmp_path)
    out = tmp_path / "project.json"
    assert main(["export", str(root), "--format", "soundevent", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    dated = {
        "/".join(r["path"].split("/")[-2:]): (r.get("date"), r.get("time"))
        for r in document["data"]["recordings"]
    }
    assert dated["site2/20240501_050000.WAV"] == ("2024-04-30", "23:59:58+02:00")
    assert dated["site1/20240501_060000.WAV"] == ("2024-05-01", "06:00:00")


def test_review_lists_each_detection_with_its_time_of_day(tmp_path, capsys):
    root = _labelled_deployment(tmp_path)
    table = tmp_path / "detections.tsv"
    table.write_text(
        "filename\tonset\toffset\tevent_label\tconfidence\n"
        "site2/20240501_050000.WAV\t1.5\t2.0\tbird\t0.9\n"
        "site1/20240501_060000.WAV\t0.25\t1.0\tbird\t0.8\n"
    )
    assert main(["import", str(root), "--labels", str(table)]) == 0
    capsys.readouterr()
    assert main(["review", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["detections"]
    assert sorted(r["clock"] for r in rows) == [
        "2024-04-30T23:59:59.500000+02:00",
        "2024-05-01T06:00:00.250000",
    ]
    assert main(["review", str(root)]) == 0
    out = capsys.readouterr().out
    assert "1.500-2.000 s (2024-04-30 23:59:59.5)" in out  # the time of day, rounded
    assert "0.250-1.000 s (2024-05-01 06:00:00.3)" in out
