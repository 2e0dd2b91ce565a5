"""Wildlife Acoustics Kaleidoscope's own results table: ``id.csv`` (``cluster.csv`` alike, and
the ``all_id.csv`` users join from several runs).

Kaleidoscope Pro writes one row per analysed segment: ``INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,
OFFSET,DURATION,…,AUTO ID*,PULSES,MATCHING,MATCH RATIO,MARGIN,ALTERNATE 1,…,MANUAL ID``; the
columns and their order vary with the version and the settings, so they are found by name:
case, a ``*`` (``AUTO ID*``, ``MANUAL ID*``, ``TIME*``), ``_`` or ``.`` for a space (R's
``read.csv`` writes ``IN.FILE``, ``AUTO.ID.``) do not count, and the other columns are ignored.
A table joined from versions that spell a column two ways (``AUTO ID*`` and ``AUTO ID``) has
both; each row takes the first of them that is not empty. An ``NA`` cell (what R writes for a
missing value when users join tables) is an empty one.

Each row is one event: OFFSET to OFFSET + DURATION seconds of the recording FOLDER/IN FILE under
INDIR (joined with ``/`` as written, ``P:\\Site\\CM-06\\DATA/x.wav``), which the import finds by
path, by name, and among recordings of one name (a file name in each site's folder) by the
folders its path ends with; Kaleidoscope splits long files, so one recording has many rows.
CHANNEL (0 for the first, as Kaleidoscope counts) is kept as the event's channel (the import
says when a label was on another channel than the first).

What a row holds:

- MANUAL ID (what the user typed when vetting) is a human label of that class, taken as written
  -- ``Noise`` or ``NoID`` typed by a person is kept too: it is their label, and one made in
  tfstudio must come back from an export. ``label_column`` (``tfstudio import --label-column``)
  names another column for the labels (e.g. a species column added in a spreadsheet).
- AUTO ID* (Kaleidoscope's classifier) is a detection of the import's run, to review:
  Kaleidoscope's ``NoID`` and ``Noise`` are its "no identification", not a detection, and are
  skipped, counted in one warning. A row with both IDs gives both, the label and the detection,
  as tfstudio's review sees a detection beside a label. With ``label_column`` naming AUTO ID
  itself, the automatic IDs are taken as labels and the table gives no detections.
- A detection's confidence is its MATCH RATIO, the fraction (0 to 1) of the segment's pulses
  that matched the identified species: the number Kaleidoscope users filter their IDs on. A
  ratio written as a percentage (``83%``, as a spreadsheet saves a percent cell) is read as
  one; a bare number above 1 (up to 100) can only be one too, and is read so, said in one
  warning. Without a MATCH RATIO (older versions), MATCHING over PULSES (the counts it is made
  of), or a MATCHING written as a fraction itself; without either the detection has no
  confidence (as a Label Studio prediction without a score): inventing one would rank it
  against scored ones.
- A value of several species codes (``MYOLUC,EPTFUS``) is one class named as written: whether
  the user meant two species calling or could not tell them apart cannot be told from the
  table, so it is kept as typed and said in one warning, for the user to rename or split.
- A row with neither ID (a segment nobody identified) gives no event.

Every bad row costs that row only, reported with its line and field: a missing IN FILE, an
OFFSET or DURATION that is not a non-negative number, a bad CHANNEL (a row whose cells are
shifted shows there first). A MATCH RATIO that cannot be read costs only the detection, a
label that cannot name a class only the label. A header repeated in joined tables is skipped;
rows longer than the header (an unquoted comma in a path) are reported. A header without IN
FILE, OFFSET, DURATION and an ID column is refused, naming the columns expected.

Export: ``INDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,AUTO ID*,MATCH RATIO,MANUAL ID``, which
Kaleidoscope users' scripts and spreadsheets read as they read an id.csv. A label (a person's,
or an accepted detection) is its MANUAL ID; a detection its AUTO ID* with its confidence as the
MATCH RATIO (an accepted one, exported as a detection, both, as a vetted row reads). The
recording's path (its file, given by the export, else its name) is split into IN FILE, FOLDER
(its folder's name, the site in a deployment of one folder per site) and INDIR (the folders
above), so same-named files in different site folders come back to their own recordings.
CHANNEL is 0 (a project keeps labels per recording); fields are quoted as Python's csv module
quotes them. Refused before anything is written: a confidence outside 0..1 (it would read back
as a percentage), a detection of a class named NoID or Noise (it would read back as no
detection), a class named NA (R's missing value). There is no place for a frequency band.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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
    parse_number,
    read_table,
    write_lines,
)

NAME = "kaleidoscope"
PER_RECORDING = False
SUFFIX = ".id.csv"
READ_OPTIONS = frozenset({"label_column"})
HEADER = (
    "INDIR",
    "FOLDER",
    "IN FILE",
    "CHANNEL",
    "OFFSET",
    "DURATION",
    "AUTO ID*",
    "MATCH RATIO",
    "MANUAL ID",
)
# Kaleidoscope's automatic IDs that identify nothing (compared in lower case).
NO_ID = frozenset({"noid", "noise"})
# R's missing value, as users' scripts write it into joined tables.
MISSING = "NA"

_INDIR, _FOLDER, _FILE, _CHANNEL = "indir", "folder", "in file", "channel"
_OFFSET, _DURATION = "offset", "duration"
_AUTO, _MANUAL = "auto id", "manual id"
_RATIO, _MATCHING, _PULSES = "match ratio", "matching", "pulses"
_SPELLED = {
    _FILE: "IN FILE",
    _OFFSET: "OFFSET",
    _DURATION: "DURATION",
}
_EXPECTED = (
    "expected Kaleidoscope's id.csv: 'INDIR,OUTDIR,FOLDER,IN FILE,CHANNEL,OFFSET,DURATION,…,"
    "AUTO ID*,…,MANUAL ID' (IN FILE, OFFSET, DURATION and AUTO ID* or MANUAL ID, in any order)"
)


def _key(name: str) -> str:
    """A column name as matched: case, ``*``, ``_`` or ``.`` for a space and runs of spaces
    do not count (``AUTO ID*``, ``AUTO ID``, ``AUTO.ID.`` are one column)."""
    cleaned = name.lstrip("\ufeff").strip().strip('"')
    return column_key(cleaned.replace("*", " ").replace("_", " ").replace(".", " "))


def _cells(line: str) -> list[str]:
    """A CSV line's fields as written; a line on its own, so a stray quote costs one row."""
    if '"' not in line:
        return line.split(",")  # the common case (Kaleidoscope quotes only where needed)
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return line.split(",")


