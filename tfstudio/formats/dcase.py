"""DCASE strong labels: ``filename<TAB>onset<TAB>offset<TAB>event_label``, one file per project.

Import reads columns by their header names, in any order (a DESED_task predictions file is
``event_label onset offset filename``): ``filename`` (or ``file``, ``audio_filename``),
``onset`` (``start``), ``offset`` (``end``), ``event_label`` (``label``, ``class``, ``event``),
and an optional ``confidence`` (``score``), which makes each row with a value a detection.
``label_column`` (``tfstudio import --label-column NAME``) names another label column. A file
without a header is read by position: four columns (filename, onset, offset, event_label) or
three (onset, offset, event_label, recording ``""``). Repeated headers (concatenated files),
lines with only a file name or with empty onset, offset and label (a recording without
events, as DESED writes them), runs of spaces instead of tabs on lines that have no tab
at all, and a trailing tab (an empty last field, which holds nothing) are accepted. A file saved as CSV (no tab anywhere; fields split on commas or, as
spreadsheets write them where the decimal separator is a comma, semicolons; CSV quoting
undone) has the same columns, and its times and scores may have a decimal comma. A row that ends before its confidence
(an editor that trims trailing tabs leaves the empty cell out) has none, as an empty cell: a
label; a file that holds such rows beside detections says so in a warning. A
weak-label file (``filename event_labels``: clip tags without times) is refused with one
message.

Export writes the header and four columns (five for detections: ``confidence`` too, so
they read back as detections, not labels); a recording without events is a row with its file
name and empty onset, offset and label (so the list of evaluated files stays whole); an event
without a recording gets an empty file name. A label or file name holding a double quote is
written in double quotes, those inside doubled, as CSV writers (pandas, Python's csv module)
quote it and DCASE readers (sed_eval, pandas, this one) unquote it: ``"q"`` written bare
would read back as ``q``. A file name is read with the spaces around it kept (a recording
may be named `` take 1.wav``), and found without them too.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_class_name,
    check_writable,
    checked,
    column_key,
    format_time,
    is_number,
    parse_confidence,
    parse_interval,
    read_text,
    refuse_other_format,
    write_text,
)

NAME = "dcase"
PER_RECORDING = False
SUFFIX = ".tsv"
HEADER = ("filename", "onset", "offset", "event_label")
READ_OPTIONS = frozenset({"label_column"})

# Header names each column is known by (matched ignoring case and runs of spaces).
FILE_NAMES = ("filename", "file", "audio_filename", "file_name", "fname")
ONSET_NAMES = ("onset", "start", "start_time", "begin")
OFFSET_NAMES = ("offset", "end", "end_time")
LABEL_NAMES = ("event_label", "label", "class", "event", "event_class")
CONFIDENCE_NAMES = ("confidence", "score")
WEAK_LABEL_NAMES = ("event_labels", "labels", "tags")


@dataclass(frozen=True)
class _Columns:
    """Where each field is in a line: from the header, or by position without one."""

    onset: int
    offset: int
    label: int
    width: int
    recording: int | None = None
    confidence: int | None = None
    names: tuple[str, ...] = field(default=(), compare=False)  # the header's, for messages

    def required(self, index: int) -> bool:
        """Whether column ``index`` must have a field in every row (a row may end before the
        others: a confidence or an extra column left out is an empty one)."""
        return index in (self.onset, self.offset, self.label, self.recording)


def read(path: Path, *, label_column: str | None = None) -> ParseResult:
    """Events from a DCASE tsv; bad lines become issues. ``label_column`` names the header
    column holding the labels (any case)."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, NAME)
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    lines = text.split("\n")
    delimiter = _delimiter(lines, bad_lines)
    if delimiter is not None:
        # A spreadsheet's CSV: the same columns, comma- or semicolon-separated, and times
        # perhaps with a decimal comma (a semicolon-separated file is Excel's in such locales).
        lines = [_as_tabs(line, delimiter) for line in lines]
    decimal_comma = delimiter is not None
    first = next(
        (n for n, line in enumerate(lines, start=1) if line.strip() and n not in bad_lines), None
    )
    columns: _Columns | None = None
    if first is not None:
        columns = _header(path, _fields(lines[first - 1]), label_column)
    if columns is None and label_column is not None:
        raise FormatError(
            path,
            f"has no header row, so --label-column {label_column!r} names no column; "
            "its columns are filename, onset, offset, event_label by position",
        )
    if columns in _STANDARD:
        # The usual header: read by position, which also takes three-column lines.
        columns = None
    unscored: list[int] = []  # rows of a file with a confidence column that have none
    for number, line in enumerate(lines, start=1):
        if not line.strip() or number in bad_lines:
            continue
        if columns is None:
            fields = _split(line)
            if fields is None or _is_header(fields):
                continue
            try:
                result.events.append(_event(fields, decimal_comma))
            except ValueError as exc:
                result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        if number == first:
            continue
        fields = _split_named(line, columns)
        if fields is None or _is_header(fields):
            continue
        try:
            event = _named_event(fields, columns, decimal_comma)
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        result.events.append(event)
        if columns.confidence is not None and event.confidence is None:
            unscored.append(number)
    if unscored and any(e.source == "model" for e in result.events):
        # Detections and labels in one file: the rows without a score become ground truth,
        # which a detector's row that lost its score should not; said, not silently done.
        reason = (
            f"{len(unscored)} row(s) without a confidence (line {unscored[0]}"
            + (" …" if len(unscored) > 1 else "")
            + ") are read as labels (ground truth), the rows with one as detections"
        )
        result.warnings.append(ParseIssue(path, unscored[0], reason))
    result.issues.sort(key=lambda issue: issue.line)
    return result


