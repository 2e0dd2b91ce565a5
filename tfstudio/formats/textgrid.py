"""Praat TextGrid (long or short text form), one file per recording.

Import: every non-empty interval of every IntervalTier is an event labelled by the interval's
text (stripped), and every point of every TextTier with a non-blank mark a zero-length event
(onset = offset = the point's time) labelled by the mark, whatever the tier is called; each
carries its tier's name, in the file's order (tier by tier).
Files may be UTF-8 (BOM optional) or UTF-16 as Praat writes it. The reader is a tokenizer of
Praat's text format (quoted strings with doubled quotes, numbers, ``<exists>`` flags; the
long form's ``name =`` words and ``[n]`` indices are skipped), so every problem is reported
with its line: a negative, ``nan`` or ``inf`` time, a reversed interval, a label that cannot
be a class name or a line that is not UTF-8 costs that interval or point only. A grid whose
structure breaks (cut short, a value of the wrong kind) keeps the events read before the
break, with one issue at its line; one that breaks before its first event is refused.

Export: events that carry a tier name (read from a TextGrid) go to that tier, so one tier in
is one tier out; the others get a tier per class, named by the class. Events with a length
go to IntervalTiers, with empty intervals in the gaps; zero-length events are the points of
TextTiers (Praat's point tiers: call onsets, clicks, pitch marks). Events of a tier that
overlap, and points at one time (Praat holds one point per time in a tier), go to extra tiers
``name (2)``, ``name (3)`` …, and so does the second kind of a name that has both intervals and
points: no two tiers of a file share a name (Praat allows it, praatio refuses such a grid).
Because labels come from interval texts and point marks, those tiers read back as the same
events and the round trip is exact.
Labels praatio (which many TextGrid tools read with) cannot read back in the form asked for
(``intervals [`` in the long form, a quoted tier type in the short form) are refused with a
ValueError: the message names the other form, which ``write(short=...)`` and
``tfstudio export --textgrid-form`` choose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    check_writable,
    format_number,
    format_time,
    parse_number,
    read_text,
    write_text,
)

NAME = "textgrid"
PER_RECORDING = True
SUFFIX = ".TextGrid"
FORMS = ("long", "short")  # the text forms write() offers (short=True for the second)


def read(path: Path) -> ParseResult:
    """Events from a long- or short-form text TextGrid; bad intervals and points become
    issues."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    text = read_text(path, bad_lines=bad_lines)
    tokens = _Tokens(path, text)
    file_type, object_class = tokens.next_token(), tokens.next_token()
    if (
        file_type is None
        or object_class is None
        or (file_type.kind, object_class.kind) != ("string", "string")
        or not file_type.value.startswith("ooTextFile")
        or object_class.value != "TextGrid"
    ):
        raise FormatError(path, "not a Praat TextGrid text file")
    result = ParseResult()
    tokens.value("xmin")
    tokens.value("xmax")
    exists = tokens.next_token()
    if exists is None or (exists.kind == "flag" and exists.value == "absent"):
        return result  # a TextGrid without tiers
    if exists.kind == "flag":
        tier_count = tokens.count("size")
    else:
        tier_count = tokens.as_count(exists, "size")  # some writers leave the flag out
    try:
        for _ in range(tier_count):
            _read_tier(tokens, bad_lines, result)
    except _Broken as exc:
        if not result.events:
            raise  # nothing to keep: the file is refused, with the same reason
        # A grid cut short (a copy that stopped, a disk that filled) or damaged further on:
        # the intervals before the damage are whole and kept, as a text format keeps its
        # lines before a bad one.
        kept = len(result.events)
        reason = (
            f"{exc.detail}; the rest of the file is not read (the {kept} event(s) before it "
            "are kept)"
        )
        result.issues.append(ParseIssue(path, exc.line, reason))
    result.issues.sort(key=lambda issue: issue.line)
    # Events stay in the file's order, tier by tier: a project keeps that order (as the order
    # its labels were added in), and its TextGrid export writes the tiers in it again.
    return result


