"""DCASE tsv: round trips, tolerant import, readable issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, ParseIssue, dcase


def write_bytes(tmp_path: Path, data: bytes | str, name: str = "labels.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_round_trip_is_bit_exact(tmp_path, random_events):
    events = [
        *random_events(1, 40, recording="a.wav"),
        *random_events(2, 40, recording="b b.flac"),
        LabelEvent("c.wav", 1 / 3, 0.1 + 0.2 + 1, "x"),
        LabelEvent("c.wav", 1e-7, 123456.789012345, "long"),
    ]
    path = tmp_path / "out.tsv"
    dcase.write(events, path)
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == events


def test_export_writes_header_and_four_columns(tmp_path):
    path = tmp_path / "out.tsv"
    events = [LabelEvent("a.wav", 0.5, 1.25, "dog bark"), LabelEvent("a.wav", 1.0, 1.0, "click")]
    dcase.write(events, path, recordings=["a.wav", "silent.wav"])
    assert path.read_text(encoding="utf-8") == (
        "filename\tonset\toffset\tevent_label\n"
        "a.wav\t0.5\t1.25\tdog bark\n"
        "a.wav\t1.0\t1.0\tclick\n"
        "silent.wav\t\t\t\n"  # as DESED lists a file without events
    )
    assert dcase.read(path).events == events


def test_event_without_recording_round_trips_with_empty_file_name(tmp_path):
    events = [LabelEvent("", 1.5, 2.5, "dog"), LabelEvent("a.wav", 0.0, 1.0, "cat")]
    path = tmp_path / "out.tsv"
    dcase.write(events, path)
    assert dcase.read(path).events == events


def test_headerless_three_column_and_filename_only_lines(tmp_path):
    path = write_bytes(
        tmp_path,
        "a.wav\t0\t1.5\tdog\nempty.wav\n1\t2\tbird song\nnothing.wav\t\t\t\nb.wav\t3\t4\tcat\n",
    )
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 0.0, 1.5, "dog"),
        LabelEvent("", 1.0, 2.0, "bird song"),
        LabelEvent("b.wav", 3.0, 4.0, "cat"),
    ]


def test_bom_crlf_and_trailing_blank_lines(tmp_path):
    text = "filename\tonset\toffset\tevent_label\r\na.wav\t0.25\t0.75\tdog\r\n\r\n\r\n"
    path = write_bytes(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == [LabelEvent("a.wav", 0.25, 0.75, "dog")]


def test_space_separated_lines_keep_spaces_in_labels(tmp_path):
    path = write_bytes(
        tmp_path,
        "filename onset offset event_label\n"
        "a.wav   0.5  1.5   car horn  far\n"
        "0.5 1.5 bird song\n"
        "1 2 3 numbers\n",
    )
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 0.5, 1.5, "car horn  far"),
        LabelEvent("", 0.5, 1.5, "bird song"),
        LabelEvent("", 1.0, 2.0, "3 numbers"),
    ]


def test_repeated_headers_from_concatenated_files_are_skipped(tmp_path):
    header = "filename\tonset\toffset\tevent_label\n"
    path = write_bytes(tmp_path, header + "a.wav\t0\t1\tdog\n" + header + "b.wav\t0\t1\tcat\n")
    result = dcase.read(path)
    assert result.issues == []
    assert [e.recording for e in result.events] == ["a.wav", "b.wav"]


def test_malformed_lines_are_reported_with_line_numbers_and_good_lines_kept(tmp_path):
    path = write_bytes(
        tmp_path,
        "filename\tonset\toffset\tevent_label\n"  # 1
        "a.wav\t0\t1\tdog\n"  # 2
        "a.wav\tabc\t1\tdog\n"  # 3
        "a.wav\t3.4\t1.2\tdog\n"  # 4
        "a.wav\t-1\t2\tdog\n"  # 5
        "a.wav\t1\n"  # 6
        "a.wav\t1\t2\t\n"  # 7
        "a.wav\t1\t2\tdog\textra\n"  # 8
        "a.wav\tnan\t2\tdog\n"  # 9
        "\n"  # 10
        "b.wav\t5\t6\tcat\n",  # 11
    )
    result = dcase.read(path)
    assert result.events == [LabelEvent("a.wav", 0.0, 1.0, "dog"), LabelEvent("b.wav", 5, 6, "cat")]
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "onset 'abc' is not a number"),
        (4, "offset 1.2 is before onset 3.4"),
        (5, "onset -1 is negative"),
        (
            6,
            "expected 4 tab-separated fields (filename, onset, offset, event_label) "
            "or 3 (onset, offset, event_label), found 2",
        ),
        (7, "empty event_label"),
        (
            8,
            "expected 4 tab-separated fields (filename, onset, offset, event_label) "
            "or 3 (onset, offset, event_label), found 5",
        ),
        (9, "onset 'nan' is not a number"),
    ]
    assert all(issue.path == path for issue in result.issues)
    assert str(result.issues[0]) == f"{path}:3: onset 'abc' is not a number"


def test_empty_file_gives_no_events(tmp_path):
    result = dcase.read(write_bytes(tmp_path, ""))
    assert result.events == [] and result.issues == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "no such file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "binary"),
        ('{"format": "tfstudio-labels"}', "looks like a json file"),
        ('File type = "ooTextFile"\nObject class = "TextGrid"\n', "looks like a textgrid file"),
        ("Selection\tView\tBegin Time (s)\tEnd Time (s)\n", "looks like a raven file"),
    ],
)
def test_unreadable_files_raise_format_error(tmp_path, data, reason):
    path = tmp_path / "labels.tsv" if data is None else write_bytes(tmp_path, data)
    with pytest.raises(FormatError, match=reason) as info:
        dcase.read(path)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (LabelEvent("a.wav", 2.0, 1.0, "dog"), "offset is before onset"),
        (LabelEvent("a.wav", -1.0, 1.0, "dog"), "onset must be a finite, non-negative"),
        (LabelEvent("a.wav", 0.0, float("inf"), "dog"), "offset must be a finite"),
        (LabelEvent("a.wav", 0.0, 1.0, "dog\tcat"), "a tab or line break"),
        (LabelEvent("a\nb.wav", 0.0, 1.0, "dog"), "a tab or line break"),
        (LabelEvent("a.wav", 0.0, 1.0, " "), "empty label"),
    ],
)
def test_write_refuses_events_it_could_not_read_back(tmp_path, event, problem):
    path = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match=problem):
        dcase.write([LabelEvent("a.wav", 0, 1, "ok"), event], path)
    assert not path.exists()


def test_parse_issue_is_a_plain_record(tmp_path):
    path = write_bytes(tmp_path, "a.wav\t1\t0\tdog\n")
    assert dcase.read(path).issues == [ParseIssue(path, 1, "offset 0 is before onset 1")]


# Columns by name (issue 14): DESED_task writes predictions as "event_label onset offset
# filename"; read by position they gave 0 of 514 events.


def test_columns_are_read_by_header_name_in_any_order(tmp_path):
    path = write_bytes(
        tmp_path,
        "event_label\tonset\toffset\tfilename\n"
        "Speech\t0.5\t2.25\tY0aaa_30.000_40.000.wav\n"
        "Dog\t3.0\t4.5\tY0aaa_30.000_40.000.wav\n"
        "Alarm_bell_ringing\t0.0\t10.0\tY1bbb_0.000_10.000.wav\n",
    )
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("Y0aaa_30.000_40.000.wav", 0.5, 2.25, "Speech"),
        LabelEvent("Y0aaa_30.000_40.000.wav", 3.0, 4.5, "Dog"),
        LabelEvent("Y1bbb_0.000_10.000.wav", 0.0, 10.0, "Alarm_bell_ringing"),
    ]


def test_extra_columns_and_a_confidence_column(tmp_path):
    path = write_bytes(
        tmp_path,
        "filename\tonset\toffset\tevent_label\tconfidence\tannotator\n"
        "a.wav\t0.5\t1.5\tdog\t0.8\tmodel\n"
        "a.wav\t2.0\t3.0\tcat\t\tanna\n",
    )
    result = dcase.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 0.5, 1.5, "dog", source="model", confidence=0.8),
        LabelEvent("a.wav", 2.0, 3.0, "cat"),
    ]


def test_label_column_names_another_column(tmp_path):
    path = write_bytes(
        tmp_path,
        "filename\tonset\toffset\tevent_label\tfine_label\n"
        "a.wav\t0.5\t1.5\tbird\tblackbird\n"
        "a.wav\t2.0\t3.0\tbird\twren\n"
        "b.wav\t\t\t\t\n",  # a file without events, as DESED lists it
    )
    assert [e.label for e in dcase.read(path).events] == ["bird", "bird"]
    assert [e.label for e in dcase.read(path, label_column="Fine_Label").events] == [
        "blackbird",
        "wren",
    ]
    with pytest.raises(FormatError, match="no column 'species' \\(its columns: filename, onset"):
        dcase.read(path, label_column="species")


def test_label_column_needs_a_header(tmp_path):
    path = write_bytes(tmp_path, "a.wav\t0.5\t1.5\tbird\n")
    with pytest.raises(FormatError, match="has no header row, so --label-column 'x'"):
        dcase.read(path, label_column="x")


def test_rows_that_do_not_match_the_header_are_reported(tmp_path):
    path = write_bytes(
        tmp_path,
        "event_label\tonset\toffset\tfilename\n"
        "Dog\t0.5\t1.0\ta.wav\n"
        "Dog\t0.5\n"
        "Cat\t1.0\t0.5\ta.wav\n"
        "\t1.0\t2.0\ta.wav\n",
    )
    result = dcase.read(path)
    assert result.events == [LabelEvent("a.wav", 0.5, 1.0, "Dog")]
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "expected 4 tab-separated fields as in the header, found 2 (offset, filename missing)"),
        (4, "offset 0.5 is before onset 1"),
        (5, "empty event_label"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "filename\tevent_labels\nY0aaa.wav\tDog,Speech\nY1bbb.wav\tCat\n",  # DCASE weak labels
        "filename\tevent_label\nY0aaa.wav\tDog\n",
    ],
)
def test_a_weak_label_file_is_one_clear_message(tmp_path, text):
    path = write_bytes(tmp_path, text * 200)
    with pytest.raises(FormatError, match="is a weak-label file") as info:
        dcase.read(path)
    assert "onset" in str(info.value)


def test_export_lists_files_without_events_as_desed_does(tmp_path):
    path = tmp_path / "out.tsv"
    dcase.write([LabelEvent("a.wav", 0.0, 3.0, "dog")], path, recordings=["a.wav", "b.wav"])
    assert path.read_text(encoding="utf-8").splitlines() == [
        "filename\tonset\toffset\tevent_label",
        "a.wav\t0.0\t3.0\tdog",
        "b.wav\t\t\t",
    ]
    result = dcase.read(path)
    assert result.issues == [] and len(result.events) == 1


def test_fields_quoted_as_csv_writers_quote_them_are_unquoted(tmp_path):
    """As pandas' to_csv(sep="\\t") writes it: its index as a first, unnamed column, and a
    label holding a quote in quotes, the quotes inside doubled."""
    path = write_bytes(
        tmp_path,
        "\tfilename\tonset\toffset\tevent_label\n"
        '0\trec1.wav\t0.1\t0.2\t"say ""hi"""\n'
        "1\trec1.wav\t0.5\t0.6\tbird\n"
        '2\trec1.wav\t0.9\t1.0\t"loud" bird\n',  # not CSV quoting: kept as it is
    )
    result = dcase.read(path)
    assert result.issues == []
    assert [e.label for e in result.events] == ['say "hi"', "bird", '"loud" bird']


