"""Shared helpers: number parsing, decoding, writability checks."""

from __future__ import annotations

import pytest

from tfstudio.formats import FormatError, LabelEvent, format_time
from tfstudio.formats.base import check_writable, parse_interval, parse_number, read_text, sniff


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0.0), (" 1.5 ", 1.5), ("+2", 2.0), (".5", 0.5), ("3.", 3.0), ("1e-3", 0.001)],
)
def test_parse_number_accepts_plain_decimals(text, value):
    assert parse_number(text, "onset") == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "onset 'abc' is not a number"),
        ("", "onset is empty"),
        ("1_000", "onset '1_000' is not a number"),
        ("inf", "onset 'inf' is not a number"),
        ("1e999", "onset '1e999' is not a finite number"),
        ("-0.5", "onset -0.5 is negative"),
        ("1,5", "onset '1,5' is not a number"),
    ],
)
def test_parse_number_reasons(text, reason):
    with pytest.raises(ValueError, match=f"^{reason}$".replace("(", r"\(")):
        parse_number(text, "onset")


def test_parse_interval_allows_zero_length_and_refuses_reversed():
    assert parse_interval("1", "1") == (1.0, 1.0)
    with pytest.raises(ValueError, match=r"^offset 1.2 is before onset 3.4$"):
        parse_interval("3.4", "1.2")


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, 1e-7, 123456.789012345, 5e-324, 1e300])
def test_format_time_is_exact_and_positional(value):
    text = format_time(value)
    assert float(text) == value
    assert "e" not in text


@pytest.mark.parametrize(
    "data",
    [
        "0\t1\tdé\n".encode(),
        b"\xef\xbb\xbf" + "0\t1\tdé\r\n".encode(),
        "0\t1\tdé\r".encode("utf-16"),
        "0\t1\tdé\n".encode("utf-16-be"),
    ],
)
def test_read_text_decodes_and_normalises_newlines(tmp_path, data):
    path = tmp_path / "x.txt"
    path.write_bytes(data)
    assert read_text(path) == "0\t1\tdé\n"


def test_read_text_refuses_folders_and_latin1(tmp_path):
    with pytest.raises(FormatError, match="is a folder"):
        read_text(tmp_path)
    path = tmp_path / "latin1.txt"
    path.write_bytes("0\t1\tdé\n".encode("latin-1"))
    with pytest.raises(FormatError, match=r"line 1 is not UTF-8 text \(byte 0xe9 at column 6\)"):
        read_text(path)


def test_read_text_can_report_undecodable_lines_and_keep_the_others(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"0\t1\tdog\r\n1\t2\tcaf\xe9\r\n2\t3\tcat\r\n")
    bad: dict[int, str] = {}
    assert read_text(path, bad_lines=bad).split("\n")[::2] == ["0\t1\tdog", "2\t3\tcat"]
    assert bad == {2: "not UTF-8 text (byte 0xe9 at column 8); save the file as UTF-8"}


def test_sniff_recognises_only_structural_signatures():
    assert sniff('\n\nFile type = "ooTextFile"\n') == "textgrid"
    assert sniff('  {"format": 1}') == "json"
    assert sniff("Selection\tView\tChannel\n") == "raven"
    assert sniff("filename onset offset event_label\n") == "dcase"
    assert sniff("0\t1\tdog\n") is None
    assert sniff("") is None


def test_check_writable_names_the_event():
    events = [LabelEvent("a.wav", 0, 1, "ok"), LabelEvent("a.wav", 2, 1, "bad")]
    with pytest.raises(ValueError, match=r"^dcase: event 2 \('bad' at 2 s in 'a.wav'\)"):
        check_writable(events, "dcase")
    check_writable([LabelEvent("", 1, 1, "click")], "audacity")
    with pytest.raises(ValueError, match="zero-length"):
        check_writable([LabelEvent("", 1, 1, "click")], "textgrid", allow_zero_length=False)
    with pytest.raises(ValueError, match="below low frequency"):
        check_writable([LabelEvent("", 0, 1, "x", 500.0, 100.0)], "raven")


def test_json_entry_lines_follow_the_key_path_and_skip_look_alikes(tmp_path):
    from tfstudio.formats.base import load_json

    text = "\n".join(
        [
            '{"note": "a [string], {with} \\"quotes\\": and \\\\ commas, ",',  # line 1
            ' "events": [',  # 2
            '  {"events": [1, 2], "label": "x, y"},',  # 3: an entry holding its own "events"
            '  "a string entry",',  # 4
            "",  # 5
            "  17, null,",  # 6: two entries on one line
            "  [",  # 7
            "   [],",  # 8
            "   {}",  # 9
            "  ],",  # 10
            '  {"label":',  # 11
            '   "[not a list]"}',  # 12
            " ],",  # 13
            ' "data": {"events": [{}], "empty": [],',  # 14
            '  "nested": {"events": [',  # 15
            "   true,",  # 16
            "   false]}}}",  # 17
        ]
    )
    path = tmp_path / "doc.json"
    path.write_text(text.replace("\n", "\r\n"), encoding="utf-8")  # CRLF counts as one line
    loaded = load_json(path)
    assert len(loaded.value["events"]) == 6
    assert [loaded.entry_line(("events",), i) for i in range(7)] == [3, 4, 6, 6, 7, 11, 0]
    assert loaded.entry_line(("data", "events"), 0) == 14
    assert loaded.entry_line(("data", "empty"), 0) == 0
    assert [loaded.entry_line(("data", "nested", "events"), i) for i in (0, 1)] == [16, 17]
    assert loaded.entry_line(("missing",), 0) == 0
    assert loaded.entry_line(("note",), 0) == 0  # a string, not a list


def test_json_entry_lines_of_a_repeated_key_are_the_kept_ones(tmp_path):
    from tfstudio.formats.base import load_json

    path = tmp_path / "twice.json"
    path.write_text('{"events": [1, 2],\n "events": [\n  3]}\n', encoding="utf-8")
    loaded = load_json(path)
    assert loaded.value["events"] == [3]  # json.loads keeps the last
    assert [loaded.entry_line(("events",), i) for i in (0, 1)] == [3, 0]
