"""Wildlife Acoustics Kaleidoscope's own id.csv: MANUAL IDs as labels, AUTO IDs as detections
with their MATCH RATIO, columns found by name in any order and spelling; bad rows cost their
line; written back in an id.csv shape that reads back the same.

The tables are written here in the shape Kaleidoscope Pro 5 writes them (made up rows, none
copied from anyone's data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format, kaleidoscope

# Kaleidoscope Pro 5's id.csv columns for a bat analysis, in its order.
PRO5 = [
    "INDIR",
    "OUTDIR",
    "FOLDER",
    "IN FILE",
    "CHANNEL",
    "OFFSET",
    "DURATION",
    "OUT FILE FS",
    "OUT FILE ZC",
    "DATE",
    "TIME",
    "HOUR",
    "DATE-12",
    "TIME-12",
    "HOUR-12",
    "AUTO ID*",
    "PULSES",
    "MATCHING",
    "MATCH RATIO",
    "MARGIN",
    "ALTERNATE 1",
    "ALTERNATE 2",
    "N",
    "Fc",
    "Sc",
    "Dur",
    "Fmax",
    "Fmin",
    "Fmean",
    "TBC",
    "Fk",
    "Tk",
    "S1",
    "Tc",
    "Qual",
    "FILES",
    "MANUAL ID",
]
PRO5_HEADER = ",".join(PRO5)
INDIR = "P:\\Site\\CM-06\\DATA"
NIGHT = "S4U09876_20240701_213000.wav"


def row(header: list[str], **values: str) -> str:
    """One row of ``header``: the given cells (keys with ``_`` for a space, ``star`` for
    ``*``), the others empty."""
    cells = {name.replace("_", " ").replace("star", "*"): text for name, text in values.items()}
    unknown = set(cells) - set(header)
    assert not unknown, unknown
    return ",".join(cells.get(name, "") for name in header)


def segment(
    folder: str = "",
    file: str = NIGHT,
    offset: str = "0",
    duration: str = "5",
    auto: str = "",
    ratio: str = "",
    manual: str = "",
    channel: str = "0",
    pulses: str = "",
    matching: str = "",
) -> str:
    """A Pro 5 row of one segment, with what Kaleidoscope fills around it."""
    return row(
        PRO5,
        INDIR=INDIR,
        OUTDIR="P:\\Out\\CM-06",
        FOLDER=folder,
        IN_FILE=file,
        CHANNEL=channel,
        OFFSET=offset,
        DURATION=duration,
        DATE="2024-07-01",
        TIME="21:30:00",
        HOUR="21",
        AUTO_IDstar=auto,
        PULSES=pulses or ("12" if auto else ""),
        MATCHING=matching or ("10" if auto else ""),
        MATCH_RATIO=ratio,
        FILES="1",
        MANUAL_ID=manual,
    )


def write(tmp_path: Path, name: str, lines: list[str], *, crlf: bool = True, bom: bool = True):
    """A table as Kaleidoscope writes it: CRLF line ends and a UTF-8 byte order mark."""
    path = tmp_path / name
    text = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def label(recording: str, onset: float, offset: float, name: str, channel: int | None = 1):
    return LabelEvent(recording, onset, offset, name, channel=channel)


def detection(recording, onset, offset, name, confidence, channel: int | None = 1):
    return LabelEvent(
        recording, onset, offset, name, source="model", confidence=confidence, channel=channel
    )


def test_manual_ids_are_labels_and_auto_ids_detections_with_their_match_ratio(tmp_path):
    path = write(
        tmp_path,
        "id.csv",
        [
            PRO5_HEADER,
            segment(offset="0", duration="5.12", auto="MYOLUC", ratio="0.83"),
            # vetted: the person agreed; both come in, as the review sees them
            segment(offset="5.12", duration="4.88", auto="EPTFUS", ratio="0.5", manual="EPTFUS"),
            # the person named what the classifier did not
            segment(offset="10", duration="5", auto="NoID", manual="LASBOR"),
            segment(offset="15", duration="5", auto="Noise"),
            segment(offset="20", duration="2.5", channel="1", auto="LASCIN", ratio="1"),
            segment(offset="22.5", duration="2.5"),  # nothing identified: no event
        ],
    )
    assert guess_format(path) == "kaleidoscope"
    result = kaleidoscope.read(path)
    assert result.issues == []
    rec = f"{INDIR}/{NIGHT}"
    assert result.events == [
        detection(rec, 0.0, 5.12, "MYOLUC", 0.83),
        label(rec, 5.12, 10.0, "EPTFUS"),
        detection(rec, 5.12, 10.0, "EPTFUS", 0.5),
        label(rec, 10.0, 15.0, "LASBOR"),
        detection(rec, 20.0, 22.5, "LASCIN", 1.0),
    ]
    assert [e.channel for e in result.events] == [1, 1, 1, 1, 2]
    assert [(w.line, w.reason) for w in result.warnings] == [
        (
            0,
            "2 row(s) whose AUTO ID* is NoID or Noise (Kaleidoscope's 'no identification'): "
            "not detections, skipped",
        )
    ]


def test_the_recording_is_indir_folder_and_file_as_written(tmp_path):
    path = write(
        tmp_path,
        "id.csv",
        [
            PRO5_HEADER,
            segment(folder="site1", auto="MYOLUC", ratio="0.5"),
            segment(folder="site2\\night 2\\", auto="MYOLUC", ratio="0.5"),
            row(
                PRO5,
                INDIR="/data/bats/",
                FOLDER="",
                IN_FILE="a.wav",
                OFFSET="0",
                DURATION="1",
                MANUAL_ID="MYOSEP",
            ),
            row(PRO5, IN_FILE=" take 1.wav", OFFSET="0", DURATION="1", MANUAL_ID="MYOSEP"),
            row(
                PRO5,
                INDIR='"C:\\Field, 2024"',
                IN_FILE="b.wav",
                OFFSET="0",
                DURATION="1",
                MANUAL_ID='"MYOLUC,EPTFUS"',
            ),
        ],
        crlf=False,
        bom=False,
    )
    result = kaleidoscope.read(path)
    assert result.issues == []
    assert [e.recording for e in result.events] == [
        f"{INDIR}/site1/{NIGHT}",
        f"{INDIR}/site2\\night 2/{NIGHT}",
        "/data/bats/a.wav",
        " take 1.wav",
        "C:\\Field, 2024/b.wav",
    ]
    assert kaleidoscope.recording_aliases("site/ take 1.wav") == ["site/take 1.wav"]
    assert kaleidoscope.recording_aliases("a.wav") == []
    # Several species typed in one MANUAL ID: one class as written, and said.
    assert result.events[-1].label == "MYOLUC,EPTFUS"
    assert [w.reason for w in result.warnings] == [
        "1 ID(s) name several species ('MYOLUC,EPTFUS'): each is one class named as written; "
        "rename or split those classes if they mean several calls"
    ]


def test_columns_are_found_by_name_in_any_order_and_spelling(tmp_path):
    # An older version: AUTO ID without the star, MANUAL ID*, no MATCH RATIO (MATCHING of
    # PULSES instead), TIME*, other order; a column of the user's own.
    header = [
        "IN FILE",
        "OFFSET",
        "DURATION",
        "TIME*",
        "AUTO ID",
        "PULSES",
        "MATCHING",
        "Notes",
        "MANUAL ID*",
        "FOLDER",
    ]
    path = write(
        tmp_path,
        "id.csv",
        [
            ",".join(header),
            row(
                header,
                IN_FILE="a.wav",
                OFFSET="1.5",
                DURATION="2",
                AUTO_ID="MYOLUC",
                PULSES="8",
                MATCHING="6",
                MANUAL_IDstar="MYOLUC",
                FOLDER="S1",
            ),
            row(
                header, IN_FILE="a.wav", OFFSET="4", DURATION="2", AUTO_ID="EPTFUS", MATCHING="0.75"
            ),  # a MATCHING written as the fraction itself
            row(header, IN_FILE="a.wav", OFFSET="8", DURATION="2", AUTO_ID="EPTFUS"),
        ],
    )
    assert guess_format(path) == "kaleidoscope"
    result = kaleidoscope.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == [
        label("S1/a.wav", 1.5, 3.5, "MYOLUC", None),
        detection("S1/a.wav", 1.5, 3.5, "MYOLUC", 0.75, None),
        detection("a.wav", 4.0, 6.0, "EPTFUS", 0.75, None),
        detection("a.wav", 8.0, 10.0, "EPTFUS", None, None),  # no score to give it
    ]


def test_a_joined_table_takes_whichever_spelling_a_row_filled(tmp_path):
    """all_id.csv joined in R from two versions' tables: both spellings of a column, NA where
    a row had none, R's dotted names, and a header repeated where files were appended."""
    header = '"","IN.FILE","OFFSET","DURATION","AUTO.ID.","AUTO.ID","MATCH.RATIO","MANUAL.ID"'
    path = write(
        tmp_path,
        "all_id.csv",
        [
            header,
            '"1","a.wav",0,5,"MYOLUC",NA,0.9,NA',
            '"2","a.wav",5,5,NA,"EPTFUS",0.6,"EPTFUS"',
            '"3","a.wav",10,5,NA,NA,NA,NA',
            header,
            '"1","b.wav",0,5,"Noise",NA,NA,NA',
        ],
    )
    assert guess_format(path) == "kaleidoscope"
    result = kaleidoscope.read(path)
    assert result.issues == []
    assert result.events == [
        detection("a.wav", 0.0, 5.0, "MYOLUC", 0.9, None),
        label("a.wav", 5.0, 10.0, "EPTFUS", None),
        detection("a.wav", 5.0, 10.0, "EPTFUS", 0.6, None),
    ]
    assert len(result.warnings) == 1 and "1 row(s) whose AUTO.ID. is NoID" in (
        result.warnings[0].reason
    )