def _read_tier(tokens: _Tokens, bad_lines: dict[int, str], result: ParseResult) -> None:
    path = tokens.path
    kind = tokens.string("tier class")
    name = tokens.string("tier name").value
    tokens.value("tier xmin")
    tokens.value("tier xmax")
    size = tokens.count("tier size")
    if kind.value == "TextTier":
        for number in range(1, size + 1):
            time = tokens.value("point time")
            mark = tokens.string("point mark")
            _add(tokens, bad_lines, result, name, f"point {number}", time, None, mark)
        return
    if kind.value != "IntervalTier":
        raise _Broken(path, kind.line, f"unknown tier class {kind.value!r}")
    for number in range(1, size + 1):
        start = tokens.value("interval xmin")
        end = tokens.value("interval xmax")
        label = tokens.string("interval text")
        _add(tokens, bad_lines, result, name, f"interval {number}", start, end, label)


def _add(
    tokens: _Tokens,
    bad_lines: dict[int, str],
    result: ParseResult,
    tier: str,
    what: str,
    start: _Token,
    end: _Token | None,
    label: _Token,
) -> None:
    """One interval (``end`` given) or point (onset = offset) as an event, unless its text is
    blank (the gaps between events); a bad one costs itself only, reported at its first line."""
    spanned = range(start.line, tokens.line + 1)
    bad = next((bad_lines[n] for n in spanned if n in bad_lines), None)
    try:
        if bad is not None:
            raise ValueError(bad)
        if end is None:
            onset = offset = parse_number(start.value, "time")
        else:
            onset = parse_number(start.value, "xmin")
            offset = parse_number(end.value, "xmax")
            if offset < onset:
                raise ValueError(
                    f"xmax {format_number(offset)} is before xmin {format_number(onset)}"
                )
        text = label.value.strip()
        if not text:
            return
        check_class_name(text)
    except ValueError as exc:
        result.issues.append(ParseIssue(tokens.path, start.line, f"tier {tier!r}, {what}: {exc}"))
        return
    result.events.append(LabelEvent("", onset, offset, text, tier=tier))


class _Broken(FormatError):
    """The grid's structure breaks at ``line`` (cut short, a value missing or of the wrong
    kind): nothing after it can be read, what came before it can."""

    def __init__(self, path: Path, line: int, detail: str, reason: str | None = None):
        super().__init__(path, reason or f"line {line}: {detail}")
        self.line = line
        self.detail = detail


@dataclass(frozen=True)
class _Token:
    kind: str  # string | flag | value
    value: str
    line: int


# Bare words that stand where a number should, in either form: a value, even without "=".
_NOT_NUMBERS = {"nan", "inf", "infinity", "--undefined--", "undefined"}


