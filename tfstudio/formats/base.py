"""Records shared by every label format: one event, one parse problem, one parse result."""

from __future__ import annotations

import codecs
import contextlib
import json
import math
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# One naming rule for the store and every reader (re-exported here for the readers).
from tfstudio.store.names import MAX_CLASS_NAME as MAX_CLASS_NAME
from tfstudio.store.names import check_class_name as check_class_name


@dataclass(frozen=True)
class LabelEvent:
    """One labelled (or detected) event as it crosses a format boundary.

    ``recording`` is the recording's file name as written in the label file (e.g. ``rec1.wav``)
    for formats with a file-name column, and ``""`` for per-recording formats, whose caller
    knows which recording the file belongs to. Times are seconds; frequencies Hz or None.
    """

    recording: str
    onset: float
    offset: float
    label: str
    low_hz: float | None = None
    high_hz: float | None = None
    source: str = "human"  # human | model
    confidence: float | None = None
    review: str = "none"  # none | accepted | rejected
    # Carried through a format where it has a place, not part of what the event is (equality
    # ignores them): the TextGrid tier an interval came from (so one tier in is one tier out)
    # and a species code (Raven tables from BirdNET carry one next to the common name).
    tier: str | None = field(default=None, compare=False)
    species_code: str | None = field(default=None, compare=False)
    # The channel (1-based) a Raven selection was drawn on: a project keeps labels per
    # recording, so the import can only say when a channel is lost or not in the recording.
    channel: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ParseIssue:
    """A line (or field) of a label file that could not be used, and why."""

    path: Path
    line: int  # 1-based; 0 when the problem concerns the whole file
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.reason}"
            if self.line
            else f"{self.path}: {self.reason}"
        )


@dataclass
class ParseResult:
    """Events read from one label file plus the problems found on the way."""

    events: list[LabelEvent] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # What was left out on purpose (a point tier, ignored columns): said, but not a problem.
    warnings: list[ParseIssue] = field(default_factory=list)
    # Class metadata (name, color, hotkey) when the format carries it (JSON only).
    classes: list[dict] = field(default_factory=list)


class FormatError(Exception):
    """A label file that cannot be read at all (missing, not text, wrong format)."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def format_time(seconds: float) -> str:
    """Shortest positional decimal that reads back as exactly the same float, always with a
    decimal point (``3.0``, not ``3``): readers that infer a column's type from its values
    (pandas, crowsetta) would otherwise take whole seconds for integers."""
    value = float(seconds)
    text = repr(value)  # numpy's shortest digits, five times faster (an export writes millions)
    if "e" in text or "n" in text:
        # repr writes an exponent below 1e-4 and from 1e16 on (and nan, inf); numpy does not
        return np.format_float_positional(value, trim="0")
    return text


def format_number(value: float) -> str:
    """A number as messages show it: the shortest exact decimal, ``3`` for three."""
    return np.format_float_positional(float(value), trim="-")


def parse_time(text: str) -> float:
    """A finite float from a label file field; ValueError with a readable message otherwise."""
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text.strip()!r}")
    return value


# Helpers shared by the format modules.

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_number(text: str) -> bool:
    """Whether a field is a plain decimal number (sign and exponent allowed)."""
    return _NUMBER.fullmatch(text.strip()) is not None


def parse_number(text: str, name: str) -> float:
    """A finite, non-negative float from a field; ValueError whose message is a readable reason.

    Stricter than ``float()``: no ``nan``, ``inf`` or ``1_000``, which no label tool writes.
    """
    stripped = text.strip()
    if stripped.isascii() and stripped.replace(".", "", 1).isdigit():
        return float(stripped)  # the common case: plain digits with at most one point
    if not stripped:
        raise ValueError(f"{name} is empty")
    if not _NUMBER.fullmatch(stripped):
        raise ValueError(f"{name} {stripped!r} is not a number")
    value = float(stripped)
    if not math.isfinite(value):
        raise ValueError(f"{name} {stripped!r} is not a finite number")
    if value < 0:
        raise ValueError(f"{name} {stripped} is negative")
    return value


def parse_confidence(text: str) -> float:
    """A detection score from a field: any finite number (tools write probabilities, logits or
    percentages); ValueError with a readable reason otherwise."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise ValueError(f"confidence {stripped!r} is not a number")
    value = float(stripped)
    if not math.isfinite(value):
        raise ValueError(f"confidence {stripped!r} is not a finite number")
    return value


def column_key(name: str) -> str:
    """A column name as matched: case and runs of white space do not count."""
    return " ".join(name.split()).lower()


def parse_interval(onset_text: str, offset_text: str) -> tuple[float, float]:
    """Onset and offset in seconds; ValueError with a readable reason when unusable."""
    onset = parse_number(onset_text, "onset")
    offset = parse_number(offset_text, "offset")
    if offset < onset:
        raise ValueError(f"offset {format_number(offset)} is before onset {format_number(onset)}")
    return onset, offset


