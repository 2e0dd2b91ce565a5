"""Raven selection table: tab-separated with a header row, one file per recording.

Import: the label comes from the column named by ``label_column`` (``tfstudio import
--label-column NAME``), else from the first of ``LABEL_COLUMNS`` that has any value (header
names match case-insensitively, runs of spaces as one). A ``Confidence`` column (BirdNET's) or
a ``Score`` column (Koogu's) makes each row with a value a detection (a model event with that
confidence); a ``Species Code`` (BirdNET's) is kept with the event, and BirdNET's "nocall"
placeholder row (a file without detections) is skipped. The band is in ``Low/High Freq (Hz)``
(Raven's) or ``Low/High Frequency (Hz)`` (Koogu's); a table whose End Time (or High Freq)
column is hidden has its end in ``Delta Time (s)`` (``Delta Freq (Hz)``): End = Begin + Delta,
and one whose Begin Time (or Low Freq) is hidden has its start there: Begin = End − Delta.
Raven writes one row per view for each selection; a selection
number seen again is the same event, and its Spectrogram row wins. A selection drawn across
channels has one row per channel (and view) under the same number: one event, on the lowest of
those channels, where the rows agree; rows that differ (times, band, label) stay events of their
own, each with its channel. With a ``Begin Path`` or
``Begin File`` column the event's recording is that file as written (the path, whose folders
the import uses to pick among recordings of one name), and with ``File Offset
(s)`` its times are taken within that file (tables that span several files count Begin Time
from the start of the first file). A selection's ``Channel`` is kept on the event for the
import to say what a project (labels per recording, not per channel) cannot keep.

Export: Selection, View ("Spectrogram 1"), Channel (1), Begin/End Time, Annotation, and the
Low/High Freq columns only when some event has a frequency; an unknown side is an empty cell,
which reads back as None (0 Hz would be a real frequency, so it cannot mean unknown). Where the
recording's start is known, Begin Date, Begin Clock Time, End Date and End Clock Time (as Raven
writes them: 2024/05/01, 05:00:12.345; the recorder's clock) follow; the import passes over
them (its times are the seconds). Species Code and Confidence columns follow when some event
has one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_band,
    check_class_name,
    check_writable,
    column_key,
    format_number,
    format_time,
    is_number,
    parse_confidence,
    parse_interval,
    parse_number,
    read_text,
    write_text,
)
from tfstudio.store.recorded import clock_at

NAME = "raven"
PER_RECORDING = True
SUFFIX = ".Table.1.selections.txt"

BEGIN = "begin time (s)"
END = "end time (s)"
# Raven can hide End Time (or High Freq) and show the selection's length: End = Begin + Delta.
DELTA_TIME = "delta time (s)"
DELTA_FREQ = "delta freq (hz)"
CHANNEL = "channel"
# Raven's own names first; Koogu writes the frequencies in full.
LOW_COLUMNS = ("low freq (hz)", "low frequency (hz)")
HIGH_COLUMNS = ("high freq (hz)", "high frequency (hz)")
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
# Begin Path first: its folders tell apart recordings of one name (AudioMoth files named by
# the hour, one folder per site), which the project's import picks among.
FILE_COLUMNS = ("begin path", "begin file")
FILE_OFFSET = "file offset (s)"
# BirdNET calls a detection's score Confidence, Koogu calls it Score.
CONFIDENCE_COLUMNS = ("confidence", "score")
SPECIES_CODE = "species code"
# BirdNET writes this row (label and code "nocall") into the table of a file without detections.
NO_CALL = "nocall"
# Raven's own measurement and bookkeeping columns: never the label.
RAVEN_COLUMNS = frozenset(
    {"selection", "view", CHANNEL, BEGIN, END, *LOW_COLUMNS, *HIGH_COLUMNS, *FILE_COLUMNS}
    | {
        FILE_OFFSET,
        *CONFIDENCE_COLUMNS,
        SPECIES_CODE,
        DELTA_TIME,
        DELTA_FREQ,
        "avg power density (db fs/hz)",
    }
    | {"begin clock time", "end clock time", "begin date", "end date", "begin date time"}
)
READ_OPTIONS = frozenset({"label_column"})


def read(path: Path, *, label_column: str | None = None) -> ParseResult:
    """Events from a Raven selection table; bad rows become issues. ``label_column`` names
    the column holding the labels (any case); by default the first of ``LABEL_COLUMNS``."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    lines = read_text(path, bad_lines=bad_lines).split("\n")
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return ParseResult()
    header = [" ".join(cell.split()) for cell in lines[header_index].split("\t")]
    names = [name.lower() for name in header]
    column = {name: i for i, name in reversed(list(enumerate(names)))}
    if BEGIN not in column and not (END in column and DELTA_TIME in column):
        raise FormatError(
            path,
            f"not a Raven selection table: no {BEGIN!r} column (nor {END!r} and {DELTA_TIME!r})",
        )
    if END not in column and DELTA_TIME not in column:
        raise FormatError(
            path, f"not a Raven selection table: no {END!r} column (nor {DELTA_TIME!r})"
        )

    rows = [
        (number, _cells(line, len(names)))
        for number, line in enumerate(lines[header_index + 1 :], start=header_index + 2)
        if line.strip() and number not in bad_lines
    ]
    cell_rows = [cells for _, cells in rows]
    if label_column is not None:
        label_at = column.get(column_key(label_column))
        if label_at is None:
            raise FormatError(
                path,
                f"no column {label_column!r} (its columns: {', '.join(h for h in header if h)})",
            )
    else:
        label_at = _label_column(column, cell_rows)
    if label_at is None:
        candidates = _text_columns(header, cell_rows)
        raise FormatError(
            path,
            "no label column (expected one of: "
            + ", ".join(name.title() for name in LABEL_COLUMNS)
            + "); name the column that holds the labels with --label-column"
            + (f" (text columns here: {', '.join(candidates)})" if candidates else ""),
        )

    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    code_at = column.get(SPECIES_CODE)
    # Per selection number, where its events are in result.events: the rows of its other
    # channels that say the same are the same event.
    events_of: dict[str, list[int]] = {}
    for selection, number, cells in _one_row_per_selection(rows, column, path, result.issues):
        if (
            code_at is not None
            and cells[label_at].lower() == NO_CALL
            and cells[code_at].lower() == NO_CALL
        ):
            continue
        try:
            event = _event(cells, column, label_at, header)
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        same = events_of.setdefault(selection, [])
        at = next((i for i in same if _same_selection(result.events[i], event)), None)
        if at is not None:
            kept = result.events[at]
            if event.channel is not None and (kept.channel is None or event.channel < kept.channel):
                result.events[at] = dataclasses.replace(kept, channel=event.channel)
            continue
        same.append(len(result.events))
        result.events.append(event)
        if event.channel is None and CHANNEL in column and cells[column[CHANNEL]]:
            reason = (
                f"channel {cells[column[CHANNEL]]!r} is not a channel number (1, 2, …); "
                "the selection is kept, for the whole recording"
            )
            result.warnings.append(ParseIssue(path, number, reason))
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


