"""Sonic Visualiser layers through `tfstudio import` and `tfstudio export`: .svl files and
SV's CSV export matched to recordings by name, frames counted at each recording's own sample
rate, and an export imported again adding nothing.

Real WAV files at 22.05 and 48 kHz, a real project, the real commands; the layer files are
written here in the shape Sonic Visualiser's "Export Annotation Layer" writes them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli.commands import project_of, tfstudio
from tfstudio.cli import main
from tfstudio.store import Project

REGIONS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sonic-visualiser>
<sv>
  <data>
    <model id="10" name="birds.wav: Segmenter" sampleRate="22050" start="0" end="88200" type="sparse" dimensions="3" resolution="1" notifyOnAdd="true" dataset="9" subtype="region" valueQuantization="0" minimum="1" maximum="3" units="" />
    <dataset id="9" dimensions="3">
      <point frame="0" value="1" duration="22050" label="song thrush" />
      <point frame="11025" value="2" duration="33075" label="rödhake" />
      <point frame="66150" value="3" duration="11025" label="" />
    </dataset>
  </data>
  <display>
    <layer id="11" type="regions" name="Regions" model="10"  verticalScale="1" plotStyle="1" colourName="Green" colour="#008000" darkBackground="false" />
  </display>
</sv>
"""

ONSETS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sonic-visualiser>
<sv>
  <data>
    <model id="1" name="talk.wav: Note Onsets" sampleRate="48000" start="24000" end="96000" type="sparse" dimensions="1" resolution="512" notifyOnAdd="true" dataset="0" />
    <dataset id="0" dimensions="1">
      <point frame="24000" label="" />
      <point frame="96000" label="" />
    </dataset>
  </data>
  <display>
    <layer id="2" type="timeinstants" name="Note Onsets" model="1"  plotStyle="0" colourName="Purple" colour="#c832ff" darkBackground="false" />
  </display>
</sv>
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """birds.wav (4 s at 22.05 kHz), talk.wav (3 s at 48 kHz), quiet.wav (1 s at 8 kHz)."""
    return project_of(
        tmp_path, [("birds.wav", 22050, 4), ("talk.wav", 48000, 3), ("quiet.wav", 8000, 1)]
    )


def events(root: Path) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (recordings[e.recording_id], e.onset, e.offset, names[e.class_id], e.low_hz, e.high_hz)
            for e in project.events()
        )


def test_layers_and_a_csv_export_go_to_their_recordings(project, tmp_path, capsys):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "birds.svl").write_text(REGIONS, encoding="utf-8")
    (labels / "talk.onsets.svl").write_text(ONSETS, encoding="utf-8")
    # SV's CSV with the "frames" option, at talk.wav's 48 kHz, with its header row.
    (labels / "talk.csv").write_text(
        "FRAME,VALUE,DURATION,LABEL\n48000,1,24000,hello world\n72000,1,24000,\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    code = main(["import", str(project), "--labels", str(labels), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3  # the CSV row without a label
    assert report["labels"] == {"files": 3, "added": 6, "existing": 0}
    assert [(Path(p["path"]).name, p["line"], p["reason"]) for p in report["problems"]] == [
        ("talk.csv", 3, "no label (Sonic Visualiser leaves the label out of a row without one)")
    ]
    warnings = [w["reason"] for w in report["warnings"]]
    assert any("have no label: imported as the class named by the layer" in w for w in warnings)
    assert any("2 instant(s) read as zero-length events" in w for w in warnings)
    assert events(project) == [
        ("birds.wav", 0.0, 1.0, "song thrush", None, None),
        ("birds.wav", 0.5, 2.0, "rödhake", None, None),
        ("birds.wav", 3.0, 3.5, "Regions", None, None),
        ("talk.wav", 0.5, 0.5, "Note Onsets", None, None),
        ("talk.wav", 1.0, 1.5, "hello world", None, None),
        ("talk.wav", 2.0, 2.0, "Note Onsets", None, None),
    ]


def test_an_export_opens_at_each_recordings_rate_and_imports_again_as_nothing_new(
    project, tmp_path
):
    with Project.open(project) as p:
        birds, talk = p.find_recording("birds.wav"), p.find_recording("talk.wav")
        # Times no frame falls on, a band, a zero-length event, a non-ASCII label.
        p.add_event(birds.id, p.ensure_class("Turdus merula").id, 1 / 3, 2.0 + 1e-7)
        p.add_event(
            birds.id,
            p.ensure_class("鳥 & <song>").id,
            0.1 + 0.2,
            1.5,
            low_hz=500.25,
            high_hz=4000.0,
        )
        p.add_event(talk.id, p.ensure_class("onset").id, 1.23456789, 1.23456789)
        before = events(project)
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "sonicvisualiser", "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["birds.svl", "quiet.svl", "talk.svl"]
    rates = {}
    for path in out.iterdir():
        root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 2)[2])
        rates[path.name] = {m.get("sampleRate") for m in root.iter("model")}
        for point in root.iter("point"):
            assert point.get("frame").isdigit()
    assert rates == {"birds.svl": {"22050"}, "talk.svl": {"48000"}, "quiet.svl": {"8000"}}

    result = tfstudio("import", project, "--labels", out)
    assert result.returncode == 0, result.stderr
    assert "labels: 0 added, 3 already present from 3 file(s), 0 problem(s)" in result.stdout
    assert events(project) == before


def test_a_damaged_layer_keeps_its_points_before_the_damage(project, tmp_path):
    cut = REGIONS[: REGIONS.index('<point frame="66150"') + 20]
    path = tmp_path / "birds.svl"
    path.write_text(cut, encoding="utf-8")
    result = tfstudio("import", project, "--labels", path)
    assert result.returncode == 3
    assert f"{path}:9: the file ends early (cut short?)" in result.stderr + result.stdout
    assert [e[3] for e in events(project)] == ["song thrush", "rödhake"]


def test_a_time_value_layer_is_refused_with_one_line(project, tmp_path):
    path = tmp_path / "talk.svl"
    path.write_text(
        ONSETS.replace('dimensions="1" resolution="512"', 'dimensions="2" resolution="512"')
        .replace('dimensions="1">', 'dimensions="2">')
        .replace('label=""', 'value="415.5" label=""'),
        encoding="utf-8",
    )
    result = tfstudio("import", project, "--labels", path)
    assert result.returncode == 3
    assert (
        f"{path}: holds no events: it has a time-value layer (values over time, not events)"
        in result.stderr + result.stdout
    )
    assert events(project) == []


def test_format_is_a_choice_of_the_commands(project, tmp_path):
    result = tfstudio("export", project, "--format", "nope", "-o", tmp_path / "x")
    assert "sonicvisualiser" in result.stderr
