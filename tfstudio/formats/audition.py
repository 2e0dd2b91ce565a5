"""Adobe Audition marker list: the Markers panel's "Export selected markers to CSV", one file
per recording.

Audition names the file ``.csv`` but separates its fields with tabs, under the header
``Name<TAB>Start<TAB>Duration<TAB>Time Format<TAB>Type<TAB>Description``; a file written by
another tool with commas (and quoted fields) reads the same. Each marker is an event of the
class its Name names, from Start to Start + Duration: a point marker (Duration 0) is a
zero-length event, as the other readers of point markers make it; the Type (Cue, Subclip, CD
Track, Cart Timer) does not matter. Times are read in the row's Time Format: ``decimal``
(``m:ss.fff``, ``h:mm:ss.fff`` from an hour on), samples (``44100 Hz``, or ``samples`` at the
recording's rate), SMPTE or CD frames (``30 fps``, ``29.97 fps``, ``drop`` for drop-frame,
``75 fps``); bars and beats cannot be converted without the session's tempo and are refused,
row by row. A Description that is a plain decimal number from 0 to 1 is a detector's score
(the Animal2Vec meerkat call detector writes its markers so): such a marker is a detection
with that confidence. Other descriptions are left out, with one warning.

Export: the same six columns, decimal times exact to the float (at least to the
millisecond, as Audition shows them), Type ``Cue`` (Audition's own export writes range
markers as Cue too), and a detection's confidence as its Description.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
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
    format_time,
    read_text,
    refuse_other_format,
    write_text,
)
from tfstudio.formats.clock import (
    Ratio,
    clock_ratio,
    exact,
    format_clock,
    frame_rate,
    parse_frames,
    ratio_float,
    ratio_sum,
    samples_reader,
)

NAME = "audition"
PER_RECORDING = True
SUFFIX = ".csv"
READ_OPTIONS = frozenset({"sample_rate"})
HEADER = ("Name", "Start", "Duration", "Time Format", "Type", "Description")
# A detector's score in the Description: a decimal number from 0 to 1, with its point.
_SCORE = re.compile(r"\d*\.\d+|\d+\.")
_HZ = re.compile(r"(\d+(?:\.\d+)?)\s*hz")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*fps")
_BEATS = "cannot be converted to seconds without the session's tempo"


def looks_like(text: str) -> bool:
    """Whether a label file's first line is an Audition marker list's header."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    cells = [column_key(cell.strip('"')) for cell in re.split(r"[\t,]", first.lstrip("\ufeff"))]
    return cells[:2] == ["name", "start"] and ("time format" in cells or "duration" in cells)