def test_match_ratios_as_percentages(tmp_path):
    path = write(
        tmp_path,
        "id.csv",
        [
            PRO5_HEADER,
            segment(offset="0", auto="MYOLUC", ratio="83%"),  # a spreadsheet's percent cell
            segment(offset="5", auto="MYOLUC", ratio="83"),  # can only be a percentage
            segment(offset="10", auto="MYOLUC", ratio="1"),  # every pulse
            # neither: the detection is reported, the row's label kept
            segment(offset="15", auto="MYOLUC", ratio="250", manual="MYOSEP"),
            segment(offset="20", auto="MYOLUC", ratio="high"),
            # no ratio written: MATCHING of PULSES, which must be a part of them
            segment(offset="25", auto="MYOLUC", pulses="12", matching="10"),
            segment(offset="30", auto="MYOLUC", pulses="4", matching="6"),
        ],
    )
    result = kaleidoscope.read(path)
    rec = f"{INDIR}/{NIGHT}"
    assert result.events == [
        detection(rec, 0.0, 5.0, "MYOLUC", 0.83),
        detection(rec, 5.0, 10.0, "MYOLUC", 0.83),
        detection(rec, 10.0, 15.0, "MYOLUC", 1.0),
        label(rec, 15.0, 20.0, "MYOSEP"),
        detection(rec, 25.0, 30.0, "MYOLUC", 10 / 12),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            5,
            "MATCH RATIO 250 is neither a fraction of the pulses (0 to 1) nor a percentage; "
            "the AUTO ID* 'MYOLUC' detection is not imported (its MANUAL ID label is)",
        ),
        (
            6,
            "MATCH RATIO 'high' is not a number; the AUTO ID* 'MYOLUC' detection is not imported",
        ),
        (
            8,
            "MATCHING 6 of PULSES 4 is not a fraction of the pulses; the AUTO ID* 'MYOLUC' "
            "detection is not imported",
        ),
    ]
    assert [w.reason for w in result.warnings] == [
        "1 MATCH RATIO value(s) above 1 read as percentages (83 as 0.83): a match ratio is a "
        "fraction of the pulses"
    ]


