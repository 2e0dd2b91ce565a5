"""DCASE strong labels: ``filename<TAB>onset<TAB>offset<TAB>event_label``, one file per project.

Import accepts the header or none, repeated headers (concatenated files), three-column lines
(``onset offset label``, recording ``""``), lines with only a file name (a recording without
events, skipped), and runs of spaces instead of tabs on lines that have no tab at all.
Export writes the header and four columns; an event without a recording gets an empty file name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from tfstudio.formats.base import (
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_class_name,
    check_writable,
    format_time,
    is_number,
    parse_interval,
    read_text,
    refuse_other_format,
    write_text,
)

NAME = "dcase"
PER_RECORDING = False
SUFFIX = ".tsv"
HEADER = ("filename", "onset", "offset", "event_label")


def read(path: Path) -> ParseResult:
    """Events from a DCASE tsv; bad lines become issues."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, NAME)
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or number in bad_lines:
            continue
        fields = _split(line)
        if fields is None or _is_header(fields):
            continue
        try:
            result.events.append(_event(fields))
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _split(line: str) -> list[str] | None:
    """The fields of one line, or None for a line that names a recording without events."""
    if "\t" in line:
        fields = [field.strip() for field in line.split("\t")]
        return None if not any(fields[1:]) else fields
    words = line.split()
    if len(words) == 1:
        return None
    # Without tabs a label may still contain spaces: it is everything after the times, and
    # the times are the first two words unless the first word is a file name.
    three_columns = len(words) < 4 or (is_number(words[0]) and is_number(words[1]))
    return line.strip().split(None, 2 if three_columns else 3)


def _is_header(fields: list[str]) -> bool:
    if fields[-2][:1].isdigit():
        return False  # an offset, not a column name: the common case, decided at once
    lowered = [field.lower() for field in fields]
    return "onset" in lowered and "offset" in lowered


def _event(fields: list[str]) -> LabelEvent:
    if len(fields) == 4:
        recording, onset_text, offset_text, label = fields
    elif len(fields) == 3:
        recording = ""
        onset_text, offset_text, label = fields
    else:
        raise ValueError(
            f"expected 4 tab-separated fields (filename, onset, offset, event_label) "
            f"or 3 (onset, offset, event_label), found {len(fields)}"
        )
    onset, offset = parse_interval(onset_text, offset_text)
    if not label:
        raise ValueError("empty event_label")
    check_class_name(label)
    return LabelEvent(recording, onset, offset, label)


def write(events: Sequence[LabelEvent], path: Path, *, recordings: Iterable[str] = ()) -> None:
    """Write events in the order given; ``recordings`` without events get a file-name-only line."""
    check_writable(events, NAME)
    lines = ["\t".join(HEADER)]
    lines += [
        f"{e.recording}\t{format_time(e.onset)}\t{format_time(e.offset)}\t{e.label}" for e in events
    ]
    with_events = {e.recording for e in events}
    for recording in recordings:
        if any(c in recording for c in "\t\n\r"):
            raise ValueError(f"{NAME}: a tab or line break in file name {recording!r}")
        if recording not in with_events:
            lines.append(recording)
            with_events.add(recording)
    write_text(path, "\n".join(lines) + "\n")
