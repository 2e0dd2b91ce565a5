"""BirdNET-Analyzer's output (issue 14): its Audacity-style results and Raven selection tables
are read as detections with a confidence, the species as the class.

The files are written here in the shapes BirdNET writes (``start<TAB>end<TAB>Scientific,
Common<TAB>confidence``; the Raven header with Common Name, Species Code, Confidence, Begin
Path, File Offset and its "nocall" row for a file without detections); no BirdNET file is
copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import LabelEvent, audacity, guess_format, raven

BIRDNET_AUDACITY = (
    "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n"
    "3.0\t6.0\tErithacus rubecula, European Robin\t0.4121\n"
    "3.0\t6.0\tTurdus merula, Eurasian Blackbird\t0.2011\n"
)

RAVEN_HEADER = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
    "Common Name\tSpecies Code\tConfidence\tBegin Path\tFile Offset (s)\n"
)
BIRDNET_RAVEN = RAVEN_HEADER + (
    "1\tSpectrogram 1\t1\t0\t3.0\t150\t15000\tEurasian Blackbird\teurbla\t0.9012\t"
    "/data/site 1/rec2.wav\t0\n"
    "2\tSpectrogram 1\t1\t3.0\t6.0\t150\t15000\tEuropean Robin\teurrob1\t0.5123\t"
    "/data/site 1/rec2.wav\t3.0\n"
)
# BirdNET writes this row into the table of a file in which it found nothing.
BIRDNET_RAVEN_EMPTY = RAVEN_HEADER + (
    "1\tSpectrogram 1\t1\t0\t3\t150\t15000\tnocall\tnocall\t1.0\tC:\\data\\quiet.wav\t0\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_audacity_results_are_detections_labelled_by_the_species(tmp_path):
    path = write(tmp_path, "rec1.BirdNET.results.txt", BIRDNET_AUDACITY)
    assert guess_format(path) == "audacity"
    result = audacity.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 0.0, 3.0, "Turdus merula, Eurasian Blackbird", None, None, "model", 0.8345),
        LabelEvent("", 3.0, 6.0, "Erithacus rubecula, European Robin", None, None, "model", 0.4121),
        LabelEvent("", 3.0, 6.0, "Turdus merula, Eurasian Blackbird", None, None, "model", 0.2011),
    ]
    assert not any("\t" in e.label for e in result.events)


def test_a_fourth_field_that_is_not_a_number_stays_part_of_the_label(tmp_path):
    # Not BirdNET: the label is the rest of the line, and its tab is reported, not cut.
    result = audacity.read(write(tmp_path, "rec.txt", "0.5\t1.0\tdog\tbark\n2\t3\tcat\n"))
    assert [e.label for e in result.events] == ["cat"]
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "class name 'dog\\tbark' contains a tab")
    ]


def test_a_bad_confidence_costs_its_line(tmp_path):
    result = audacity.read(write(tmp_path, "rec.txt", "0\t3\tWren\t1e999\n3\t6\tWren\t0.5\n"))
    assert [e.confidence for e in result.events] == [0.5]
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "confidence '1e999' is not a finite number")
    ]


def test_detections_written_as_audacity_read_back_as_detections(tmp_path):
    events = [
        LabelEvent("", 0.0, 3.0, "Wren", None, None, "model", 0.75),
        LabelEvent("", 1.0, 2.0, "Wren", 200.0, 8000.0, "model", 1.0),
        LabelEvent("", 4.0, 5.0, "Robin"),  # a label: three fields
    ]
    path = tmp_path / "rec.txt"
    audacity.write(events, path)
    assert path.read_text(encoding="utf-8") == (
        "0.0\t3.0\tWren\t0.75\n1.0\t2.0\tWren\t1.0\n\\\t200.0\t8000.0\n4.0\t5.0\tRobin\n"
    )
    assert audacity.read(path).events == events


REC2 = "/data/site 1/rec2.wav"  # Begin Path as written: the import picks by its folders


def test_raven_table_keeps_confidence_and_species_code(tmp_path):
    path = write(tmp_path, "rec2.BirdNET.selection.table.txt", BIRDNET_RAVEN)
    assert guess_format(path) == "raven"
    result = raven.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent(REC2, 0.0, 3.0, "Eurasian Blackbird", 150.0, 15000.0, "model", 0.9012),
        LabelEvent(REC2, 3.0, 6.0, "European Robin", 150.0, 15000.0, "model", 0.5123),
    ]
    assert [e.species_code for e in result.events] == ["eurbla", "eurrob1"]


def test_raven_nocall_placeholder_is_no_event(tmp_path):
    result = raven.read(write(tmp_path, "quiet.BirdNET.selection.table.txt", BIRDNET_RAVEN_EMPTY))
    assert result.events == [] and result.issues == []


def test_raven_rows_without_a_confidence_stay_labels(tmp_path):
    text = (
        "Selection\tView\tBegin Time (s)\tEnd Time (s)\tAnnotation\tConfidence\n"
        "1\tSpectrogram 1\t0.5\t1.0\tdog\t\n"
        "2\tSpectrogram 1\t1.5\t2.0\tdog\t0.25\n"
        "3\tSpectrogram 1\t2.5\t3.0\tdog\thigh\n"
    )
    result = raven.read(write(tmp_path, "r.Table.1.selections.txt", text))
    assert [(e.source, e.confidence) for e in result.events] == [("human", None), ("model", 0.25)]
    assert [(i.line, i.reason) for i in result.issues] == [(4, "confidence 'high' is not a number")]


@pytest.mark.parametrize("with_code", [False, True])
def test_raven_detections_round_trip_with_confidence_and_code(tmp_path, with_code):
    code = "eurbla" if with_code else None
    events = [
        LabelEvent("", 0.0, 3.0, "Eurasian Blackbird", None, None, "model", 0.9, species_code=code),
        LabelEvent(
            "", 3.0, 6.0, "Eurasian Blackbird", None, None, "model", 0.25, species_code=code
        ),
    ]
    path = tmp_path / "r.Table.1.selections.txt"
    raven.write(events, path)
    header = path.read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert header[-1] == "Confidence"
    assert ("Species Code" in header) == with_code
    read = raven.read(path).events
    assert read == events
    assert [e.species_code for e in read] == [code, code]