def test_bad_rows_cost_their_line_only(tmp_path):
    path = write(
        tmp_path,
        "id.csv",
        [
            PRO5_HEADER,
            segment(offset="0", manual="MYOLUC"),
            segment(offset="1,5", manual="MYOLUC"),  # a decimal comma, unquoted
            segment(offset="x", manual="MYOLUC"),
            segment(offset="5", duration="-2", manual="MYOLUC"),
            segment(offset="5", duration="", manual="MYOLUC"),
            segment(file="", manual="MYOLUC"),
            segment(channel="L", manual="MYOLUC"),
            f"{INDIR},P:\\Out,,{NIGHT},0",  # cut short
            segment(offset="30", auto="MY\tOLUC", ratio="0.5", manual="MYOLUC"),
            segment(offset="35", manual="MYOLUC"),
        ],
    )
    result = kaleidoscope.read(path)
    rec = f"{INDIR}/{NIGHT}"
    assert result.events == [
        label(rec, 0.0, 5.0, "MYOLUC"),
        label(rec, 30.0, 35.0, "MYOLUC"),
        label(rec, 35.0, 40.0, "MYOLUC"),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            3,
            "38 fields for the header's 37 columns (a comma in a path or name that is not in "
            "double quotes?)",
        ),
        (4, "OFFSET 'x' is not a number"),
        (5, "DURATION -2 is negative"),
        (6, "DURATION is empty"),
        (7, "IN FILE is empty (the recording's file name)"),
        (8, "CHANNEL 'L' is not a channel number (0 for the first)"),
        (
            9,
            "expected 37 comma-separated fields as in the header, found 5 (OFFSET, DURATION "
            "missing)",
        ),
        (
            10,
            "class name 'MY\\tOLUC' contains a tab; the AUTO ID* 'MY\\tOLUC' detection is not "
            "imported (its MANUAL ID label is)",
        ),
    ]