@pytest.mark.parametrize(
    "text",
    [
        # pandas' to_csv, or a spreadsheet saved as CSV
        'filename,onset,offset,event_label\r\na.wav,0.5,1.25,dog\r\nb.wav,2,3,"car, far"\r\n',
        # Excel in a locale with a decimal comma: semicolons, and commas in the times
        "filename;onset;offset;event_label\r\na.wav;0,5;1,25;dog\r\nb.wav;2;3;car, far\r\n",
        # without a header, columns by position
        'a.wav,0.5,1.25,dog\nb.wav,2,3,"car, far"\n',
        'event_label,onset,offset,filename\ndog,0.5,1.25,a.wav\n"car, far",2,3,b.wav\n',
    ],
)
def test_a_file_saved_as_csv_reads_as_its_columns(tmp_path, text):
    result = dcase.read(write_bytes(tmp_path, text, "labels.csv"))
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 0.5, 1.25, "dog"),
        LabelEvent("b.wav", 2.0, 3.0, "car, far"),
    ]


def test_csv_lines_that_do_not_fit_are_reported_not_dropped(tmp_path):
    text = "filename,onset,offset,event_label\na.wav,0.5,1.25,dog\nb.wav,1,5,2,5,cat\nc.wav,,,\n"
    result = dcase.read(write_bytes(tmp_path, text, "labels.csv"))
    assert result.events == [LabelEvent("a.wav", 0.5, 1.25, "dog")]
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            3,
            "expected 4 tab-separated fields (filename, onset, offset, event_label) or 3 "
            "(onset, offset, event_label), found 6",
        ),
    ]


