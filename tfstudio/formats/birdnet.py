"""BirdNET-Analyzer results as CSV: what ``--rtype csv`` and ``--rtype kaleidoscope`` write.

``--rtype csv`` writes ``<stem>.BirdNET.results.csv`` per audio file (or one combined table)
under the header ``Start (s),End (s),Scientific name,Common name,Confidence``, newer versions
with a final ``File`` column (the audio path as BirdNET was given it) and perhaps more columns
after it (ignored). BirdNET's ``--rtype kaleidoscope`` writes ``INDIR,FOLDER,IN FILE,OFFSET,
DURATION,scientific_name,common_name,confidence,lat,lon,week,overlap,sensitivity``: the event
is OFFSET to OFFSET + DURATION in FOLDER/IN FILE. Columns are found by name (any case, ``_``
as a space), so ``label_column`` (``tfstudio import --label-column``) names either table's
columns the same way, e.g. ``Scientific name``; the class is the Common name by default.

A row with a confidence (0 to 1) is a detection with it; an empty confidence is a label. The
recording is the File (or FOLDER/IN FILE) as written, for the import to find by path, name or
folders; ``""`` in a results file without a File column, whose name then says whose it is.
BirdNET's "nocall" placeholder (nocall as both names) is no event, and a header repeated in
concatenated files is skipped. BirdNET writes its fields unquoted, so a comma in a name or a
path makes a row longer than its header: the row is read the one way in which its times and
confidence are numbers (preferring a Scientific name without a comma, as binomials are, or the
same as the Common name, as a custom classifier's classes are); a row that cannot be told apart
so is reported. Quoted fields (as csv writers quote them) read as usual. Every bad row costs
that row only, reported with its line.

Export: one file in the ``--rtype csv`` shape with the File column: the class as the Common
name, the Scientific name empty (tfstudio does not know it), the confidence of a detection
(empty for a label), and the recording's name; fields quoted as Python's csv module quotes
them. There is no place for a frequency band.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    checked,
    column_key,
    format_number,
    format_time,
    parse_confidence,
    parse_number,
    read_table,
    write_lines,
)

NAME = "birdnet"
PER_RECORDING = False
SUFFIX = ".BirdNET.results.csv"
READ_OPTIONS = frozenset({"label_column"})
HEADER = ("Start (s)", "End (s)", "Scientific name", "Common name", "Confidence", "File")
KALEIDOSCOPE_HEADER = (
    "INDIR",
    "FOLDER",
    "IN FILE",
    "OFFSET",
    "DURATION",
    "scientific_name",
    "common_name",
    "confidence",
    "lat",
    "lon",
    "week",
    "overlap",
    "sensitivity",
)
NO_CALL = "nocall"
# More fields than the header has columns are read by trying where the commas belong; beyond
# this many the row is reported instead (the ways to try grow fast).
MAX_EXTRA_FIELDS = 6

_SCIENTIFIC = "scientific name"
_COMMON = "common name"
_CONFIDENCE = "confidence"
# Each table's columns without which it is not BirdNET's (keys as _key makes them).
_CSV_COLUMNS = ("start (s)", "end (s)", _SCIENTIFIC, _COMMON, _CONFIDENCE)
_KALEIDOSCOPE_COLUMNS = ("in file", "offset", "duration", _SCIENTIFIC, _COMMON, _CONFIDENCE)
_EXPECTED = (
    f"expected BirdNET-Analyzer's '{','.join(HEADER[:5])}[,File]' (--rtype csv) or "
    f"'{','.join(KALEIDOSCOPE_HEADER[:8])},…' (--rtype kaleidoscope)"
)


def _key(name: str) -> str:
    """A column name as matched: case, runs of spaces and ``_`` for a space do not count (the
    two tables spell ``Common name`` and ``common_name``)."""
    return column_key(name.lstrip("\ufeff").replace("_", " "))


def _cells(line: str) -> list[str]:
    """A CSV line's fields as written; a line on its own, so a stray quote costs one row."""
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return line.split(",")