def _has_ids(keys: Iterable[str]) -> bool:
    found = set(keys)
    return {_FILE, _OFFSET, _DURATION} <= found and bool({_AUTO, _MANUAL} & found)


def looks_like(text: str) -> bool:
    """Whether a label file's first line is the header of a Kaleidoscope id.csv: IN FILE,
    OFFSET, DURATION and an AUTO ID or MANUAL ID column (BirdNET's ``--rtype kaleidoscope``
    table has no ID column: it is birdnet's)."""
    first = next((line for line in text[:65536].split("\n") if line.strip()), "")
    return "," in first and _has_ids(_key(cell) for cell in _cells(first))


def recording_aliases(name: str) -> list[str]:
    """The other name a row's recording may have: its file name without spaces around it (a
    spreadsheet may pad a cell; the name as written is looked for first)."""
    folder, slash, base = name.rpartition("/")
    stripped = base.strip()
    return [f"{folder}{slash}{stripped}"] if stripped and stripped != base else []


def read(path: Path, *, label_column: str | None = None) -> ParseResult:
    """Events from a Kaleidoscope id.csv: MANUAL IDs as labels, AUTO IDs as detections with
    their MATCH RATIO; bad rows become issues. ``label_column`` names the column holding the
    labels (default: MANUAL ID)."""
    path = Path(path)
    read = read_table(path, NAME)
    lines, first, bad_lines, result = read.lines, read.header, read.bad_lines, read.result
    if first is None:
        return result
    table = _Table.of(path, _cells(lines[first - 1]), label_column)
    tally = _Tally()
    events = result.events
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip() or number in bad_lines:
            continue
        cells = _cells(line)
        if table.is_header(cells):
            continue  # the header again: tables joined by hand
        reasons = table.read_row(cells, events, tally)
        if reasons:
            result.issues.append(ParseIssue(path, number, "; ".join(reasons)))
    result.issues.sort(key=lambda issue: issue.line)
    result.warnings.extend(ParseIssue(path, 0, reason) for reason in tally.warnings(table))
    return result