def test_space_separated_labels_with_commas_are_not_taken_for_csv(tmp_path):
    result = dcase.read(write_bytes(tmp_path, "1.0 2.0 a,b,c\nx.wav 3 4 d, e\n"))
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 1.0, 2.0, "a,b,c"),
        LabelEvent("x.wav", 3.0, 4.0, "d, e"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "",
        "filename\tonset\toffset\tevent_label\n",
        "filename\tonset\toffset\tevent_label\t\n",  # the header written with the tab too
        "event_label\tonset\toffset\tfilename\n",  # columns by name, not the standard order
    ],
)
def test_a_trailing_tab_is_no_field(tmp_path, header):
    # Spreadsheets and scripts that write each field followed by a tab end every row with an
    # empty field: nothing is in it, so the row holds the fields before it.
    named = header.startswith("event_label")
    rows = (
        ["dog\t1.0\t2.0\ta.wav\t", "cat\t3.0\t4.5\ta.wav\t\t"]
        if named
        else ["a.wav\t1.0\t2.0\tdog\t", "a.wav\t3.0\t4.5\tcat\t\t"]
    )
    result = dcase.read(write_bytes(tmp_path, header + "\n".join(rows) + "\n"))
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 1.0, 2.0, "dog"),
        LabelEvent("a.wav", 3.0, 4.5, "cat"),
    ]


