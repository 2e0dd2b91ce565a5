"""BirdNET-Analyzer's CSV results (``--rtype csv``, per file or combined, and BirdNET's
``--rtype kaleidoscope``): detections with a confidence, the Common name as the class, the
recording as written; bad rows cost their line; written back in the csv shape.

The tables are written here in the shapes BirdNET-Analyzer writes them; none is copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, birdnet, guess_format

CSV_HEADER = "Start (s),End (s),Scientific name,Common name,Confidence\n"
CSV_FILE_HEADER = "Start (s),End (s),Scientific name,Common name,Confidence,File\n"
KALEIDOSCOPE_HEADER = (
    "INDIR,FOLDER,IN FILE,OFFSET,DURATION,scientific_name,common_name,confidence,lat,lon,week,"
    "overlap,sensitivity\n"
)
PER_FILE = CSV_HEADER + (
    "0.0,3.0,Turdus merula,Eurasian Blackbird,0.8345\n"
    "3.0,6.0,Erithacus rubecula,European Robin,0.4121\n"
    "3.0,6.0,Turdus merula,Eurasian Blackbird,0.2011\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def detection(recording: str, onset: float, offset: float, label: str, confidence: float):
    return LabelEvent(recording, onset, offset, label, source="model", confidence=confidence)


@pytest.mark.parametrize("name", ["rec1.BirdNET.results.csv", "rec1.txt", "rec1.csv"])
def test_per_file_results_are_detections_of_the_files_recording(tmp_path, name):
    path = write(tmp_path, name, PER_FILE)
    assert guess_format(path) == "birdnet"
    result = birdnet.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == [
        detection("", 0.0, 3.0, "Eurasian Blackbird", 0.8345),
        detection("", 3.0, 6.0, "European Robin", 0.4121),
        detection("", 3.0, 6.0, "Eurasian Blackbird", 0.2011),
    ]


def test_the_file_column_is_kept_as_written(tmp_path):
    path = write(
        tmp_path,
        "BirdNET_CombinedTable.csv",
        CSV_FILE_HEADER
        + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.9,/data/site 1/20240501_050000.WAV\n"
        + '3.0,6.0,Turdus merula,"Blackbird, Common",0.5,D:\\field\\site2\\20240501_050000.WAV\n'
        + '6.0,9.0,Turdus merula,Eurasian Blackbird,0.25,"E:\\a, b\\rec 2.flac"\n',
    )
    assert guess_format(path) == "birdnet"
    result = birdnet.read(path)
    assert result.issues == []
    assert result.events == [
        detection("/data/site 1/20240501_050000.WAV", 0.0, 3.0, "Eurasian Blackbird", 0.9),
        detection("D:\\field\\site2\\20240501_050000.WAV", 3.0, 6.0, "Blackbird, Common", 0.5),
        detection("E:\\a, b\\rec 2.flac", 6.0, 9.0, "Eurasian Blackbird", 0.25),
    ]


def test_unquoted_commas_in_names_and_paths_are_read_where_they_fit(tmp_path):
    """BirdNET writes its fields without quotes: a comma in a name or path lengthens the row."""
    path = write(
        tmp_path,
        "combined.csv",
        CSV_FILE_HEADER
        + "0.0,3.0,Turdus merula,Blackbird, Common,0.5,/x/a.wav\n"  # in the Common name
        + "3.0,6.0,Turdus merula,Eurasian Blackbird,0.5,/x, y/a.wav\n"  # in the path
        + "6.0,9.0,Turdus merula,Blackbird, Common,0.5,/x, y/a.wav\n"  # in both
        # a custom classifier's class: the same name twice, comma and all
        + "9.0,12.0,Song, type A,Song, type A,0.75,/x/a.wav\n"
        # the unquoted Common name "Blackbird" and path "0.5,y.wav", or "Blackbird,0.5" and
        # "y.wav": both have a number for the confidence, so the row cannot be told
        + "12.0,15.0,Turdus merula,Blackbird,0.5,0.5,y.wav\n",
    )
    result = birdnet.read(path)
    assert result.events == [
        detection("/x/a.wav", 0.0, 3.0, "Blackbird, Common", 0.5),
        detection("/x, y/a.wav", 3.0, 6.0, "Eurasian Blackbird", 0.5),
        detection("/x, y/a.wav", 6.0, 9.0, "Blackbird, Common", 0.5),
        detection("/x/a.wav", 9.0, 12.0, "Song, type A", 0.75),
    ]
    ((line, reason),) = [(i.line, i.reason) for i in result.issues]
    assert line == 6
    assert reason.startswith("7 fields for the header's 6 columns")
    assert "put that field in double quotes" in reason


def test_a_kaleidoscope_table_names_folder_and_file(tmp_path):
    path = write(
        tmp_path,
        "BirdNET_Kaleidoscope.csv",
        KALEIDOSCOPE_HEADER
        + "/data/deploy,site1,20240501_050000.WAV,3.0,3.0,Turdus merula,Eurasian Blackbird,"
        "0.9000,52.5000,13.4000,18,0.0,1.0\n"
        + ",,rec1.wav,1.5,2.5,Erithacus rubecula,European Robin,0.2500,-1,-1,-1,0.0,1.0\n",
    )
    assert guess_format(path) == "birdnet"
    result = birdnet.read(path)
    assert result.issues == []
    assert result.events == [
        detection("site1/20240501_050000.WAV", 3.0, 6.0, "Eurasian Blackbird", 0.9),
        detection("rec1.wav", 1.5, 4.0, "European Robin", 0.25),
    ]
    by_scientific = birdnet.read(path, label_column="Scientific name").events
    assert [e.label for e in by_scientific] == ["Turdus merula", "Erithacus rubecula"]


def test_label_column_chooses_another_column(tmp_path):
    path = write(tmp_path, "rec1.BirdNET.results.csv", PER_FILE)
    result = birdnet.read(path, label_column="scientific NAME")
    labels = [e.label for e in result.events]
    assert labels == ["Turdus merula", "Erithacus rubecula", "Turdus merula"]
    with pytest.raises(FormatError) as info:
        birdnet.read(path, label_column="Species")
    assert info.value.reason == (
        "no column 'Species' (its columns: Start (s), End (s), Scientific name, Common name, "
        "Confidence)"
    )


def test_each_bad_row_costs_its_line_only(tmp_path):
    path = write(
        tmp_path,
        "rec1.BirdNET.results.csv",
        CSV_HEADER
        + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.8\n"
        + "3.0,x,Turdus merula,Eurasian Blackbird,0.8\n"
        + "9.0,6.0,Turdus merula,Eurasian Blackbird,0.8\n"
        + "6.0,9.0,Turdus merula,Eurasian Blackbird,1.5\n"
        + "6.0,9.0,Turdus merula,Eurasian Blackbird,high\n"
        + "6.0,9.0,Turdus merula,,0.8\n"
        + "-3.0,0.0,Turdus merula,Eurasian Blackbird,0.8\n"
        + "6.0,9.0,Turdus merula\n"
        + '6.0,9.0,Turdus merula,"Eurasian Blackbird,0.8\n'  # a quote never closed
        + "9.0,12.0,Turdus merula,Eurasian Blackbird,0.7\n",
    )
    result = birdnet.read(path)
    assert [(e.onset, e.confidence) for e in result.events] == [(0.0, 0.8), (9.0, 0.7)]
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "End (s) 'x' is not a number"),
        (4, "End (s) 6 is before Start (s) 9"),
        (5, "confidence 1.5 is outside 0..1 (BirdNET's confidences are probabilities)"),
        (6, "confidence 'high' is not a number"),
        (7, "empty label (Common name column)"),
        (8, "Start (s) -3.0 is negative"),
        (
            9,
            "expected 5 comma-separated fields as in the header, found 3 "
            "(Common name, Confidence missing)",
        ),
        (10, "expected 5 comma-separated fields as in the header, found 4 (Confidence missing)"),
    ]


def test_kaleidoscope_rows_report_their_own_columns(tmp_path):
    path = write(
        tmp_path,
        "k.csv",
        KALEIDOSCOPE_HEADER
        + "/d,s,a.wav,x,3.0,Turdus merula,Eurasian Blackbird,0.9,-1,-1,-1,0.0,1.0\n"
        + "/d,s,a.wav,3.0,-1,Turdus merula,Eurasian Blackbird,0.9,-1,-1,-1,0.0,1.0\n",
    )
    result = birdnet.read(path)
    assert result.events == []
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "OFFSET 'x' is not a number"),
        (3, "DURATION -1 is negative"),
    ]


def test_nocall_rows_header_only_files_and_repeated_headers_are_no_events(tmp_path):
    assert birdnet.read(write(tmp_path, "empty.BirdNET.results.csv", CSV_HEADER)).events == []
    path = write(
        tmp_path,
        "joined.csv",
        # UTF-8 BOM (the Rust BirdNET writes one) and Windows line ends, files joined by hand
        "\ufeff"
        + CSV_FILE_HEADER.replace("\n", "\r\n")
        + "0.0,3.0,nocall,nocall,1.0,a.wav\r\n"
        + "\ufeff"
        + CSV_FILE_HEADER.replace("\n", "\r\n")
        + "0.0,3.0,Turdus merula,Eurasian Blackbird,0.5,b.wav\r\n"
        # a class someone named nocall is a class: only BirdNET's placeholder (both names) is not
        + "3.0,6.0,,nocall,0.5,b.wav\r\n",
    )
    assert guess_format(path) == "birdnet"
    result = birdnet.read(path)
    assert result.issues == []
    assert result.events == [
        detection("b.wav", 0.0, 3.0, "Eurasian Blackbird", 0.5),
        detection("b.wav", 3.0, 6.0, "nocall", 0.5),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Start (s),End (s),Common name,Confidence\n0.0,3.0,Wren,0.5\n",
            "not a BirdNET-Analyzer results table: its header has no 'Scientific name' column; "
            "expected BirdNET-Analyzer's 'Start (s),End (s),Scientific name,Common name,"
            "Confidence[,File]' (--rtype csv) or 'INDIR,FOLDER,IN FILE,OFFSET,DURATION,"
            "scientific_name,common_name,confidence,…' (--rtype kaleidoscope)",
        ),
        (
            "start,end,label\n0.5,1.5,dog\n",
            "not a BirdNET-Analyzer results table: its header is 'start,end,label'; expected "
            "BirdNET-Analyzer's 'Start (s),End (s),Scientific name,Common name,Confidence[,File]'"
            " (--rtype csv) or 'INDIR,FOLDER,IN FILE,OFFSET,DURATION,scientific_name,"
            "common_name,confidence,…' (--rtype kaleidoscope)",
        ),
    ],
)
def test_another_header_is_refused_saying_what_was_expected(tmp_path, text, reason):
    with pytest.raises(FormatError) as info:
        birdnet.read(write(tmp_path, "x.csv", text))
    assert info.value.reason == reason


def test_another_formats_file_is_named_as_such(tmp_path):
    path = write(tmp_path, "r.txt", "Selection\tView\tBegin Time (s)\tEnd Time (s)\tAnnotation\n")
    with pytest.raises(FormatError) as info:
        birdnet.read(path)
    assert info.value.reason == "looks like a raven file, not birdnet"


@pytest.mark.parametrize(
    ("file_name", "text", "expected"),
    [
        ("a.csv", CSV_HEADER, "birdnet"),
        ("a.txt", CSV_FILE_HEADER, "birdnet"),
        ("a.csv", KALEIDOSCOPE_HEADER, "birdnet"),
        # Wildlife Acoustics Kaleidoscope's own id.csv: not BirdNET's (no names, no confidence)
        (
            "id.csv",
            "INDIR,OUTDIR,FOLDER,IN FILE,DURATION,OFFSET,Dur,AUTO ID*,MANUAL ID\n",
            "kaleidoscope",
        ),
        ("a.csv", "Start (s),End (s),Label\n0.0,3.0,wren\n", None),
        ("a.csv", "start,end,label\n0.5,1.5,dog\n", None),
        ("a.txt", "0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n", "audacity"),
    ],
)
def test_guess_format(tmp_path, file_name, text, expected):
    assert guess_format(write(tmp_path, file_name, text)) == expected


def test_written_labels_and_detections_read_back_exactly(tmp_path):
    events = [
        LabelEvent("rec1.wav", 0.1 + 0.2, 1 / 3 + 1, "Eurasian Blackbird"),  # a label
        detection("rec1.wav", 0.0, 3.0, "Eurasian Blackbird", 0.8345),
        detection("site 2/20240501_050000.WAV", 3.0, 6.0, "Blackbird, Common", 1.0),
        detection("C:\\a, b\\x.wav", 1e-7, 7.000000000000001, 'say "hi"', 0.0),
        LabelEvent(" take 1.wav", 2.0, 2.0, "鳥 song"),  # zero length, spaces kept
    ]
    path = tmp_path / "out.BirdNET.results.csv"
    birdnet.write(events, path)
    assert path.read_text(encoding="utf-8") == (
        "Start (s),End (s),Scientific name,Common name,Confidence,File\n"
        "0.30000000000000004,1.3333333333333333,,Eurasian Blackbird,,rec1.wav\n"
        "0.0,3.0,,Eurasian Blackbird,0.8345,rec1.wav\n"
        '3.0,6.0,,"Blackbird, Common",1.0,site 2/20240501_050000.WAV\n'
        '0.0000001,7.000000000000001,,"say ""hi""",0.0,"C:\\a, b\\x.wav"\n'
        "2.0,2.0,,鳥 song,, take 1.wav\n"
    )
    assert guess_format(path) == "birdnet"
    result = birdnet.read(path)
    assert result.issues == []
    assert result.events == events
    assert [e.source for e in result.events] == ["human", "model", "model", "model", "human"]


