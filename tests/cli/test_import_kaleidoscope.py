"""`tfstudio import --labels` with Wildlife Acoustics Kaleidoscope's own id.csv: MANUAL IDs
become labels, AUTO IDs detections of an "imported" run with their MATCH RATIO, each on the
recording INDIR/FOLDER/IN FILE names (same-named files in site folders told apart); and
`tfstudio export --format kaleidoscope`, whose labels and detections come back the same in a
fresh project of the same audio.

The tables are written here in the shape Kaleidoscope Pro 5 writes them; none is copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import HOURS, project_of, write_sites
from tfstudio.cli import main
from tfstudio.store import Project

HEADER = (
    "INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,OUT FILE FS,OUT FILE ZC,DATE,TIME,HOUR,"
    "DATE-12,TIME-12,HOUR-12,AUTO ID*,PULSES,MATCHING,MATCH RATIO,MARGIN,ALTERNATE 1,"
    "ALTERNATE 2,N,Fc,Sc,Dur,Fmax,Fmin,Fmean,TBC,Fk,Tk,S1,Tc,Qual,FILES,MANUAL ID"
)


def segment(
    indir: str,
    folder: str,
    file: str,
    offset: float | str,
    duration: float | str,
    auto: str = "",
    ratio: str = "",
    manual: str = "",
) -> str:
    """One Pro 5 row: the segment, its IDs, and what Kaleidoscope fills around them."""
    pulses = "12,10" if auto not in ("", "NoID", "Noise") else "0,0"
    return (
        f'"{indir}",P:\\Out,{folder},{file},0,{offset},{duration},,,2024-05-01,05:00:00,5,'
        f"2024-04-30,17:00:00,17,{auto},{pulses},{ratio},0.25,,,12,41.2,-120.5,3.1,52.0,38.4,"
        f"44.0,150,45.1,1.2,-80.3,2.1,0.45,1,{manual}"
    )


def write(folder: Path, name: str, rows: list[str]) -> Path:
    """An id.csv as Kaleidoscope writes it: a byte order mark, CRLF line ends."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8"))
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


@pytest.fixture
def audio(tmp_path) -> Path:
    return write_sites(tmp_path / "deployment")


def test_manual_ids_are_labels_and_auto_ids_detections_on_their_sites_recordings(
    tmp_path, audio, capsys
):
    project = project_of(tmp_path / "proj", audio)
    # Kaleidoscope run over the deployment on the field laptop: one FOLDER per site.
    table = write(
        tmp_path / "kaleidoscope out",
        "id.csv",
        [
            segment("D:\\deployment", "site2", HOURS[0], 0, 2.5, "MYOLUC", "0.83"),
            segment("D:\\deployment", "site2", HOURS[0], 2.5, 1.5, "EPTFUS", "0.5", "EPTFUS"),
            segment("D:\\deployment", "site1", HOURS[0], 0, 4, "NoID", "", "LASBOR"),
            segment("D:\\deployment", "site1", HOURS[1], 0, 4, "Noise"),
        ],
    )
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(table)]) == 0
    out = capsys.readouterr()
    assert "detections: 2 added to run 1 ('imported id.csv')" in out.out
    assert "2 row(s) whose AUTO ID* is NoID or Noise (Kaleidoscope's 'no identification'): " in (
        out.err
    )
    assert stored(project) == {
        "labels": {
            ("site2", HOURS[0], 2.5, 4.0, "EPTFUS", "human", None),
            ("site1", HOURS[0], 0.0, 4.0, "LASBOR", "human", None),
        },
        "all-detections": {
            ("site2", HOURS[0], 0.0, 2.5, "MYOLUC", "model", 0.83),
            ("site2", HOURS[0], 2.5, 4.0, "EPTFUS", "model", 0.5),
        },
    }
    with Project.open(project) as p:
        (run,) = p.runs()
        assert (run.status, run.config_dict["imported"]["format"]) == ("done", "kaleidoscope")
    # The same table again adds nothing, and no second run.
    assert main(["import", str(project), "--labels", str(table)]) == 0
    with Project.open(project) as p:
        assert len(p.runs()) == 1 and len(p.events()) == 4