@dataclass
class _Tally:
    """What a read skipped or read in a way worth saying, counted for one warning each."""

    no_id: int = 0  # AUTO IDs NoID or Noise
    # Bare ratios above 1, read as percentages, per column.
    percentages: Counter[str] = field(default_factory=Counter)
    several: list[str] = field(default_factory=list)  # class names of several species codes

    def warnings(self, table: _Table) -> list[str]:
        said = []
        if self.no_id:
            what = "labels" if table.label_is_auto else "detections"
            said.append(
                f"{self.no_id} row(s) whose {table.auto_name} is NoID or Noise "
                f"(Kaleidoscope's 'no identification'): not {what}, skipped"
            )
        for column, count in self.percentages.items():
            said.append(
                f"{count} {column} value(s) above 1 read as percentages (83 as 0.83): a match "
                "ratio is a fraction of the pulses"
            )
        if self.several:
            names = sorted(set(self.several))
            shown = ", ".join(repr(n) for n in names[:3]) + (" …" if len(names) > 3 else "")
            said.append(
                f"{len(self.several)} ID(s) name several species ({shown}): each is one class "
                "named as written; rename or split those classes if they mean several calls"
            )
        return said


@dataclass(frozen=True)
class _Table:
    """Where each field of an id.csv's rows is, from its header: per field, every column of
    that name (a joined table may have two spellings of one), first first."""

    names: tuple[str, ...]  # the header as written (for messages)
    keys: tuple[str, ...]
    file: tuple[int, ...]
    offset: tuple[int, ...]
    duration: tuple[int, ...]
    indir: tuple[int, ...]
    folder: tuple[int, ...]
    channel: tuple[int, ...]
    label: tuple[int, ...]  # the labels' column(s): MANUAL ID or label_column
    auto: tuple[int, ...]  # AUTO ID, () when it is the label column
    ratio: tuple[int, ...]
    matching: tuple[int, ...]
    pulses: tuple[int, ...]
    label_is_auto: bool  # the labels are AUTO IDs (NoID and Noise skipped as labels)

    @classmethod
    def of(cls, path: Path, header: list[str], label_column: str | None) -> _Table:
        names = tuple(cell.lstrip("\ufeff").strip() for cell in header)
        while len(names) > 1 and not names[-1]:
            names = names[:-1]  # a trailing comma names no column
        keys = tuple(_key(name) for name in names)

        def at(key: str) -> tuple[int, ...]:
            return tuple(k for k, name in enumerate(keys) if name == key)

        missing = [_SPELLED[key] for key in (_FILE, _OFFSET, _DURATION) if not at(key)]
        has_ids = bool(at(_AUTO) or at(_MANUAL) or label_column)
        if missing or not has_ids:
            if not has_ids:
                missing.append("AUTO ID* or MANUAL ID")
            # BirdNET-Analyzer's --rtype kaleidoscope table has no ID column: it is birdnet's.
            birdnet = {"scientific name", "common name", "confidence"} <= set(keys)
            hint = (
                " (BirdNET-Analyzer's --rtype kaleidoscope table is --format birdnet)"
                if birdnet
                else ""
            )
            raise FormatError(
                path,
                f"not a Kaleidoscope id.csv: its header has no "
                f"{', '.join(repr(name) for name in missing)} column; {_EXPECTED}{hint}",
            )
        label = at(_MANUAL)
        if label_column is not None:
            label = at(_key(label_column))
            if not label:
                raise FormatError(
                    path,
                    f"no column {label_column!r} (its columns: {', '.join(n for n in names if n)})",
                )
        label_is_auto = bool(label) and label == at(_AUTO)
        return cls(
            names,
            keys,
            file=at(_FILE),
            offset=at(_OFFSET),
            duration=at(_DURATION),
            indir=at(_INDIR),
            folder=at(_FOLDER),
            channel=at(_CHANNEL),
            label=label,
            auto=() if label_is_auto else at(_AUTO),
            ratio=at(_RATIO),
            matching=at(_MATCHING),
            pulses=at(_PULSES),
            label_is_auto=label_is_auto,
        )

    @property
    def auto_name(self) -> str:
        columns = self.label if self.label_is_auto else self.auto
        return self.names[columns[0]] if columns else "AUTO ID*"

    def is_header(self, cells: list[str]) -> bool:
        """Whether a row is this table's header again."""
        at = self.offset[0]
        return (
            len(cells) >= len(self.keys)
            and cells[at].strip()[:1].isalpha()  # a number in a row: one look at most rows
            and tuple(_key(cell) for cell in cells[: len(self.keys)]) == self.keys
        )

    @staticmethod
    def _value(cells: list[str], columns: tuple[int, ...]) -> tuple[str, int]:
        """The first of ``columns`` that is filled in the row (stripped; ``NA`` is empty), and
        which; ``("", first)`` when none is. The row has a cell for every column."""
        for k in columns:
            text = cells[k].strip()
            if text and text != MISSING:
                return text, k
        return "", columns[0] if columns else -1

    def read_row(self, cells: list[str], events: list[LabelEvent], tally: _Tally) -> list[str]:
        """Append the row's events; the reasons for what of it could not be read."""
        width = len(self.keys)
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            return [
                f"{len(cells)} fields for the header's {width} columns (a comma in a path or "
                "name that is not in double quotes?)"
            ]
        if len(cells) < width:
            absent = [
                self.names[columns[0]]
                for columns in (self.file, self.offset, self.duration)
                if all(k >= len(cells) for k in columns)
            ]
            if absent:
                return [
                    f"expected {width} comma-separated fields as in the header, found "
                    f"{len(cells)} ({', '.join(absent)} missing)"
                ]
            cells = cells + [""] * (width - len(cells))  # the empty cells Excel leaves out
        try:
            recording, onset, offset, channel = self._where(cells)
        except ValueError as exc:
            return [str(exc)]
        reasons: list[str] = []
        labelled = False
        label, at = self._value(cells, self.label)
        if label and not (self.label_is_auto and label.lower() in NO_ID):
            try:
                name = check_class_name(label)
            except ValueError as exc:
                reasons.append(f"{self.names[at]}: {exc}; the label is not imported")
            else:
                if _several_codes(name):
                    tally.several.append(name)
                events.append(LabelEvent(recording, onset, offset, name, channel=channel))
                labelled = True
        elif label:
            tally.no_id += 1
        if self.auto:
            auto, at = self._value(cells, self.auto)
            if auto.lower() in NO_ID:
                tally.no_id += 1
            elif auto:
                try:
                    name = check_class_name(auto)
                    confidence = self._confidence(cells, tally)
                except ValueError as exc:
                    reasons.append(
                        f"{exc}; the {self.names[at]} {auto!r} detection is not imported"
                        + (f" (its {self.names[self.label[0]]} label is)" if labelled else "")
                    )
                else:
                    events.append(
                        LabelEvent(
                            recording,
                            onset,
                            offset,
                            name,
                            source="model",
                            confidence=confidence,
                            channel=channel,
                        )
                    )
        return reasons

    def _where(self, cells: list[str]) -> tuple[str, float, float, int | None]:
        """The row's recording, onset, offset and channel (1-based); ValueError naming the
        field that cannot be read."""
        name, at = self._value(cells, self.file)
        if not name:
            raise ValueError(f"{self.names[at]} is empty (the recording's file name)")
        name = cells[at]  # as written: a recording may be named " take 1.wav"
        indir, _ = self._value(cells, self.indir)
        folder, _ = self._value(cells, self.folder)
        recording = _join(indir, folder, name)
        text, at = self._value(cells, self.offset)
        onset = parse_number(text, self.names[at])
        text, at = self._value(cells, self.duration)
        offset = onset + parse_number(text, self.names[at])
        channel = None
        text, at = self._value(cells, self.channel)
        if text:
            if not (text.isascii() and text.isdigit()):
                raise ValueError(
                    f"{self.names[at]} {text!r} is not a channel number (0 for the first)"
                )
            channel = int(text) + 1
        return recording, onset, offset, channel

    def _confidence(self, cells: list[str], tally: _Tally) -> float | None:
        """The detection's confidence: MATCH RATIO, else MATCHING / PULSES, else None."""
        text, at = self._value(cells, self.ratio)
        if text:
            return _fraction(text, self.names[at], tally)
        text, at = self._value(cells, self.matching)
        if not text:
            return None
        pulses, pulses_at = self._value(cells, self.pulses)
        if pulses and text.isascii() and text.isdigit():
            count = parse_number(pulses, self.names[pulses_at])
            matching = float(text)
            if count == 0 or matching > count:
                raise ValueError(
                    f"{self.names[at]} {text} of {self.names[pulses_at]} {pulses} is not a "
                    "fraction of the pulses"
                )
            return matching / count
        return _fraction(text, self.names[at], tally)