def _shape(keys: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """Which of BirdNET's tables a header is ("csv" or "kaleidoscope") and its required
    columns, or None."""
    if "start (s)" in keys or "end (s)" in keys:
        return "csv", _CSV_COLUMNS
    if "in file" in keys and ("offset" in keys or "duration" in keys):
        return "kaleidoscope", _KALEIDOSCOPE_COLUMNS
    return None


def looks_like(text: str) -> bool:
    """Whether a label file's first line is the header of one of BirdNET's CSV tables."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    if "," not in first:
        return False
    keys = [_key(cell) for cell in _cells(first)]
    found = _shape(keys)
    return found is not None and all(name in keys for name in found[1])


def recording_aliases(name: str) -> list[str]:
    """The other name a File cell may mean: without the spaces around it (the cell as written
    is looked for first)."""
    stripped = name.strip()
    return [stripped] if stripped and stripped != name else []


def read(path: Path, *, label_column: str | None = None) -> ParseResult:
    """Events from a BirdNET-Analyzer CSV or Kaleidoscope table; bad rows become issues.
    ``label_column`` names the column holding the labels (default: the Common name)."""
    path = Path(path)
    read = read_table(path, NAME)
    lines, first, bad_lines, result = read.lines, read.header, read.bad_lines, read.result
    if first is None:
        return result
    table = _Table.of(path, _cells(lines[first - 1]), label_column)
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip() or number in bad_lines:
            continue
        cells = _cells(line)
        if cells[0].strip()[-1:] == table.names[0][-1:] and table.is_header(cells):
            continue  # the header again: tables joined by hand
        try:
            event = table.event(cells)
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
            continue
        if event is not None:
            result.events.append(event)
    result.issues.sort(key=lambda issue: issue.line)
    return result


@dataclass(frozen=True)
class _Table:
    """Where each field of a BirdNET table's rows is, from its header."""

    names: tuple[str, ...]  # the header as written (for messages)
    keys: tuple[str, ...]
    start: int
    end: int | None  # the csv table's End (s); None: the Kaleidoscope table's DURATION
    duration: int | None
    label: int
    confidence: int
    scientific: int
    common: int
    file: tuple[int, ...]  # File, or FOLDER and IN FILE, joined with "/"
    # Columns that may hold an unquoted comma (names and paths), in header order.
    text: tuple[int, ...]
    # How many fields a row must have: up to the last column an event needs.
    required: int

    @classmethod
    def of(cls, path: Path, header: list[str], label_column: str | None) -> _Table:
        names = tuple(cell.lstrip("\ufeff").strip() for cell in header)
        while len(names) > 1 and not names[-1]:
            names = names[:-1]  # a trailing comma names no column
        keys = tuple(_key(name) for name in names)
        found = _shape(list(keys))
        if found is None:
            raise FormatError(
                path,
                f"not a BirdNET-Analyzer results table: its header is '{','.join(names)}'; "
                f"{_EXPECTED}",
            )
        kind, required = found
        missing = [name for name in required if name not in keys]
        if missing:
            raise FormatError(
                path,
                f"not a BirdNET-Analyzer results table: its header has no "
                f"{', '.join(repr(_spelled(kind, name)) for name in missing)} column; {_EXPECTED}",
            )

        def at(name: str) -> int:
            return keys.index(name)

        if label_column is None:
            label = at(_COMMON)
        elif _key(label_column) in keys:
            label = at(_key(label_column))
        else:
            raise FormatError(
                path,
                f"no column {label_column!r} (its columns: {', '.join(n for n in names if n)})",
            )
        if kind == "csv":
            file = (at("file"),) if "file" in keys else ()
            text = tuple(sorted({at(_SCIENTIFIC), at(_COMMON), *file}))
            return cls(
                names,
                keys,
                start=at("start (s)"),
                end=at("end (s)"),
                duration=None,
                label=label,
                confidence=at(_CONFIDENCE),
                scientific=at(_SCIENTIFIC),
                common=at(_COMMON),
                file=file,
                text=text,
                required=max(at("start (s)"), at("end (s)"), label, at(_CONFIDENCE)) + 1,
            )
        folders = tuple(at(name) for name in ("indir", "folder") if name in keys)
        file = (*((at("folder"),) if "folder" in keys else ()), at("in file"))
        return cls(
            names,
            keys,
            start=at("offset"),
            end=None,
            duration=at("duration"),
            label=label,
            confidence=at(_CONFIDENCE),
            scientific=at(_SCIENTIFIC),
            common=at(_COMMON),
            file=file,
            text=tuple(sorted({*folders, at("in file"), at(_SCIENTIFIC), at(_COMMON)})),
            required=max(at("offset"), at("duration"), label, at(_CONFIDENCE)) + 1,
        )

    def is_header(self, cells: list[str]) -> bool:
        """Whether a row is this table's header again."""
        return tuple(_key(cell) for cell in cells[: len(self.keys)]) == self.keys

    def event(self, cells: list[str]) -> LabelEvent | None:
        """The row's event, None for BirdNET's "nocall" placeholder; ValueError saying why a
        row cannot be read."""
        width = len(self.keys)
        while len(cells) > width and not cells[-1].strip():
            cells = cells[:-1]  # a trailing comma holds nothing
        if len(cells) < self.required:
            missing = ", ".join(self.names[len(cells) : self.required])
            raise ValueError(
                f"expected {width} comma-separated fields as in the header, found {len(cells)} "
                f"({missing} missing)"
            )
        if len(cells) <= width:
            return self._event(cells + [""] * (width - len(cells)))
        return self._with_commas(cells)

    def _with_commas(self, cells: list[str]) -> LabelEvent | None:
        """A row longer than the header, read with its extra commas inside names or paths."""
        width = len(self.keys)
        extra = len(cells) - width
        longer = (
            f"{len(cells)} fields for the header's {width} columns (a comma in a name or path "
            "that is not in double quotes?)"
        )
        if extra > MAX_EXTRA_FIELDS:
            raise ValueError(longer)
        readings: dict[int, set[LabelEvent | None]] = {}
        for split in _splits(extra, len(self.text)):
            row = self._joined(cells, split)
            try:
                event = self._event(row)
            except ValueError:
                continue
            readings.setdefault(self._likelihood(row), set()).add(event)
        if not readings:
            raise ValueError(longer)
        best = readings[min(readings)]
        if len(best) > 1:
            raise ValueError(
                f"{len(cells)} fields for the header's {width} columns: a comma that is not in "
                "double quotes, in a name or path that cannot be told; put that field in double "
                "quotes"
            )
        return next(iter(best))

    def _joined(self, cells: list[str], split: tuple[int, ...]) -> list[str]:
        """The row with ``split[i]`` more fields joined into text column ``self.text[i]``."""
        more = dict(zip(self.text, split, strict=True))
        row: list[str] = []
        at = 0
        for column in range(len(self.keys)):
            taken = 1 + more.get(column, 0)
            row.append(",".join(cells[at : at + taken]))
            at += taken
        return row

    def _likelihood(self, row: list[str]) -> int:
        """0 for the likeliest reading of a row with extra commas: the Scientific name the same
        as the Common name (a custom classifier's class); 1 for a Scientific name without a
        comma (a binomial); 2 otherwise."""
        scientific = row[self.scientific].strip()
        if scientific == row[self.common].strip():
            return 0
        return 1 if "," not in scientific else 2

    def _event(self, row: list[str]) -> LabelEvent | None:
        names = self.names
        onset = parse_number(row[self.start], names[self.start])
        if self.end is not None:
            offset = parse_number(row[self.end], names[self.end])
            if offset < onset:
                raise ValueError(
                    f"{names[self.end]} {format_number(offset)} is before "
                    f"{names[self.start]} {format_number(onset)}"
                )
        else:
            assert self.duration is not None
            offset = onset + parse_number(row[self.duration], names[self.duration])
        if (
            row[self.scientific].strip().lower() == NO_CALL
            and row[self.common].strip().lower() == NO_CALL
        ):
            return None
        label = row[self.label].strip()
        if not label:
            raise ValueError(f"empty label ({names[self.label]} column)")
        label = check_class_name(label)
        recording = self._recording(row)
        score = row[self.confidence].strip()
        if not score:
            return LabelEvent(recording, onset, offset, label)
        confidence = parse_confidence(score)
        if not 0 <= confidence <= 1:
            raise ValueError(
                f"confidence {score} is outside 0..1 (BirdNET's confidences are probabilities)"
            )
        return LabelEvent(recording, onset, offset, label, source="model", confidence=confidence)

    def _recording(self, row: list[str]) -> str:
        if len(self.file) == 1:
            return row[self.file[0]]
        if not self.file:
            return ""
        folder, name = (row[k] for k in self.file)
        folder = folder.strip().rstrip("/\\")
        return f"{folder}/{name.strip()}" if folder and name.strip() else name


def _spelled(kind: str, key: str) -> str:
    """A required column's name as the table of ``kind`` spells it."""
    header = HEADER if kind == "csv" else KALEIDOSCOPE_HEADER
    return next(name for name in header if _key(name) == key)


def _splits(extra: int, columns: int) -> Iterator[tuple[int, ...]]:
    """Every way to share ``extra`` fields among ``columns`` columns (each may take none)."""
    for bars in itertools.combinations(range(extra + columns - 1), columns - 1):
        edges = (-1, *bars, extra + columns - 1)
        yield tuple(edges[k + 1] - edges[k] - 1 for k in range(columns))


def write(events: Iterable[LabelEvent], path: Path) -> None:
    """Write the events in the order given (``--rtype csv`` with the File column); ValueError
    before anything is written for an event the format cannot hold."""
    text_lines = list(lines(events))
    write_lines(path, text_lines)


def lines(events: Iterable[LabelEvent]) -> Iterator[str]:
    """The file's lines (without line breaks) as :func:`write` writes them, made as the events
    come; ValueError at the first event the format cannot hold."""
    yield ",".join(HEADER)
    for number, e in enumerate(checked(events, NAME, tab_separated=False), start=1):
        try:
            confidence = _confidence(e.confidence)
            if any(c in text for text in (e.label, e.recording) for c in "\n\r"):
                raise ValueError("a line break in a label or file name cannot be written")
        except ValueError as exc:
            raise ValueError(
                f"{NAME}: event {number} ({e.label!r} at {e.onset!r} s in {e.recording!r}): {exc}"
            ) from None
        yield ",".join(
            (
                format_time(e.onset),
                format_time(e.offset),
                "",
                _field(e.label),
                confidence,
                _field(e.recording),
            )
        )


def _confidence(value: float | None) -> str:
    if value is None:
        return ""
    if not 0 <= value <= 1:  # also refuses nan
        raise ValueError(
            f"confidence {value!r} is outside 0..1, which BirdNET's tables (and their readers) "
            "take as probabilities"
        )
    return format_time(value)


def _field(text: str) -> str:
    """A field as Python's csv module writes it (minimal quoting): in double quotes, those
    inside doubled, when it holds a comma or a double quote."""
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text