def test_a_site_named_only_by_indir_is_found_by_it(tmp_path, audio):
    """One Kaleidoscope run per site: INDIR is the site's folder, FOLDER empty."""
    project = project_of(tmp_path / "proj", audio)
    table = write(
        tmp_path,
        "all_id.csv",
        [
            segment("P:\\Field\\site2", "", HOURS[1], 1, 2, manual="MYOSEP"),
            segment("P:\\Field\\site1\\", "", HOURS[1], 0.5, 2, manual="MYOLUC"),
        ],
    )
    assert main(["import", str(project), "--labels", str(table)]) == 0
    assert stored(project)["labels"] == {
        ("site2", HOURS[1], 1.0, 3.0, "MYOSEP", "human", None),
        ("site1", HOURS[1], 0.5, 2.5, "MYOLUC", "human", None),
    }


def test_kaleidoscopes_output_folder_imports_its_id_table(tmp_path, audio, capsys):
    """The folder Kaleidoscope wrote: id.csv is read, meta.csv (no IDs) and the log passed
    over, counted in one warning."""
    project = project_of(tmp_path / "proj", audio)
    out = tmp_path / "kaleidoscope out"
    write(out, "id.csv", [segment("D:\\deployment", "site1", HOURS[0], 0, 4, "MYOLUC", "0.9")])
    (out / "meta.csv").write_text(
        "INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,DATE,TIME,SAMPLERATE\r\n"
        f"D:\\deployment,P:\\Out,site1,{HOURS[0]},0,0,4,2024-05-01,05:00:00,16000\r\n",
        encoding="utf-8",
    )
    (out / "log.txt").write_text("Kaleidoscope Pro 5.6.2\nFiles processed: 4\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(out)]) == 0
    err = capsys.readouterr().err
    assert "2 file(s) in the folders are not label files of a known format: passed over" in err
    assert stored(project)["all-detections"] == {
        ("site1", HOURS[0], 0.0, 4.0, "MYOLUC", "model", 0.9)
    }


def test_bad_rows_are_reported_with_their_lines_and_the_rest_imported(
    two_recordings, tmp_path, capsys
):
    table = write(
        tmp_path,
        "id.csv",
        [
            segment("C:\\bats", "", "rec1.wav", 0, 3, "MYOLUC", "0.8", "MYOLUC"),
            segment("C:\\bats", "", "rec1.wav", "3.x", 3, "MYOLUC", "0.8"),
            segment("C:\\bats", "", "rec2.wav", 0, -1, manual="MYOLUC"),
            segment("C:\\bats", "", "rec2.wav", 3, 3, "MYOLUC", "250", "EPTFUS"),
            segment("C:\\bats", "", "", 3, 3, manual="MYOLUC"),
        ],
    )
    capsys.readouterr()
    code = main(["import", str(two_recordings), "--json", "--labels", str(table)])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 == report["exit_code"]
    assert (report["labels"]["added"], report["detections"]["added"]) == (2, 1)
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [
        (3, "OFFSET '3.x' is not a number"),
        (4, "DURATION -1 is negative"),
        (
            5,
            "MATCH RATIO 250 is neither a fraction of the pulses (0 to 1) nor a percentage; "
            "the AUTO ID* 'MYOLUC' detection is not imported (its MANUAL ID label is)",
        ),
        (6, "IN FILE is empty (the recording's file name)"),
    ]


def test_a_header_without_the_needed_columns_says_which(two_recordings, tmp_path, capsys):
    table = tmp_path / "id.csv"
    table.write_text("INDIR,FOLDER,IN FILE,OFFSET,AUTO ID*\nC:\\b,,rec1.wav,0,MYOLUC\n")
    capsys.readouterr()
    args = ["import", str(two_recordings), "--labels", str(table), "--format", "kaleidoscope"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "not a Kaleidoscope id.csv: its header has no 'DURATION' column; expected " in err
    assert "(IN FILE, OFFSET, DURATION and AUTO ID* or MANUAL ID, in any order)" in err


def test_label_column_takes_the_auto_ids_as_labels(two_recordings, tmp_path):
    table = write(
        tmp_path,
        "id.csv",
        [
            segment("C:\\bats", "", "rec1.wav", 0, 3, "MYOLUC", "0.8"),
            segment("C:\\bats", "", "rec1.wav", 3, 3, "NoID"),
        ],
    )
    args = ["import", str(two_recordings), "--labels", str(table), "--label-column", "auto id"]
    assert main([*args, "--format", "kaleidoscope"]) == 0
    with Project.open(two_recordings) as p:
        assert [(c.name, e.onset, e.source) for c in p.classes() for e in p.events()] == [
            ("MYOLUC", 0.0, "human")
        ]
        assert p.runs() == []


def test_exported_labels_and_detections_come_back_in_a_fresh_project(tmp_path, audio):
    project = project_of(tmp_path / "proj", audio)
    table = write(
        tmp_path,
        "id.csv",
        [
            segment("D:\\deployment", "site1", HOURS[0], 0, 1.5, "MYOLUC", "0.8345"),
            segment("D:\\deployment", "site2", HOURS[0], 0.5, 1.5, "EPTFUS", "0.5", "EPTFUS"),
            segment("D:\\deployment", "site2", HOURS[1], 1, 3, "MYOLUC", "1"),
        ],
    )
    assert main(["import", str(project), "--labels", str(table)]) == 0
    with Project.open(project) as p:
        bat = p.ensure_class("Myotis, small").id
        for n, rec in enumerate(p.recordings()):
            p.add_event(rec.id, bat, 0.1 + 0.2 + n / 3, n / 3 + 1.7)
    expected = stored(project)
    assert len(expected["labels"]) == 5 and len(expected["all-detections"]) == 3

    exported = tmp_path / "exported"
    for source in ("labels", "detections"):
        out = exported / f"{source}.id.csv"
        args = ["export", str(project), "--format", "kaleidoscope", "--source", source]
        assert main([*args, "-o", str(out)]) == 0
    rows = (exported / "detections.id.csv").read_text(encoding="utf-8").splitlines()
    deployment = str(audio.absolute())
    assert rows[0] == "INDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,AUTO ID*,MATCH RATIO,MANUAL ID"
    assert f"{deployment},site1,{HOURS[0]},0,0.0,1.5,MYOLUC,0.8345," in rows
    again = project_of(tmp_path / "again", audio)
    assert main(["import", str(again), "--labels", str(exported)]) == 0
    assert stored(again) == expected


def test_an_accepted_detection_exported_as_a_label_comes_back_as_a_label(
    two_recordings, tmp_path, capsys
):
    row = segment("C:\\bats", "", "rec1.wav", 0, 3, "MYOLUC", "0.8")
    table = write(tmp_path, "id.csv", [row])
    assert main(["import", str(two_recordings), "--labels", str(table)]) == 0
    with Project.open(two_recordings) as p:
        (event,) = p.events(source="model")
        p.update_event(event.id, review="accepted", high_hz=3000.0, low_hz=1000.0)
    out = tmp_path / "labels.id.csv"
    capsys.readouterr()
    args = ["export", str(two_recordings), "--format", "kaleidoscope", "-o", str(out)]
    assert main(args) == 0
    # The box drawn on it has no place in an id.csv: said.
    err = capsys.readouterr().err
    assert "rec1.wav: 1 event(s) with a frequency band, which kaleidoscope files cannot " in err
    audio = tmp_path / "audio"  # the two_recordings' audio
    (row,) = out.read_text(encoding="utf-8").splitlines()[1:]
    assert row == f"{audio.parent.absolute()},audio,rec1.wav,0,0.0,3.0,,,MYOLUC"
    fresh = project_of(tmp_path / "fresh", audio)
    assert main(["import", str(fresh), "--labels", str(out)]) == 0
    with Project.open(fresh) as p:
        assert [(e.source, e.onset, e.offset) for e in p.events()] == [("human", 0.0, 3.0)]
