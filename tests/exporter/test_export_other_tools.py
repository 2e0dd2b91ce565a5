"""What other tools need from an export (issue 14): every evaluated file listed in DCASE,
TextGrids whose recording is a hair shorter than the labels, confidences and species codes
only where they mean detections, soundevent with the recordings' metadata."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_recording
from tfstudio.exporter import export_labels
from tfstudio.formats import audacity, dcase, raven, soundevent, textgrid


@pytest.fixture
def project_two(project):
    """a.wav (5 s) with a label, b.wav (3 s) with none."""
    a = fake_recording(project, "a.wav", duration=5.0)
    fake_recording(project, "b.wav", duration=3.0)
    bird = project.add_class("bird")
    project.add_event(a, bird.id, 1.0, 2.0)
    return project


def test_dcase_lists_recordings_without_events(project_two, tmp_path):
    out = tmp_path / "labels.tsv"
    export_labels(project_two, "dcase", out)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "filename\tonset\toffset\tevent_label",
        "a.wav\t1.0\t2.0\tbird",
        "b.wav\t\t\t",
    ]
    assert [e.recording for e in dcase.read(out).events] == ["a.wav"]


def test_a_textgrid_event_ending_within_10_ms_after_the_recording_is_cut_with_a_warning(
    project_two, tmp_path
):
    a = project_two.find_recording("a.wav")
    bird = project_two.class_by_name("bird")
    project_two.add_event(a.id, bird.id, 4.5, 5.000004)  # Praat's xmax, a WAV 4 µs shorter
    warnings: list[str] = []
    export_labels(project_two, "textgrid", tmp_path / "tg", warnings=warnings)
    assert len(warnings) == 1
    assert warnings[0].startswith("a.wav: 'bird' event ends at 5.000004 s")
    assert "cut at its end" in warnings[0]
    events = textgrid.read(tmp_path / "tg" / "a.TextGrid").events
    assert [(e.onset, e.offset) for e in events] == [(1.0, 2.0), (4.5, 5.0)]


def test_a_textgrid_export_refused_for_one_recording_leaves_nothing_half_written(
    project_two, tmp_path
):
    b = project_two.find_recording("b.wav")
    unwritable = project_two.add_class("item [1] call")  # praatio misreads it in the long form
    project_two.add_event(b.id, unwritable.id, 2.5, 2.9)
    out = tmp_path / "tg"
    out.mkdir()
    (out / "a.TextGrid").write_text("mine\n")
    with pytest.raises(ValueError) as info:
        export_labels(project_two, "textgrid", out, overwrite=True)
    message = str(info.value)
    assert message.startswith("b.wav: textgrid: label 'item [1] call' contains 'item ['")
    # Nothing half-written: a.TextGrid (written before b's failed) is the old file, and no
    # temporary folder is left.
    assert (out / "a.TextGrid").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj", "tg"]
    assert sorted(p.name for p in out.iterdir()) == ["a.TextGrid"]


@pytest.fixture
def reviewed(project_two):
    """Two imported BirdNET detections on a.wav, one of them accepted."""
    a = project_two.find_recording("a.wav")
    run = project_two.create_run(
        {"imported": {"files": ["a.txt"]}, "species_codes": {"Wren": "winwre4"}}
    )
    wren = project_two.add_class("Wren")
    rows = [
        dict(
            recording_id=a.id,
            class_id=wren.id,
            onset=0.0,
            offset=3.0,
            source="model",
            confidence=0.9,
            run_id=run.id,
        ),
        dict(
            recording_id=a.id,
            class_id=wren.id,
            onset=3.0,
            offset=5.0,
            source="model",
            confidence=0.4,
            run_id=run.id,
        ),
    ]
    first, _ = project_two.add_events(rows)
    project_two.update_event(first, review="accepted")
    return project_two


def test_detections_keep_confidence_and_species_code(reviewed, tmp_path):
    export_labels(reviewed, "raven", tmp_path / "det", source="detections")
    events = raven.read(tmp_path / "det" / "a.Table.1.selections.txt").events
    assert [(e.label, e.source, e.confidence, e.species_code) for e in events] == [
        ("Wren", "model", 0.9, "winwre4"),
        ("Wren", "model", 0.4, "winwre4"),
    ]
    export_labels(reviewed, "audacity", tmp_path / "aud", source="detections")
    assert [e.confidence for e in audacity.read(tmp_path / "aud" / "a.txt").events] == [0.9, 0.4]


def test_a_label_export_reads_back_as_labels(reviewed, tmp_path):
    # The accepted detection is a label now: its confidence would make it a detection again.
    for fmt in ("audacity", "raven"):
        export_labels(reviewed, fmt, tmp_path / fmt)
    for path in (tmp_path / "audacity" / "a.txt", tmp_path / "raven" / "a.Table.1.selections.txt"):
        module = audacity if path.suffix == ".txt" and "Table" not in path.name else raven
        events = module.read(path).events
        assert {e.source for e in events} == {"human"}
        assert sorted(e.label for e in events) == ["Wren", "bird"]


def test_soundevent_export_carries_the_recordings(reviewed, tmp_path):
    export_labels(reviewed, "soundevent", tmp_path / "labels.json")
    data = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))["data"]
    assert data["collection_type"] == "annotation_project"
    assert [(r["path"], r["duration"], r["samplerate"]) for r in data["recordings"]] == [
        ("a.wav", 5.0, 16000),
        ("b.wav", 3.0, 16000),
    ]
    export_labels(reviewed, "soundevent", tmp_path / "det.json", source="detections")
    events = soundevent.read(tmp_path / "det.json").events
    assert [(e.recording, e.source, e.confidence) for e in events] == [
        ("a.wav", "model", 0.9),
        ("a.wav", "model", 0.4),
    ]