def _text_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns other than Raven's own whose values are not all numbers: the likely labels."""
    found = []
    for index, name in enumerate(header):
        if not name or column_key(name) in RAVEN_COLUMNS:
            continue
        values = [cells[index] for cells in rows if cells[index]]
        if values and not all(is_number(value) for value in values):
            found.append(name)
    return found


def _one_row_per_selection(
    rows: list[tuple[int, list[str]]],
    column: dict[str, int],
    path: Path,
    issues: list[ParseIssue],
) -> list[tuple[str, int, list[str]]]:
    """One row per selection and channel (its Spectrogram view's where it has several), each
    with its selection number: the rows of one selection on several channels all come back."""
    selection_at = column.get("selection")
    view_at = column.get("view")
    channel_at = column.get(CHANNEL)
    if selection_at is None:
        return [(f"row {number}", number, cells) for number, cells in rows]
    chosen: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for number, cells in rows:
        # A row without a selection number is a selection of its own.
        selection = cells[selection_at] or f"row {number}"
        key = (selection, cells[channel_at] if channel_at is not None else "")
        if key not in chosen:
            chosen[key] = (number, cells)
            continue
        if view_at is None:
            continue
        kept_view = chosen[key][1][view_at]
        view = cells[view_at]
        if view == kept_view:
            reason = f"selection {selection} appears twice in view {view!r}; this row is ignored"
            issues.append(ParseIssue(path, number, reason))
        elif view.lower().startswith("spectrogram") and not kept_view.lower().startswith(
            "spectrogram"
        ):
            chosen[key] = (number, cells)
    return [(selection, number, cells) for (selection, _), (number, cells) in chosen.items()]


def _same_selection(kept: LabelEvent, event: LabelEvent) -> bool:
    """Whether two channels' rows of one selection say the same (all but the channel)."""
    return kept == event and kept.species_code == event.species_code