def test_a_trailing_tab_after_three_columns_or_in_csv_is_no_field(tmp_path):
    result = dcase.read(write_bytes(tmp_path, "1.0\t2.0\tdog\t\n3.0\t4.0\tcar horn\t\n"))
    assert result.issues == []
    assert result.events == [LabelEvent("", 1.0, 2.0, "dog"), LabelEvent("", 3.0, 4.0, "car horn")]
    text = "filename,onset,offset,event_label\na.wav,1.0,2.0,dog,\n"
    result = dcase.read(write_bytes(tmp_path, text, "labels.csv"))
    assert result.issues == []
    assert result.events == [LabelEvent("a.wav", 1.0, 2.0, "dog")]


def test_a_row_that_ends_before_its_confidence_is_a_label_as_an_empty_one_is(tmp_path):
    # A detections file (our own export of detections writes an empty confidence for an event
    # without one; an editor that trims trailing whitespace takes its tab away): the row reads
    # as the same row with an empty cell, a label, and a file mixing them says so once.
    text = (
        "filename\tonset\toffset\tevent_label\tconfidence\n"
        "a.wav\t1.0\t2.0\tdog\t0.5\n"
        "a.wav\t3.0\t4.0\tcat\n"
        "a.wav\t5.0\t6.0\towl\t\n"
        "a.wav\t7.0\n"
    )
    result = dcase.read(write_bytes(tmp_path, text))
    assert result.events == [
        LabelEvent("a.wav", 1.0, 2.0, "dog", source="model", confidence=0.5),
        LabelEvent("a.wav", 3.0, 4.0, "cat"),
        LabelEvent("a.wav", 5.0, 6.0, "owl"),
    ]
    # A row short of a column every row needs is still a problem, naming what it lacks.
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            5,
            "expected 5 tab-separated fields as in the header, found 2 "
            "(offset, event_label, confidence missing)",
        )
    ]
    assert [(w.line, w.reason) for w in result.warnings] == [
        (
            3,
            "2 row(s) without a confidence (line 3 …) are read as labels (ground truth), the "
            "rows with one as detections",
        )
    ]
    # A file of labels alone under a confidence header (all cells empty or left out): labels,
    # nothing to warn about; a confidence before the label is no trailing column to leave out.
    text = "filename\tonset\toffset\tevent_label\tconfidence\na.wav\t1.0\t2.0\tdog\n"
    result = dcase.read(write_bytes(tmp_path, text))
    assert (result.events, result.issues, result.warnings) == (
        [LabelEvent("a.wav", 1.0, 2.0, "dog")],
        [],
        [],
    )
    text = "filename\tonset\toffset\tconfidence\tevent_label\na.wav\t1.0\t2.0\t0.5\n"
    result = dcase.read(write_bytes(tmp_path, text))
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "expected 5 tab-separated fields as in the header, found 4 (event_label missing)")
    ]


