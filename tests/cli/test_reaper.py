"""REAPER region/marker lists through `tfstudio import` and `tfstudio export`: one list per
recording matched by its name, samples at the recording's own rate, Measures.Beats rows
refused with a clear message, and an export imported again adding nothing.

Real WAV files, a real project, the real commands; the lists are written here in the shape
REAPER's Region/Marker Manager exports them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.commands import project_of, tfstudio
from tfstudio.store import Project

HEADER = "#,Name,Start,End,Length,Color\n"


@pytest.fixture
def project(tmp_path) -> Path:
    """take1.wav (4 s at 48 kHz) and chœur.wav (3 s at 8 kHz)."""
    return project_of(tmp_path, [("take1.wav", 48000, 4), ("chœur.wav", 8000, 3)])


def events(root: Path) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (recordings[e.recording_id], e.onset, e.offset, names[e.class_id])
            for e in project.events()
        )


def test_region_lists_go_to_their_recordings(project, tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "take1.csv").write_text(
        HEADER
        + 'R1,"breath, in",0:00.500,0:01.250,0:00.750,FF0000\n'
        + "M1,click,0:02.000,,,\n"
        + "M2,,0:03.000,,,\n"
        + "R2,verse,5.1.00,9.1.00,4.0.00,\n",
        encoding="utf-8",
    )
    # Samples, at chœur.wav's 8 kHz.
    (labels / "chœur.csv").write_text(HEADER + "R1,Sopran,8000,16000,8000,\n", encoding="utf-8")
    result = tfstudio("import", project, "--labels", labels, "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert [(Path(p["path"]).name, p["line"], p["reason"]) for p in report["problems"]] == [
        ("take1.csv", 4, "the marker has no name (its name is its class): left out"),
        (
            "take1.csv",
            5,
            "Start '5.1.00' is in Measures.Beats, which cannot be converted to seconds without "
            "the project's tempo map; set the project's time unit to Minutes:Seconds (View > "
            "Time unit for ruler) and export the list again",
        ),
    ]
    assert [(Path(w["path"]).name, w["reason"]) for w in report["warnings"]] == [
        ("chœur.csv", "whole-number times read as samples at 8000 Hz (REAPER's Samples time unit)")
    ]
    assert events(project) == [
        ("chœur.wav", 1.0, 2.0, "Sopran"),
        ("take1.wav", 0.5, 1.25, "breath, in"),
        ("take1.wav", 2.0, 2.0, "click"),
    ]


def test_an_export_imports_again_as_nothing_new(project, tmp_path):
    with Project.open(project) as p:
        take, choir = p.find_recording("take1.wav"), p.find_recording("chœur.wav")
        p.add_event(take.id, p.ensure_class('say "hi", twice').id, 1 / 3, 2.0 + 1e-7)
        p.add_event(take.id, p.ensure_class("鳥").id, 0.1 + 0.2, 0.1 + 0.2)
        p.add_event(choir.id, p.ensure_class("Alt").id, 1.5, 2.75)
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "reaper", "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["chœur.csv", "take1.csv"]
    assert (out / "chœur.csv").read_text(encoding="utf-8") == (
        HEADER + "R1,Alt,0:01.500,0:02.750,0:01.250,\n"
    )
    before = events(project)
    result = tfstudio("import", project, "--labels", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "labels: 0 added, 3 already present from 2 file(s), 0 problem(s)" in result.stdout
    assert events(project) == before
