"""`tfstudio import` with label files from other tools (issue 14): BirdNET results become
detections of an "imported" run, ready for review; columns are chosen by name or with
--label-column; weak labels and every problem are reported as data with --json.

The label files are written here in the shapes those tools write; none is copied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tfstudio.cli import main
from tfstudio.exporter import export_labels
from tfstudio.store import Project

BIRDNET_AUDACITY = (
    "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n"
    "3.0\t6.0\tErithacus rubecula, European Robin\t0.4121\n"
)
BIRDNET_RAVEN = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
    "Common Name\tSpecies Code\tConfidence\tBegin Path\tFile Offset (s)\n"
    "1\tSpectrogram 1\t1\t0\t3.0\t150\t15000\tEurasian Blackbird\teurbla\t0.9012\t"
    "/data/rec2.wav\t0\n"
    "2\tSpectrogram 1\t1\t3.0\t6.0\t150\t15000\tEuropean Robin\teurrob1\t0.5123\t"
    "/data/rec2.wav\t3.0\n"
)


@pytest.fixture
def project(two_recordings) -> Path:
    """A project with rec1.wav and rec2.wav (9 s each)."""
    return two_recordings


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_birdnet_results_become_detections_of_an_imported_run(project, tmp_path, capsys):
    results = tmp_path / "birdnet"
    results.mkdir()
    write(results, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY)
    write(results, "rec2.BirdNET.selection.table.txt", BIRDNET_RAVEN)
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(results)]) == 0
    out = capsys.readouterr().out
    assert "detections: 4 added to run 1 ('imported 2 label files')" in out
    with Project.open(project) as p:
        (run,) = p.runs()
        assert (run.name, run.status) == ("imported 2 label files", "done")
        assert run.config_dict["species_codes"] == {
            "Eurasian Blackbird": "eurbla",
            "European Robin": "eurrob1",
        }
        assert len(run.config_dict["imported"]["files"]) == 2
        detections = p.events(source="model", run_id=run.id)
        classes = {c.id: c.name for c in p.classes()}
        assert sorted((classes[e.class_id], e.onset, e.confidence) for e in detections) == [
            ("Erithacus rubecula, European Robin", 3.0, 0.4121),
            ("Eurasian Blackbird", 0.0, 0.9012),
            ("European Robin", 3.0, 0.5123),
            ("Turdus merula, Eurasian Blackbird", 0.0, 0.8345),
        ]
        assert p.labels() == []  # nothing is ground truth until reviewed
        # Reviewed like the model's own: an accepted detection is a label.
        p.update_event(detections[0].id, review="accepted")
        assert [e.id for e in p.labels()] == [detections[0].id]
    # The same files again add nothing, and no second run.
    assert main(["import", str(project), "--labels", str(results)]) == 0
    with Project.open(project) as p:
        assert len(p.runs()) == 1 and len(p.events(source="model")) == 4


def test_detections_export_reads_back_as_detections(project, tmp_path):
    write(tmp_path, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY)
    assert (
        main(["import", str(project), "--labels", str(tmp_path / "rec1.BirdNET.results.txt")]) == 0
    )
    out = tmp_path / "det"
    assert (
        main(
            [
                "export",
                str(project),
                "--format",
                "audacity",
                "--source",
                "detections",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert (out / "rec1.txt").read_text(encoding="utf-8") == BIRDNET_AUDACITY


def test_import_json_gives_counts_run_and_problems_as_data(project, tmp_path, capsys):
    write(tmp_path, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY + "6.0\tx\tWren\t0.5\n")
    grid = write(
        tmp_path,
        "rec2.TextGrid",
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n9\n<exists>\n2\n'
        '"IntervalTier"\n"birds"\n0\n9\n2\n0\n1.5\n"wren"\n1.5\n9\n""\n'
        '"TextTier"\n"clicks"\n0\n9\n1\n4.5\n"click"\n',
    )
    capsys.readouterr()
    code = main(
        [
            "import",
            str(project),
            "--json",
            "--labels",
            str(tmp_path / "rec1.BirdNET.results.txt"),
            "--labels",
            str(grid),
        ]
    )
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 3 == report["exit_code"]
    assert report["ok"] is False
    # The wren's interval and the point tier's click (a zero-length label).
    assert report["labels"] == {"files": 2, "added": 2, "existing": 0}
    assert report["detections"] == {"added": 2, "run": 1, "run_name": "imported 2 label files"}
    assert report["problems"] == [
        {
            "path": str(tmp_path / "rec1.BirdNET.results.txt"),
            "line": 3,
            "reason": "offset 'x' is not a number",
            "message": f"{tmp_path / 'rec1.BirdNET.results.txt'}:3: offset 'x' is not a number",
        }
    ]
    # A point tier is read, not ignored with a warning.
    assert report["warnings"] == []
    assert captured.err == ""


def test_a_textgrid_with_a_point_tier_imports_its_points_with_exit_0(project, tmp_path, capsys):
    grid = write(
        tmp_path,
        "rec2.TextGrid",
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n9\n<exists>\n3\n'
        '"IntervalTier"\n"birds"\n0\n9\n1\n0\n9\n"wren"\n'
        '"TextTier"\n"clicks"\n0\n9\n2\n4.5\n"click"\n6\n"click"\n'
        '"TextTier"\n"empty"\n0\n9\n0\n',
    )
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(grid)]) == 0
    assert capsys.readouterr().err == ""
    with Project.open(project) as p:
        rec = p.find_recording("rec2.wav")
        click = p.class_by_name("click")
        assert click is not None
        assert [
            (e.onset, e.offset, e.tier) for e in p.labels(rec.id) if e.class_id == click.id
        ] == [
            (4.5, 4.5, "clicks"),
            (6.0, 6.0, "clicks"),
        ]


def test_desed_predictions_are_read_by_column_name(project, tmp_path, capsys):
    predictions = write(
        tmp_path,
        "predictions_th_0.49.tsv",
        "event_label\tonset\toffset\tfilename\n"
        + "".join(f"Speech\t{k}.0\t{k}.5\trec{1 + k % 2}.wav\n" for k in range(8)),
    )
    assert main(["import", str(project), "--labels", str(predictions)]) == 0
    with Project.open(project) as p:
        assert len(p.labels()) == 8


def test_label_column_for_raven_and_dcase(project, tmp_path, capsys):
    table = write(
        tmp_path,
        "rec1.Table.1.selections.txt",
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tsound.files\tsong_type\n"
        "1\tSpectrogram 1\t1\t0.5\t1.25\trec1.wav\tA\n",
    )
    assert main(["import", str(project), "--labels", str(table)]) == 3
    assert "--label-column" in capsys.readouterr().err
    assert (
        main(["import", str(project), "--labels", str(table), "--label-column", "song_type"]) == 0
    )
    tsv = write(
        tmp_path,
        "fine.tsv",
        "filename\tonset\toffset\tevent_label\tfine\nrec2.wav\t1.0\t2.0\tbird\twren\n",
    )
    assert main(["import", str(project), "--labels", str(tsv), "--label-column", "fine"]) == 0
    with Project.open(project) as p:
        assert sorted(c.name for c in p.classes()) == ["A", "wren"]
    # A format whose reader has no columns to choose from is a usage mistake.
    code = main(
        [
            "import",
            str(project),
            "--labels",
            str(tsv),
            "--format",
            "audacity",
            "--label-column",
            "fine",
        ]
    )
    assert code == 2
    assert (
        "--label-column applies to dcase, raven, soundevent, birdnet, kaleidoscope files"
        in capsys.readouterr().err
    )


def test_a_weak_label_file_is_one_message(project, tmp_path, capsys):
    weak = write(
        tmp_path,
        "weak.tsv",
        "filename\tevent_labels\n" + "".join(f"rec{k}.wav\tDog,Speech\n" for k in range(1579)),
    )
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(weak)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a weak-label file" in err[0]


def test_soundevent_round_trip_through_projects(project, tmp_path):
    with Project.open(project) as p:
        rec = p.find_recording("rec1.wav")
        cls = p.add_class("wren")
        p.add_event(rec.id, cls.id, 0.5, 1.5, low_hz=2000.0, high_hz=8000.0)
        export_labels(p, "soundevent", tmp_path / "whombat.json")
    copy = tmp_path / "copy"
    assert main(["init", str(copy)]) == 0
    assert (
        main(
            [
                "import",
                str(copy),
                str(tmp_path / "audio"),
                "-q",
                "--labels",
                str(tmp_path / "whombat.json"),
            ]
        )
        == 0
    )
    with Project.open(copy) as p:
        assert [(e.onset, e.offset, e.low_hz, e.high_hz) for e in p.labels()] == [
            (0.5, 1.5, 2000.0, 8000.0)
        ]


@pytest.mark.parametrize("source", ["labels", "detections"])
def test_a_birdnet_project_exports_to_every_format(project, tmp_path, capsys, source):
    # BirdNET's results once made classes with a tab in their name, which three formats
    # could not write and `export --format dcase -o -` died on with a traceback.
    results = tmp_path / "birdnet"
    results.mkdir()
    write(results, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY)
    write(results, "rec2.BirdNET.selection.table.txt", BIRDNET_RAVEN)
    assert main(["import", str(project), "--labels", str(results), "-q"]) == 0
    with Project.open(project) as p:
        for detection in p.events(source="model"):
            p.update_event(detection.id, review="accepted")
    for fmt in ("dcase", "audacity", "raven", "textgrid", "json", "soundevent"):
        out = tmp_path / f"{source}-{fmt}"
        args = ["export", str(project), "--format", fmt, "--source", source, "-o", str(out)]
        assert main(args) == 0, (fmt, capsys.readouterr().err)
    capsys.readouterr()
    assert main(["export", str(project), "--format", "dcase", "--source", source, "-o", "-"]) == 0
    captured = capsys.readouterr()
    # No traceback: only the one thing a DCASE file loses, the Raven table's bands, is said.
    assert captured.err.splitlines() == [
        "warning: rec2.wav: 2 event(s) with a frequency band, which dcase files cannot hold: "
        "written with their times only (raven, audacity, sonicvisualiser, soundevent and json "
        "keep it)"
    ]
    # Detections keep their confidence (a fifth column), so they read back as detections.
    scores = (
        ("\t0.8345", "\t0.4121", "\t0.9012", "\t0.5123") if source == "detections" else [""] * 4
    )
    assert sorted(captured.out.splitlines()[1:]) == [
        f"rec1.wav\t0.0\t3.0\tTurdus merula, Eurasian Blackbird{scores[0]}",
        f"rec1.wav\t3.0\t6.0\tErithacus rubecula, European Robin{scores[1]}",
        f"rec2.wav\t0.0\t3.0\tEurasian Blackbird{scores[2]}",
        f"rec2.wav\t3.0\t6.0\tEuropean Robin{scores[3]}",
    ]


DCASE_DETECTIONS_TO_STDOUT = ["--format", "dcase", "--source", "detections", "-o", "-"]


def test_dcase_to_stdout_of_a_birdnet_project_runs_as_a_command(project, tmp_path):
    write(tmp_path, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY)
    assert (
        main(["import", str(project), "--labels", str(tmp_path / "rec1.BirdNET.results.txt")]) == 0
    )
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", "export", str(project), *DCASE_DETECTIONS_TO_STDOUT],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == [
        "filename\tonset\toffset\tevent_label\tconfidence",
        "rec1.wav\t0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345",
        "rec1.wav\t3.0\t6.0\tErithacus rubecula, European Robin\t0.4121",
        "rec2.wav\t\t\t\t",
    ]
    # Read back into another project, they are detections to review, not labels.
    (tmp_path / "back.tsv").write_text(result.stdout)
    other = tmp_path / "other"
    assert main(["init", str(other)]) == 0
    assert main(["import", str(other), str(tmp_path / "audio"), "-q"]) == 0
    assert main(["import", str(other), "--labels", str(tmp_path / "back.tsv"), "-q"]) == 0
    with Project.open(other) as p:
        assert p.labels() == []
        assert sorted(e.confidence for e in p.events(source="model")) == [0.4121, 0.8345]