class _Tokens:
    """Praat's text format as a stream of values: quoted strings (``""`` is a quote, line
    breaks allowed), ``<flags>`` and bare words that are values (after ``=``, or looking like
    a number). The long form's labels (``xmin =``, ``intervals:``) and ``[n]`` are skipped."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text
        self.pos = 0
        self.line = 1  # the line the last token ended on

    def next_token(self) -> _Token | None:
        text, after_equals = self.text, False
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\n":
                self.line += 1
                self.pos += 1
            elif char.isspace() or char == ":":
                self.pos += 1
            elif char == "=":
                after_equals = True
                self.pos += 1
            elif char == "[":
                close = text.find("]", self.pos)
                self.pos = len(text) if close < 0 else close + 1
            elif char == '"':
                return self._string()
            elif char == "<":
                close = text.find(">", self.pos)
                end = len(text) if close < 0 else close + 1
                token = _Token("flag", text[self.pos + 1 : end - 1].strip(), self.line)
                self.pos = end
                return token
            else:
                end = self.pos
                while end < len(text) and not (text[end].isspace() or text[end] in '"=[<'):
                    end += 1
                word = text[self.pos : end]
                self.pos = end
                if after_equals or word[0] in "+-.0123456789" or word.lower() in _NOT_NUMBERS:
                    return _Token("value", word, self.line)
                # a label of the long form (xmin, intervals:, size, item …)
        return None

    def _string(self) -> _Token:
        text, start_line = self.text, self.line
        parts, pos = [], self.pos + 1
        while True:
            close = text.find('"', pos)
            if close < 0:
                raise _Broken(self.path, start_line, "a quoted text never ends")
            parts.append(text[pos:close])
            if text.startswith('""', close):
                parts.append('"')
                pos = close + 2
                continue
            break
        value = "".join(parts)
        self.line += text.count("\n", self.pos, close)
        self.pos = close + 1
        return _Token("string", value, start_line)

    def _expect(self, what: str, kind: str) -> _Token:
        token = self.next_token()
        if token is None:
            raise _Broken(
                self.path,
                self.line,
                f"the file ends early: {what} missing",
                f"ends early: {what} missing after line {self.line}",
            )
        if token.kind != kind:
            found = f'"{token.value}"' if token.kind == "string" else token.value
            expected = "a quoted text" if kind == "string" else "a number"
            raise _Broken(self.path, token.line, f"{what} should be {expected}, not {found}")
        return token

    def string(self, what: str) -> _Token:
        return self._expect(what, "string")

    def value(self, what: str) -> _Token:
        return self._expect(what, "value")

    def count(self, what: str) -> int:
        return self.as_count(self.value(what), what)

    def as_count(self, token: _Token, what: str) -> int:
        if token.kind != "value" or not token.value.isdigit():
            raise _Broken(self.path, token.line, f"{what} {token.value!r} is not a whole number")
        return int(token.value)


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    duration: float | None = None,
    short: bool = False,
) -> None:
    """Write a TextGrid spanning ``duration`` seconds (default: the last offset): events in
    IntervalTiers, zero-length ones as points of TextTiers."""
    check_writable(events, NAME, tab_separated=False)
    for e in events:
        problem = _unreadable(e.label, short)
        if problem:
            raise ValueError(f"{NAME}: label {e.label!r} {problem}")
        problem = _unreadable(e.tier, short) if e.tier else None
        if problem:
            raise ValueError(f"{NAME}: tier name {e.tier!r} {problem}")
    end = max((e.offset for e in events), default=0.0)
    if duration is not None and not end <= duration:
        raise ValueError(
            f"{NAME}: an event ends at {format_number(end)} s, after the duration "
            f"{format_number(duration)} s"
        )
    xmax = end if duration is None else float(duration)
    tiers = _tiers(events)
    text = _short_form(tiers, xmax) if short else _long_form(tiers, xmax)
    write_text(path, text)


def _unreadable(label: str, short: bool) -> str | None:
    """Why praatio could not read ``label`` back in this form, or None when it can."""
    # praatio splits the long form on these words and the short form on quoted tier types.
    if not short and _LONG_FORM_MARKERS.search(label):
        return (
            "contains 'item [', 'intervals [' or 'points [', which praatio misreads in the long "
            "form: write the short form instead (tfstudio export --textgrid-form short)"
        )
    if short and ('"IntervalTier"' in _quote(label) or '"TextTier"' in _quote(label)):
        return (
            "is a quoted tier type, which praatio misreads in the short form: write the long "
            "form instead (tfstudio export --textgrid-form long, the default)"
        )
    return None


@dataclass
class _Tier:
    name: str
    points: bool  # a TextTier of zero-length events, else an IntervalTier
    events: list[LabelEvent]


def _tiers(events: Sequence[LabelEvent]) -> list[_Tier]:
    """Tiers with no overlap inside one, named by an event's own tier name, else its class, in
    order of appearance: an IntervalTier for events with a length, a TextTier for zero-length
    ones. Events that overlap (points at one time: Praat allows one point per time in a tier)
    go to extra tiers ``name (2)``, ``name (3)`` …, and so does the kind of a name met second
    when it has both intervals and points: praatio (and tools built on it) refuses a grid with
    two tiers of one name."""
    lanes: dict[tuple[str, bool], list[list[LabelEvent]]] = {}
    for e in events:
        lanes.setdefault((e.tier or e.label, e.offset == e.onset), [])
    for e in sorted(events, key=lambda e: (e.onset, e.offset)):
        points = e.offset == e.onset
        for lane in lanes[e.tier or e.label, points]:
            if (lane[-1].offset < e.onset) if points else (lane[-1].offset <= e.onset):
                lane.append(e)
                break
        else:
            lanes[e.tier or e.label, points].append([e])
    tiers: list[_Tier] = []
    taken: set[str] = set()
    for (name, points), named_lanes in lanes.items():
        # Tier names are cosmetic (labels come from interval texts and marks), and praatio
        # cannot read a tier name with a line break, so whitespace runs become single spaces.
        base = " ".join(name.split())
        for lane in named_lanes:
            k = 1
            while (tier_name := base if k == 1 else f"{base} ({k})") in taken:
                k += 1
            taken.add(tier_name)
            tiers.append(_Tier(tier_name, points, lane))
    return tiers


def _intervals(lane: list[LabelEvent], xmax: float) -> list[tuple[float, float, str]]:
    """The lane's events with empty intervals filling the gaps, covering 0 to ``xmax``."""
    intervals: list[tuple[float, float, str]] = []
    cursor = 0.0
    for e in lane:
        if e.onset > cursor:
            intervals.append((cursor, e.onset, ""))
        intervals.append((e.onset, e.offset, e.label))
        cursor = e.offset
    if xmax > cursor:
        intervals.append((cursor, xmax, ""))
    return intervals


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_LONG_FORM_MARKERS = re.compile(r"(item|intervals|points) ?\[")
_HEADER = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'