def _event(
    cells: list[str], column: dict[str, int], label_column: int, header: list[str]
) -> LabelEvent:
    if BEGIN in column and END in column:
        onset, offset = parse_interval(cells[column[BEGIN]], cells[column[END]])
    elif BEGIN in column:
        onset = parse_number(cells[column[BEGIN]], "onset")
        offset = onset + parse_number(cells[column[DELTA_TIME]], "delta time")
    else:
        # Begin Time hidden: the selection ends at End Time and lasts Delta Time.
        offset = parse_number(cells[column[END]], "offset")
        delta = parse_number(cells[column[DELTA_TIME]], "delta time")
        if delta > offset:
            raise ValueError(
                f"delta time {format_number(delta)} is longer than the end time "
                f"{format_number(offset)}: the selection would begin before 0 s"
            )
        onset = offset - delta
    # The first file column with a value (Koogu leaves Begin Path blank).
    recording = next(
        (cells[column[name]] for name in FILE_COLUMNS if name in column and cells[column[name]]),
        "",
    )
    if recording and FILE_OFFSET in column and cells[column[FILE_OFFSET]]:
        file_onset = parse_number(cells[column[FILE_OFFSET]], "file offset")
        if file_onset != onset:
            onset, offset = file_onset, file_onset + (offset - onset)
    low_hz = _frequency(cells, column, LOW_COLUMNS, "low frequency")
    high_hz = _frequency(cells, column, HIGH_COLUMNS, "high frequency")
    if _first(column, HIGH_COLUMNS) is None and DELTA_FREQ in column and low_hz is not None:
        delta_hz = _frequency(cells, column, (DELTA_FREQ,), "delta frequency")
        high_hz = None if delta_hz is None else low_hz + delta_hz
    elif _first(column, LOW_COLUMNS) is None and DELTA_FREQ in column and high_hz is not None:
        delta_hz = _frequency(cells, column, (DELTA_FREQ,), "delta frequency")
        if delta_hz is not None and delta_hz > high_hz:
            raise ValueError(
                f"delta frequency {format_number(delta_hz)} Hz is more than the high frequency "
                f"{format_number(high_hz)} Hz: the band would begin below 0 Hz"
            )
        low_hz = None if delta_hz is None else high_hz - delta_hz
    check_band(low_hz, high_hz)
    label = cells[label_column]
    if not label:
        raise ValueError(f"empty label ({header[label_column]} column)")
    check_class_name(label)
    code = cells[column[SPECIES_CODE]] if SPECIES_CODE in column else ""
    event = LabelEvent(
        recording,
        onset,
        offset,
        label,
        low_hz,
        high_hz,
        species_code=code or None,
        channel=_channel(cells, column),
    )
    confidence_at = _first(column, CONFIDENCE_COLUMNS)
    if confidence_at is not None and cells[confidence_at]:
        confidence = parse_confidence(cells[confidence_at])
        event = dataclasses.replace(event, source="model", confidence=confidence)
    return event


def _channel(cells: list[str], column: dict[str, int]) -> int | None:
    """The selection's channel (1-based), or None where the table has none."""
    text = cells[column[CHANNEL]] if CHANNEL in column else ""
    try:
        channel = int(text)
    except ValueError:
        return None
    return channel if channel >= 1 else None


def _first(column: dict[str, int], names: tuple[str, ...]) -> int | None:
    """Where the first of ``names`` that the table has is, or None."""
    return next((column[name] for name in names if name in column), None)


def _frequency(
    cells: list[str], column: dict[str, int], names: tuple[str, ...], what: str
) -> float | None:
    at = _first(column, names)
    if at is None or not cells[at]:
        return None
    return parse_number(cells[at], what)


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    duration: float | None = None,
    start: datetime | None = None,
) -> None:
    """Write one Spectrogram row per event; ``duration`` is accepted for symmetry and unused.
    With the recording's ``start`` (`tfstudio.store.recorded`), Raven's Begin/End Date and
    Clock Time columns give each event's date and time of day on the recorder's clock."""
    check_writable(events, NAME)
    for e in events:
        if e.confidence is not None and not math.isfinite(e.confidence):
            raise ValueError(f"{NAME}: confidence {e.confidence!r} is not a finite number")
        if e.species_code and any(c in e.species_code for c in "\t\n\r"):
            raise ValueError(f"{NAME}: a tab or line break in species code {e.species_code!r}")
    with_band = any(e.low_hz is not None or e.high_hz is not None for e in events)
    with_code = any(e.species_code for e in events)
    with_confidence = any(e.confidence is not None for e in events)
    header = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)"]
    if with_band:
        header += ["Low Freq (Hz)", "High Freq (Hz)"]
    if start is not None:
        header += ["Begin Date", "Begin Clock Time", "End Date", "End Clock Time"]
    header.append("Annotation")
    if with_code:
        header.append("Species Code")
    if with_confidence:
        header.append("Confidence")
    lines = ["\t".join(header)]
    for number, e in enumerate(events, start=1):
        row = [str(number), "Spectrogram 1", "1", format_time(e.onset), format_time(e.offset)]
        if with_band:
            row += [_hz(e.low_hz), _hz(e.high_hz)]
        if start is not None:
            row += [*_date_and_clock(start, e.onset), *_date_and_clock(start, e.offset)]
        row.append(e.label)
        if with_code:
            row.append(e.species_code or "")
        if with_confidence:
            row.append(_hz(e.confidence))
        lines.append("\t".join(row))
    write_text(path, "\n".join(lines) + "\n")


def _date_and_clock(start: datetime, seconds: float) -> tuple[str, str]:
    """Raven's Date (2024/05/01) and Clock Time (05:00:12.345) ``seconds`` into a recording."""
    at = clock_at(start, seconds, 3)
    return f"{at:%Y/%m/%d}", f"{at:%H:%M:%S}.{at.microsecond // 1000:03d}"


def _hz(value: float | None) -> str:
    return "" if value is None else format_time(value)
