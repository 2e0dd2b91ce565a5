"""Praat TextGrid (long or short text form), one file per recording.

Import (through praatio): every non-empty interval of every IntervalTier is an event labelled
by the interval's text, whatever the tier is called; point tiers are skipped with one issue
each. Files may be UTF-8 (BOM optional) or UTF-16 as Praat writes it. praatio strips the
whitespace around interval texts, so labels come back stripped.

Export: one IntervalTier per class, named by the class and listing its events with empty
intervals in the gaps; events of a class that overlap go to extra tiers ``class (2)``,
``class (3)`` … Because labels come from interval texts, those tiers read back as the class and
the round trip is exact. A TextGrid interval cannot have zero length, so zero-length events are
refused with a ValueError rather than silently dropped or stretched; so are the few labels
praatio's parser cannot read back (``intervals [`` in the long form, a bare ``IntervalTier``
in the short form).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from praatio.utilities import textgrid_io

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_writable,
    format_time,
    parse_interval,
    read_text,
    write_text,
)

NAME = "textgrid"
PER_RECORDING = True
SUFFIX = ".TextGrid"


def read(path: Path) -> ParseResult:
    """Events from a long- or short-form text TextGrid."""
    path = Path(path)
    text = read_text(path)
    head = [line.strip() for line in text.split("\n") if line.strip()][:2]
    if len(head) < 2 or "ooTextFile" not in head[0] or '"TextGrid"' not in head[1]:
        raise FormatError(path, "not a Praat TextGrid text file")
    if '"IntervalTier"' not in text and '"TextTier"' not in text:
        return ParseResult()  # a TextGrid without tiers
    try:
        grid = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
    except Exception as exc:  # praatio raises assorted errors on malformed files
        raise FormatError(path, f"cannot be parsed as a TextGrid: {exc!r}") from None

    result = ParseResult()
    for tier in grid["tiers"]:
        name = tier["name"]
        if tier["class"] != "IntervalTier":
            reason = f"point tier {name!r} ignored: only interval tiers hold events"
            result.issues.append(ParseIssue(path, 0, reason))
            continue
        for start, end, label in tier["entries"]:
            try:
                onset, offset = parse_interval(str(start), str(end))
            except ValueError as exc:
                reason = f"tier {name!r}, interval {label!r}: {exc}"
                result.issues.append(ParseIssue(path, 0, reason))
                continue
            result.events.append(LabelEvent("", onset, offset, label))
    result.events.sort(key=lambda e: (e.onset, e.offset, e.label))
    return result


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    duration: float | None = None,
    short: bool = False,
) -> None:
    """Write a TextGrid spanning ``duration`` seconds (default: the last offset)."""
    check_writable(events, NAME, tab_separated=False, allow_zero_length=False)
    for e in events:
        problem = _unreadable(e.label, short)
        if problem:
            raise ValueError(f"{NAME}: label {e.label!r} {problem}")
    end = max((e.offset for e in events), default=0.0)
    if duration is not None and not end <= duration:
        raise ValueError(
            f"{NAME}: an event ends at {format_time(end)} s, after the duration "
            f"{format_time(duration)} s"
        )
    xmax = end if duration is None else float(duration)
    tiers = [(name, _intervals(lane, xmax)) for name, lane in _tiers(events)]
    text = _short_form(tiers, xmax) if short else _long_form(tiers, xmax)
    write_text(path, text)


def _unreadable(label: str, short: bool) -> str | None:
    """Why praatio could not read ``label`` back in this form, or None when it can."""
    # praatio splits the long form on these words and the short form on quoted tier types.
    if not short and _LONG_FORM_MARKERS.search(label):
        return "contains 'item [', 'intervals [' or 'points [': write the short form instead"
    if short and ('"IntervalTier"' in _quote(label) or '"TextTier"' in _quote(label)):
        return "is a quoted tier type: write the long form instead"
    return None


def _tiers(events: Sequence[LabelEvent]) -> list[tuple[str, list[LabelEvent]]]:
    """Tiers as (name, events) with no overlap inside a tier; classes in order of appearance."""
    lanes: dict[str, list[list[LabelEvent]]] = {}
    for e in events:
        lanes.setdefault(e.label, [])
    for e in sorted(events, key=lambda e: (e.onset, e.offset)):
        for lane in lanes[e.label]:
            if lane[-1].offset <= e.onset:
                lane.append(e)
                break
        else:
            lanes[e.label].append([e])
    # Tier names are cosmetic (labels come from interval texts), and praatio cannot read a
    # tier name with a line break, so whitespace runs in names become single spaces.
    return [
        (" ".join(label.split()) + ("" if k == 0 else f" ({k + 1})"), lane)
        for label, class_lanes in lanes.items()
        for k, lane in enumerate(class_lanes)
    ]


def _intervals(lane: list[LabelEvent], xmax: float) -> list[tuple[float, float, str]]:
    """The lane's events with empty intervals filling the gaps, covering 0 to ``xmax``."""
    intervals: list[tuple[float, float, str]] = []
    cursor = 0.0
    for e in lane:
        if e.onset > cursor:
            intervals.append((cursor, e.onset, ""))
        intervals.append((e.onset, e.offset, e.label))
        cursor = e.offset
    if xmax > cursor:
        intervals.append((cursor, xmax, ""))
    return intervals


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_LONG_FORM_MARKERS = re.compile(r"(item|intervals|points) ?\[")
_HEADER = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'


def _long_form(tiers: list[tuple[str, list[tuple[float, float, str]]]], xmax: float) -> str:
    end = format_time(xmax)
    out = [_HEADER, f"xmin = 0 \nxmax = {end} \ntiers? <exists> \nsize = {len(tiers)} \n"]
    out.append("item []: \n")
    for number, (name, intervals) in enumerate(tiers, start=1):
        out.append(
            f"    item [{number}]:\n"
            f'        class = "IntervalTier" \n'
            f"        name = {_quote(name)} \n"
            f"        xmin = 0 \n"
            f"        xmax = {end} \n"
            f"        intervals: size = {len(intervals)} \n"
        )
        for k, (start, stop, label) in enumerate(intervals, start=1):
            out.append(
                f"        intervals [{k}]:\n"
                f"            xmin = {format_time(start)} \n"
                f"            xmax = {format_time(stop)} \n"
                f"            text = {_quote(label)} \n"
            )
    return "".join(out)


def _short_form(tiers: list[tuple[str, list[tuple[float, float, str]]]], xmax: float) -> str:
    end = format_time(xmax)
    out = [_HEADER, f"0\n{end}\n<exists>\n{len(tiers)}\n"]
    for name, intervals in tiers:
        out.append(f'"IntervalTier"\n{_quote(name)}\n0\n{end}\n{len(intervals)}\n')
        for start, stop, label in intervals:
            out.append(f"{format_time(start)}\n{format_time(stop)}\n{_quote(label)}\n")
    return "".join(out)