_STANDARD = (_Columns(onset=1, offset=2, label=3, width=4, recording=0), _Columns(0, 1, 2, 3))


def _delimiter(lines: list[str], bad_lines: dict[int, str]) -> str | None:
    """``,`` or ``;`` for a file saved as CSV (no tab anywhere, and its first line is no
    space-separated DCASE line but three or more fields split on that character); None for
    the usual tab- (or space-) separated file."""
    used = [line for n, line in enumerate(lines, start=1) if line.strip() and n not in bad_lines]
    if not used or any("\t" in line for line in used):
        return None
    words = used[0].split()
    with_times = (len(words) >= 3 and is_number(words[0]) and is_number(words[1])) or (
        len(words) >= 4 and is_number(words[1]) and is_number(words[2])
    )
    if with_times or _is_header(words):
        return None
    for delimiter in (",", ";"):
        if len(_csv_fields(used[0], delimiter)) >= 3:
            return delimiter
    return None


def _csv_fields(line: str, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        fields = line.split(delimiter)  # a quote that is text, not CSV quoting
    return [field.strip() for field in fields]


def _as_tabs(line: str, delimiter: str) -> str:
    """A CSV line as the tab-separated line it stands for (the file has no tab to confuse)."""
    return "\t".join(_csv_fields(line, delimiter)) if line.strip() else line


_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def _decimal_point(text: str) -> str:
    """``1,5`` as ``1.5``: a time or score written with a decimal comma."""
    stripped = text.strip()
    return stripped.replace(",", ".") if _DECIMAL_COMMA.fullmatch(stripped) else text


def _fields(line: str) -> list[str]:
    return _tab_fields(line) if "\t" in line else [field.strip() for field in line.split()]


def _tab_fields(line: str) -> list[str]:
    """A tab-separated line's fields, stripped (see :func:`_tab_cells`)."""
    return [cell.strip() for cell in _tab_cells(line)]


def _tab_cells(line: str) -> list[str]:
    """A tab-separated line's cells as written. A field in double quotes is unquoted as CSV
    writers quote it (pandas' ``to_csv(sep="\\t")`` quotes a label holding a quote or a tab,
    and doubles the quotes inside it; so does the export): the class is the text inside, not
    the quoting."""
    if '"' in line:
        try:
            return next(csv.reader([line], delimiter="\t", strict=True))
        except csv.Error:
            pass  # not CSV quoting after all: the quotes are part of the text
    return line.split("\t")


def _with_raw_recording(fields: list[str], line: str, index: int) -> list[str]:
    """``fields`` with the file name at ``index`` as written, spaces around it kept: a
    recording may be named `` take 1.wav``, and the import also tries the name stripped
    (:func:`recording_aliases`) for a file whose cells are padded."""
    cells = _tab_cells(line)
    if index < len(fields) and index < len(cells) and cells[index].strip() == fields[index]:
        fields = [*fields]
        fields[index] = cells[index]
    return fields


def recording_aliases(name: str) -> list[str]:
    """The other name a file-name cell may mean: without the spaces around it (a recording
    whose name starts with a space is found first by the cell as written)."""
    stripped = name.strip()
    return [stripped] if stripped and stripped != name else []


def _without_empty_tail(fields: list[str], width: int) -> list[str]:
    """``fields`` without the empty ones after the first ``width``: a row written with a tab
    (or comma) after every field, as spreadsheets and some scripts write them, ends with an
    empty field that holds nothing."""
    end = len(fields)
    while end > width and not fields[end - 1]:
        end -= 1
    return fields[:end]


def _header(path: Path, fields: list[str], label_column: str | None) -> _Columns | None:
    """The columns a header row names, None when the first line is not a header; FormatError
    for a header tfstudio cannot use (weak labels, no times, no such label column)."""
    fields = _without_empty_tail(fields, 0)  # a trailing tab names no column
    if len(fields) < 2 or any(is_number(field) for field in fields if field):
        return None
    keys = [column_key(field) for field in fields]

    def find(names: tuple[str, ...]) -> int | None:
        return next((keys.index(name) for name in names if name in keys), None)

    onset, offset = find(ONSET_NAMES), find(OFFSET_NAMES)
    label = find(LABEL_NAMES)
    if onset is None or offset is None:
        if find(WEAK_LABEL_NAMES) is not None or (
            label is not None and find(FILE_NAMES) is not None
        ):
            raise FormatError(
                path,
                "is a weak-label file (a file name and its tags, no onset or offset): tfstudio "
                "imports strong labels, events with times (filename, onset, offset, event_label)",
            )
        if label is None and find(FILE_NAMES) is None:
            return None  # not a header at all: e.g. a line with a label and no times
        raise FormatError(
            path,
            f"the header ({', '.join(fields)}) has no onset and offset columns; "
            "expected filename, onset, offset, event_label",
        )
    if label_column is not None:
        if column_key(label_column) not in keys:
            raise FormatError(
                path, f"no column {label_column!r} (its columns: {', '.join(fields)})"
            )
        label = keys.index(column_key(label_column))
    if label is None:
        raise FormatError(
            path,
            f"the header ({', '.join(fields)}) has no event_label column; name the column "
            "that holds the labels with --label-column",
        )
    return _Columns(
        onset=onset,
        offset=offset,
        label=label,
        width=len(fields),
        recording=find(FILE_NAMES),
        confidence=find(CONFIDENCE_NAMES),
        names=tuple(fields),
    )


def _split_named(line: str, columns: _Columns) -> list[str] | None:
    """The fields of one line under a header, or None for a recording without events."""
    if "\t" in line:
        fields = _tab_fields(line)
        if columns.recording is not None:
            fields = _with_raw_recording(fields, line, columns.recording)
    elif columns.label == columns.width - 1:
        # Without tabs the label, when it is the last column, may hold spaces.
        fields = line.strip().split(None, columns.width - 1)
    else:
        fields = line.split()
    fields = _without_empty_tail(fields, columns.width)
    others = [f for k, f in enumerate(fields) if k != columns.recording]
    if not any(others):
        return None
    return fields


def _named_event(fields: list[str], columns: _Columns, decimal_comma: bool) -> LabelEvent:
    width = columns.width
    if len(fields) < width and not any(map(columns.required, range(len(fields), width))):
        # A row that ends before its confidence (or an extra column) has none: as an empty
        # cell, which an editor trimming trailing tabs leaves out.
        fields = fields + [""] * (width - len(fields))
    if len(fields) != width:
        missing = ", ".join(columns.names[len(fields) :])
        raise ValueError(
            f"expected {width} tab-separated fields as in the header, found {len(fields)}"
            + (f" ({missing} missing)" if missing else "")
        )
    number = _decimal_point if decimal_comma else str
    onset, offset = parse_interval(number(fields[columns.onset]), number(fields[columns.offset]))
    label = fields[columns.label]
    if not label:
        raise ValueError("empty event_label")
    check_class_name(label)
    recording = "" if columns.recording is None else fields[columns.recording]
    event = LabelEvent(recording, onset, offset, label)
    if columns.confidence is not None and fields[columns.confidence]:
        confidence = parse_confidence(number(fields[columns.confidence]))
        event = LabelEvent(recording, onset, offset, label, source="model", confidence=confidence)
    return event


def _split(line: str) -> list[str] | None:
    """The fields of one line, or None for a line that names a recording without events."""
    if "\t" in line:
        fields = _without_empty_tail(_tab_fields(line), 4)
        if (
            len(fields) == 4
            and not fields[3]
            and is_number(_decimal_point(fields[0]))
            and is_number(_decimal_point(fields[1]))
            and not is_number(_decimal_point(fields[2]))
        ):
            # Onset, offset and a label (no offset is a word): three columns and a trailing tab.
            fields = fields[:3]
        if not any(fields[1:]):
            return None
        return _with_raw_recording(fields, line, 0) if len(fields) == 4 else fields
    words = line.split()
    if len(words) == 1:
        return None
    # Without tabs a label may still contain spaces: it is everything after the times, and
    # the times are the first two words unless the first word is a file name.
    three_columns = len(words) < 4 or (is_number(words[0]) and is_number(words[1]))
    return line.strip().split(None, 2 if three_columns else 3)


def _is_header(fields: list[str]) -> bool:
    if len(fields) < 2 or fields[-2][:1].isdigit():
        return False  # an offset, not a column name: the common case, decided at once
    lowered = [column_key(field) for field in fields]
    return any(name in lowered for name in ONSET_NAMES) and any(
        name in lowered for name in OFFSET_NAMES
    )


def _event(fields: list[str], decimal_comma: bool) -> LabelEvent:
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
    if decimal_comma:
        onset_text, offset_text = _decimal_point(onset_text), _decimal_point(offset_text)
    onset, offset = parse_interval(onset_text, offset_text)
    if not label:
        raise ValueError("empty event_label")
    check_class_name(label)
    return LabelEvent(recording, onset, offset, label)


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    recordings: Iterable[str] = (),
    confidences: bool = False,
) -> None:
    """Write events in the order given; ``recordings`` without events get a row with the file
    name and empty onset, offset and event_label. With ``confidences`` a fifth column,
    ``confidence``, holds each event's (what makes a row a detection when it is read back)."""
    check_writable(events, NAME)
    recordings = list(recordings)
    text_lines = list(lines(events, recordings=recordings, confidences=confidences))
    write_text(path, "\n".join(text_lines) + "\n")