def test_a_trailing_tab_keeps_a_real_fifth_value_as_it_was(tmp_path):
    # A confidence column still makes a detection, with or without a trailing tab after it;
    # an empty confidence is a label; a fifth value a four-column file has no place for is
    # still reported.
    text = (
        "filename\tonset\toffset\tevent_label\tconfidence\n"
        "a.wav\t1.0\t2.0\tdog\t0.5\t\n"
        "a.wav\t3.0\t4.0\tcat\t\n"
        "a.wav\t5.0\t6.0\towl\t0.25\n"
    )
    result = dcase.read(write_bytes(tmp_path, text))
    assert result.issues == []
    assert result.events == [
        LabelEvent("a.wav", 1.0, 2.0, "dog", source="model", confidence=0.5),
        LabelEvent("a.wav", 3.0, 4.0, "cat"),
        LabelEvent("a.wav", 5.0, 6.0, "owl", source="model", confidence=0.25),
    ]
    expected = (
        "expected 4 tab-separated fields (filename, onset, offset, event_label) or 3 "
        "(onset, offset, event_label), found 5"
    )
    for header in ("", "filename\tonset\toffset\tevent_label\n"):
        result = dcase.read(write_bytes(tmp_path, header + "a.wav\t1.0\t2.0\tdog\t0.5\t\n"))
        assert result.events == []
        assert [(i.line, i.reason) for i in result.issues] == [(1 + bool(header), expected)]
    text = "event_label\tonset\toffset\tfilename\ndog\t1.0\t2.0\ta.wav\t0.5\n"
    result = dcase.read(write_bytes(tmp_path, text))
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "expected 4 tab-separated fields as in the header, found 5")
    ]
    # An empty label is still named as such, not taken for a missing column.
    result = dcase.read(write_bytes(tmp_path, "a.wav\t1.0\t2.0\t\t\n"))
    assert [(i.line, i.reason) for i in result.issues] == [(1, "empty event_label")]
