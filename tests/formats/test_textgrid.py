"""Praat TextGrids: long and short text forms, encodings, tiers, round trips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, textgrid

# As Praat 6 writes it ("Save as text file"), with a point tier and a second interval tier.
LONG_FORM = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 3.5
tiers? <exists>
size = 3
item []:
    item [1]:
        class = "IntervalTier"
        name = "birds"
        xmin = 0
        xmax = 3.5
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 0.3
            text = ""
        intervals [2]:
            xmin = 0.3
            xmax = 1.25
            text = "Turdus merula"
        intervals [3]:
            xmin = 1.25
            xmax = 2.000001
            text = "say ""hi"""
        intervals [4]:
            xmin = 2.000001
            xmax = 3.5
            text = ""
    item [2]:
        class = "TextTier"
        name = "clicks"
        xmin = 0
        xmax = 3.5
        points: size = 1
        points [1]:
            number = 1.5
            mark = "click"
    item [3]:
        class = "IntervalTier"
        name = "noise"
        xmin = 0
        xmax = 3.5
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 3
            text = "rödhake é"
        intervals [2]:
            xmin = 3
            xmax = 3.5
            text = ""
'''

SHORT_FORM = """File type = "ooTextFile"
Object class = "TextGrid"

0
3.5
<exists>
2
"IntervalTier"
"birds"
0
3.5
3
0
0.3
""
0.3
1.25
"Turdus merula"
1.25
3.5
""
"TextTier"
"clicks"
0
3.5
1
1.5
"click"
"""

# In the file's order, tier by tier.
LONG_EVENTS = [
    LabelEvent("", 0.3, 1.25, "Turdus merula"),
    LabelEvent("", 1.25, 2.000001, 'say "hi"'),
    LabelEvent("", 0.0, 3.0, "rödhake é"),
]


def write_bytes(tmp_path: Path, data: bytes, name: str = "rec.TextGrid") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
        # Praat pads every "key = value" line with a trailing space.
        lambda text: re.sub(r"(?m)(=.*)$", r"\1 ", text).encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with a byte order mark, native order
        lambda text: b"\xfe\xff" + text.encode("utf-16-be"),  # what Praat writes
        lambda text: text.encode("utf-16-le"),  # no byte order mark at all
    ],
    ids=["utf8", "utf8-bom", "crlf", "praat-padding", "utf16", "utf16-be-bom", "utf16-le-no-bom"],
)
def test_long_form_in_every_encoding(tmp_path, encode):
    path = write_bytes(tmp_path, encode(LONG_FORM))
    result = textgrid.read(path)
    assert result.events == LONG_EVENTS
    assert [e.tier for e in result.events] == ["birds", "birds", "noise"]
    # A point tier is an ordinary part of a TextGrid: said, but not a problem.
    assert result.issues == []
    assert [(i.line, i.reason) for i in result.warnings] == [
        (32, "point tier 'clicks' ignored: only interval tiers hold events")
    ]


def test_short_form(tmp_path):
    result = textgrid.read(write_bytes(tmp_path, SHORT_FORM.encode("utf-8")))
    assert result.events == [LabelEvent("", 0.3, 1.25, "Turdus merula")]
    assert result.issues == []
    assert [i.reason for i in result.warnings] == [
        "point tier 'clicks' ignored: only interval tiers hold events"
    ]


@pytest.mark.parametrize("short", [False, True])
def test_round_trip_is_exact_with_overlaps(tmp_path, random_events, sort_events, short):
    events = random_events(5, 80, zero_length=False)
    events.append(events[0])  # an exact duplicate overlaps too
    path = tmp_path / "rec.TextGrid"
    textgrid.write(events, path, short=short)
    result = textgrid.read(path)
    assert result.issues == []
    assert sort_events(result.events) == sort_events(events)


def test_overlapping_events_of_a_class_go_to_extra_tiers(tmp_path):
    events = [
        LabelEvent("", 0.0, 2.0, "dog"),
        LabelEvent("", 1.0, 3.0, "dog"),
        LabelEvent("", 1.5, 2.5, "dog"),
        LabelEvent("", 2.0, 4.0, "dog"),  # touches the first: same tier
        LabelEvent("", 0.5, 1.0, "cat"),
    ]
    path = tmp_path / "rec.TextGrid"
    textgrid.write(events, path, duration=10.0)
    text = path.read_text(encoding="utf-8")
    assert re.findall(r'name = "(.*)"', text) == ["dog", "dog (2)", "dog (3)", "cat"]
    assert re.findall(r"^xmax = (.*) $", text, flags=re.MULTILINE) == ["10.0"]
    assert text.count('text = "dog"') == 4
    result = textgrid.read(path)
    assert sorted(e.label for e in result.events) == ["cat", "dog", "dog", "dog", "dog"]
    by_time = sorted(result.events, key=lambda e: (e.onset, e.offset))
    assert by_time == sorted(events, key=lambda e: (e.onset, e.offset))


def test_gaps_are_empty_intervals_and_xmax_defaults_to_last_offset(tmp_path):
    path = tmp_path / "rec.TextGrid"
    textgrid.write([LabelEvent("", 0.5, 1.0, "a"), LabelEvent("", 2.0, 2.5, "a")], path)
    text = path.read_text(encoding="utf-8")
    bounds = re.findall(r"xmin = (\S+) \n\s+xmax = (\S+) \n\s+text = (\".*\")", text)
    assert bounds == [
        ("0.0", "0.5", '""'),
        ("0.5", "1.0", '"a"'),
        ("1.0", "2.0", '""'),
        ("2.0", "2.5", '"a"'),
    ]
    assert text.splitlines()[4] == "xmax = 2.5 "


def test_zero_length_events_are_refused(tmp_path):
    path = tmp_path / "rec.TextGrid"
    with pytest.raises(ValueError, match="zero-length"):
        textgrid.write([LabelEvent("", 1.0, 2.0, "a"), LabelEvent("", 1.0, 1.0, "click")], path)
    assert not path.exists()


def test_duration_shorter_than_the_events_is_refused(tmp_path):
    with pytest.raises(ValueError, match="after the duration"):
        textgrid.write([LabelEvent("", 1.0, 2.0, "a")], tmp_path / "r.TextGrid", duration=1.5)


def test_empty_textgrid_round_trips(tmp_path):
    path = tmp_path / "rec.TextGrid"
    textgrid.write([], path, duration=5.0)
    result = textgrid.read(path)
    assert result.events == [] and result.issues == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"0\t1\tdog\n", "not a Praat TextGrid"),
        (b'File type = "ooTextFile"\nObject class = "Sound 2"\n', "not a Praat TextGrid"),
        (b"ooBinaryFile\x08TextGrid\x00\x00\x00\x00\x00", "binary"),
        (LONG_FORM.replace("size = 4", "size = four").encode("utf-8"), "line 14: .* 'four'"),
        (
            LONG_FORM.replace(
                'text = ""\n        intervals [2]', "text = x\n intervals [2]"
            ).encode(),
            "line 18: interval text should be a quoted text, not x",
        ),
        (LONG_FORM.split("intervals [2]")[0].encode("utf-8"), "ends early"),
    ],
)
def test_files_that_are_not_text_grids_raise_format_error(tmp_path, data, reason):
    with pytest.raises(FormatError, match=reason):
        textgrid.read(write_bytes(tmp_path, data))


BIRDS = ["Turdus merula", 'say "hi"']


@pytest.mark.parametrize(
    ("data", "kept", "line", "reason"),
    [
        # cut short (a copy that stopped, a full disk), in the middle of an interval
        (
            LONG_FORM[: LONG_FORM.index('text = "rödhake')],
            BIRDS,
            49,
            "the file ends early: interval text missing",
        ),
        (LONG_FORM.split("item [3]")[0], BIRDS, 40, "the file ends early: tier class missing"),
        (
            LONG_FORM.replace('text = "rödhake é"', 'text = "rödhake é'),
            BIRDS,
            49,
            "a quoted text never ends",
        ),
        # damaged further on: the structure cannot be followed past the bad value
        (
            LONG_FORM.replace('text = "say ""hi"""', "text = say"),
            BIRDS[:1],
            26,
            "interval text should be a quoted text, not say",
        ),
        (
            LONG_FORM.replace('class = "TextTier"', 'class = "PointTier"'),
            BIRDS,
            32,
            "unknown tier class 'PointTier'",
        ),
    ],
)
def test_a_grid_damaged_after_some_intervals_keeps_them(tmp_path, data, kept, line, reason):
    # Refused whole, such a grid lost every label read before the damage.
    result = textgrid.read(write_bytes(tmp_path, data.encode("utf-8")))
    assert [e.label for e in result.events] == kept
    assert [(i.line, i.reason) for i in result.issues] == [
        (
            line,
            f"{reason}; the rest of the file is not read (the {len(kept)} event(s) before it "
            "are kept)",
        )
    ]


@pytest.mark.parametrize("short", [False, True])
def test_labels_with_quotes_and_spaces_round_trip(tmp_path, short):
    events = [
        LabelEvent("", 1.0, 2.0, 'x""y "quoted"'),
        LabelEvent("", 2.0, 3.0, "a  b   c"),
        LabelEvent("", 3.0, 4.0, "item [2] intervals [3]" if short else '"IntervalTier"'),
    ]
    path = tmp_path / "rec.TextGrid"
    textgrid.write(events, path, short=short)
    assert textgrid.read(path).events == events


@pytest.mark.parametrize("short", [False, True])
def test_labels_with_line_breaks_are_written_but_refused_on_import(tmp_path, short):
    # Older projects may hold such names; a TextGrid can carry them, but they cannot become
    # class names again: the interval is reported with its line, the rest is kept.
    events = [LabelEvent("", 0.5, 1.0, "two\nlines"), LabelEvent("", 1.0, 2.0, "ok")]
    path = tmp_path / "rec.TextGrid"
    textgrid.write(events, path, short=short)
    result = textgrid.read(path)
    assert result.events == [events[1]]
    [issue] = result.issues
    lines = path.read_text(encoding="utf-8").split("\n")
    text_line = next(n for n, line in enumerate(lines, start=1) if line.endswith('"two'))
    assert issue.line == text_line - 2  # the interval's xmin
    assert (
        issue.reason
        == "tier 'two lines', interval 2: class name 'two\\nlines' contains a line break"
    )


@pytest.mark.parametrize(
    ("label", "short", "reason"),
    [
        ("intervals [3]", False, "write the short form instead"),
        ("IntervalTier", True, "write the long form instead"),
    ],
)
def test_labels_praatio_cannot_read_back_are_refused(tmp_path, label, short, reason):
    with pytest.raises(ValueError, match=reason):
        textgrid.write([LabelEvent("", 0, 1, label)], tmp_path / "r.TextGrid", short=short)
    textgrid.write([LabelEvent("", 0, 1, label)], tmp_path / "r.TextGrid", short=not short)
    assert [e.label for e in textgrid.read(tmp_path / "r.TextGrid").events] == [label]


@pytest.mark.parametrize("short", [False, True])
def test_praatio_reads_what_we_write(tmp_path, random_events, short):
    # Many TextGrid tools read through praatio: what tfstudio writes must parse there too.
    from praatio.utilities import textgrid_io

    events = random_events(3, 30, zero_length=False)
    path = tmp_path / "r.TextGrid"
    textgrid.write(events, path, short=short)
    grid = textgrid_io.parseTextgridStr(
        path.read_text(encoding="utf-8"), includeEmptyIntervals=False
    )
    found = sorted((float(s), float(e), t) for tier in grid["tiers"] for s, e, t in tier["entries"])
    assert found == sorted((e.onset, e.offset, e.label) for e in events)


def test_one_tier_in_is_one_tier_out(tmp_path):
    # praatIO's and Parselmouth's examples: one tier ("phone", "word"...) whose intervals
    # carry many different texts. They read as events of those classes and, written back,
    # stay one tier of that name rather than one tier per class.
    grid = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n2.5\n<exists>\n1\n'
        '"IntervalTier"\n"word"\n0\n2.5\n4\n'
        '0\n0.5\n"the"\n0.5\n1.25\n"bird"\n1.25\n1.5\n""\n1.5\n2.5\n"sings"\n'
    )
    path = tmp_path / "in.TextGrid"
    path.write_text(grid, encoding="utf-8")
    events = textgrid.read(path).events
    assert [(e.label, e.tier) for e in events] == [
        ("the", "word"),
        ("bird", "word"),
        ("sings", "word"),
    ]
    out = tmp_path / "out.TextGrid"
    textgrid.write(events, out, duration=2.5)
    text = out.read_text(encoding="utf-8")
    assert re.findall(r'name = "(.*)"', text) == ["word"]
    assert textgrid.read(out).events == events
    # Events without a tier (from a project) still get one tier per class.
    textgrid.write([LabelEvent("", e.onset, e.offset, e.label) for e in events], out)
    assert re.findall(r'name = "(.*)"', out.read_text(encoding="utf-8")) == ["the", "bird", "sings"]


def test_a_grid_of_point_tiers_only_gives_warnings_and_no_events(tmp_path):
    grid = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n3\n<exists>\n2\n'
        '"TextTier"\n"clicks"\n0\n3\n1\n1.5\n"click"\n'
        '"TextTier"\n"peaks"\n0\n3\n0\n'
    )
    path = tmp_path / "points.TextGrid"
    path.write_text(grid, encoding="utf-8")
    result = textgrid.read(path)
    assert result.events == [] and result.issues == []
    assert [w.reason for w in result.warnings] == [
        "point tier 'clicks' ignored: only interval tiers hold events",
        "point tier 'peaks' ignored: only interval tiers hold events",
    ]