def test_lines_stream_what_write_writes(tmp_path, random_events):
    events = random_events(5, 60, recording="a, b.wav", with_band=True)
    events += [detection("b.wav", 1.0, 2.0, "dog", 0.25)]
    birdnet.write(events, tmp_path / "w.csv")
    streamed = "".join(line + "\n" for line in birdnet.lines(iter(events)))
    assert streamed == (tmp_path / "w.csv").read_text(encoding="utf-8")
    # No place for a band: the times and classes come back without it.
    back = birdnet.read(tmp_path / "w.csv").events
    assert back == [
        LabelEvent(e.recording, e.onset, e.offset, e.label, None, None, e.source, e.confidence)
        for e in events
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (detection("a.wav", 0.0, 3.0, "dog", 3.5), "confidence 3.5 is outside 0..1"),
        (detection("a.wav", 0.0, 3.0, "dog", float("nan")), "confidence nan is outside 0..1"),
        (LabelEvent("a\nb.wav", 0.0, 3.0, "dog"), "a line break in a label or file name"),
        (LabelEvent("a.wav", 3.0, 1.0, "dog"), "offset is before onset"),
    ],
)
def test_an_event_the_format_cannot_hold_is_refused_before_writing(tmp_path, event, reason):
    path = tmp_path / "out.csv"
    good = LabelEvent("a.wav", 0.0, 1.0, "cat")
    with pytest.raises(ValueError) as info:
        birdnet.write([good, event], path)
    assert str(info.value).startswith("birdnet: event 2 ('dog' at ")
    assert reason in str(info.value)
    assert not path.exists()
