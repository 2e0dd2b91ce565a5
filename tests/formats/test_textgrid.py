"""Praat TextGrids: long and short text forms, encodings, interval and point tiers, round
trips."""

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

# In the file's order, tier by tier; the point tier's point is a zero-length event.
LONG_EVENTS = [
    LabelEvent("", 0.3, 1.25, "Turdus merula"),
    LabelEvent("", 1.25, 2.000001, 'say "hi"'),
    LabelEvent("", 1.5, 1.5, "click"),
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
    assert [e.tier for e in result.events] == ["birds", "birds", "clicks", "noise"]
    assert result.issues == [] and result.warnings == []


def test_short_form(tmp_path):
    result = textgrid.read(write_bytes(tmp_path, SHORT_FORM.encode("utf-8")))
    assert result.events == [
        LabelEvent("", 0.3, 1.25, "Turdus merula"),
        LabelEvent("", 1.5, 1.5, "click"),
    ]
    assert [e.tier for e in result.events] == ["birds", "clicks"]
    assert result.issues == [] and result.warnings == []


@pytest.mark.parametrize("short", [False, True])
def test_round_trip_is_exact_with_overlaps(tmp_path, random_events, sort_events, short):
    events = random_events(5, 80)  # every seventh is zero-length: a point
    events.append(events[0])  # an exact duplicate overlaps too
    zero = next(e for e in events if e.onset == e.offset)
    events.append(zero)  # and so does a second point at the same time
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


def _padded(text: str) -> str:
    """A long-form grid as Praat pads it: a space after every value line below the header
    and after ``item []:``."""
    return re.sub(r"(?m)^((?!File type|Object class).*(?:=.*|<exists>|\[\]:))$", r"\1 ", text)


POINTS = [
    LabelEvent("", 0.5, 1.0, "song"),
    LabelEvent("", 2.0, 2.0, "click"),
    LabelEvent("", 0.25, 0.25, "click"),
    LabelEvent("", 2.0, 2.0, "click"),  # Praat holds one point per time in a tier
    LabelEvent("", 3.0, 3.0, "song"),  # a point of a name that has intervals, at xmax
]

# As Praat writes them (the layout of Praat 6.1's "Save as text file" and "Save as short text
# file"), with tfstudio's 0.0 for Praat's 0.
POINTS_LONG = _padded(
    """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0.0
xmax = 3.0
tiers? <exists>
size = 4
item []:
    item [1]:
        class = "IntervalTier"
        name = "song"
        xmin = 0.0
        xmax = 3.0
        intervals: size = 3
        intervals [1]:
            xmin = 0.0
            xmax = 0.5
            text = ""
        intervals [2]:
            xmin = 0.5
            xmax = 1.0
            text = "song"
        intervals [3]:
            xmin = 1.0
            xmax = 3.0
            text = ""
    item [2]:
        class = "TextTier"
        name = "click"
        xmin = 0.0
        xmax = 3.0
        points: size = 2
        points [1]:
            number = 0.25
            mark = "click"
        points [2]:
            number = 2.0
            mark = "click"
    item [3]:
        class = "TextTier"
        name = "click (2)"
        xmin = 0.0
        xmax = 3.0
        points: size = 1
        points [1]:
            number = 2.0
            mark = "click"
    item [4]:
        class = "TextTier"
        name = "song (2)"
        xmin = 0.0
        xmax = 3.0
        points: size = 1
        points [1]:
            number = 3.0
            mark = "song"
"""
)

POINTS_SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0.0
3.0
<exists>
4
"IntervalTier"
"song"
0.0
3.0
3
0.0
0.5
""
0.5
1.0
"song"
1.0
3.0
""
"TextTier"
"click"
0.0
3.0
2
0.25
"click"
2.0
"click"
"TextTier"
"click (2)"
0.0
3.0
1
2.0
"click"
"TextTier"
"song (2)"
0.0
3.0
1
3.0
"song"
"""


@pytest.mark.parametrize(("short", "expected"), [(False, POINTS_LONG), (True, POINTS_SHORT)])
def test_zero_length_events_are_the_points_of_text_tiers(tmp_path, short, expected):
    # Refused before: a project's Audacity point labels and soundevent time stamps could not
    # go to Praat at all. Points at one time go to an extra tier, as overlapping intervals do,
    # and so do the points of a name that has intervals: no two tiers share a name.
    path = tmp_path / "rec.TextGrid"
    textgrid.write(POINTS, path, duration=3.0, short=short)
    assert path.read_text(encoding="utf-8") == expected
    result = textgrid.read(path)
    assert result.issues == [] and result.warnings == []
    assert [(e.onset, e.offset, e.label, e.tier) for e in result.events] == [
        (0.5, 1.0, "song", "song"),
        (0.25, 0.25, "click", "click"),
        (2.0, 2.0, "click", "click"),
        (2.0, 2.0, "click", "click (2)"),
        (3.0, 3.0, "song", "song (2)"),
    ]
    # Read back, they keep those tiers: written again, the file is the same.
    textgrid.write(result.events, path, duration=3.0, short=short)
    assert path.read_text(encoding="utf-8") == expected


def test_a_point_after_the_duration_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"ends at 3\.5 s, after the duration 3 s"):
        textgrid.write([LabelEvent("", 3.5, 3.5, "click")], tmp_path / "r.TextGrid", duration=3)
    assert not (tmp_path / "r.TextGrid").exists()


def test_points_keep_their_own_tier_names(tmp_path):
    events = [
        LabelEvent("", 0.5, 0.5, "H*", tier="tones"),
        LabelEvent("", 0.1, 0.1, "L%", tier="tones"),
        LabelEvent("", 0.2, 0.8, "hello", tier="words"),
        LabelEvent("", 0.9, 0.9, "beep"),  # drawn in the app: its class names the tier
    ]
    path = tmp_path / "rec.TextGrid"
    textgrid.write(events, path, duration=1.0)
    text = path.read_text(encoding="utf-8")
    # In order of appearance; one tier of two points, in time order.
    assert re.findall(r'class = "(\w+)" \n\s+name = "(.*)"', text) == [
        ("TextTier", "tones"),
        ("IntervalTier", "words"),
        ("TextTier", "beep"),
    ]
    assert [(e.onset, e.label, e.tier) for e in textgrid.read(path).events] == [
        (0.1, "L%", "tones"),
        (0.5, "H*", "tones"),
        (0.2, "hello", "words"),
        (0.9, "beep", "beep"),
    ]


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
CLICKS = [*BIRDS, "click"]  # the point tier's point too


@pytest.mark.parametrize(
    ("data", "kept", "line", "reason"),
    [
        # cut short (a copy that stopped, a full disk), in the middle of an interval
        (
            LONG_FORM[: LONG_FORM.index('text = "rödhake')],
            CLICKS,
            49,
            "the file ends early: interval text missing",
        ),
        (LONG_FORM.split("item [3]")[0], CLICKS, 40, "the file ends early: tier class missing"),
        # in the middle of a point
        (
            LONG_FORM[: LONG_FORM.index('mark = "click"')],
            BIRDS,
            39,
            "the file ends early: point mark missing",
        ),
        (
            LONG_FORM.replace('text = "rödhake é"', 'text = "rödhake é'),
            CLICKS,
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
        (
            LONG_FORM.replace('mark = "click"', "mark = click"),
            BIRDS,
            39,
            "point mark should be a quoted text, not click",
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
    # The same for a point's mark.
    with pytest.raises(ValueError, match=reason):
        textgrid.write([LabelEvent("", 1, 1, label)], tmp_path / "p.TextGrid", short=short)
    textgrid.write([LabelEvent("", 1, 1, label)], tmp_path / "p.TextGrid", short=not short)
    assert [e.label for e in textgrid.read(tmp_path / "p.TextGrid").events] == [label]


@pytest.mark.parametrize("short", [False, True])
def test_praatio_reads_what_we_write(tmp_path, random_events, short):
    # Many TextGrid tools read through praatio: what tfstudio writes must parse there too.
    from praatio import textgrid as praatio_textgrid

    events = random_events(3, 30)  # points too, one with a quote in its mark
    events.append(next(e for e in events if e.onset == e.offset))  # two points at one time
    path = tmp_path / "r.TextGrid"
    textgrid.write(events, path, short=short)
    # praatio's own opener, which refuses a grid with two tiers of one name.
    grid = praatio_textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    found = []
    for tier in grid.tiers:
        for entry in tier.entries:
            if tier.tierType == "TextTier":
                time, mark = entry
                # praatio's long-form reader leaves a point's doubled quotes doubled (so it
                # reads Praat's own files); its short-form reader undoes them.
                mark = mark if short else mark.replace('""', '"')
                found.append((float(time), float(time), mark, tier.name))
            else:
                found.append((float(entry[0]), float(entry[1]), entry[2], tier.name))
    ours = textgrid.read(path).events
    assert sorted(found) == sorted((e.onset, e.offset, e.label, e.tier) for e in ours)
    assert sorted(f[:3] for f in found) == sorted((e.onset, e.offset, e.label) for e in events)
    assert any(tier.tierType == "TextTier" for tier in grid.tiers)


@pytest.mark.parametrize("short", [False, True])
def test_praat_reads_what_we_write(tmp_path, random_events, short):
    # Praat itself, through parselmouth where it is installed (it is not a dependency).
    parselmouth = pytest.importorskip("parselmouth")
    from parselmouth.praat import call

    events = random_events(4, 30)  # points too, one with a quote in its mark
    events.append(next(e for e in events if e.onset == e.offset))  # two points at one time
    path = tmp_path / "r.TextGrid"
    textgrid.write(events, path, short=short)
    grid = parselmouth.read(str(path))
    found = []
    for tier in range(1, call(grid, "Get number of tiers") + 1):
        if call(grid, "Is interval tier", tier):
            for k in range(1, call(grid, "Get number of intervals", tier) + 1):
                label = call(grid, "Get label of interval", tier, k)
                if label:
                    start = call(grid, "Get start time of interval", tier, k)
                    end = call(grid, "Get end time of interval", tier, k)
                    found.append((start, end, label))
        else:
            for k in range(1, call(grid, "Get number of points", tier) + 1):
                time = call(grid, "Get time of point", tier, k)
                found.append((time, time, call(grid, "Get label of point", tier, k)))
    assert sorted(found) == sorted((e.onset, e.offset, e.label) for e in events)


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


def test_a_grid_of_point_tiers_only_gives_their_points(tmp_path):
    # Blank marks are skipped, as empty intervals are; the marks are stripped.
    grid = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n3\n<exists>\n2\n'
        '"TextTier"\n"clicks"\n0\n3\n3\n1.5\n" click "\n2\n"  "\n2.5\n"pulse"\n'
        '"TextTier"\n"peaks"\n0\n3\n0\n'
    )
    path = tmp_path / "points.TextGrid"
    path.write_text(grid, encoding="utf-8")
    result = textgrid.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == [
        LabelEvent("", 1.5, 1.5, "click", tier="clicks"),
        LabelEvent("", 2.5, 2.5, "pulse", tier="clicks"),
    ]


BAD_POINT_TIER = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 3
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "TextTier"
        name = "clicks"
        xmin = 0
        xmax = 3
        points: size = 4
        points [1]:
            number = 0.5
            mark = "click"
        points [2]:
            number = TIME
            mark = "MARK"
        points [3]:
            number = 1.5
            mark = "pulse"
        points [4]:
            number = 2.5
            mark = "click"
"""


@pytest.mark.parametrize(
    ("time", "mark", "reason"),
    [
        ("-1.0", "click", "time -1.0 is negative"),
        ("nan", "click", "time 'nan' is not a number"),
        ("inf", "click", "time 'inf' is not a number"),
        ("1e999", "click", "time '1e999' is not a finite number"),
        ("1", "two\nlines", "class name 'two\\nlines' contains a line break"),
        ("1", "x" * 300, "is 300 characters long"),
    ],
)
def test_a_bad_point_costs_only_itself(tmp_path, time, mark, reason):
    path = tmp_path / "rec.TextGrid"
    path.write_text(BAD_POINT_TIER.replace("TIME", time).replace("MARK", mark), encoding="utf-8")
    result = textgrid.read(path)
    assert [(e.onset, e.label) for e in result.events] == [
        (0.5, "click"),
        (1.5, "pulse"),
        (2.5, "click"),
    ]
    [issue] = result.issues
    assert issue.line == 19  # the point's time
    assert issue.reason.startswith("tier 'clicks', point 2: ") and reason in issue.reason


def test_a_point_on_a_line_that_is_not_utf8_costs_only_itself(tmp_path):
    data = BAD_POINT_TIER.replace("TIME", "1").replace("MARK", "click").encode("utf-8")
    data = data.replace(b'mark = "pulse"', b'mark = "puls\xe9"')  # Latin-1, not UTF-8
    path = write_bytes(tmp_path, data)
    result = textgrid.read(path)
    assert [(e.onset, e.label) for e in result.events] == [
        (0.5, "click"),
        (1, "click"),
        (2.5, "click"),
    ]
    [issue] = result.issues
    assert (issue.line, issue.reason.split(";")[0]) == (
        22,
        "tier 'clicks', point 3: not UTF-8 text (byte 0xe9 at column 25)",
    )


# What Praat 6.1.38 itself writes (through parselmouth: "Save as text file" and "Save as short
# text file"): an interval tier and two point tiers, one with the interval tier's name (Praat
# allows that), points at the grid's start and end, a doubled quote.
PRAAT_LONG = _padded(
    '''File type = "ooTextFile"
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
        intervals: size = 3
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
            xmax = 3.5
            text = ""
    item [2]:
        class = "TextTier"
        name = "clicks"
        xmin = 0
        xmax = 3.5
        points: size = 2
        points [1]:
            number = 0.25
            mark = "say ""hi"""
        points [2]:
            number = 1.5
            mark = "click"
    item [3]:
        class = "TextTier"
        name = "birds"
        xmin = 0
        xmax = 3.5
        points: size = 2
        points [1]:
            number = 0
            mark = "start"
        points [2]:
            number = 3.5
            mark = "end"
'''
)

PRAAT_SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
3.5
<exists>
3
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
2
0.25
"say ""hi"""
1.5
"click"
"TextTier"
"birds"
0
3.5
2
0
"start"
3.5
"end"
'''

# What praatio 6.2 writes for a point tier (Textgrid.save, long_textgrid and short_textgrid).
PRAATIO_LONG = _padded(
    """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 3.5
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "TextTier"
        name = "clicks"
        xmin = 0
        xmax = 3.5
        points: size = 2
        points [1]:
            number = 0.25
            mark = "click"
        points [2]:
            number = 1.5
            mark = "pulse"
"""
)

PRAATIO_SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
3.5
<exists>
1
"TextTier"
"clicks"
0
3.5
2
0.25
"click"
1.5
"pulse"
"""

PRAAT_EVENTS = [
    (0.3, 1.25, "Turdus merula", "birds"),
    (0.25, 0.25, 'say "hi"', "clicks"),
    (1.5, 1.5, "click", "clicks"),
    (0.0, 0.0, "start", "birds"),
    (3.5, 3.5, "end", "birds"),
]
PRAATIO_EVENTS = [(0.25, 0.25, "click", "clicks"), (1.5, 1.5, "pulse", "clicks")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PRAAT_LONG, PRAAT_EVENTS),
        (PRAAT_SHORT, PRAAT_EVENTS),
        (PRAATIO_LONG, PRAATIO_EVENTS),
        (PRAATIO_SHORT, PRAATIO_EVENTS),
    ],
    ids=["praat-long", "praat-short", "praatio-long", "praatio-short"],
)
def test_point_tiers_as_praat_and_praatio_write_them(tmp_path, text, expected):
    # Praat saves text files as UTF-16 when they hold other than ASCII; these are ASCII.
    result = textgrid.read(write_bytes(tmp_path, text.encode("utf-8")))
    assert result.issues == [] and result.warnings == []
    assert [(e.onset, e.offset, e.label, e.tier) for e in result.events] == expected


def test_a_praat_grid_with_a_point_tier_named_as_an_interval_tier_writes_both(tmp_path):
    # Praat allows two tiers of one name; praatio refuses such a grid, so the points' tier is
    # written as "birds (2)": every label, time and the tier order stay.
    events = textgrid.read(write_bytes(tmp_path, PRAAT_LONG.encode("utf-8"))).events
    out = tmp_path / "out.TextGrid"
    textgrid.write(events, out, duration=3.5)
    text = out.read_text(encoding="utf-8")
    assert re.findall(r'class = "(\w+)" \n\s+name = "(.*)"', text) == [
        ("IntervalTier", "birds"),
        ("TextTier", "clicks"),
        ("TextTier", "birds (2)"),
    ]
    assert [(e.onset, e.offset, e.label) for e in textgrid.read(out).events] == [
        event[:3] for event in PRAAT_EVENTS
    ]