def check_band(low_hz: float | None, high_hz: float | None) -> None:
    """ValueError when both frequencies are known and the high one is below the low one."""
    if low_hz is not None and high_hz is not None and high_hz < low_hz:
        raise ValueError(
            f"high frequency {format_number(high_hz)} Hz is below low frequency "
            f"{format_number(low_hz)} Hz"
        )


def _decode(data: bytes, path: Path, bad_lines: dict[int, str] | None) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Praat writes UTF-16 with a byte order mark when a label is not plain ASCII.
        encoding = "utf-16"
    elif b"\x00" in data:
        # UTF-16 without a byte order mark shows as a NUL in every other byte.
        nul_even = data[0::2].count(0) > len(data) // 4
        nul_odd = data[1::2].count(0) > len(data) // 4
        if len(data) % 2 == 0 and nul_even != nul_odd:
            encoding = "utf-16-be" if nul_even else "utf-16-le"
        else:
            raise FormatError(path, "is a binary file, not a text label file")
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise FormatError(
                path,
                f"is not {encoding.upper()} text (byte {exc.object[exc.start]:#04x} at offset "
                f"{exc.start}); save it as UTF-8",
            ) from None
        text = _decode_lines(data, path, bad_lines)
    if "\x00" in text:
        raise FormatError(path, "is a binary file, not a text label file")
    return text


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _decode_lines(data: bytes, path: Path, bad_lines: dict[int, str] | None) -> str:
    """UTF-8 decoded line by line: each undecodable line is described in ``bad_lines`` and
    kept with U+FFFD in place of its bad bytes (so line numbers stay true), or, without
    ``bad_lines``, refuses the file naming the first bad line."""
    lines = []
    for number, raw in enumerate(_LINE_BREAK.split(data), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reason = (
                f"not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1}); "
                "save the file as UTF-8"
            )
            if bad_lines is None:
                raise FormatError(path, f"line {number} is {reason}") from None
            bad_lines[number] = reason
            lines.append(raw.decode("utf-8", errors="replace"))
    return "\n".join(lines)


def read_text(path: Path | str, *, bad_lines: dict[int, str] | None = None) -> str:
    """A label file's text: UTF-8 (BOM optional) or UTF-16, newlines normalised to ``\\n``.

    FormatError when the file is missing, a folder, unreadable or binary. A UTF-8 line that
    does not decode refuses the whole file, unless a ``bad_lines`` dict is given: then each
    such line number maps to the reason and the line reads with U+FFFD for its bad bytes,
    for the caller to report and skip.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            # A FIFO would block the read forever, a device would read as one endless file.
            raise FormatError(path, "not a file (it is a special file), not a label file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except IsADirectoryError:
        raise FormatError(path, "is a folder, not a label file") from None
    except OSError as exc:
        raise FormatError(path, f"cannot be read: {exc.strerror or exc}") from None
    text = _decode(data, path, bad_lines)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_json(path: Path) -> JsonDocument:
    """A JSON label file's document (and where its list entries start); FormatError (never a
    traceback) for an empty file, bad JSON, or one nested deeper than Python's parser goes."""
    text = read_text(path)
    if not text.strip():
        raise FormatError(path, "is empty, not a JSON document")
    try:
        return JsonDocument(json.loads(text), text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise FormatError(path, "not a label file: its JSON is nested too deeply") from None


# JSON's whitespace (what may stand between its tokens).
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass
class JsonDocument:
    """A parsed JSON label file and its text, to say on which line an entry of one of its
    lists starts (issues name the file's real line, as for the text formats)."""

    value: Any
    text: str
    _lines: dict[tuple[str, ...], list[int]] = field(default_factory=dict, repr=False)

    def entry_line(self, keys: tuple[str, ...], index: int) -> int:
        """The 1-based line on which entry ``index`` (0-based) of the list at ``keys`` (object
        keys from the top, e.g. ``("data", "sound_events")``) starts; 0 if there is none.
        The file is scanned once per list, and only when an issue asks."""
        if keys not in self._lines:
            self._lines[keys] = _entry_lines(self.text, keys)
        lines = self._lines[keys]
        return lines[index] if 0 <= index < len(lines) else 0


def _entry_lines(text: str, keys: tuple[str, ...]) -> list[int]:
    """Where each entry of the list at ``keys`` starts in the JSON ``text`` (see
    :meth:`JsonDocument.entry_line`). json.loads keeps no positions; this walks down the
    objects on the way to the list and steps over every other value with the C decoder
    (``raw_decode``), counting line breaks between the entries' starts. In a file cut short
    (which jsonfmt salvages) the entries found before the damage."""
    lines: list[int] = []
    with contextlib.suppress(json.JSONDecodeError):
        _find_entry_lines(text, keys, lines)
    return lines


def _find_entry_lines(text: str, keys: tuple[str, ...], lines: list[int]) -> None:
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        match = _JSON_SPACE.match(text, pos)
        assert match is not None  # matches the empty string
        return match.end()

    pos = skip(0)
    for key in keys:
        if not text.startswith("{", pos):
            return
        found = -1
        pos = skip(pos + 1)
        while not text.startswith("}", pos):
            try:
                name, pos = decoder.raw_decode(text, pos)
                pos = skip(skip(pos) + 1)  # the colon
                if name == key:
                    found = pos  # the last one, as json.loads keeps the last of a repeated key
                _, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                if found < 0:
                    raise
                break  # a file cut short in (or after) the list looked for
            pos = skip(pos)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
        if found < 0:
            return
        pos = found
    if not text.startswith("[", pos):
        return
    pos = skip(pos + 1)
    line, counted = 1, 0
    while not text.startswith("]", pos):
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _, pos = decoder.raw_decode(text, pos)
        pos = skip(pos)
        if text.startswith(",", pos):
            pos = skip(pos + 1)


def bad_line_issues(path: Path, bad_lines: dict[int, str]) -> list[ParseIssue]:
    """One issue per line that ``read_text`` could not decode."""
    return [ParseIssue(path, number, reason) for number, reason in sorted(bad_lines.items())]


def write_text(path: Path | str, text: str) -> None:
    """Write a label file as UTF-8 with ``\\n`` line endings."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def sniff(text: str) -> str | None:
    """The format a label file's content unmistakably belongs to, from its first line.

    Only structural signatures count ("textgrid", "json", "raven", "dcase" for a DCASE
    header, "sonicvisualiser" for an ``<sv>`` document, SV's CSV header or its nine-decimal
    times); a headerless three-column file is ambiguous and gives None.
    """
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if first.startswith("File type") and "ooTextFile" in first:
        return "textgrid"
    if first.startswith(("{", "[")):
        return "json"
    from tfstudio.formats.sonicvisualiser import looks_like  # it reads with these helpers

    if looks_like(text):
        return "sonicvisualiser"
    cells = [cell.strip().lower() for cell in first.split("\t")]
    if (
        "begin time (s)" in cells
        or (cells[0] == "selection" and "view" in cells)
        or {"end time (s)", "delta time (s)"} <= set(cells)  # Begin Time hidden
    ):
        return "raven"
    words = re.split(r"[\s,;]+", first.lower())  # a DCASE header saved as CSV too
    if "onset" in words and "offset" in words:
        return "dcase"
    return None


@dataclass
class TableText:
    """A CSV-like label file read for a reader: its lines, the first (1-based) with text that
    decoded (its header; None in a file of none), the undecodable lines, and the result the
    reader fills, holding their issues already."""

    lines: list[str]
    header: int | None
    bad_lines: dict[int, str]
    result: ParseResult


def read_table(path: Path, own: str) -> TableText:
    """``path``'s text for format ``own``'s reader (refused if it is plainly another format's:
    see `refuse_other_format`), split into lines, with its header line found."""
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    refuse_other_format(text, path, own)
    lines = text.split("\n")
    header = next(
        (n for n, line in enumerate(lines, start=1) if line.strip() and n not in bad_lines), None
    )
    return TableText(lines, header, bad_lines, ParseResult(issues=bad_line_issues(path, bad_lines)))


def refuse_other_format(text: str, path: Path, own: str) -> None:
    """FormatError when the content is recognisably another format than ``own``."""
    found = sniff(text)
    if found is not None and found != own:
        raise FormatError(path, f"looks like a {found} file, not {own}")


def write_lines(path: Path | str, lines: Iterable[str]) -> None:
    """Write a label file line by line (each given without its ``\n``) as UTF-8 with ``\n``
    line endings, without holding the whole text: for exports of millions of events."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.writelines(line + "\n" for line in lines)


def check_writable(
    events: Iterable[LabelEvent],
    format_name: str,
    *,
    tab_separated: bool = True,
    allow_zero_length: bool = True,
) -> None:
    """ValueError naming the first event that the format cannot write and read back."""
    for _event in checked(
        events, format_name, tab_separated=tab_separated, allow_zero_length=allow_zero_length
    ):
        pass


def checked(
    events: Iterable[LabelEvent],
    format_name: str,
    *,
    tab_separated: bool = True,
    allow_zero_length: bool = True,
) -> Iterator[LabelEvent]:
    """The events, each checked as it passes (see :func:`check_writable`): a streaming writer
    raises the same ValueError at the first event it cannot write."""
    for number, event in enumerate(events, start=1):
        try:
            _check_event(event, tab_separated, allow_zero_length)
        except ValueError as exc:
            raise ValueError(
                f"{format_name}: event {number} ({event.label!r} at {event.onset!r} s in "
                f"{event.recording!r}): {exc}"
            ) from None
        yield event


def _check_event(event: LabelEvent, tab_separated: bool, allow_zero_length: bool) -> None:
    for name in ("onset", "offset", "low_hz", "high_hz"):
        value = getattr(event, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite, non-negative number")
    if event.offset < event.onset:
        raise ValueError("offset is before onset")
    if event.offset == event.onset and not allow_zero_length:
        raise ValueError("zero-length events cannot be written in this format")
    check_band(event.low_hz, event.high_hz)
    if not event.label.strip():
        raise ValueError("empty label")
    if tab_separated and any(
        c in text for text in (event.label, event.recording) for c in "\t\n\r"
    ):
        raise ValueError(
            "a tab or line break in a label or file name cannot be written in this format; "
            "rename the class (or the recording), or export as JSON"
        )
