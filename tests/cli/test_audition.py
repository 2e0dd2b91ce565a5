"""Adobe Audition marker lists through `tfstudio import` and `tfstudio export`: one list per
recording matched by its name, samples at the recording's own rate, a detector's scores as
detections, and an export imported again adding nothing.

Real WAV files, a real project, the real commands; the lists are written here in the shape
Audition's Markers panel exports them (tab-separated, in a .csv).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.commands import project_of, tfstudio
from tfstudio.store import Project, set_review

HEADER = "Name\tStart\tDuration\tTime Format\tType\tDescription\n"


@pytest.fixture
def project(tmp_path) -> Path:
    """meerkat.wav (4 s at 8 kHz) and süd.wav (3 s at 32 kHz)."""
    return project_of(tmp_path, [("meerkat.wav", 8000, 4), ("süd.wav", 32000, 3)])


def events(root: Path) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (
                recordings[e.recording_id],
                e.onset,
                e.offset,
                names[e.class_id],
                e.source,
                e.confidence,
            )
            for e in project.events()
        )


def test_marker_lists_go_to_their_recordings(project, tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "meerkat.csv").write_text(
        HEADER
        + "cc\t0:00.500\t0:00.250\tdecimal\tCue\t\n"
        + "sn call, soft\t0:01.000\t0:00.000\tdecimal\tCue\t\n"
        + "\t0:02.000\t0:00.100\tdecimal\tCue\t\n"
        + "focal\t0:00:02.500000\t0:00:00.175000\tdecimal\tCue\t0.873\n",
        encoding="utf-8",
    )
    # Samples without their rate in the Time Format: at süd.wav's 32 kHz.
    (labels / "süd.csv").write_text(
        HEADER
        + "Vogel\t32000\t16000\tsamples\tCue\t\nbar\t1:1.00\t0:1.00\tbars and beats\tCue\t\n",
        encoding="utf-8",
    )
    result = tfstudio("import", project, "--labels", labels, "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert [(Path(p["path"]).name, p["line"], p["reason"]) for p in report["problems"]] == [
        ("meerkat.csv", 4, "the marker has no name (its name is its class): left out"),
        (
            "süd.csv",
            3,
            "times in 'bars and beats' cannot be converted to seconds without the session's "
            "tempo; set Audition's time display to Decimal (View > Time Display Format > "
            "Decimal) and export the markers again",
        ),
    ]
    assert report["detections"]["added"] == 1
    assert events(project) == [
        ("meerkat.wav", 0.5, 0.75, "cc", "human", None),
        ("meerkat.wav", 1.0, 1.0, "sn call, soft", "human", None),
        ("meerkat.wav", 2.5, 2.675, "focal", "model", 0.873),
        ("süd.wav", 1.0, 1.5, "Vogel", "human", None),
    ]


def test_an_export_imports_again_as_nothing_new(project, tmp_path):
    with Project.open(project) as p:
        meerkat, sud = p.find_recording("meerkat.wav"), p.find_recording("süd.wav")
        p.add_event(meerkat.id, p.ensure_class("cc, close").id, 1 / 3, 2.0 + 1e-7)
        p.add_event(meerkat.id, p.ensure_class("鳥").id, 0.1 + 0.2, 0.1 + 0.2)
        p.add_event(sud.id, p.ensure_class("Vogel").id, 1.5, 2.75)
    out = tmp_path / "out"
    result = tfstudio("export", project, "--format", "audition", "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["meerkat.csv", "süd.csv"]
    assert (out / "süd.csv").read_text(encoding="utf-8") == (
        HEADER + "Vogel\t0:01.500\t0:01.250\tdecimal\tCue\t\n"
    )
    before = events(project)
    result = tfstudio("import", project, "--labels", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "labels: 0 added, 3 already present from 2 file(s), 0 problem(s)" in result.stdout
    assert events(project) == before


def test_detections_keep_their_score_and_labels_do_not(project, tmp_path):
    path = tmp_path / "meerkat.csv"
    path.write_text(HEADER + "focal\t0:02.500\t0:00.175\tdecimal\tCue\t0.873\n", encoding="utf-8")
    assert tfstudio("import", project, "--labels", path).returncode == 0
    out = tmp_path / "detections"
    result = tfstudio(
        "export", project, "--format", "audition", "--source", "detections", "-o", out
    )
    assert result.returncode == 0, result.stderr
    assert (out / "meerkat.csv").read_text(encoding="utf-8").endswith("\tCue\t0.873\n")
    # A label export of an accepted detection leaves its score out: it reads back as a label.
    with Project.open(project) as p:
        [detection] = p.events(source="model")
        set_review(p, [detection.id], "accepted")
    labels = tmp_path / "labels"
    result = tfstudio("export", project, "--format", "audition", "-o", labels)
    assert result.returncode == 0, result.stderr
    assert (labels / "meerkat.csv").read_text(encoding="utf-8").endswith("\tCue\t\n")
