"""Adobe Audition marker lists (Markers panel > Export selected markers to CSV) in and out.

The files are written here in the shape Audition exports them: a ``.csv`` whose fields are
separated by tabs, under ``Name Start Duration Time Format Type Description``, point markers
with Duration ``0:00.000``, range markers with a length, Type ``Cue``; and as the Animal2Vec
meerkat call detector writes its detections (``0:00:01.235000``, the score as Description).
None is copied from another project.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from tfstudio.formats import FormatError, LabelEvent, audition, guess_format
from tfstudio.formats.clock import format_clock, parse_clock, parse_frames

HEADER = "Name\tStart\tDuration\tTime Format\tType\tDescription\n"


def write(tmp_path, text: str, name: str = "rec1.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_point_and_range_markers_in_decimal_time(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "Marker 01\t0:01.250\t0:00.000\tdecimal\tCue\t\n"
        + "song thrush, far\t0:02.500\t0:01.750\tdecimal\tCue\tbehind the hedge\n"
        + "rödhake\t1:02.000\t0:00.500\tdecimal\tSubclip\t\n"
        + "鳥\t1:02:03.456\t0:00.044\tdecimal\tCue\t\n",
    )
    result = audition.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("", 1.25, 1.25, "Marker 01"),
        LabelEvent("", 2.5, 4.25, "song thrush, far"),
        LabelEvent("", 62.0, 62.5, "rödhake"),
        LabelEvent("", 3723.456, 3723.5, "鳥"),
    ]
    assert [w.reason for w in result.warnings] == [
        "1 marker description(s) left out: tfstudio keeps the name (the class) and the times"
    ]
    assert guess_format(path) == "audition"


def test_a_detectors_scores_make_detections(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "sn\t0:00:01.235000\t0:00:00.175000\tdecimal\tCue\t0.873\n"
        + "focal\t0:00:01.235000\t0:00:00.175000\tdecimal\tCue\t1.0\n"
        + "cc\t0:00:02.000000\t0:00:00.100000\tdecimal\tCue\t2\n",  # a count, not a score
    )
    result = audition.read(path)
    assert result.events == [
        LabelEvent("", 1.235, 1.41, "sn", source="model", confidence=0.873),
        LabelEvent("", 1.235, 1.41, "focal", source="model", confidence=1.0),
        LabelEvent("", 2.0, 2.1, "cc"),
    ]


def test_samples_and_frames_are_read_in_their_time_format(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "a\t48000\t24000\t48000 Hz\tCue\t\n"
        + "b\t00:00:01:15\t00:00:00:15\t30 fps\tCue\t\n"
        + "c\t00:01:00;02\t00:00:00;00\t29.97 fps drop\tCue\t\n"
        + "d\t00:00:02:00\t00:00:00:24\t25 fps\tCue\t\n"
        + "e\t00:01:30\t00:00:38\t75 fps\tCue\t\n"
        + "f\t96000\t0\tsamples\tCue\t\n",
    )
    result = audition.read(path, sample_rate=32000)
    assert result.issues == []
    assert [(e.label, e.onset, e.offset) for e in result.events] == [
        ("a", 1.0, 1.5),
        ("b", 1.5, 2.0),
        ("c", 60.06, 60.06),  # frame 1800 at 30000/1001 frames a second
        ("d", 2.0, 2.96),
        ("e", 1.4, 1.4 + 38 / 75),
        ("f", 3.0, 3.0),
    ]
    # Without the recording's rate, "samples" cannot be read; "48000 Hz" says its own.
    result = audition.read(path)
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            7,
            "times in samples ('samples') need the recording's sample rate: import the file "
            "with its recording (or export the markers in Decimal time)",
        )
    ]
    assert len(result.events) == 5


def test_bad_rows_are_reported_and_the_rest_kept(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "ok\t0:01.000\t0:00.500\tdecimal\tCue\t\n"
        + "\t0:02.000\t0:00.000\tdecimal\tCue\t\n"
        + "bar\t3:1.00\t0:1.00\tbars and beats\tCue\t\n"
        + "late\t0:75.000\t0:00.000\tdecimal\tCue\t\n"
        + "odd\t0:01.000\t0:00.000\tfeet+frames\tCue\t\n"
        + "two\t0:04.000\t\tdecimal\tCue\t\n",
    )
    result = audition.read(path)
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "the marker has no name (its name is its class): left out"),
        (
            4,
            "times in 'bars and beats' cannot be converted to seconds without the session's "
            "tempo; set Audition's time display to Decimal (View > Time Display Format > "
            "Decimal) and export the markers again",
        ),
        (5, "Start: '0:75.000': the seconds are 60 or more"),
        (
            6,
            "time format 'feet+frames' is not one tfstudio reads (decimal, samples, SMPTE or CD "
            "frames); export the markers in Decimal time",
        ),
    ]
    assert [(e.label, e.onset, e.offset) for e in result.events] == [
        ("ok", 1.0, 1.5),
        ("two", 4.0, 4.0),
    ]


def test_utf16_crlf_and_a_comma_separated_list_read_the_same(tmp_path):
    rows = [
        "Name\tStart\tDuration\tTime Format\tType\tDescription",
        "été\t0:01.500\t0:00.250\tdecimal\tCue\t",
    ]
    path = write(tmp_path, "\ufeff" + "\r\n".join(rows) + "\r\n", encoding="utf-16-le")
    assert audition.read(path).events == [LabelEvent("", 1.5, 1.75, "été")]
    commas = write(
        tmp_path,
        'Name,Start,Duration,Time Format,Type,Description\n"dog, big",0:01.500,0:00.250,decimal,Cue,\n',
        name="rec2.csv",
    )
    assert audition.read(commas).events == [LabelEvent("", 1.5, 1.75, "dog, big")]
    assert guess_format(commas) == "audition"


def test_a_file_that_is_not_a_marker_list_is_refused(tmp_path):
    path = write(tmp_path, "Marker\tTime\nx\t0:01.000\n")
    with pytest.raises(FormatError, match="not an Adobe Audition marker list"):
        audition.read(path)
    assert audition.read(write(tmp_path, "", name="empty.csv")).events == []


def test_an_export_reads_back_exactly(tmp_path, random_events):
    events = [
        *random_events(5, 40),
        LabelEvent("", 3600.0, 3601.5, "Name with  spaces, and a comma"),
        LabelEvent("", 2.0, 2.5, "meerkat sn", source="model", confidence=0.873),
    ]
    path = tmp_path / "rec1.csv"
    audition.write(events, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert "Name with  spaces, and a comma\t1:00:00.000\t0:01.500\tdecimal\tCue\t\n" in text
    assert "meerkat sn\t0:02.000\t0:00.500\tdecimal\tCue\t0.873\n" in text
    result = audition.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == events


def test_a_confidence_outside_0_to_1_is_refused(tmp_path):
    path = tmp_path / "rec1.csv"
    with pytest.raises(ValueError, match=r"confidence 3\.5 .* is not from 0 to 1"):
        audition.write([LabelEvent("", 0, 1, "x", source="model", confidence=3.5)], path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:01.234", Fraction("1.234")),
        ("2:1.540", Fraction("121.54")),
        ("1:44:53.111", Fraction("6293.111")),
        ("75:00.5", Fraction(4500.5)),  # REAPER counts minutes on
        ("12.5", Fraction("12.5")),
        ("0:01,5", Fraction("1.5")),
    ],
)
def test_clock_times(text, seconds):
    assert parse_clock(text) == seconds


def test_clock_times_are_written_exactly():
    assert format_clock(Fraction("1.234")) == "0:01.234"
    assert format_clock(Fraction(3723)) == "1:02:03.000"
    assert format_clock(Fraction("0.30000000000000004")) == "0:00.30000000000000004"
    assert format_clock(Fraction(5), hours=True) == "0:00:05.000"
    assert format_clock(Fraction(7, 8)) == "0:00.875"
    assert format_clock(Fraction("3599.0625")) == "59:59.0625"
    assert format_clock(Fraction("90000.5")) == "25:00:00.500"
    # No float is a third, or a decimal of 30 digits.
    for inexact in (Fraction(1, 3), Fraction("0.123456789012345678901234567891")):
        with pytest.raises(ValueError, match="has no exact decimal form"):
            format_clock(inexact)
    # Drop-frame: ten minutes are 17982 frames.
    assert parse_frames("00:10:00;00", Fraction(30000, 1001), drop=True) == Fraction(
        17982 * 1001, 30000
    )
    with pytest.raises(ValueError, match="frame 30 is past the 30 of a second"):
        parse_frames("00:00:01:30", Fraction(30))