def read(path: Path, *, sample_rate: float | None = None) -> ParseResult:
    """Events from an Audition marker list; bad rows become issues. ``sample_rate`` (the
    recording's) reads a ``samples`` time format that does not name its rate."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, NAME)
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    lines = text.split("\n")
    header_at = next((n for n, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        return result  # an empty marker list
    header = lines[header_at].lstrip("\ufeff")
    tabs = "\t" in header
    columns = {column_key(name.strip('"')): k for k, name in enumerate(_split(header, tabs))}
    if "name" not in columns or "start" not in columns:
        raise FormatError(
            path,
            "not an Adobe Audition marker list: its first line is not the header "
            f"'{chr(9).join(HEADER)}'",
        )
    marker = _MarkerReader(columns, sample_rate)
    descriptions = 0
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip() or number in bad_lines:
            continue
        try:
            event, described = marker(_split(line, tabs))
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        result.events.append(event)
        descriptions += described
    if descriptions:
        result.warnings.append(
            ParseIssue(
                path,
                0,
                f"{descriptions} marker description(s) left out: tfstudio keeps the name "
                "(the class) and the times",
            )
        )
    return result


def _split(line: str, tabs: bool) -> list[str]:
    if tabs:
        return line.split("\t")
    return next(csv.reader([line]), [])


class _MarkerReader:
    """A marker list's rows to events, the columns and each time format's reader looked up
    once (a list has a million rows and usually one time format)."""

    def __init__(self, columns: dict[str, int], sample_rate: float | None):
        self.name, self.start, self.duration, self.format, self.description = (
            columns.get(key, -1)
            for key in ("name", "start", "duration", "time format", "description")
        )
        self.sample_rate = sample_rate
        self.parsers: dict[str, Callable[[str], Ratio] | str] = {}

    def __call__(self, fields: list[str]) -> tuple[LabelEvent, bool]:
        def field(k: int) -> str:
            return fields[k].strip() if 0 <= k < len(fields) else ""

        time_format = field(self.format)
        parse = self.parsers.get(time_format)
        if parse is None:
            try:
                parse = _time_parser(time_format, self.sample_rate)
            except ValueError as exc:
                parse = str(exc)
            self.parsers[time_format] = parse
        if isinstance(parse, str):
            raise ValueError(parse)
        try:
            start = parse(field(self.start))
        except ValueError as exc:
            raise ValueError(f"Start: {exc}") from None
        end = start
        length = field(self.duration)
        if length:
            try:
                end = ratio_sum(start, parse(length))
            except ValueError as exc:
                raise ValueError(f"Duration: {exc}") from None
        name = field(self.name)
        if not name:
            raise ValueError("the marker has no name (its name is its class): left out")
        check_class_name(name)
        onset, offset = ratio_float(start), ratio_float(end)
        description = field(self.description)
        if description and _SCORE.fullmatch(description) and 0 <= float(description) <= 1:
            score = float(description)
            return LabelEvent("", onset, offset, name, source="model", confidence=score), False
        return LabelEvent("", onset, offset, name), bool(description)


def _time_parser(time_format: str, sample_rate: float | None) -> Callable[[str], Ratio]:
    """How times of a row in ``time_format`` read, or ValueError saying why they cannot."""
    key = time_format.lower()
    if not key or key.startswith("decimal"):
        return clock_ratio
    if "bar" in key or "beat" in key:
        raise ValueError(
            f"times in {time_format!r} {_BEATS}; set Audition's time display to Decimal "
            "(View > Time Display Format > Decimal) and export the markers again"
        )
    hz = _HZ.search(key)
    if hz or "sample" in key:
        rate = float(hz.group(1)) if hz else sample_rate
        if not rate:
            raise ValueError(
                f"times in samples ({time_format!r}) need the recording's sample rate: import "
                "the file with its recording (or export the markers in Decimal time)"
            )
        return samples_reader(rate)
    fps = _FPS.search(key)
    if fps:
        rate_of_frames = frame_rate(fps.group(1))
        drop = "drop" in key
        return lambda text: parse_frames(text, rate_of_frames, drop=drop).as_integer_ratio()
    raise ValueError(
        f"time format {time_format!r} is not one tfstudio reads (decimal, samples, SMPTE or CD "
        "frames); export the markers in Decimal time"
    )


def write(events: Sequence[LabelEvent], path: Path, *, duration: float | None = None) -> None:
    """Write the events as markers in decimal time; ``duration`` is accepted for symmetry."""
    check_writable(events, NAME)
    rows = ["\t".join(HEADER)]
    for e in events:
        start = exact(e.onset)
        length = exact(e.offset) - start
        description = ""
        if e.confidence is not None:
            description = format_time(e.confidence)
            if not (_SCORE.fullmatch(description) and 0 <= e.confidence <= 1):
                raise ValueError(
                    f"{NAME}: confidence {format_number(e.confidence)} of {e.label!r} at "
                    f"{e.onset!r} s is not from 0 to 1, which is how Audition markers carry a "
                    "score"
                )
        rows.append(
            f"{e.label}\t{format_clock(start)}\t{format_clock(length)}\tdecimal\tCue\t{description}"
        )
    write_text(path, "".join(row + "\n" for row in rows))