def test_a_header_without_the_needed_columns_is_refused_naming_them(tmp_path):
    path = write(tmp_path, "meta.csv", ["INDIR,FOLDER,IN FILE,OFFSET,DATE,TIME"])
    assert guess_format(path) is None
    with pytest.raises(FormatError) as info:
        kaleidoscope.read(path)
    assert info.value.reason == (
        "not a Kaleidoscope id.csv: its header has no 'DURATION', 'AUTO ID* or MANUAL ID' "
        "column; expected Kaleidoscope's id.csv: 'INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,OFFSET,"
        "DURATION,…,AUTO ID*,…,MANUAL ID' (IN FILE, OFFSET, DURATION and AUTO ID* or MANUAL ID, "
        "in any order)"
    )


def test_birdnets_kaleidoscope_table_is_not_read_as_kaleidoscopes_own(tmp_path):
    path = write(
        tmp_path,
        "BirdNET_Kaleidoscope.csv",
        [
            "INDIR,FOLDER,IN FILE,OFFSET,DURATION,scientific_name,common_name,confidence,lat,"
            "lon,week,overlap,sensitivity",
            "D:\\field,site2,x.wav,0.0,3.0,Strix aluco,Tawny Owl,0.5,-1,-1,-1,0.0,1.0",
        ],
    )
    assert guess_format(path) == "birdnet"
    with pytest.raises(FormatError) as info:
        kaleidoscope.read(path)
    assert info.value.reason.endswith(
        "(BirdNET-Analyzer's --rtype kaleidoscope table is --format birdnet)"
    )


def test_label_column_names_the_labels_column(tmp_path):
    lines = [
        PRO5_HEADER,
        segment(offset="0", auto="MYOLUC", ratio="0.9", manual="MYOSEP"),
        segment(offset="5", auto="NoID", manual="MYOSEP"),
    ]
    path = write(tmp_path, "id.csv", lines)
    rec = f"{INDIR}/{NIGHT}"
    # The automatic IDs taken as labels: no detections then, and NoID is no label either.
    result = kaleidoscope.read(path, label_column="auto id")
    assert result.events == [label(rec, 0.0, 5.0, "MYOLUC")]
    (warning,) = result.warnings
    assert warning.reason.startswith("1 row(s) whose AUTO ID* is NoID or Noise")
    assert warning.reason.endswith("not labels, skipped")
    # Another column as the labels: the detections stay.
    result = kaleidoscope.read(path, label_column="alternate_1")
    assert result.events == [detection(rec, 0.0, 5.0, "MYOLUC", 0.9)]
    with pytest.raises(FormatError) as info:
        kaleidoscope.read(path, label_column="Species")
    assert info.value.reason.startswith("no column 'Species' (its columns: INDIR, OUTDIR, ")


