"""tfstudio's own JSON: one file for a whole project, carrying every field and the classes.

``{"format": "tfstudio-labels", "version": 1, "classes": [{"name", "color", "hotkey"}…],
"events": [{"recording", "onset", "offset", "label", "low_hz", "high_hz", "source",
"confidence", "review", "tier"}…]}`` ("tier", the TextGrid tier a label was imported from,
only where there is one). Each event is written on a line of its own. A bad event or class
becomes an issue on the line where its entry starts, whose reason names the entry's number
and the field. Optional event fields may be missing and take their defaults. A file cut short
(or damaged) in or after its events keeps the events before the damage, with one issue at
its line; one damaged before its first event is refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfstudio.formats.base import (
    FormatError,
    JsonDocument,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    check_writable,
    checked,
    format_number,
    format_time,
    load_json,
    read_text,
    write_text,
)

NAME = "json"
PER_RECORDING = False
SUFFIX = ".json"
FORMAT_ID = "tfstudio-labels"
VERSION = 1
SOURCES = ("human", "model")
REVIEWS = ("none", "accepted", "rejected")


def read(path: Path) -> ParseResult:
    """Events and classes from a tfstudio JSON label file; bad entries become issues."""
    path = Path(path)
    damage: ParseIssue | None = None
    try:
        loaded = load_json(path)
    except FormatError as exc:
        # A file cut short (a copy that stopped, a full disk) keeps the events before the cut.
        salvaged = _salvage(read_text(path), path, exc.reason)
        if salvaged is None:
            raise
        loaded, damage = salvaged
    document = loaded.value
    if not isinstance(document, dict) or document.get("format") != FORMAT_ID:
        if isinstance(document, dict) and isinstance(document.get("data"), dict):
            raise FormatError(
                path, "is a soundevent (AOEF) file, not tfstudio's JSON: use --format soundevent"
            )
        raise FormatError(path, f'not a tfstudio label file (no "format": "{FORMAT_ID}")')
    version = document.get("version")
    if version != VERSION:
        raise FormatError(path, f"version {version!r} is not supported (this tfstudio reads 1)")
    events = document.get("events", [])
    classes = document.get("classes", [])
    if not isinstance(events, list):
        raise FormatError(path, '"events" is not a list')
    if not isinstance(classes, list):
        raise FormatError(path, '"classes" is not a list')

    result = ParseResult()
    names: set[str] = set()
    for number, entry in enumerate(classes, start=1):
        try:
            item = _class(entry)
            check_class_name(str(item["name"]))
            if item["name"] in names:
                raise ValueError(f"name {item['name']!r} is listed twice")
        except ValueError as exc:
            line = loaded.entry_line(("classes",), number - 1)
            result.issues.append(ParseIssue(path, line, f"class {number}: {exc}"))
            continue
        names.add(str(item["name"]))
        result.classes.append(item)
    for number, entry in enumerate(events, start=1):
        try:
            result.events.append(_event(entry))
        except ValueError as exc:
            line = loaded.entry_line(("events",), number - 1)
            result.issues.append(ParseIssue(path, line, f"event {number}: {exc}"))
    if damage is not None:
        result.issues.append(damage)
    return result


_SPACE = re.compile(r"[ \t\n\r]*")


def _salvage(text: str, path: Path, reason: str) -> tuple[JsonDocument, ParseIssue] | None:
    """The document of a file whose JSON breaks inside or after its ``events`` list (as
    tfstudio writes it, the last thing in the file), as far as it is whole, and the issue
    that says where it breaks; None when it breaks before the first event."""
    decoder = json.JSONDecoder()
    document: dict[str, Any] = {}
    events: list[Any] = []

    def skip(at: int) -> int:
        match = _SPACE.match(text, at)
        assert match is not None  # matches the empty string
        return match.end()

    def damaged(at: int) -> tuple[JsonDocument, ParseIssue] | None:
        if not events:
            return None
        line = text.count("\n", 0, at) + 1
        why = (
            f"{reason}; the rest of the file is not read (the {len(events)} event(s) before it "
            "are kept)"
        )
        return JsonDocument(document, text), ParseIssue(path, line, why)

    pos = skip(0)
    if not text.startswith("{", pos):
        return None
    pos = skip(pos + 1)
    try:
        while not text.startswith("}", pos):
            key, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if not text.startswith(":", pos):
                return damaged(pos)
            pos = skip(pos + 1)
            if key != "events" or not text.startswith("[", pos):
                document[key], pos = decoder.raw_decode(text, pos)
            else:
                document["events"] = events
                pos = skip(pos + 1)
                while not text.startswith("]", pos):
                    start = pos
                    try:
                        entry, pos = decoder.raw_decode(text, pos)
                    except (json.JSONDecodeError, RecursionError):
                        return damaged(start)
                    events.append(entry)
                    pos = skip(pos)
                    if text.startswith(",", pos):
                        pos = skip(pos + 1)
                    elif not text.startswith("]", pos):
                        return damaged(pos)
                pos += 1
            pos = skip(pos)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
            elif not text.startswith("}", pos):
                return damaged(pos)
    except json.JSONDecodeError as exc:
        return damaged(exc.pos)
    except RecursionError:
        # Nested too deeply for the decoder: load_json's own reason stands.
        return None
    return None


def _class(entry: Any) -> dict[str, str | None]:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("field 'name' must be a non-empty string")
    item: dict[str, str | None] = {"name": name}
    for key in ("color", "hotkey"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field {key!r} must be a string or null, not {value!r}")
        item[key] = value
    return item


def _event(entry: Any) -> LabelEvent:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    recording = _string(entry, "recording", allow_empty=True)
    onset = _number(entry, "onset")
    offset = _number(entry, "offset")
    if onset is None or offset is None:
        missing = "onset" if onset is None else "offset"
        raise ValueError(f"field {missing!r} is missing")
    if offset < onset:
        raise ValueError(
            f"field 'offset': {format_number(offset)} is before onset {format_number(onset)}"
        )
    label = _string(entry, "label", allow_empty=False)
    check_class_name(label)
    low_hz = _number(entry, "low_hz")
    high_hz = _number(entry, "high_hz")
    if low_hz is not None and high_hz is not None and high_hz < low_hz:
        raise ValueError(
            f"field 'high_hz': {format_number(high_hz)} is below low_hz {format_number(low_hz)}"
        )
    source = entry.get("source", "human")
    if source not in SOURCES:
        raise ValueError(f"field 'source': {source!r} is not one of {', '.join(SOURCES)}")
    review = entry.get("review", "none")
    if review not in REVIEWS:
        raise ValueError(f"field 'review': {review!r} is not one of {', '.join(REVIEWS)}")
    confidence = _number(entry, "confidence", negative_ok=True)
    tier = entry.get("tier")
    if tier is not None and not isinstance(tier, str):
        raise ValueError(f"field 'tier': {tier!r} is not a string")
    return LabelEvent(
        recording, onset, offset, label, low_hz, high_hz, source, confidence, review, tier=tier
    )


def _string(entry: dict, key: str, *, allow_empty: bool) -> str:
    if key not in entry:
        raise ValueError(f"field {key!r} is missing")
    value = entry[key]
    if not isinstance(value, str):
        raise ValueError(f"field {key!r}: {value!r} is not a string")
    if not allow_empty and not value.strip():
        raise ValueError(f"field {key!r} is empty")
    return value


def _number(entry: dict, key: str, *, negative_ok: bool = False) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    # bool is an int to Python but never a time in a label file.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {key!r}: {value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"field {key!r}: {value!r} is not a finite number")
    if value < 0 and not negative_ok:
        raise ValueError(f"field {key!r}: {format_number(value)} is negative")
    return value


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    classes: Sequence[Mapping[str, Any] | str] | None = None,
) -> None:
    """Write events and classes; without ``classes`` they are the labels in order of appearance."""
    check_writable(events, NAME, tab_separated=False)
    if classes is None:
        classes = list(dict.fromkeys(e.label for e in events))
    text_lines = list(lines(events, classes=classes))
    write_text(path, "\n".join(text_lines) + "\n")


def lines(
    events: Iterable[LabelEvent], *, classes: Sequence[Mapping[str, Any] | str]
) -> Iterator[str]:
    """The file's lines (without line breaks) as :func:`write` writes them, made as the events
    come (an export streams them from the store); ValueError at the first class or event the
    format cannot hold."""
    class_items: list[dict[str, str | None]] = []
    for position, entry in enumerate(classes, start=1):
        try:
            item = _class(entry)
        except ValueError as exc:
            raise ValueError(f"{NAME}: class {position}: {exc}") from None
        if any(item["name"] == other["name"] for other in class_items):
            raise ValueError(f"{NAME}: class {item['name']!r} is listed twice")
        class_items.append(item)
    yield "{"
    yield f'  "format": "{FORMAT_ID}",'
    yield f'  "version": {VERSION},'
    yield '  "classes": ['
    for position, item in enumerate(class_items, start=1):
        comma = "," if position < len(class_items) else ""
        yield f"    {json.dumps(item, ensure_ascii=False)}{comma}"
    yield "  ],"
    yield '  "events": ['
    previous: str | None = None
    for number, e in enumerate(checked(events, NAME, tab_separated=False), start=1):
        if e.source not in SOURCES or e.review not in REVIEWS:
            raise ValueError(f"{NAME}: event {number}: source or review {e.source!r}/{e.review!r}")
        if e.confidence is not None and not math.isfinite(e.confidence):
            raise ValueError(f"{NAME}: event {number}: confidence must be finite")
        if previous is not None:
            yield previous + ","
        previous = (
            "    {"
            f'"recording": {json.dumps(e.recording, ensure_ascii=False)}, '
            f'"onset": {_number_text(e.onset)}, "offset": {_number_text(e.offset)}, '
            f'"label": {json.dumps(e.label, ensure_ascii=False)}, '
            f'"low_hz": {_number_text(e.low_hz)}, "high_hz": {_number_text(e.high_hz)}, '
            f'"source": "{e.source}", "confidence": {_number_text(e.confidence)}, '
            f'"review": "{e.review}"'
            + ("" if e.tier is None else f', "tier": {json.dumps(e.tier, ensure_ascii=False)}')
            + "}"
        )
    if previous is not None:
        yield previous
    yield "  ]"
    yield "}"


def _number_text(value: float | None) -> str:
    # format_time is exact and never uses an exponent, so the JSON stays diff-friendly.
    return "null" if value is None else format_time(value)
