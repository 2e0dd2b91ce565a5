"""tfstudio's JSON label file: everything round trips, bad events are reported by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, jsonfmt

CLASSES = [
    {"name": "dog", "color": "#ff0000", "hotkey": "1"},
    {"name": "鳥", "color": None, "hotkey": None},
]


def document(events: list, classes: list | None = None) -> dict:
    return {"format": "tfstudio-labels", "version": 1, "classes": classes or [], "events": events}


def write_json(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_round_trip_keeps_every_field_and_the_classes(tmp_path, random_events):
    events = random_events(6, 50, recording="a.wav", with_band=True)
    events += [
        LabelEvent("b.wav", 1.0, 2.0, "dog", None, None, "model", 0.87654321, "accepted"),
        LabelEvent("b.wav", 1.5, 1.5, "dog", 10.0, None, "model", 1e-9, "rejected"),
        LabelEvent("", 0.1 + 0.2, 0.5, "鳥", source="human", confidence=None, review="none"),
    ]
    path = tmp_path / "labels.json"
    jsonfmt.write(events, path, classes=CLASSES)
    result = jsonfmt.read(path)
    assert result.issues == []
    assert result.events == events
    assert result.classes == CLASSES


def test_layout_is_one_event_per_line_without_exponents(tmp_path):
    path = tmp_path / "labels.json"
    jsonfmt.write([LabelEvent("a.wav", 1e-7, 2.5, "dog")], path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[-3] == (
        '    {"recording": "a.wav", "onset": 0.0000001, "offset": 2.5, "label": "dog", '
        '"low_hz": null, "high_hz": null, "source": "human", "confidence": null, '
        '"review": "none"}'
    )
    data = json.loads(text)
    assert data["format"] == "tfstudio-labels" and data["version"] == 1
    # Without explicit classes the file lists the labels it uses.
    assert data["classes"] == [{"name": "dog", "color": None, "hotkey": None}]


def test_a_tier_is_written_where_there_is_one_and_read_back(tmp_path):
    # A TextGrid's tier kept in a project goes through JSON to the next project.
    path = tmp_path / "labels.json"
    events = [LabelEvent("a.wav", 0.0, 1.0, "hi", tier="words"), LabelEvent("a.wav", 1, 2, "x")]
    jsonfmt.write(events, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-4].endswith('"review": "none", "tier": "words"},')
    assert lines[-3].endswith('"review": "none"}')  # no tier, no key: as before
    assert [e.tier for e in jsonfmt.read(path).events] == ["words", None]
    bad = {"recording": "a.wav", "onset": 0, "offset": 1, "label": "x", "tier": 7}
    result = jsonfmt.read(write_json(tmp_path, document([bad])))
    assert [i.reason for i in result.issues] == ["event 1: field 'tier': 7 is not a string"]


def test_empty_project_round_trips(tmp_path):
    path = tmp_path / "labels.json"
    jsonfmt.write([], path, classes=[])
    result = jsonfmt.read(path)
    assert result.events == [] and result.classes == [] and result.issues == []


def test_optional_fields_take_their_defaults(tmp_path):
    path = write_json(
        tmp_path, document([{"recording": "a.wav", "onset": 1, "offset": 2, "label": "x"}])
    )
    assert jsonfmt.read(path).events == [LabelEvent("a.wav", 1.0, 2.0, "x")]


def test_bad_events_are_reported_by_line_number_and_field(tmp_path):
    good = {"recording": "a.wav", "onset": 0.5, "offset": 1.0, "label": "dog"}
    events = [
        good,
        {**good, "onset": "abc"},
        {**good, "onset": 3.4, "offset": 1.2},
        {**good, "label": ""},
        {**good, "source": "robot"},
        {**good, "review": "maybe"},
        {**good, "low_hz": 500, "high_hz": 100},
        {"onset": 0, "offset": 1, "label": "x"},
        {**good, "offset": -1},
        {**good, "onset": True},
        "not an event",
        {**good, "confidence": "high"},
        {**good, "label": "cat"},
    ]
    # Laid out as jsonfmt.write lays it out: a header, then one event a line from line 3.
    head = '{"format": "tfstudio-labels", "version": 1, "classes": [],\n"events": [\n'
    body = ",\n".join(json.dumps(event) for event in events)
    path = tmp_path / "labels.json"
    path.write_text(head + body + "\n]}\n", encoding="utf-8")
    result = jsonfmt.read(path)
    assert result.events == [
        LabelEvent("a.wav", 0.5, 1.0, "dog"),
        LabelEvent("a.wav", 0.5, 1.0, "cat"),
    ]
    # The issue's line is where the event is in the file (event n on line n + 2).
    assert [(i.line, i.reason) for i in result.issues] == [
        (4, "event 2: field 'onset': 'abc' is not a number"),
        (5, "event 3: field 'offset': 1.2 is before onset 3.4"),
        (6, "event 4: field 'label' is empty"),
        (7, "event 5: field 'source': 'robot' is not one of human, model"),
        (8, "event 6: field 'review': 'maybe' is not one of none, accepted, rejected"),
        (9, "event 7: field 'high_hz': 100 is below low_hz 500"),
        (10, "event 8: field 'recording' is missing"),
        (11, "event 9: field 'offset': -1 is negative"),
        (12, "event 10: field 'onset': True is not a number"),
        (13, "event 11: not an object"),
        (14, "event 12: field 'confidence': 'high' is not a number"),
    ]
    assert str(result.issues[0]) == f"{path}:4: event 2: field 'onset': 'abc' is not a number"


def test_issues_in_a_pretty_printed_file_name_the_line_each_entry_starts_on(tmp_path):
    good = {"recording": "a.wav", "onset": 0.5, "offset": 1.0, "label": "dog"}
    events = [good, {**good, "label": ""}, good, "oops", {**good, "onset": None}]
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(document(events, [CLASSES[0], {"name": 5}]), indent=2))
    lines = path.read_text().splitlines()
    # json.dumps(indent=2) starts each entry of the two lists on a line indented by 4 (and
    # closes an object on one too).
    starts = [
        n
        for n, line in enumerate(lines, start=1)
        if line.startswith("    ") and line[4] not in " }]"
    ]
    classes, entries = starts[:2], starts[2:]
    result = jsonfmt.read(path)
    assert [(i.line, i.reason.split(":")[0]) for i in result.issues] == [
        (classes[1], "class 2"),
        (entries[1], "event 2"),
        (entries[3], "event 4"),
        (entries[4], "event 5"),
    ]
    assert lines[entries[3] - 1].strip() == '"oops",'


def test_bad_classes_are_reported_and_good_ones_kept(tmp_path):
    classes = [CLASSES[0], {"name": ""}, {"name": "dog"}, {"name": "cat", "color": 3}, "bird"]
    result = jsonfmt.read(write_json(tmp_path, document([], classes)))
    assert result.classes == [CLASSES[0], {"name": "bird", "color": None, "hotkey": None}]
    # All on the one line json.dumps writes.
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "class 2: field 'name' must be a non-empty string"),
        (1, "class 3: name 'dog' is listed twice"),
        (1, "class 4: field 'color' must be a string or null, not 3"),
    ]


def test_bom_and_crlf(tmp_path):
    path = write_json(
        tmp_path, document([{"recording": "a", "onset": 0, "offset": 1, "label": "x"}])
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    assert len(jsonfmt.read(path).events) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"format": "tfstudio-labels", "events": [', "not valid JSON: .* at line 1 column"),
        ("[]", "not a tfstudio label file"),
        ('{"format": "other"}', "not a tfstudio label file"),
        ('{"format": "tfstudio-labels", "version": 2}', "version 2 is not supported"),
        ('{"format": "tfstudio-labels", "version": 1, "events": {}}', '"events" is not a list'),
    ],
)
def test_unusable_files_raise_format_error(tmp_path, text, reason):
    path = tmp_path / "labels.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=reason):
        jsonfmt.read(path)


def test_write_refuses_bad_events_and_classes(tmp_path):
    path = tmp_path / "labels.json"
    with pytest.raises(ValueError, match="source or review"):
        jsonfmt.write([LabelEvent("a", 0, 1, "x", source="robot")], path)
    with pytest.raises(ValueError, match="listed twice"):
        jsonfmt.write([], path, classes=["x", {"name": "x"}])
    with pytest.raises(ValueError, match="offset is before onset"):
        jsonfmt.write([LabelEvent("a", 2, 1, "x")], path)
    assert not path.exists()


def written(tmp_path: Path) -> tuple[Path, list[LabelEvent]]:
    """A file as tfstudio writes it (one event a line: 6 header lines, events from line 7)."""
    events = [
        LabelEvent("a.wav", 0.5, 1.0, "dog"),
        LabelEvent("a.wav", 1.0, -1.0 + 3, "鳥"),
        LabelEvent("b.wav", 2.0, 3.0, "dog", source="model", confidence=0.5),
        LabelEvent("b.wav", 4.0, 5.0, "dog"),
    ]
    path = tmp_path / "labels.json"
    jsonfmt.write(events, path, classes=CLASSES)
    return path, events


@pytest.mark.parametrize(
    ("cut", "kept", "line", "reason"),
    [
        # in the third event: the two before it are kept
        (lambda text: text[: text.index('"onset": 2.0') + 5], 2, 11, "Unterminated string"),
        # after the last event, the list and the document never closed
        (lambda text: text[: text.rindex("}")], 4, 14, "Expecting ',' delimiter"),
        (lambda text: text.rstrip()[:-1], 4, 14, "Expecting ',' delimiter"),
        # damaged, not cut: a comma lost between two events
        (
            lambda text: text.replace(
                '"none"},\n    {"recording": "b', '"none"}\n    {"recording": "b', 1
            ),
            2,
            11,
            "Expecting ',' delimiter",
        ),
    ],
)
def test_a_file_cut_short_keeps_the_events_before_the_cut(tmp_path, cut, kept, line, reason):
    path, events = written(tmp_path)
    path.write_text(cut(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = jsonfmt.read(path)
    assert result.events == events[:kept]
    assert result.classes == CLASSES
    [issue] = result.issues
    assert issue.line == line
    assert issue.reason.startswith(f"not valid JSON: {reason}")
    assert issue.reason.endswith(
        f"; the rest of the file is not read (the {kept} event(s) before it are kept)"
    )


def test_a_bad_event_before_the_cut_is_still_named_by_its_line(tmp_path):
    path, _ = written(tmp_path)
    text = path.read_text(encoding="utf-8").replace('"label": "鳥"', '"label": ""')
    path.write_text(text[: text.rindex('"onset": 4.0')], encoding="utf-8")
    result = jsonfmt.read(path)
    assert [e.label for e in result.events] == ["dog", "dog"]
    assert [(i.line, i.reason[:40]) for i in result.issues] == [
        (10, "event 2: field 'label' is empty"),
        (12, "not valid JSON: Expecting property name "),
    ]


def test_an_event_nested_too_deeply_is_damage_after_the_events_before_it(tmp_path):
    # The decoder recurses per nesting level: a runaway event (a generator's bug) ends the
    # salvage there instead of raising RecursionError out of the reader.
    path, events = written(tmp_path)
    text = path.read_text(encoding="utf-8")
    at = text.index('    {"recording": "b.wav"')
    path.write_text(text[:at] + "[" * 100_000 + text[at:], encoding="utf-8")
    result = jsonfmt.read(path)
    assert result.events == events[:2]
    [issue] = result.issues
    assert issue.line == 11  # where the third event starts
    assert issue.reason.endswith(
        "the rest of the file is not read (the 2 event(s) before it are kept)"
    )