def _long_form(tiers: list[_Tier], xmax: float) -> str:
    end = format_time(xmax)
    out = [_HEADER, f"xmin = 0.0 \nxmax = {end} \ntiers? <exists> \nsize = {len(tiers)} \n"]
    out.append("item []: \n")
    for number, tier in enumerate(tiers, start=1):
        out.append(
            f"    item [{number}]:\n"
            f'        class = "{"TextTier" if tier.points else "IntervalTier"}" \n'
            f"        name = {_quote(tier.name)} \n"
            f"        xmin = 0.0 \n"
            f"        xmax = {end} \n"
        )
        if tier.points:
            out.append(f"        points: size = {len(tier.events)} \n")
            for k, e in enumerate(tier.events, start=1):
                out.append(
                    f"        points [{k}]:\n"
                    f"            number = {format_time(e.onset)} \n"
                    f"            mark = {_quote(e.label)} \n"
                )
            continue
        intervals = _intervals(tier.events, xmax)
        out.append(f"        intervals: size = {len(intervals)} \n")
        for k, (start, stop, label) in enumerate(intervals, start=1):
            out.append(
                f"        intervals [{k}]:\n"
                f"            xmin = {format_time(start)} \n"
                f"            xmax = {format_time(stop)} \n"
                f"            text = {_quote(label)} \n"
            )
    return "".join(out)


def _short_form(tiers: list[_Tier], xmax: float) -> str:
    end = format_time(xmax)
    out = [_HEADER, f"0.0\n{end}\n<exists>\n{len(tiers)}\n"]
    for tier in tiers:
        if tier.points:
            out.append(f'"TextTier"\n{_quote(tier.name)}\n0.0\n{end}\n{len(tier.events)}\n')
            for e in tier.events:
                out.append(f"{format_time(e.onset)}\n{_quote(e.label)}\n")
            continue
        intervals = _intervals(tier.events, xmax)
        out.append(f'"IntervalTier"\n{_quote(tier.name)}\n0.0\n{end}\n{len(intervals)}\n')
        for start, stop, label in intervals:
            out.append(f"{format_time(start)}\n{format_time(stop)}\n{_quote(label)}\n")
    return "".join(out)