def _several_codes(name: str) -> bool:
    """Whether a class name is several species codes (``MYOLUC,EPTFUS``, ``LABO; LACI``)."""
    parts = name.replace(";", ",").split(",")
    return len(parts) > 1 and all(p.strip().isalnum() and p.strip().isupper() for p in parts)


def _fraction(text: str, name: str, tally: _Tally) -> float:
    """A match ratio 0..1 from a cell: a fraction, a percentage (``83%``), or a bare number
    above 1 read as one (counted in ``tally``); ValueError saying why not."""
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    value = parse_number(number, name)
    if percent or value > 1:
        if value > 100:
            raise ValueError(
                f"{name} {text} is neither a fraction of the pulses (0 to 1) nor a percentage"
            )
        if not percent:
            tally.percentages[name] += 1
        return value / 100
    return value


def _join(indir: str, folder: str, name: str) -> str:
    """INDIR/FOLDER/IN FILE as one path (``/`` between them; each as written)."""
    path = name
    folder = folder.strip("/\\ ")
    if folder:
        path = f"{folder}/{path}"
    if indir:
        above = indir.rstrip("/\\")  # a root ("/", "C:\\") keeps its place: "/x.wav"
        path = f"{above}/{path}"
    return path


def _split(path: str) -> tuple[str, str, str]:
    """A recording's path as INDIR (the folders above its folder), FOLDER (its folder's name)
    and IN FILE (its file name); either separator."""
    cut = max(path.rfind("/"), path.rfind("\\"))
    if cut < 0:
        return "", "", path
    folders, name = path[:cut], path[cut + 1 :]
    cut = max(folders.rfind("/"), folders.rfind("\\"))
    if cut < 0:
        return "", folders, name
    above = folders[:cut]
    if not above or above.endswith(":"):
        above = folders[: cut + 1]  # the root itself ("/", "C:\\"), so the path reads back
    return above, folders[cut + 1 :], name


