"""Raven selection table: tab-separated with a header row, one file per recording.

Import: the label comes from the first of ``LABEL_COLUMNS`` that has any value (header names
match case-insensitively). Raven writes one row per view for each selection; a selection
number seen again is the same event, and its Spectrogram row wins. With a ``Begin File`` or
``Begin Path`` column the event's recording is that file's base name, and with ``File Offset
(s)`` its times are taken within that file (tables that span several files count Begin Time
from the start of the first file).

Export: Selection, View ("Spectrogram 1"), Channel (1), Begin/End Time, Annotation, and the
Low/High Freq columns only when some event has a frequency; an unknown side is an empty cell,
which reads back as None (0 Hz would be a real frequency, so it cannot mean unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PureWindowsPath

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_band,
    check_class_name,
    check_writable,
    format_time,
    parse_interval,
    parse_number,
    read_text,
    write_text,
)

NAME = "raven"
PER_RECORDING = True
SUFFIX = ".Table.1.selections.txt"

BEGIN = "begin time (s)"
END = "end time (s)"
LOW = "low freq (hz)"
HIGH = "high freq (hz)"
# Priority order: the generic names first, then the taxonomic ones, then free-form tags.
LABEL_COLUMNS = (
    "annotation",
    "label",
    "class",
    "species",
    "common name",
    "call type",
    "sound type",
    "tags",
)
FILE_COLUMNS = ("begin file", "begin path")
FILE_OFFSET = "file offset (s)"


def read(path: Path) -> ParseResult:
    """Events from a Raven selection table; bad rows become issues."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    lines = read_text(path, bad_lines=bad_lines).split("\n")
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return ParseResult()
    header = [" ".join(cell.split()) for cell in lines[header_index].split("\t")]
    names = [name.lower() for name in header]
    column = {name: i for i, name in reversed(list(enumerate(names)))}
    for required in (BEGIN, END):
        if required not in column:
            raise FormatError(path, f"not a Raven selection table: no {required!r} column")

    rows = [
        (number, _cells(line, len(names)))
        for number, line in enumerate(lines[header_index + 1 :], start=header_index + 2)
        if line.strip() and number not in bad_lines
    ]
    label_column = _label_column(column, [cells for _, cells in rows])
    if label_column is None:
        raise FormatError(
            path,
            "no label column (expected one of: "
            + ", ".join(name.title() for name in LABEL_COLUMNS)
            + ")",
        )

    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    for number, cells in _one_row_per_selection(rows, column, path, result.issues):
        try:
            result.events.append(_event(cells, column, label_column, header))
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _cells(line: str, width: int) -> list[str]:
    # Raven drops trailing empty cells on some rows; pad so every column can be indexed.
    cells = [cell.strip() for cell in line.split("\t")]
    return cells + [""] * (width - len(cells))


def _label_column(column: dict[str, int], rows: list[list[str]]) -> int | None:
    present = [column[name] for name in LABEL_COLUMNS if name in column]
    # Tables often keep an empty default Annotation column next to the one actually used.
    for index in present:
        if any(cells[index] for cells in rows):
            return index
    return present[0] if present else None


def _one_row_per_selection(
    rows: list[tuple[int, list[str]]],
    column: dict[str, int],
    path: Path,
    issues: list[ParseIssue],
) -> list[tuple[int, list[str]]]:
    selection_at = column.get("selection")
    view_at = column.get("view")
    if selection_at is None:
        return rows
    chosen: dict[str, tuple[int, list[str]]] = {}
    for number, cells in rows:
        # A row without a selection number is a selection of its own.
        key = cells[selection_at] or f"row {number}"
        if key not in chosen:
            chosen[key] = (number, cells)
            continue
        if view_at is None:
            continue
        kept_view = chosen[key][1][view_at]
        view = cells[view_at]
        if view == kept_view:
            reason = f"selection {key} appears twice in view {view!r}; this row is ignored"
            issues.append(ParseIssue(path, number, reason))
        elif view.lower().startswith("spectrogram") and not kept_view.lower().startswith(
            "spectrogram"
        ):
            chosen[key] = (number, cells)
    return list(chosen.values())


def _event(
    cells: list[str], column: dict[str, int], label_column: int, header: list[str]
) -> LabelEvent:
    onset, offset = parse_interval(cells[column[BEGIN]], cells[column[END]])
    recording = ""
    file_at = next((column[name] for name in FILE_COLUMNS if name in column), None)
    if file_at is not None and cells[file_at]:
        # PureWindowsPath splits on both separators, so C:\x\a.wav and /x/a.wav both work.
        recording = PureWindowsPath(cells[file_at]).name
        if FILE_OFFSET in column and cells[column[FILE_OFFSET]]:
            file_onset = parse_number(cells[column[FILE_OFFSET]], "file offset")
            if file_onset != onset:
                onset, offset = file_onset, file_onset + (offset - onset)
    low_hz = _frequency(cells, column, LOW, "low frequency")
    high_hz = _frequency(cells, column, HIGH, "high frequency")
    check_band(low_hz, high_hz)
    label = cells[label_column]
    if not label:
        raise ValueError(f"empty label ({header[label_column]} column)")
    check_class_name(label)
    return LabelEvent(recording, onset, offset, label, low_hz, high_hz)


def _frequency(cells: list[str], column: dict[str, int], name: str, what: str) -> float | None:
    if name not in column or not cells[column[name]]:
        return None
    return parse_number(cells[column[name]], what)


def write(events: Sequence[LabelEvent], path: Path, *, duration: float | None = None) -> None:
    """Write one Spectrogram row per event; ``duration`` is accepted for symmetry and unused."""
    check_writable(events, NAME)
    with_band = any(e.low_hz is not None or e.high_hz is not None for e in events)
    header = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)"]
    if with_band:
        header += ["Low Freq (Hz)", "High Freq (Hz)"]
    lines = ["\t".join([*header, "Annotation"])]
    for number, e in enumerate(events, start=1):
        row = [str(number), "Spectrogram 1", "1", format_time(e.onset), format_time(e.offset)]
        if with_band:
            row += [_hz(e.low_hz), _hz(e.high_hz)]
        lines.append("\t".join([*row, e.label]))
    write_text(path, "\n".join(lines) + "\n")


def _hz(value: float | None) -> str:
    return "" if value is None else format_time(value)
