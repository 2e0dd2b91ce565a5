"""Label values that must not become class names or times, in every format (issue 10, 9/10).

Each file is shaped like what its tool writes; a bad value costs its own line (reported with
file and line) and every other line is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfstudio.formats import MAX_CLASS_NAME, LabelEvent, check_class_name, get_format

LONG = "x" * 10_000


def _dcase(label: str) -> tuple[str, str]:
    return "labels.tsv", (
        "filename\tonset\toffset\tevent_label\n"
        "rec.wav\t0.5\t1.0\tdog\n"
        f"rec.wav\t1.0\t2.0\t{label}\n"
        "rec.wav\t2.0\t3.0\tcat\n"
    )


def _audacity(label: str) -> tuple[str, str]:
    return "rec.txt", (
        "0.500000\t1.000000\tdog\n"
        f"1.000000\t2.000000\t{label}\n"
        "2.000000\t3.000000\tcat\n"
        "\\\t100.000000\t2000.000000\n"
    )


def _raven(label: str) -> tuple[str, str]:
    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\t"
    return "rec.Table.1.selections.txt", (
        header + "High Freq (Hz)\tAnnotation\n"
        "1\tSpectrogram 1\t1\t0.5\t1.0\t0\t1000\tdog\n"
        f"2\tSpectrogram 1\t1\t1.0\t2.0\t0\t1000\t{label}\n"
        "3\tSpectrogram 1\t1\t2.0\t3.0\t100\t2000\tcat\n"
    )


def _json(label: str) -> tuple[str, str]:
    events = [
        {"recording": "rec.wav", "onset": 0.5, "offset": 1.0, "label": "dog"},
        {"recording": "rec.wav", "onset": 1.0, "offset": 2.0, "label": label},
        {"recording": "rec.wav", "onset": 2.0, "offset": 3.0, "label": "cat"},
    ]
    # One event a line, as jsonfmt.write lays it out.
    head = '{"format": "tfstudio-labels", "version": 1, "classes": [], "events": [\n'
    body = ",\n".join(json.dumps(event, ensure_ascii=False) for event in events)
    return "labels.json", head + body + "]}\n"


def _textgrid(label: str) -> tuple[str, str]:
    quoted = label.replace('"', '""')
    return "rec.TextGrid", (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0 \nxmax = 3 \n'
        "tiers? <exists> \nsize = 1 \nitem []: \n    item [1]:\n"
        '        class = "IntervalTier" \n        name = "animals" \n'
        "        xmin = 0 \n        xmax = 3 \n        intervals: size = 4 \n"
        '        intervals [1]:\n            xmin = 0 \n            xmax = 0.5 \n            text = "" \n'
        '        intervals [2]:\n            xmin = 0.5 \n            xmax = 1 \n            text = "dog" \n'
        f'        intervals [3]:\n            xmin = 1 \n            xmax = 2 \n            text = "{quoted}" \n'
        '        intervals [4]:\n            xmin = 2 \n            xmax = 3 \n            text = "cat" \n'
    )


FILES = {
    "dcase": (_dcase, 3),
    "audacity": (_audacity, 2),
    "raven": (_raven, 3),
    "json": (_json, 3),  # the line the event starts on
    "textgrid": (_textgrid, 24),  # the interval's xmin
}


def _read(tmp_path: Path, fmt: str, label: str, encoding: str = "utf-8"):
    make, line = FILES[fmt]
    name, text = make(label)
    path = tmp_path / name
    path.write_bytes(text.encode(encoding, errors="surrogateescape"))
    return path, line, get_format(fmt).read(path)


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_a_huge_label_is_refused_with_file_and_line_and_the_rest_kept(tmp_path, fmt):
    path, line, result = _read(tmp_path, fmt, LONG)
    assert sorted(e.label for e in result.events) == ["cat", "dog"]
    [issue] = result.issues
    assert str(issue).startswith(f"{path}:{line}: ")
    assert f"is 10000 characters long (at most {MAX_CLASS_NAME})" in issue.reason
    assert len(str(issue)) < 300


@pytest.mark.parametrize("fmt", ["audacity", "json"])
def test_a_tab_in_a_label_is_refused(tmp_path, fmt):
    # Audacity takes the rest of the line after the second tab as the label.
    path, line, result = _read(tmp_path, fmt, "dog\tbark")
    assert sorted(e.label for e in result.events) == ["cat", "dog"]
    assert [str(i) for i in result.issues] == [
        f"{path}:{line}: "
        + ("event 2: " if fmt == "json" else "")
        + "class name 'dog\\tbark' contains a tab"
    ]


@pytest.mark.parametrize("fmt", ["json", "textgrid"])
def test_a_line_break_in_a_label_is_refused(tmp_path, fmt):
    _, line, result = _read(tmp_path, fmt, "two\nlines")
    assert sorted(e.label for e in result.events) == ["cat", "dog"]
    [issue] = result.issues
    assert issue.line == line and "class name 'two\\nlines' contains a line break" in issue.reason


@pytest.mark.parametrize("fmt", ["dcase", "audacity", "raven", "textgrid"])
def test_a_latin1_line_costs_that_line_only(tmp_path, fmt):
    # "café" saved as Latin-1 by an editor, in an otherwise UTF-8 file.
    _, line, result = _read(tmp_path, fmt, "caf\udce9")
    assert sorted(e.label for e in result.events) == ["cat", "dog"]
    [issue] = result.issues
    assert issue.line == line
    assert "not UTF-8 text (byte 0xe9 at column" in issue.reason
    assert "save the file as UTF-8" in issue.reason


def test_json_must_be_utf8_and_says_which_line(tmp_path):
    path = tmp_path / "labels.json"
    path.write_bytes(b'{"format": "tfstudio-labels",\n "version": 1, "x": "caf\xe9"}')
    with pytest.raises(Exception, match=r"line 2 is not UTF-8 text \(byte 0xe9"):
        get_format("json").read(path)


def test_json_class_names_are_checked_too(tmp_path):
    path = tmp_path / "labels.json"
    classes = [{"name": "dog"}, {"name": "bad\tname"}, {"name": "y" * 201}]
    doc = {"format": "tfstudio-labels", "version": 1, "classes": classes, "events": []}
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = get_format("json").read(path)
    assert [c["name"] for c in result.classes] == ["dog"]
    assert [i.reason for i in result.issues] == [
        "class 2: class name 'bad\\tname' contains a tab",
        "class 3: class name '" + "y" * 60 + "'… is 201 characters long (at most 200)",
    ]


TEXTGRID_BAD_TIMES = [
    ("xmin = 1", "xmin = -1.0", "xmin -1.0 is negative"),
    ("xmax = 2", "xmax = nan", "xmax 'nan' is not a number"),
    ("xmax = 2", "xmax = inf", "xmax 'inf' is not a number"),
    ("xmax = 2", "xmax = 1e999", "xmax '1e999' is not a finite number"),
    ("xmax = 2", "xmax = 0.7", "xmax 0.7 is before xmin 1"),
]


@pytest.mark.parametrize(("good", "bad", "reason"), TEXTGRID_BAD_TIMES)
def test_textgrid_bad_times_are_named_and_cost_their_interval(tmp_path, good, bad, reason):
    # praatio read "xmin = -1.0" as 1.0 and said "expected field missing" for nan and inf.
    make, line = FILES["textgrid"]
    name, text = make("bird")
    head, interval_3 = text.split("intervals [3]:")
    interval_3 = interval_3.replace(good, bad, 1)
    path = tmp_path / name
    path.write_text(head + "intervals [3]:" + interval_3, encoding="utf-8")
    result = get_format("textgrid").read(path)
    assert [e.label for e in result.events] == ["dog", "cat"]
    assert [str(i) for i in result.issues] == [
        f"{path}:{line}: tier 'animals', interval 3: {reason}"
    ]


def test_textgrid_short_form_bad_times_are_named(tmp_path):
    path = tmp_path / "rec.TextGrid"
    path.write_text(
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n3\n<exists>\n1\n'
        '"IntervalTier"\n"animals"\n0\n3\n3\n-1.0\n1\n"dog"\n1\nnan\n"cat"\n2\n3\n"cow"\n',
        encoding="utf-8",
    )
    result = get_format("textgrid").read(path)
    assert result.events == [LabelEvent("", 2.0, 3.0, "cow")]
    assert [str(i) for i in result.issues] == [
        f"{path}:13: tier 'animals', interval 1: xmin -1.0 is negative",
        f"{path}:16: tier 'animals', interval 2: xmax 'nan' is not a number",
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty class name"),
        ("   ", "empty class name"),
        ("a\tb", "contains a tab"),
        ("a\nb", "contains a line break"),
        ("a\rb", "contains a line break"),
        ("a\u2028b", "contains a line break"),
        ("a\x00b", "control character U+0000"),
        ("a\x1bb", "control character U+001B"),
        ("z" * (MAX_CLASS_NAME + 1), f"is {MAX_CLASS_NAME + 1} characters long"),
    ],
)
def test_check_class_name_reasons(name, reason):
    with pytest.raises(ValueError, match=reason.replace("+", r"\+")):
        check_class_name(name)


def test_check_class_name_keeps_ordinary_names():
    for name in ("dog", "Turdus merula", "鳥のさえずり", 'say "hi"', "z" * MAX_CLASS_NAME):
        assert check_class_name(f"  {name} ") == name