def lines(
    events: Iterable[LabelEvent], *, recordings: Iterable[str] = (), confidences: bool = False
) -> Iterator[str]:
    """The file's lines (without line breaks) as :func:`write` writes them, made as the events
    come (an export streams them from the store); ValueError at the first event or file name
    the format cannot hold."""
    yield "\t".join((*HEADER, "confidence") if confidences else HEADER)
    empty = "\t\t\t\t" if confidences else "\t\t\t"
    with_events: set[str] = set()
    for e in checked(events, NAME):
        row = (
            f"{_cell(e.recording)}\t{format_time(e.onset)}\t{format_time(e.offset)}\t"
            f"{_cell(e.label)}"
        )
        if confidences:
            row += "\t" if e.confidence is None else f"\t{format_time(e.confidence)}"
        yield row
        with_events.add(e.recording)
    for recording in recordings:
        if any(c in recording for c in "\t\n\r"):
            raise ValueError(f"{NAME}: a tab or line break in file name {recording!r}")
        if recording not in with_events:
            yield f"{_cell(recording)}{empty}"
            with_events.add(recording)


def _cell(text: str) -> str:
    """A label or file name as a CSV writer quotes it (pandas' ``to_csv(sep="\\t")``, Python's
    csv module): in double quotes, those inside doubled, when it holds one. Readers of DCASE
    files (sed_eval, pandas, this module) undo that quoting, so ``"q"`` written bare would
    read back as ``q``."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if '"' in text else text