@pytest.mark.parametrize(
    ("file_name", "text", "expected"),
    [
        ("id.csv", PRO5_HEADER + "\n", "kaleidoscope"),
        ("cluster.csv", "INDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,MANUAL ID\n", "kaleidoscope"),
        ("a.txt", "IN FILE,OFFSET,DURATION,AUTO ID*\n", "kaleidoscope"),
        # Kaleidoscope's meta.csv names no ID: passed over in a folder of label files.
        ("meta.csv", "INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,DATE,TIME\n", None),
        # Other tools' CSV headers keep their formats.
        ("a.csv", "Start (s),End (s),Scientific name,Common name,Confidence,File\n", "birdnet"),
        ("a.csv", '"annotation_id","annotator","audio","id","label"\n', "labelstudio"),
        ("a.csv", "Name,Start,Duration,Time Format,Type,Description\n", "audition"),
        ("a.csv", "#,Name,Start,End,Length,Color\n", "reaper"),
        ("a.csv", "filename,onset,offset,event_label\n", "dcase"),
        ("a.csv", "TIME,VALUE,DURATION,LABEL\n1.500000000,1,0.250000000,dog\n", "sonicvisualiser"),
        ("a.csv", "start,end,label\n0.5,1.5,dog\n", None),
    ],
)
def test_guess_format(tmp_path, file_name, text, expected):
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    assert guess_format(path) == expected


def test_written_labels_and_detections_read_back_exactly(tmp_path):
    vetted = LabelEvent(
        "site 2/20240501_050000.WAV",
        3.0,
        6.0,
        "Myotis, small",
        source="model",
        confidence=1.0,
        review="accepted",
    )
    events = [
        LabelEvent("rec1.wav", 0.1 + 0.2, 1 / 3 + 1, "MYOLUC"),  # a label
        detection("rec1.wav", 0.0, 3.0, "MYOLUC", 0.8345, None),
        vetted,  # the classifier's ID and the person's agreement: one row with both
        detection("C:\\a, b\\x.wav", 1e-7, 7.000000000000001, 'say "hi"', 0.0, None),
        LabelEvent("/data/deploy/CM-06/ take 1.wav", 2.0, 2.0, "鳥 song"),  # zero length
        detection("x.wav", 100.25, 200.5, "NYCNOC", None, None),  # no score
    ]
    path = tmp_path / "out.id.csv"
    kaleidoscope.write(events, path)
    assert path.read_text(encoding="utf-8") == (
        "INDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,AUTO ID*,MATCH RATIO,MANUAL ID\n"
        ",,rec1.wav,0,0.30000000000000004,1.0333333333333332,,,MYOLUC\n"
        ",,rec1.wav,0,0.0,3.0,MYOLUC,0.8345,\n"
        ',site 2,20240501_050000.WAV,0,3.0,3.0,"Myotis, small",1.0,"Myotis, small"\n'
        'C:\\,"a, b",x.wav,0,0.0000001,6.999999900000001,"say ""hi""",0.0,\n'
        "/data/deploy,CM-06, take 1.wav,0,2.0,0.0,,,鳥 song\n"
        ",,x.wav,0,100.25,100.25,NYCNOC,,\n"
    )
    assert guess_format(path) == "kaleidoscope"
    result = kaleidoscope.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == [
        events[0],
        events[1],
        LabelEvent(vetted.recording, 3.0, 6.0, "Myotis, small"),
        detection(vetted.recording, 3.0, 6.0, "Myotis, small", 1.0),
        detection("C:/a, b/x.wav", 1e-7, 7.000000000000001, 'say "hi"', 0.0),
        events[4],
        events[5],
    ]
    assert [e.channel for e in result.events] == [1] * 7


