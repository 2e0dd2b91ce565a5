"""`tfstudio import` and `export` with label files as other tools and everyday programs leave
them: Koogu's tables, spreadsheets saved as CSV, label folders that hold the audio too.

Real files, a real project, the real command; the label files are written here in the shapes
those tools write.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main
from tfstudio.store import Project


@pytest.fixture
def audio(tmp_path) -> Path:
    folder = tmp_path / "audio"
    folder.mkdir()
    for name in ("rec1.wav", "rec2.wav"):
        sf.write(folder / name, np.zeros(9 * 8000, dtype="float32"), 8000)
    return folder


@pytest.fixture
def project(tmp_path, audio) -> Path:
    """A project with rec1.wav and rec2.wav (9 s each, 8 kHz)."""
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    return root


def events(root: Path, **selection) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (
                recordings[e.recording_id],
                e.onset,
                e.offset,
                names[e.class_id],
                e.low_hz,
                e.high_hz,
                e.source,
                e.confidence,
            )
            for e in project.events(**selection)
        )


def test_koogu_detections_come_in_as_detections_with_their_band(project, tmp_path, capsys):
    table = tmp_path / "rec1.selections.txt"
    table.write_text(
        "Selection\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Frequency (Hz)\t"
        "High Frequency (Hz)\tScore\tTags\tBegin Path\n"
        "1\t1\t0.500000\t1.500000\t50.00\t250.00\t0.93\tNARW\t \n",
        encoding="utf-8",
    )
    assert main(["import", str(project), "--labels", str(table), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["detections"]["added"] == 1 and report["labels"]["added"] == 0
    assert events(project) == [("rec1.wav", 0.5, 1.5, "NARW", 50.0, 250.0, "model", 0.93)]


def test_dcase_labels_saved_as_csv_are_imported_not_dropped(project, tmp_path, capsys):
    # A spreadsheet's "Save as CSV" in a locale with a decimal comma: semicolons between the
    # fields. Each line once read as one file name without events: nothing came in, exit 0.
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "filename;onset;offset;event_label\nrec1.wav;0,5;1,25;Möwe\nrec2.wav;2;3;dog\n",
        encoding="utf-8",
        newline="\r\n",
    )
    assert main(["import", str(project), "--labels", str(labels), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["labels"]["added"] == 2 and report["problems"] == []
    assert [e[:4] for e in events(project)] == [
        ("rec1.wav", 0.5, 1.25, "Möwe"),
        ("rec2.wav", 2.0, 3.0, "dog"),
    ]


def test_a_label_folder_that_holds_the_audio_too(tmp_path, audio, capsys):
    # BirdNET writes its results beside the recordings; Raven users keep tables there too.
    (audio / "rec1.BirdNET.results.txt").write_text(
        "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n", encoding="utf-8"
    )
    (audio / "rec2.txt").write_text("1.0\t2.0\tdog\n", encoding="utf-8")
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()
    code = main(["import", str(root), str(audio), "--labels", str(audio), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["problems"]) == (0, [])
    assert report["labels"]["files"] == 2
    assert [e[:4] for e in events(root)] == [
        ("rec1.wav", 0.0, 3.0, "Turdus merula, Eurasian Blackbird"),
        ("rec2.wav", 1.0, 2.0, "dog"),
    ]


def test_an_audio_file_given_as_labels_is_still_reported(project, audio, capsys):
    code = main(["import", str(project), "--labels", str(audio / "rec1.wav"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert [p["reason"] for p in report["problems"]] == ["is a binary file, not a text label file"]


def test_a_textgrid_cut_short_keeps_the_intervals_before_the_cut(project, tmp_path, capsys):
    grid = tmp_path / "rec1.TextGrid"
    whole = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 9\n'
        "tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n"
        '        class = "IntervalTier"\n        name = "calls"\n        xmin = 0\n'
        "        xmax = 9\n        intervals: size = 3\n"
        "        intervals [1]:\n            xmin = 0\n            xmax = 1\n"
        '            text = "chiffchaff"\n'
        "        intervals [2]:\n            xmin = 1\n            xmax = 2.5\n"
        '            text = ""\n'
        "        intervals [3]:\n            xmin = 2.5\n            xmax = 9\n"
        '            text = "wren"\n'
    )
    grid.write_bytes(whole.encode("utf-16")[: -len(' = "wren"\n'.encode("utf-16-le"))])
    code = main(["import", str(project), "--labels", str(grid), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [
        (
            26,
            "the file ends early: interval text missing; the rest of the file is not read "
            "(the 1 event(s) before it are kept)",
        )
    ]
    assert [e[:4] for e in events(project)] == [("rec1.wav", 0.0, 1.0, "chiffchaff")]


def test_a_json_export_cut_short_imports_what_it_holds(project, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"{k}.0\t{k}.5\tcall {k}\n" for k in range(6)), encoding="utf-8")
    assert (
        main(["import", str(project), "--labels", str(labels.rename(tmp_path / "rec1.txt"))]) == 0
    )
    exported = tmp_path / "all.json"
    assert main(["export", str(project), "--format", "json", "-o", str(exported)]) == 0
    text = exported.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"onset": 4.0')], encoding="utf-8")
    other = tmp_path / "other"
    assert main(["init", str(other)]) == 0
    assert main(["import", str(other), str(tmp_path / "audio"), "-q"]) == 0
    capsys.readouterr()
    assert main(["import", str(other), "--labels", str(cut), "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert [p["reason"].rsplit("; ", 1)[1] for p in report["problems"]] == [
        "the rest of the file is not read (the 4 event(s) before it are kept)"
    ]
    assert [e[3] for e in events(other)] == ["call 0", "call 1", "call 2", "call 3"]
