"""`tfstudio import --labels` with BirdNET-Analyzer's CSV results (``--rtype csv`` and
``--rtype kaleidoscope``): detections of an "imported" run, to review; and `tfstudio export
--format birdnet`, whose labels and detections come back the same in a fresh project of the
same audio, same-named recordings in two site folders included.

The tables are written here in the shapes BirdNET-Analyzer writes them; none is copied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import HOURS, project_of, write_sites
from tfstudio.cli import main
from tfstudio.store import Project

CSV_HEADER = "Start (s),End (s),Scientific name,Common name,Confidence\n"
CSV_FILE_HEADER = "Start (s),End (s),Scientific name,Common name,Confidence,File\n"
KALEIDOSCOPE_HEADER = (
    "INDIR,FOLDER,IN FILE,OFFSET,DURATION,scientific_name,common_name,confidence,lat,lon,week,"
    "overlap,sensitivity\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def stored(project: Path) -> dict[str, set[tuple]]:
    """Labels and detections as (site, file name, onset, offset, class, source, confidence)."""
    with Project.open(project) as p:
        names = {c.id: c.name for c in p.classes()}
        where = {r.id: (Path(r.path).parent.name, Path(r.path).name) for r in p.recordings()}
        return {
            selection: {
                (
                    *where[e.recording_id],
                    e.onset,
                    e.offset,
                    names[e.class_id],
                    e.source,
                    e.confidence,
                )
                for e in p.iter_events(selection)
            }
            for selection in ("labels", "all-detections")
        }


def test_results_files_become_detections_of_an_imported_run(two_recordings, tmp_path, capsys):
    results = tmp_path / "birdnet"
    results.mkdir()
    # Per file, without the File column: the results file's name says whose they are.
    write(
        results,
        "rec1.BirdNET.results.csv",
        CSV_HEADER
        + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.8345\n"
        + '3.0,6.0,Erithacus rubecula,"Robin, European",0.4121\n',
    )
    # With the File column (a path on the machine that ran BirdNET), saved as .txt.
    write(
        results,
        "rec2 results.txt",
        CSV_FILE_HEADER + "6.0,9.0,Turdus merula,Eurasian Blackbird,0.9012,C:\\field\\rec2.wav\n",
    )
    write(results, "quiet.BirdNET.results.csv", CSV_HEADER)  # no detections
    capsys.readouterr()
    assert main(["import", str(two_recordings), "--labels", str(results)]) == 0
    out = capsys.readouterr().out
    assert "detections: 3 added to run 1 ('imported 3 label files')" in out
    with Project.open(two_recordings) as p:
        (run,) = p.runs()
        assert (run.status, run.config_dict["imported"]["format"]) == ("done", "birdnet")
        names = {r.id: r.name for r in p.recordings()}
        classes = {c.id: c.name for c in p.classes()}
        detections = p.events(source="model", run_id=run.id)
        assert sorted(
            (names[e.recording_id], e.onset, e.offset, classes[e.class_id], e.confidence)
            for e in detections
        ) == [
            ("rec1.wav", 0.0, 3.0, "Eurasian Blackbird", 0.8345),
            ("rec1.wav", 3.0, 6.0, "Robin, European", 0.4121),
            ("rec2.wav", 6.0, 9.0, "Eurasian Blackbird", 0.9012),
        ]
        assert p.labels() == []  # nothing is ground truth until reviewed
    # The same files again add nothing, and no second run.
    assert main(["import", str(two_recordings), "--labels", str(results)]) == 0
    with Project.open(two_recordings) as p:
        assert len(p.runs()) == 1 and len(p.events(source="model")) == 3


def test_label_column_names_the_scientific_name(two_recordings, tmp_path):
    table = write(
        tmp_path,
        "rec1.BirdNET.results.csv",
        CSV_HEADER + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.8\n",
    )
    args = ["import", str(two_recordings), "--labels", str(table)]
    # Named with --format too (the format's name once refused --label-column).
    assert main([*args, "--format", "birdnet", "--label-column", "Scientific name"]) == 0
    with Project.open(two_recordings) as p:
        assert [c.name for c in p.classes()] == ["Turdus merula"]


def test_bad_rows_are_reported_with_their_lines_and_the_rest_imported(
    two_recordings, tmp_path, capsys
):
    table = write(
        tmp_path,
        "rec2.BirdNET.results.csv",
        CSV_HEADER
        + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.8\n"
        + "3.0,3.x,Turdus merula,Eurasian Blackbird,0.8\n"
        + "6.0,9.0,Turdus merula,Eurasian Blackbird,80\n",
    )
    capsys.readouterr()
    code = main(["import", str(two_recordings), "--json", "--labels", str(table)])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 == report["exit_code"]
    assert report["detections"]["added"] == 1
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [
        (3, "End (s) '3.x' is not a number"),
        (4, "confidence 80 is outside 0..1 (BirdNET's confidences are probabilities)"),
    ]


def test_a_header_that_is_not_birdnets_says_what_was_expected(two_recordings, tmp_path, capsys):
    table = write(tmp_path, "rec1.csv", "Start (s),End (s),Common name,Score\n0,3,Wren,0.5\n")
    capsys.readouterr()
    code = main(["import", str(two_recordings), "--labels", str(table), "--format", "birdnet"])
    assert code == 3
    err = capsys.readouterr().err
    assert "not a BirdNET-Analyzer results table: its header has no 'Scientific name', " in err
    assert "'Confidence' column" in err


@pytest.fixture
def audio(tmp_path) -> Path:
    return write_sites(tmp_path / "deployment")


def test_kaleidoscope_rows_pick_the_site_by_their_folder(tmp_path, audio):
    project = project_of(tmp_path / "proj", audio)
    table = write(
        tmp_path,
        "BirdNET_Kaleidoscope.csv",
        KALEIDOSCOPE_HEADER
        + f"D:\\field,site2,{HOURS[0]},0.0,3.0,Troglodytes troglodytes,Eurasian Wren,0.7500,"
        "-1,-1,-1,0.0,1.0\n"
        + f"D:\\field,site1,{HOURS[1]},1.0,3.0,Strix aluco,Tawny Owl,0.5000,-1,-1,-1,0.0,1.0\n",
    )
    assert main(["import", str(project), "--labels", str(table)]) == 0
    assert stored(project)["all-detections"] == {
        ("site2", HOURS[0], 0.0, 3.0, "Eurasian Wren", "model", 0.75),
        ("site1", HOURS[1], 1.0, 4.0, "Tawny Owl", "model", 0.5),
    }


def test_exported_labels_and_detections_come_back_in_a_fresh_project(tmp_path, audio):
    project = project_of(tmp_path / "proj", audio)
    # Detections from BirdNET run on another machine (one combined table, Windows paths).
    results = write(
        tmp_path,
        "BirdNET_CombinedTable.csv",
        CSV_FILE_HEADER
        + "".join(
            f"{k * 0.5},{k * 0.5 + 3.0},Turdus merula,{name},{confidence},"
            f"D:\\field\\{site}\\{hour}\n"
            for k, (site, hour, name, confidence) in enumerate(
                [
                    ("site1", HOURS[0], "Eurasian Blackbird", 0.8345),
                    ("site2", HOURS[0], '"Blackbird, Common"', 0.5),
                    ("site2", HOURS[1], "Eurasian Blackbird", 1.0),
                ]
            )
        ),
    )
    assert main(["import", str(project), "--labels", str(results)]) == 0
    with Project.open(project) as p:
        bird = p.ensure_class('say "hi"').id
        for n, rec in enumerate(p.recordings()):
            p.add_event(rec.id, bird, 0.1 + 0.2 + n / 3, n / 3 + 1.7)
    expected = stored(project)
    assert len(expected["labels"]) == 4 and len(expected["all-detections"]) == 3

    exported = tmp_path / "exported"
    for source in ("labels", "detections"):
        out = exported / f"{source}.csv"
        args = ["export", str(project), "--format", "birdnet", "--source", source, "-o", str(out)]
        assert main(args) == 0
    again = project_of(tmp_path / "again", audio)
    assert main(["import", str(again), "--labels", str(exported)]) == 0
    assert stored(again) == expected


def test_export_to_stdout_writes_birdnets_csv(two_recordings, tmp_path):
    results = write(
        tmp_path,
        "rec1.BirdNET.results.csv",
        CSV_HEADER + '0.0,3.0,Turdus merula,"Blackbird, Common",0.8345\n',
    )
    assert main(["import", str(two_recordings), "--labels", str(results)]) == 0
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfstudio",
            "export",
            str(two_recordings),
            "--format",
            "birdnet",
            "--source",
            "detections",
            "-o",
            "-",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Start (s),End (s),Scientific name,Common name,Confidence,File\n"
        '0.0,3.0,,"Blackbird, Common",0.8345,rec1.wav\n'
    )


def test_an_accepted_detection_exported_as_a_label_comes_back_as_a_label(two_recordings, tmp_path):
    results = write(
        tmp_path, "rec1.BirdNET.results.csv", CSV_HEADER + "0.0,3.0,T m,Blackbird,0.8\n"
    )
    assert main(["import", str(two_recordings), "--labels", str(results)]) == 0
    with Project.open(two_recordings) as p:
        (event,) = p.events(source="model")
        p.update_event(event.id, review="accepted")
    out = tmp_path / "labels.csv"
    assert main(["export", str(two_recordings), "--format", "birdnet", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1] == "0.0,3.0,,Blackbird,,rec1.wav"
