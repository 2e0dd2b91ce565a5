"""Raven selection tables: label column variants, view rows, file columns, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format, raven


def table(tmp_path: Path, rows: list[list[str]], name: str = "rec.Table.1.selections.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


RAVEN_PRO = [
    [
        "Selection",
        "View",
        "Channel",
        "Begin Time (s)",
        "End Time (s)",
        "Low Freq (Hz)",
        "High Freq (Hz)",
        "Begin Path",
        "File Offset (s)",
        "Species",
    ],
    [
        "1",
        "Waveform 1",
        "1",
        "1.5",
        "2.25",
        "0",
        "11025",
        r"C:\data\site A\rec1.wav",
        "1.5",
        "Turdus merula",
    ],
    [
        "1",
        "Spectrogram 1",
        "1",
        "1.5",
        "2.25",
        "1200.5",
        "4800",
        r"C:\data\site A\rec1.wav",
        "1.5",
        "Turdus merula",
    ],
    ["2", "Spectrogram 1", "1", "3", "4", "900", "3000", r"C:\data\site A\rec1.wav", "3", "wren"],
    ["2", "Waveform 1", "1", "3", "4", "0", "11025", r"C:\data\site A\rec1.wav", "3", "wren"],
    # A table spanning two files counts Begin Time from the start of the first file.
    ["3", "Spectrogram 1", "1", "65", "66.5", "100", "200", "/mnt/data/rec2.wav", "5", "owl"],
    ["4", "Waveform 1", "1", "70", "71", "0", "11025", "/mnt/data/rec2.wav", "10", "bat"],
]


def test_reads_a_raven_pro_table_with_both_views(tmp_path):
    result = raven.read(table(tmp_path, RAVEN_PRO))
    assert result.issues == []
    assert result.events == [
        LabelEvent(r"C:\data\site A\rec1.wav", 1.5, 2.25, "Turdus merula", 1200.5, 4800.0),
        LabelEvent(r"C:\data\site A\rec1.wav", 3.0, 4.0, "wren", 900.0, 3000.0),
        LabelEvent("/mnt/data/rec2.wav", 5.0, 6.5, "owl", 100.0, 200.0),
        LabelEvent("/mnt/data/rec2.wav", 10.0, 11.0, "bat", 0.0, 11025.0),
    ]


@pytest.mark.parametrize(
    "column",
    [
        "Annotation",
        "annotation",
        "Species",
        "Tags",
        "Label",
        "Class",
        "Common Name",
        "Sound Type",
        "Call Type",
        "CALL TYPE",
    ],
)
def test_label_column_names(tmp_path, column):
    rows = [
        ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", column],
        ["1", "Spectrogram 1", "1", "0.5", "1", "wren song"],
    ]
    result = raven.read(table(tmp_path, rows))
    assert result.events == [LabelEvent("", 0.5, 1.0, "wren song")]


def test_label_column_priority_skips_an_unused_annotation_column(tmp_path):
    rows = [
        ["Selection", "Begin Time (s)", "End Time (s)", "Species", "Annotation", "Tags"],
        ["1", "0", "1", "", "", "t1"],
        ["2", "1", "2", "", "", "t2"],
    ]
    assert [e.label for e in raven.read(table(tmp_path, rows)).events] == ["t1", "t2"]
    rows[1][3], rows[1][4] = "wren", "note"
    # Annotation outranks Species once it holds something; row 2 then has no annotation.
    result = raven.read(table(tmp_path, rows))
    assert [e.label for e in result.events] == ["note"]
    assert [(i.line, i.reason) for i in result.issues] == [(3, "empty label (Annotation column)")]


def test_begin_file_column_and_no_file_column(tmp_path):
    rows = [
        ["Selection", "Begin Time (s)", "End Time (s)", "Begin File", "Annotation"],
        ["1", "0", "1", "x.flac", "a"],
        ["2", "1", "2", "", "b"],
    ]
    assert [e.recording for e in raven.read(table(tmp_path, rows)).events] == ["x.flac", ""]


def test_round_trip_with_and_without_bands(tmp_path, random_events):
    for with_band in (True, False):
        events = random_events(4, 50, with_band=with_band)
        path = tmp_path / f"rec{with_band}.Table.1.selections.txt"
        raven.write(events, path)
        result = raven.read(path)
        assert result.issues == []
        assert result.events == events


def test_export_layout(tmp_path):
    path = tmp_path / "rec.Table.1.selections.txt"
    raven.write([LabelEvent("", 0.5, 1.0, "dog"), LabelEvent("", 1, 2, "cat", None, 500.0)], path)
    assert path.read_text(encoding="utf-8") == (
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\t"
        "High Freq (Hz)\tAnnotation\n"
        "1\tSpectrogram 1\t1\t0.5\t1.0\t\t\tdog\n"
        "2\tSpectrogram 1\t1\t1.0\t2.0\t\t500.0\tcat\n"
    )
    raven.write([LabelEvent("", 0.5, 1.0, "dog")], path)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation",
        "1\tSpectrogram 1\t1\t0.5\t1.0\tdog",
    ]


def test_malformed_rows_are_reported_with_line_numbers(tmp_path):
    rows = [
        [
            "Selection",
            "View",
            "Channel",
            "Begin Time (s)",
            "End Time (s)",
            "Low Freq (Hz)",
            "High Freq (Hz)",
            "Annotation",
        ],  # 1
        ["1", "Spectrogram 1", "1", "0", "1", "100", "200", "ok"],  # 2
        ["2", "Spectrogram 1", "1", "x", "1", "100", "200", "bad onset"],  # 3
        ["3", "Spectrogram 1", "1", "2", "1", "100", "200", "reversed"],  # 4
        ["4", "Spectrogram 1", "1", "0", "1", "300", "200", "band"],  # 5
        ["5", "Spectrogram 1", "1", "0", "1", "100", "200", ""],  # 6
        ["1", "Spectrogram 1", "1", "7", "8", "100", "200", "duplicate"],  # 7
        ["6", "Spectrogram 1", "1", "0", "1", "-3", "200", "negative"],  # 8
        ["7", "Spectrogram 1", "1", "4", "5"],  # 9: trailing cells missing
    ]
    path = table(tmp_path, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    result = raven.read(path)
    assert result.events == [LabelEvent("", 0.0, 1.0, "ok", 100.0, 200.0)]
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "onset 'x' is not a number"),
        (4, "offset 1 is before onset 2"),
        (5, "high frequency 200 Hz is below low frequency 300 Hz"),
        (6, "empty label (Annotation column)"),
        (7, "selection 1 appears twice in view 'Spectrogram 1'; this row is ignored"),
        (8, "low frequency -3 is negative"),
        (9, "empty label (Annotation column)"),
    ]


def test_table_without_selection_column_keeps_every_row(tmp_path):
    rows = [["Begin Time (s)", "End Time (s)", "Label"], ["0", "1", "a"], ["0", "1", "a"]]
    assert len(raven.read(table(tmp_path, rows)).events) == 2


def test_header_only_and_empty_files(tmp_path):
    rows = [["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Annotation"]]
    assert raven.read(table(tmp_path, rows)).events == []
    assert raven.read(table(tmp_path, [], name="empty.txt")).events == []


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([["onset", "offset", "label"], ["0", "1", "a"]], "no 'begin time \\(s\\)' column"),
        ([["Selection", "Begin Time (s)", "End Time (s)"], ["1", "0", "1"]], "no label column"),
    ],
)
def test_tables_that_cannot_be_used_raise_format_error(tmp_path, rows, reason):
    with pytest.raises(FormatError, match=reason):
        raven.read(table(tmp_path, rows))


# Choice of columns (issue 14): a table whose labels are in a column of its own name.

RRAVEN_LIKE = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
    "sound.files\tselec\tsong_type\n"
    "1\tSpectrogram 1\t1\t0.5\t1.25\t2000\t6000\tsite1.wav\t1\tA\n"
    "2\tSpectrogram 1\t1\t2.0\t2.5\t2100\t5900\tsite1.wav\t2\tB\n"
)


def test_label_column_names_the_column(tmp_path):
    path = tmp_path / "site1.Table.1.selections.txt"
    path.write_text(RRAVEN_LIKE, encoding="utf-8")
    result = raven.read(path, label_column="Song_Type")
    assert result.issues == []
    assert [(e.onset, e.label) for e in result.events] == [(0.5, "A"), (2.0, "B")]


def test_without_a_known_label_column_the_message_names_the_candidates(tmp_path):
    path = tmp_path / "site1.Table.1.selections.txt"
    path.write_text(RRAVEN_LIKE, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        raven.read(path)
    message = str(info.value)
    assert "--label-column" in message
    assert "text columns here: sound.files, song_type" in message  # not selec: numbers only
    with pytest.raises(FormatError, match="no column 'species' \\(its columns: Selection"):
        raven.read(path, label_column="species")


# Koogu's selection tables (koogu.inference): Score and Tags, the band in full words, and a
# Begin Path of one space when the outputs are not combined.
KOOGU = (
    "Selection\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Frequency (Hz)\t"
    "High Frequency (Hz)\tScore\tTags\tBegin Path\n"
    "1\t1\t0.500000\t1.500000\t50.00\t250.00\t0.93\tNARW\t \n"
    "2\t1\t2.000000\t3.250000\t50.00\t250.00\t0.41\tNARW\t \n"
)


def test_koogu_tables_are_detections_with_their_score_and_band(tmp_path):
    path = tmp_path / "rec.selections.txt"
    path.write_text(KOOGU, encoding="utf-8")
    result = raven.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 0.5, 1.5, "NARW", 50.0, 250.0, source="model", confidence=0.93),
        LabelEvent("", 2.0, 3.25, "NARW", 50.0, 250.0, source="model", confidence=0.41),
    ]


def test_a_confidence_column_wins_over_a_score_column(tmp_path):
    rows = [
        ["Selection", "Begin Time (s)", "End Time (s)", "Species", "Score", "Confidence"],
        ["1", "1", "2", "wren", "7.5", "0.25"],
    ]
    [event] = raven.read(table(tmp_path, rows)).events
    assert (event.source, event.confidence) == ("model", 0.25)


def test_a_table_with_end_time_hidden_ends_at_begin_plus_delta(tmp_path):
    # Raven exports only the columns its table shows: with End Time and High Freq hidden, the
    # selection's end is in Delta Time and its top in Delta Freq.
    rows = [
        [
            "Selection",
            "View",
            "Channel",
            "Begin Time (s)",
            "Delta Time (s)",
            "Low Freq (Hz)",
            "Delta Freq (Hz)",
            "Annotation",
        ],
        ["1", "Spectrogram 1", "1", "1.5", "0.75", "1200.5", "3599.5", "Turdus merula"],  # 2
        ["2", "Spectrogram 1", "1", "3", "1", "", "500", "wren"],  # 3: no band
        ["3", "Spectrogram 1", "1", "4", "0.5", "900", "", "owl"],  # 4: no top
        ["4", "Spectrogram 1", "1", "5", "", "900", "100", "bat"],  # 5
        ["5", "Spectrogram 1", "1", "6", "-1", "900", "100", "bat"],  # 6
        ["6", "Spectrogram 1", "1", "7", "1", "900", "-100", "bat"],  # 7
    ]
    result = raven.read(table(tmp_path, rows))
    assert result.events == [
        LabelEvent("", 1.5, 2.25, "Turdus merula", 1200.5, 4800.0),
        LabelEvent("", 3.0, 4.0, "wren"),
        LabelEvent("", 4.0, 4.5, "owl", 900.0, None),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [
        (5, "delta time is empty"),
        (6, "delta time -1 is negative"),
        (7, "delta frequency -100 is negative"),
    ]
    # Found for what it is without --format, and imported the same way.
    assert guess_format(table(tmp_path, rows[:2], name="rec.txt")) == "raven"


def test_a_table_with_begin_time_hidden_begins_at_end_minus_delta(tmp_path):
    # The mirror image: Begin Time and Low Freq hidden, the selection's start is End Time less
    # Delta Time and its bottom High Freq less Delta Freq.
    rows = [
        [
            "Selection",
            "View",
            "Channel",
            "End Time (s)",
            "Delta Time (s)",
            "High Freq (Hz)",
            "Delta Freq (Hz)",
            "Annotation",
        ],
        ["1", "Spectrogram 1", "1", "2.25", "0.75", "4800", "3599.5", "Turdus merula"],  # 2
        ["2", "Spectrogram 1", "1", "4", "1", "", "500", "wren"],  # 3: no band
        ["3", "Spectrogram 1", "1", "4.5", "0.5", "900", "", "owl"],  # 4: no bottom
        ["4", "Spectrogram 1", "1", "5", "", "900", "100", "bat"],  # 5
        ["5", "Spectrogram 1", "1", "1", "2", "900", "100", "bat"],  # 6
        ["6", "Spectrogram 1", "1", "7", "1", "900", "1000", "bat"],  # 7
        ["7", "Spectrogram 1", "1", "0.5", "0.5", "900", "900", "moth"],  # 8: from 0 s, 0 Hz
    ]
    result = raven.read(table(tmp_path, rows))
    assert result.events == [
        LabelEvent("", 1.5, 2.25, "Turdus merula", 1200.5, 4800.0),
        LabelEvent("", 3.0, 4.0, "wren"),
        LabelEvent("", 4.0, 4.5, "owl", None, 900.0),
        LabelEvent("", 0.0, 0.5, "moth", 0.0, 900.0),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [
        (5, "delta time is empty"),
        (6, "delta time 2 is longer than the end time 1: the selection would begin before 0 s"),
        (
            7,
            "delta frequency 1000 Hz is more than the high frequency 900 Hz: the band would "
            "begin below 0 Hz",
        ),
    ]
    assert guess_format(table(tmp_path, rows[:2], name="rec.txt")) == "raven"
    # Without Selection and View the two columns still say what it is.
    assert guess_format(table(tmp_path, [r[3:] for r in rows[:2]], name="rec.txt")) == "raven"


def test_end_time_wins_over_delta_time_and_one_of_them_is_needed(tmp_path):
    rows = [
        [
            "Begin Time (s)",
            "End Time (s)",
            "Delta Time (s)",
            "High Freq (Hz)",
            "Delta Freq (Hz)",
            "Low Freq (Hz)",
            "Label",
        ],
        ["1", "2", "5", "3000", "7", "1000", "a"],
    ]
    assert raven.read(table(tmp_path, rows)).events == [
        LabelEvent("", 1.0, 2.0, "a", 1000.0, 3000.0)
    ]
    rows = [["Selection", "Begin Time (s)", "Label"], ["1", "0", "a"]]
    with pytest.raises(FormatError, match="no 'end time \\(s\\)' column \\(nor 'delta time"):
        raven.read(table(tmp_path, rows))
    rows = [["Selection", "End Time (s)", "Label"], ["1", "1", "a"]]
    with pytest.raises(
        FormatError,
        match="no 'begin time \\(s\\)' column \\(nor 'end time \\(s\\)' and 'delta time",
    ):
        raven.read(table(tmp_path, rows))
