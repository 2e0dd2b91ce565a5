"""REAPER region/marker list: the Region/Marker Manager's export to CSV, one file per
recording.

``#,Name,Start,End,Length,Color`` (columns by header name; REAPER quotes a name holding a
comma), one row per region (``R1``, …: an event of the class its Name names, Start to End) or
marker (``M1``, …, End empty: a zero-length event at Start, as the other readers of point
markers make it). Times are in the project's time unit: Minutes:Seconds (``1:23.456``,
``1:02:03.456`` or minutes counted on past 59), Seconds (``83.456``) and Samples (whole
numbers, at the recording's sample rate) are read; Measures.Beats (``5.1.00``) cannot be
converted to seconds without the project's tempo map, and h:m:s:frames without its frame
rate: such rows are refused one by one, saying how to export them in Minutes:Seconds.
A region or marker without a name has no class and is reported.

Export: regions for events, markers for zero-length ones, times in Minutes:Seconds exact to
the float (at least to the millisecond, as REAPER writes them); no colour, no confidence.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_class_name,
    check_writable,
    column_key,
    format_number,
    read_text,
    refuse_other_format,
    write_text,
)
from tfstudio.formats.clock import (
    Ratio,
    clock_ratio,
    exact,
    format_clock,
    plain_time,
    ratio_float,
    ratio_less,
    samples_reader,
    seconds_ratio,
)

NAME = "reaper"
PER_RECORDING = True
SUFFIX = ".csv"
READ_OPTIONS = frozenset({"sample_rate"})
HEADER = ("#", "Name", "Start", "End", "Length", "Color")
_BEATS = re.compile(r"\d+\.\d+\.\d+")
_TIMECODE = re.compile(r"\d+:\d+:\d+[:;]\d+")
_AGAIN = (
    "set the project's time unit to Minutes:Seconds (View > Time unit for ruler) and export "
    "the list again"
)


def looks_like(text: str) -> bool:
    """Whether a label file's first line is a REAPER region/marker list's header."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    cells = [column_key(cell.strip('"')) for cell in first.lstrip("\ufeff").split(",")]
    return cells[:3] == ["#", "name", "start"]


def read(path: Path, *, sample_rate: float | None = None) -> ParseResult:
    """Events from a REAPER region/marker list; bad rows become issues. ``sample_rate`` (the
    recording's) reads times in samples."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, NAME)
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    rows = list(_rows(text))
    if not rows:
        return result
    header = rows[0][1]
    columns = {column_key(name): k for k, name in enumerate(header)}
    if not {"#", "name", "start"} <= columns.keys():
        raise FormatError(
            path,
            "not a REAPER region/marker list: its first line is not the header "
            f"'{','.join(HEADER)}'",
        )
    # A file in Measures.Beats shows it in some time with two points; then "5.1" (the minimal
    # form) is a bar and a beat too, not seconds.
    times = [
        row[columns[name]].strip()
        for _, row in rows[1:]
        for name in ("start", "end", "length")
        if name in columns and columns[name] < len(row)
    ]
    beats = any(t.count(".") == 2 and _BEATS.fullmatch(t) for t in times)
    read_row = _RowReader(columns, beats, sample_rate)
    samples = False
    for number, row in rows[1:]:
        if number in bad_lines or not any(cell.strip() for cell in row):
            continue
        try:
            event, in_samples = read_row(row)
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        result.events.append(event)
        samples = samples or in_samples
    if samples:
        assert sample_rate is not None
        result.warnings.append(
            ParseIssue(
                path,
                0,
                f"whole-number times read as samples at {format_number(sample_rate)} Hz "
                "(REAPER's Samples time unit)",
            )
        )
    return result


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Each CSV row with the line it starts on (a quoted name may hold a line break)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    start = 1
    for row in reader:
        if row:
            rows.append((start, row))
        start = reader.line_num + 1
    return rows


class _RowReader:
    """A list's rows to events, its columns and sample rate looked up once."""

    def __init__(self, columns: dict[str, int], beats: bool, sample_rate: float | None):
        self.kind, self.name, self.start, self.end = (
            columns.get(key, -1) for key in ("#", "name", "start", "end")
        )
        self.beats = beats
        self.sample_rate = sample_rate
        self.samples = samples_reader(sample_rate) if sample_rate else None

    def __call__(self, row: list[str]) -> tuple[LabelEvent, bool]:
        def field(k: int) -> str:
            return row[k].strip() if 0 <= k < len(row) else ""

        kind = field(self.kind).upper()
        end_text = field(self.end)
        region = kind.startswith("R") or (not kind.startswith("M") and bool(end_text))
        what = "region" if region else "marker"
        start, start_samples = self._time(field(self.start), "start", what)
        end, end_samples = self._time(end_text, "end", what) if region else (start, False)
        if ratio_less(end, start):
            raise ValueError(
                f"the region ends ({format_number(ratio_float(end))} s) before it starts "
                f"({format_number(ratio_float(start))} s)"
            )
        name = field(self.name)
        if not name:
            raise ValueError(f"the {what} has no name (its name is its class): left out")
        check_class_name(name)
        return (
            LabelEvent("", ratio_float(start), ratio_float(end), name),
            start_samples or end_samples,
        )

    def _time(self, text: str, name: str, what: str) -> tuple[Ratio, bool]:
        """A time and whether it is in samples; ValueError saying why it cannot be read."""
        if not self.beats:
            # The usual forms first: samples, seconds or m:ss.fff (never Measures.Beats, with
            # two points, or timecode, with four fields).
            if text.isdigit() and text.isascii():
                if self.samples is not None:
                    return self.samples(text), True
            else:
                found = plain_time(text)
                if found is not None:
                    return found, False
        if not text:
            raise ValueError(f"the {what}'s {name.capitalize()} is empty")
        if _BEATS.fullmatch(text) or (self.beats and re.fullmatch(r"\d+(?:\.\d+)?", text)):
            like = "" if _BEATS.fullmatch(text) else " (as this list's other times are)"
            raise ValueError(
                f"{name.capitalize()} {text!r} is in Measures.Beats{like}, which cannot be "
                f"converted to seconds without the project's tempo map; {_AGAIN}"
            )
        if _TIMECODE.fullmatch(text):
            raise ValueError(
                f"{name.capitalize()} {text!r} is timecode with frames, which needs the "
                f"project's frame rate; {_AGAIN}"
            )
        try:
            if ":" in text:
                return clock_ratio(text), False
            if text.isascii() and text.isdigit():
                if self.samples is None:
                    raise ValueError(
                        f"{text!r} is a whole number of samples (REAPER's Samples time unit), "
                        "which needs the recording's sample rate: import the list with its "
                        "recording"
                    )
                return self.samples(text), True
            return seconds_ratio(text), False
        except ValueError as exc:
            raise ValueError(f"{name.capitalize()}: {exc}") from None


def write(events: Sequence[LabelEvent], path: Path, *, duration: float | None = None) -> None:
    """Write regions (and markers for zero-length events) in Minutes:Seconds; ``duration`` is
    accepted for symmetry."""
    check_writable(events, NAME)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    regions = markers = 0
    for e in events:
        start, end = exact(e.onset), exact(e.offset)
        if end == start:
            markers += 1
            writer.writerow([f"M{markers}", e.label, format_clock(start), "", "", ""])
        else:
            regions += 1
            writer.writerow(
                [
                    f"R{regions}",
                    e.label,
                    format_clock(start),
                    format_clock(end),
                    format_clock(end - start),
                    "",
                ]
            )
    write_text(path, out.getvalue())
