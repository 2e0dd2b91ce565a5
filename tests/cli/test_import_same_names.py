"""Recordings of one file name in several folders: AudioMoth names its files by the hour, so
a deployment of several sites holds ``site1/20240501_050000.WAV`` and
``site2/20240501_050000.WAV``. Label files from other tools name such a recording by its path
(Raven's and BirdNET's Begin Path, whombat's recording path, from the machine that made them)
or only by its file name, in a folder of the site's name; each label must land on its own
site's recording, and one that cannot be told apart is reported, never put on the wrong one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import HOURS, project_of, write_sites
from tfstudio.cli import main
from tfstudio.exporter import export_labels
from tfstudio.formats import FORMATS
from tfstudio.store import Project


@pytest.fixture
def audio(tmp_path) -> Path:
    return write_sites(tmp_path / "deployment")


def labels_by_site(project: Path) -> set[tuple[str, str, float, float, str]]:
    """(site, file name, onset, offset, class) of every label and detection."""
    with Project.open(project) as p:
        names = {c.id: c.name for c in p.classes()}
        where = {r.id: (Path(r.path).parent.name, Path(r.path).name) for r in p.recordings()}
        return {
            (*where[e.recording_id], e.onset, e.offset, names[e.class_id])
            for selection in ("labels", "all-detections")
            for e in p.iter_events(selection)
        }


RAVEN_HEADER = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
    "Common Name\tSpecies Code\tConfidence\tBegin Path\tFile Offset (s)\n"
)


def birdnet_row(number: int, start: float, name: str, path: str, high: int = 8000) -> str:
    return (
        f"{number}\tSpectrogram 1\t1\t{start}\t{start + 3}\t0\t{high}\t{name}\t{name[:4].lower()}\t"
        f"0.8\t{path}\t{start}\n"
    )


def test_begin_paths_from_another_machine_pick_the_site_by_folder(tmp_path, audio, capsys):
    """BirdNET run on the field laptop: one combined table, Windows paths, other root."""
    project = project_of(tmp_path / "proj", audio)
    table = tmp_path / "BirdNET_CombinedTable.txt"
    table.write_text(
        RAVEN_HEADER
        + birdnet_row(1, 0.0, "Robin", r"D:\field\site1\20240501_050000.WAV")
        + birdnet_row(2, 0.5, "Wren", r"D:\field\site2\20240501_050000.WAV", high=15000)
        + birdnet_row(3, 1.0, "Owl", r"D:\field\site2\20240501_060000.WAV"),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(table)]) == 0
    captured = capsys.readouterr()
    assert "detections: 3 added" in captured.out
    # A warning names the recording by its path: its file name names two.
    assert (
        f"event 'Wren' at 0.5 s reaches 15000 Hz, above what {audio / 'site2' / HOURS[0]} holds"
    ) in captured.err
    assert labels_by_site(project) == {
        ("site1", HOURS[0], 0.0, 3.0, "Robin"),
        ("site2", HOURS[0], 0.5, 3.5, "Wren"),
        ("site2", HOURS[1], 1.0, 4.0, "Owl"),
    }
    # The review list names each by the folder that tells it apart.
    assert main(["review", str(project)]) == 0
    listed = capsys.readouterr().out
    assert f"site1/{HOURS[0]}  Robin" in listed and f"site2/{HOURS[0]}  Wren" in listed
    assert f"site2/{HOURS[1]}  Owl" in listed


def test_file_names_alone_pick_by_the_label_files_folder(tmp_path, audio, capsys):
    """A table per site folder naming files without their folder: its folder's name picks;
    the same table in a folder named as no site is reported, and adds nothing."""
    project = project_of(tmp_path / "proj", audio)
    results = tmp_path / "results"
    table = RAVEN_HEADER + birdnet_row(1, 0.0, "Robin", HOURS[0])
    for folder in ("site2", "unsorted"):
        (results / folder).mkdir(parents=True)
        (results / folder / "BirdNET_SelectionTable.txt").write_text(table, encoding="utf-8")
    # Raven's own table of one recording, named after it, in its site's folder.
    (results / "site1").mkdir()
    (results / "site1" / "20240501_060000.Table.1.selections.txt").write_text(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tBegin File\tAnnotation\n"
        f"1\tSpectrogram 1\t1\t2.0\t2.5\t{HOURS[1]}\tknock\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import", str(project), "--labels", str(results)]) == 3  # problems reported
    captured = capsys.readouterr()
    assert labels_by_site(project) == {
        ("site2", HOURS[0], 0.0, 3.0, "Robin"),
        ("site1", HOURS[1], 2.0, 2.5, "knock"),
    }
    unsorted = str(Path("unsorted") / "BirdNET_SelectionTable.txt")
    (problem,) = [line for line in captured.err.splitlines() if unsorted in line]
    assert f"1 event(s) not imported: '{HOURS[0]}' matches 2 recordings" in problem
    assert "keep this file in a folder named as the recording's folder" in problem


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_round_trips_recordings_of_one_name(tmp_path, audio, fmt):
    """Labels on same-named recordings, exported and imported into a project of the same
    audio, come back on the same recordings."""
    project = project_of(tmp_path / "proj", audio)
    with Project.open(project) as p:
        kinds = {name: p.ensure_class(name).id for name in ("bird", "frog")}
        for n, rec in enumerate(p.recordings()):
            kind = kinds["bird" if Path(rec.path).parent.name == "site1" else "frog"]
            p.add_event(rec.id, kinds["bird"], 0.5 * n, 0.5 * n + 1.0)
            p.add_event(rec.id, kind, 2.0, 3.25)
        out = tmp_path / "exported"
        export_labels(p, fmt, out)
    expected = labels_by_site(project)
    assert len(expected) == 8
    again = project_of(tmp_path / "again", audio)
    assert main(["import", str(again), "--labels", str(out), "--format", fmt]) == 0
    assert labels_by_site(again) == expected


def test_export_messages_name_the_recording_by_its_own_folder(tmp_path, audio):
    project = project_of(tmp_path / "proj", audio)
    with Project.open(project) as p:
        bird = p.ensure_class("bird").id
        (rec,) = [r for r in p.recordings() if r.path.endswith(f"site2/{HOURS[0]}")]
        p.add_event(rec.id, bird, 5.0, 5.5)  # after the 4 s recording's end
        skipped: list[str] = []
        export_labels(p, "textgrid", tmp_path / "grids", skipped=skipped)
    assert [line.split(":", 1)[0] for line in skipped] == [f"site2/{HOURS[0]}"]
