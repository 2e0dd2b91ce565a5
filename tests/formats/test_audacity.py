"""Audacity label tracks, plain and with frequency lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, audacity, guess_format


def write_bytes(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "rec.txt"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_round_trip_with_bands_overlaps_and_zero_length(tmp_path, random_events):
    events = random_events(3, 60, with_band=True)
    assert any(e.onset == e.offset for e in events)
    path = tmp_path / "rec.txt"
    audacity.write(events, path)
    result = audacity.read(path)
    assert result.issues == []
    assert result.events == events


def test_export_writes_frequency_line_only_for_events_with_a_band(tmp_path):
    events = [
        LabelEvent("", 0.5, 1.5, "dog bark"),
        LabelEvent("", 2.0, 2.0, "click", low_hz=100.0, high_hz=None),
        LabelEvent("", 3.0, 4.25, "bird", low_hz=2000.5, high_hz=8000.0),
    ]
    path = tmp_path / "rec.txt"
    audacity.write(events, path)
    assert path.read_text(encoding="utf-8") == (
        "0.5\t1.5\tdog bark\n2.0\t2.0\tclick\n\\\t100.0\t-1\n3.0\t4.25\tbird\n\\\t2000.5\t8000.0\n"
    )
    assert audacity.read(path).events == events


def test_reads_audacity_own_output(tmp_path):
    # As Audacity 3 writes it: six decimals, CRLF on Windows, -1 for an unknown side.
    path = write_bytes(
        tmp_path,
        "1.000000\t2.500000\tTurdus merula\r\n"
        "\\\t-1.000000\t4000.000000\r\n"
        "3.000000\t3.000000\tpoint label\r\n"
        "4.000000\t5.000000\tfull band\r\n"
        "\\\t0.000000\t22050.000000\r\n",
    )
    result = audacity.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 1.0, 2.5, "Turdus merula", None, 4000.0),
        LabelEvent("", 3.0, 3.0, "point label"),
        LabelEvent("", 4.0, 5.0, "full band", 0.0, 22050.0),
    ]


def test_bom_trailing_blank_lines_and_space_separated_lines(tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbf0.5\t1\tdog\n1 2 old style label\n\n\n")
    result = audacity.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 0.5, 1.0, "dog"),
        LabelEvent("", 1.0, 2.0, "old style label"),
    ]


def test_malformed_lines_are_reported_and_good_lines_kept(tmp_path):
    path = write_bytes(
        tmp_path,
        "\\\t100\t200\n"  # 1: nothing to attach to
        "0\t1\tdog\n"  # 2
        "\\\t300\t200\n"  # 3: high below low
        "1\t2\t\n"  # 4: empty label
        "\\\t100\t200\n"  # 5: belongs to the bad line 4, not reported twice
        "abc\t2\tdog\n"  # 6
        "5\t4\tdog\n"  # 7
        "1\t2\n"  # 8
        "2\t3\tcat\n"  # 9
        "\\\t100\n"  # 10
        "4\t5\towl\n"  # 11
        "\\\t-5\t100\n"  # 12
        "6\t7\tbat\n"  # 13
        "\\\t10\t20\n"  # 14
        "\\\t30\t40\n",  # 15: a second frequency line
    )
    result = audacity.read(path)
    assert result.events == [
        LabelEvent("", 0.0, 1.0, "dog"),
        LabelEvent("", 2.0, 3.0, "cat"),
        LabelEvent("", 4.0, 5.0, "owl"),
        LabelEvent("", 6.0, 7.0, "bat", 10.0, 20.0),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "frequency line does not follow a label line"),
        (3, "high frequency 200 Hz is below low frequency 300 Hz"),
        (4, "empty label"),
        (6, "onset 'abc' is not a number"),
        (7, "offset 4 is before onset 5"),
        (8, "expected 3 tab-separated fields (onset, offset, label), found 2"),
        (10, "expected a frequency line '\\<TAB>low_hz<TAB>high_hz', found 1 values"),
        (12, "low frequency -5 is negative"),
        (15, "frequency line does not follow a label line"),
    ]


def test_blank_line_separates_a_frequency_line_from_its_label(tmp_path):
    result = audacity.read(write_bytes(tmp_path, "0\t1\tdog\n\n\\\t1\t2\n"))
    assert result.events == [LabelEvent("", 0.0, 1.0, "dog")]
    assert [i.line for i in result.issues] == [3]


def test_empty_file_is_an_empty_label_track(tmp_path):
    result = audacity.read(write_bytes(tmp_path, ""))
    assert result.events == [] and result.issues == []
    audacity.write([], tmp_path / "empty.txt")
    assert (tmp_path / "empty.txt").read_bytes() == b""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("filename\tonset\toffset\tevent_label\na.wav\t0\t1\tdog\n", "looks like a dcase file"),
        ("Selection\tView\tChannel\tBegin Time (s)\n", "looks like a raven file"),
        (b"\x00\x01\x02\x03\xff\x00\x00\x10", "binary"),
    ],
)
def test_other_formats_raise_format_error(tmp_path, data, reason):
    with pytest.raises(FormatError, match=reason):
        audacity.read(write_bytes(tmp_path, data))


def test_write_refuses_an_empty_label(tmp_path):
    with pytest.raises(ValueError, match="empty label"):
        audacity.write([LabelEvent("", 0, 1, "")], tmp_path / "rec.txt")


def test_times_with_a_decimal_comma_read_as_audacity_reads_them(tmp_path):
    # Audacity takes "1,5" for 1.5 (locales with a decimal comma write numbers so); BirdNET's
    # confidence and the frequency line too.
    path = write_bytes(
        tmp_path,
        "1,000000\t2,500000\tTurdus merula\r\n"
        "\\\t-1,000000\t4000,5\r\n"
        "3\t4,25\tErithacus rubecula, European Robin\t0,8345\r\n"
        "5 5,5 space separated\r\n"
        "6,5,5\t7\tbad\r\n",
    )
    result = audacity.read(path)
    assert result.events == [
        LabelEvent("", 1.0, 2.5, "Turdus merula", None, 4000.5),
        LabelEvent(
            "", 3.0, 4.25, "Erithacus rubecula, European Robin", source="model", confidence=0.8345
        ),
        LabelEvent("", 5.0, 5.5, "space separated"),
    ]
    assert [(i.line, i.reason) for i in result.issues] == [(5, "onset '6,5,5' is not a number")]
    assert guess_format(path) == "audacity"