def write(
    events: Iterable[LabelEvent], path: Path, *, paths: Mapping[str, str] | None = None
) -> None:
    """Write the events in the order given; ValueError before anything is written for an
    event the format cannot hold. ``paths`` gives a recording's full path by its name (the
    export's), from which INDIR and FOLDER are written."""
    text_lines = list(lines(events, paths=paths))
    write_lines(path, text_lines)


def lines(events: Iterable[LabelEvent], *, paths: Mapping[str, str] | None = None) -> Iterator[str]:
    """The file's lines (without line breaks) as :func:`write` writes them, made as the events
    come; ValueError at the first event the format cannot hold."""
    yield ",".join(HEADER)
    paths = paths or {}
    for number, e in enumerate(checked(events, NAME, tab_separated=False), start=1):
        try:
            yield _row(e, paths.get(e.recording, e.recording))
        except ValueError as exc:
            raise ValueError(
                f"{NAME}: event {number} ({e.label!r} at {e.onset!r} s in {e.recording!r}): {exc}"
            ) from None


def _row(e: LabelEvent, where: str) -> str:
    if any(c in text for text in (e.label, where) for c in "\n\r"):
        raise ValueError("a line break in a label or file name cannot be written")
    label = e.label.strip()
    if label == MISSING:
        raise ValueError(
            f"a class named {MISSING!r} reads back as R's missing value in Kaleidoscope "
            "tables; rename the class"
        )
    manual = e.source != "model" or e.review == "accepted"
    # An accepted detection in a label export comes without its confidence: a label only.
    auto = e.source == "model" and not (e.review == "accepted" and e.confidence is None)
    ratio = ""
    if auto:
        if label.lower() in NO_ID:
            raise ValueError(
                f"a detection of the class {label!r} reads back as Kaleidoscope's 'no "
                "identification', not as a detection; rename the class or export as json"
            )
        if e.confidence is not None:
            if not 0 <= e.confidence <= 1:  # also refuses nan
                raise ValueError(
                    f"confidence {format_number(e.confidence)} is outside 0..1, which a MATCH "
                    "RATIO (a fraction of the pulses) cannot hold"
                )
            ratio = format_time(e.confidence)
    indir, folder, name = _split(where)
    channel = str(e.channel - 1) if e.channel else "0"
    return ",".join(
        (
            _field(indir),
            _field(folder),
            _field(name),
            channel,
            format_time(e.onset),
            format_time(_duration(e.onset, e.offset)),
            _field(label) if auto else "",
            ratio,
            _field(label) if manual else "",
        )
    )


def _duration(onset: float, offset: float) -> float:
    """The DURATION that reads back as ``offset`` when added to ``onset`` (``offset - onset``
    may be an ulp off: 0.1 + 0.2 to 4/3 would come back 2e-16 s late)."""
    duration = offset - onset
    for _ in range(8):
        total = onset + duration
        if total == offset:
            break
        duration = math.nextafter(duration, math.inf if total < offset else -math.inf)
    else:
        duration = offset - onset  # cannot happen (sums step by less than offset's ulp)
    return duration


def _field(text: str) -> str:
    """A field as Python's csv module writes it (minimal quoting): in double quotes, those
    inside doubled, when it holds a comma or a double quote."""
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text