def test_durations_add_back_to_the_same_offsets(tmp_path):
    """OFFSET + DURATION is the end: the DURATION written is the one that adds back exactly."""
    times = [0.1 + 0.2, 1 / 3, 2 / 3, 1e-7, 123456.789012345, 7.000000000000001, 3599.9999999]
    events = [
        LabelEvent("a.wav", onset, onset + length, "MYOLUC")
        for onset in times
        for length in (1 / 3, 0.1, 1e-9, 2.675, 1e-300, 0.0)
    ]
    path = tmp_path / "a.id.csv"
    kaleidoscope.write(events, path)
    result = kaleidoscope.read(path)
    assert [(e.onset, e.offset) for e in result.events] == [(e.onset, e.offset) for e in events]


def test_paths_give_indir_and_folder(tmp_path):
    events = [
        LabelEvent("20240501_050000.WAV", 0.0, 1.0, "MYOLUC"),
        LabelEvent("site2/20240501_050000.WAV", 0.0, 1.0, "MYOLUC"),
        LabelEvent("root.wav", 0.0, 1.0, "MYOLUC"),
        LabelEvent("drive.wav", 0.0, 1.0, "MYOLUC"),
    ]
    paths = {
        "20240501_050000.WAV": "/data/deploy/site1/20240501_050000.WAV",
        "site2/20240501_050000.WAV": "D:\\deploy\\site2\\20240501_050000.WAV",
        "root.wav": "/bats/root.wav",
        "drive.wav": "E:\\night\\drive.wav",
    }
    lines = list(kaleidoscope.lines(events, paths=paths))
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["/data/deploy", "site1", "20240501_050000.WAV"],
        ["D:\\deploy", "site2", "20240501_050000.WAV"],
        ["/", "bats", "root.wav"],
        ["E:\\", "night", "drive.wav"],
    ]
    path = tmp_path / "x.id.csv"
    kaleidoscope.write(events, path, paths=paths)
    assert [e.recording for e in kaleidoscope.read(path).events] == [
        "/data/deploy/site1/20240501_050000.WAV",
        "D:\\deploy/site2/20240501_050000.WAV",
        "/bats/root.wav",
        "E:/night/drive.wav",
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            detection("a.wav", 0.0, 1.0, "MYOLUC", 1.5, None),
            "confidence 1.5 is outside 0..1, which a MATCH RATIO (a fraction of the pulses) "
            "cannot hold",
        ),
        (
            detection("a.wav", 0.0, 1.0, "Noise", 0.5, None),
            "a detection of the class 'Noise' reads back as Kaleidoscope's 'no identification', "
            "not as a detection; rename the class or export as json",
        ),
        (
            LabelEvent("a.wav", 0.0, 1.0, "NA"),
            "a class named 'NA' reads back as R's missing value in Kaleidoscope tables; rename "
            "the class",
        ),
        (
            LabelEvent("a\nb.wav", 0.0, 1.0, "MYOLUC"),
            "a line break in a label or file name cannot be written",
        ),
    ],
)
def test_what_cannot_be_written_is_refused_before_writing(tmp_path, event, reason):
    path = tmp_path / "out.id.csv"
    with pytest.raises(ValueError) as info:
        kaleidoscope.write([LabelEvent("a.wav", 0.0, 1.0, "MYOLUC"), event], path)
    assert str(info.value).endswith(f"): {reason}")
    assert str(info.value).startswith("kaleidoscope: event 2 (")
    assert not path.exists()


def test_a_person_may_label_noise(tmp_path):
    """Noise or NoID typed as a MANUAL ID is the person's label: kept, and written back."""
    path = tmp_path / "out.id.csv"
    kaleidoscope.write([LabelEvent("a.wav", 0.0, 1.0, "Noise")], path)
    assert kaleidoscope.read(path).events == [LabelEvent("a.wav", 0.0, 1.0, "Noise", channel=1)]
