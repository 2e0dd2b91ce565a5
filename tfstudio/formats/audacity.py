"""Audacity label track: ``onset<TAB>offset<TAB>label``, one file per recording.

The extended form (Audacity 2.1+, spectral selections) follows an event line with
``\\<TAB>low_hz<TAB>high_hz``; ``-1`` marks an unknown side. The label is the rest of the line
after the second tab (so a tab inside it is reported, not silently cut), and lines without
tabs are split on runs of spaces. Numbers may have a decimal comma (``1,5``), as Audacity
itself reads them.

BirdNET's "audacity" results add a fourth field, the confidence
(``0.0<TAB>3.0<TAB>Turdus merula, Eurasian Blackbird<TAB>0.8345``): a line whose fourth
tab-separated field is a number is such a detection, labelled by the third field alone (as
Audacity reads it) and read as a model event with that confidence. Export writes the same
fourth field for events that have a confidence (detections), so BirdNET's readers and
tfstudio read them back as detections.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from pathlib import Path

from tfstudio.formats.base import (
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_band,
    check_class_name,
    check_writable,
    format_time,
    is_number,
    parse_confidence,
    parse_interval,
    parse_number,
    read_text,
    refuse_other_format,
    write_text,
)

NAME = "audacity"
PER_RECORDING = True
SUFFIX = ".txt"
UNKNOWN_HZ = "-1"


def read(path: Path) -> ParseResult:
    """Events from an Audacity label file; bad lines become issues."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, NAME)
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    # What the previous line was: None (nothing a frequency line can attach to), "bad" (an
    # event line already reported), or the index of the event it produced.
    previous: int | str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            previous = None
            continue
        if number in bad_lines:
            # A frequency line after an undecodable one has nothing to attach to.
            previous = "bad"
            continue
        if line.lstrip().startswith("\\"):
            if previous is None:
                reason = "frequency line does not follow a label line"
                result.issues.append(ParseIssue(path, number, reason))
            elif isinstance(previous, int):
                try:
                    low_hz, high_hz = _band(line.lstrip()[1:])
                except ValueError as exc:
                    result.issues.append(ParseIssue(path, number, str(exc)))
                else:
                    event = result.events[previous]
                    result.events[previous] = dataclasses.replace(
                        event, low_hz=low_hz, high_hz=high_hz
                    )
            previous = None
            continue
        try:
            result.events.append(_event(line))
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            previous = "bad"
        else:
            previous = len(result.events) - 1
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _decimal_point(text: str) -> str:
    """``1,5`` as ``1.5``: Audacity reads a number with a decimal comma (as locales with one
    write it), so such a label file is Audacity's too."""
    stripped = text.strip()
    return stripped.replace(",", ".") if _DECIMAL_COMMA.fullmatch(stripped) else text


_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def _event(line: str) -> LabelEvent:
    if "\t" in line:
        fields = line.split("\t")
        if len(fields) == 4 and is_number(_decimal_point(fields[3])):
            # BirdNET: onset, offset, species, confidence.
            event = _labelled(fields[0], fields[1], fields[2])
            confidence = parse_confidence(_decimal_point(fields[3]))
            return dataclasses.replace(event, source="model", confidence=confidence)
        fields = line.split("\t", 2)
    else:
        fields = line.split(None, 2)
    if len(fields) < 3:
        raise ValueError(
            f"expected 3 tab-separated fields (onset, offset, label), found {len(fields)}"
        )
    return _labelled(*fields)


def _labelled(onset_text: str, offset_text: str, label_text: str) -> LabelEvent:
    onset, offset = parse_interval(_decimal_point(onset_text), _decimal_point(offset_text))
    label = label_text.strip()
    if not label:
        raise ValueError("empty label")
    check_class_name(label)
    return LabelEvent("", onset, offset, label)


def _band(rest: str) -> tuple[float | None, float | None]:
    fields = rest.split()
    if len(fields) != 2:
        raise ValueError(
            f"expected a frequency line '\\<TAB>low_hz<TAB>high_hz', found {len(fields)} values"
        )
    low_hz = _frequency(fields[0], "low frequency")
    high_hz = _frequency(fields[1], "high frequency")
    check_band(low_hz, high_hz)
    return low_hz, high_hz


def _frequency(text: str, name: str) -> float | None:
    text = _decimal_point(text)
    if is_number(text) and float(text) == -1:
        return None
    return parse_number(text, name)


def write(events: Sequence[LabelEvent], path: Path, *, duration: float | None = None) -> None:
    """Write events in the order given, with a fourth field for a confidence (detections);
    ``duration`` is accepted for symmetry and unused."""
    check_writable(events, NAME)
    lines = []
    for e in events:
        line = f"{format_time(e.onset)}\t{format_time(e.offset)}\t{e.label}"
        if e.confidence is not None:
            if not math.isfinite(e.confidence):
                raise ValueError(f"{NAME}: confidence {e.confidence!r} is not a finite number")
            line += f"\t{format_time(e.confidence)}"
        lines.append(line)
        if e.low_hz is not None or e.high_hz is not None:
            low = UNKNOWN_HZ if e.low_hz is None else format_time(e.low_hz)
            high = UNKNOWN_HZ if e.high_hz is None else format_time(e.high_hz)
            lines.append(f"\\\t{low}\t{high}")
    write_text(path, "".join(line + "\n" for line in lines))
