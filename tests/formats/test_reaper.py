"""REAPER region/marker lists (Region/Marker Manager > export to CSV) in and out.

The files are written here in the shape REAPER exports them: ``#,Name,Start,End,Length,Color``,
``R1,…`` rows for regions and ``M1,…`` rows (End and Length empty) for markers, times in the
project's time unit (Minutes:Seconds ``0:01.250``, Seconds, Samples, Measures.Beats
``5.1.00``), a name with a comma quoted. None is copied from another project.
"""

from __future__ import annotations

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format, reaper

HEADER = "#,Name,Start,End,Length,Color\n"


def write(tmp_path, text: str, name: str = "rec1.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_regions_and_markers_in_minutes_and_seconds(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "R1,song thrush,0:01.250,0:03.000,0:01.750,FF0000\n"
        + 'R2,"rödhake, far",1:02.000,1:02.500,0:00.500,\n'
        + "M1,click,0:04.100,,,\n"
        + "R3,鳥,1:02:03.456,1:02:03.500,0:00.044,00FF00\n"
        + "M2,long minutes,75:00.500,,,\n",
    )
    result = reaper.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == [
        LabelEvent("", 1.25, 3.0, "song thrush"),
        LabelEvent("", 62.0, 62.5, "rödhake, far"),
        LabelEvent("", 4.1, 4.1, "click"),
        LabelEvent("", 3723.456, 3723.5, "鳥"),
        LabelEvent("", 4500.5, 4500.5, "long minutes"),
    ]
    assert guess_format(path) == "reaper"


def test_seconds_and_samples(tmp_path):
    seconds = write(tmp_path, HEADER + "R1,a,1.250,3.000,1.750,\nM1,b,4.100,,,\n")
    assert [(e.onset, e.offset) for e in reaper.read(seconds).events] == [(1.25, 3.0), (4.1, 4.1)]
    # Samples: at the recording's rate (the NAM training data's regions, at 48 kHz).
    samples = write(tmp_path, HEADER + "R1,train,50000,7760000,7710000,FF0000\n", "rec2.csv")
    result = reaper.read(samples, sample_rate=48000)
    assert [(e.label, e.onset, e.offset) for e in result.events] == [
        ("train", 50000 / 48000, 7760000 / 48000)
    ]
    assert [w.reason for w in result.warnings] == [
        "whole-number times read as samples at 48000 Hz (REAPER's Samples time unit)"
    ]
    result = reaper.read(samples)
    assert [i.reason for i in result.issues] == [
        "Start: '50000' is a whole number of samples (REAPER's Samples time unit), which "
        "needs the recording's sample rate: import the list with its recording"
    ]


def test_measures_and_beats_are_refused_row_by_row(tmp_path):
    path = write(
        tmp_path,
        HEADER + "R1,verse,5.1.00,9.1.00,4.0.00,\nM1,hit,7.3,,,\nR2,chorus,0:10.000,0:12.000,,\n",
    )
    result = reaper.read(path)
    again = (
        "cannot be converted to seconds without the project's tempo map; set the project's "
        "time unit to Minutes:Seconds (View > Time unit for ruler) and export the list again"
    )
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, f"Start '5.1.00' is in Measures.Beats, which {again}"),
        # In a Measures.Beats file "7.3" is bar 7, beat 3 (the minimal form), not seconds.
        (3, f"Start '7.3' is in Measures.Beats (as this list's other times are), which {again}"),
    ]
    assert result.events == [LabelEvent("", 10.0, 12.0, "chorus")]


def test_bad_rows_are_reported_and_the_rest_kept(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "R1,,0:01.000,0:02.000,0:01.000,\n"
        + "M1,,0:03.000,,,\n"
        + "R2,tc,00:00:01:15,00:00:02:00,,\n"
        + "R3,backwards,0:05.000,0:04.000,,\n"
        + "R4,open,0:05.000,,,\n"
        + "R5,ok,0:06.000,0:07.000,0:01.000,\n"
        + 'M2,"two\nlines",0:08.000,,,\n'
        + "M3,last,0:09.000,,,\n",
    )
    result = reaper.read(path)
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "the region has no name (its name is its class): left out"),
        (3, "the marker has no name (its name is its class): left out"),
        (
            4,
            "Start '00:00:01:15' is timecode with frames, which needs the project's frame "
            "rate; set the project's time unit to Minutes:Seconds (View > Time unit for ruler) "
            "and export the list again",
        ),
        (5, "the region ends (4 s) before it starts (5 s)"),
        (6, "the region's End is empty"),
        # A quoted name may hold a line break (the row starts on line 8), a class name not.
        (8, "class name 'two\\nlines' contains a line break"),
    ]
    assert [(e.label, e.onset) for e in result.events] == [("ok", 6.0), ("last", 9.0)]


def test_a_file_that_is_not_a_region_list_is_refused(tmp_path):
    with pytest.raises(FormatError, match="not a REAPER region/marker list"):
        reaper.read(write(tmp_path, "Name,Position\nIntro,0:00\n"))
    assert reaper.read(write(tmp_path, "", "empty.csv")).events == []


def test_an_export_reads_back_exactly(tmp_path, random_events):
    events = [*random_events(7, 40), LabelEvent("", 3600.0, 3601.5, 'say "hi", twice')]
    path = tmp_path / "rec1.csv"
    reaper.write(events, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert 'R36,"say ""hi"", twice",1:00:00.000,1:00:01.500,0:01.500,\n' in text
    assert "\nM1," in text  # zero-length events are markers
    result = reaper.read(path)
    assert result.issues == [] and result.warnings == []
    assert sorted(result.events, key=repr) == sorted(events, key=repr)
