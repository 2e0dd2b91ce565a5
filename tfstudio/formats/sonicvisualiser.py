"""Sonic Visualiser annotation layers: ``.svl`` layer files and SV's CSV export, one file per
recording.

An ``.svl`` file is what File ▸ Export Annotation Layer writes as XML: ``<sv><data>`` with a
``<model type="sparse" sampleRate=… dimensions=…>``, its ``<dataset>`` of ``<point frame=…
duration=… label=…/>``, and a ``<display><layer name=…>`` naming it. Times are sample frames
at the model's ``sampleRate``, so a file needs no recording to be read. Import takes:

- region layers (3 dimensions, subtype ``region``): an event per region;
- note layers (3 dimensions, subtype ``note``/``flexinote``, or none as SV 1.3 wrote them): an
  event per note, labelled by its label; the pitch (``value``) has no place and is left out,
  said once per layer;
- box layers (2 dimensions, subtype ``box``, SV 4.0+): an event per box with its band,
  ``value`` Hz to ``value + extent`` Hz;
- time-instant layers (1 dimension): an onset each, read as a zero-length event (onset =
  offset: the instant exactly, as Audacity's point labels are), said once per layer. A user who
  marked onsets in SV wants them in the project, where they can be lengthened, rather than a
  refusal or a length made up here.

A point without a label takes its layer's name as its class (SV leaves labels empty unless
one is typed; the layer's name, "Note Onsets" or "dog barks", is what they are), said once per
layer. Time-value, text, image and dense layers hold no events: they are left out with a
warning, and a file with nothing else is refused, naming what it holds. A file cut short or
damaged keeps the points before the damage, with one issue at its line (as the TextGrid and
JSON readers do); one damaged before its first point is refused. XML entity declarations are
refused (they serve only to blow a file up).

A saved session (``.sv``, bzip2-compressed XML of the same elements, the audio's own model
among them) is read the same way, its annotation layers as from an ``.svl``: a user who saved
the session rather than exporting each layer need not go back to SV.

SV's CSV export (File ▸ Export Annotation Layer as ``.csv``, comma-separated, or as ``.txt`` /
``.tsv``, tab-separated) is read too: a region layer's rows are ``time, value, duration[,
label]`` (SV leaves the label out when it is empty, and quotes one holding the delimiter),
with or without the optional header row (``TIME,VALUE,DURATION,LABEL``). Times are seconds
(SV writes nine decimals) or, with the "sample frames" export option, whole frames (header
``FRAME``; without a header, times that are all whole numbers): frames need the sample rate
of the recording, which ``tfstudio import`` passes as ``sample_rate``. With a header, note
(``LEVEL``), box (``START,END,EXTENT START,EXTENT END``) and time-instant (``TIME,LABEL``)
exports read as their layers do; a time-value export (``TIME,VALUE,LABEL``) is refused.

Export writes one ``.svl`` per recording that SV opens with File ▸ Import Annotation Layer:
events with a band go to a box layer (a band known on one side from 0 Hz or up to the Nyquist
frequency, the filled-in side marked ``tfstudio:low-unknown`` or ``tfstudio:high-unknown`` so
that it reads back unknown), zero-length events without one to a time-instant layer,
the others to a region layer (each region's value is its class's number, so SV's segmentation
style colours them by class), all at the recording's sample rate (frames are whole numbers,
which SV requires). Each point also carries its exact times in seconds (and the box's top
frequency) as ``tfstudio:`` attributes, which SV ignores; they are read back when they agree
with the frames, so an export imported again adds nothing, while a layer moved in SV reads
from its frames.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    bad_line_issues,
    check_band,
    check_class_name,
    check_writable,
    format_number,
    format_time,
    is_number,
    parse_number,
    read_text,
    refuse_other_format,
)

NAME = "sonicvisualiser"
PER_RECORDING = True
SUFFIX = ".svl"
# The sample rate of frame times in a CSV export (tfstudio import gives the recording's).
READ_OPTIONS = frozenset({"sample_rate"})
# The rate an .svl is written at when the recording's is not given.
DEFAULT_SAMPLE_RATE = 44100

# Exact times in seconds, beside SV's whole frames (SV ignores attributes it does not know).
NAMESPACE = "urn:tfstudio:sonic-visualiser"
ONSET = "tfstudio:onset"
OFFSET = "tfstudio:offset"
HIGH_HZ = "tfstudio:high"
# A box side the export filled in (0 Hz, the Nyquist frequency) for a band known on one side.
LOW_UNKNOWN = "tfstudio:low-unknown"
HIGH_UNKNOWN = "tfstudio:high-unknown"

_EVENT_KINDS = ("regions", "notes", "boxes", "instants")
_KIND_WORDS = {
    "regions": "region layer",
    "notes": "note layer",
    "boxes": "box layer",
    "instants": "time-instant layer",
    "values": "time-value layer (values over time, not events)",
    "text": "text layer (free notes, not events)",
    "image": "image layer",
    "dense": "dense layer (a spectrogram or colour 3D plot, not events)",
}


def read(path: Path, *, sample_rate: float | None = None) -> ParseResult:
    """Events from an ``.svl`` layer file or SV's CSV export of a layer; bad points become
    issues. ``sample_rate`` (Hz) converts a CSV's frame times; an ``.svl`` carries its own."""
    path = Path(path)
    bad_lines: dict[int, str] = {}
    try:
        text = read_text(path, bad_lines=bad_lines)
    except FormatError:
        text = _session_text(path)  # a saved session (.sv) is bzip2-compressed XML
    if text.lstrip("\ufeff \t\n").startswith("<"):
        return _SvlReader(path, text, bad_lines).read()
    refuse_other_format(text, path, NAME)
    return _read_csv(path, text, bad_lines, sample_rate)


# A session's XML beyond this is refused: a small compressed file can unpack to any size.
MAX_SESSION_BYTES = 256 * 1024 * 1024


def _session_text(path: Path) -> str:
    """The XML of a session Sonic Visualiser saved (bzip2-compressed); the FormatError
    ``read_text`` raised again for any other file."""
    try:
        with open(path, "rb") as handle:
            compressed = handle.read()
    except OSError:
        return read_text(path)  # raises the same error, worded as for every format
    if not compressed.startswith(b"BZh"):
        return read_text(path)
    decompressor = bz2.BZ2Decompressor()
    try:
        data = decompressor.decompress(compressed, max_length=MAX_SESSION_BYTES + 1)
    except OSError as exc:
        raise FormatError(path, f"is a damaged compressed session: {exc}") from None
    if len(data) > MAX_SESSION_BYTES:
        raise FormatError(path, f"unpacks to more than {MAX_SESSION_BYTES >> 20} MiB; not read")
    if not data:
        raise FormatError(path, "is a compressed session cut short: nothing in it can be read")
    try:
        # A file cut short stops anywhere, in a character too: what came before is read (and
        # the XML reader says where it ends).
        decoder = codecs.getincrementaldecoder("utf-8")()
        return decoder.decode(data, final=decompressor.eof).replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise FormatError(
            path, f"is a compressed file that is not UTF-8 text ({exc.reason})"
        ) from None


def looks_like(text: str) -> bool:
    """Whether a label file's text is Sonic Visualiser's (an ``<sv>`` XML document, or its CSV
    export's header or its rows' nine-decimal times)."""
    head = text.lstrip("\ufeff \t\n")
    if head.startswith("<"):
        return (
            "<!DOCTYPE sonic-visualiser" in head[:2000] or _SV_ROOT.search(head[:2000]) is not None
        )
    # The first line only (sniffing a million-line file must not split all of it).
    first = next((line for line in head[:65536].split("\n") if line.strip()), "")
    cells = _split_cells(first, "\t" if "\t" in first else ",")
    return _header_columns(cells) is not None or _SV_ROW.match(first.strip()) is not None


# The root element right after the prolog (declaration, doctype, comments).
_SV_ROOT = re.compile(r"^(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s)*<sv[\s>/]", re.DOTALL)
# SV writes seconds with nine decimals: time, value, duration (a region row, headerless).
_SV_ROW = re.compile(r"\d+\.\d{9}([,\t])[^,\t]*\1\d+\.\d{9}(?:\1|$)")


# --- .svl ------------------------------------------------------------------------------------


@dataclass
class _Model:
    id: str
    kind: str  # one of _EVENT_KINDS, or values | text | image | dense | other
    line: int
    name: str = ""
    units: str = ""
    sample_rate: float | None = None
    points: int = 0
    unlabelled: int = 0


@dataclass
class _Point:
    model: _Model
    line: int
    event: LabelEvent  # label "" when the point has none (its layer's name is taken)


@dataclass
class _SvlReader:
    path: Path
    text: str
    bad_lines: dict[int, str]
    models: dict[str, _Model] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)  # dataset id -> model id
    layer_names: dict[str, str] = field(default_factory=dict)  # model id -> layer name
    points: list[_Point] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    dataset: _Model | None = None
    root: str | None = None

    def read(self) -> ParseResult:
        parser = expat.ParserCreate()
        self.parser = parser
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.EntityDeclHandler = self._entity
        damage: ParseIssue | None = None
        try:
            parser.Parse(self.text, True)
        except expat.ExpatError as exc:
            if self.root is None:
                raise FormatError(
                    self.path,
                    f"not a Sonic Visualiser layer file: line {exc.lineno}: {_xml_error(exc)}",
                ) from None
            damage = self._damage(exc.lineno, _xml_error(exc))
        return self._result(damage)

    def _damage(self, line: int, detail: str) -> ParseIssue:
        if not self.points:
            raise FormatError(self.path, f"line {line}: {detail}")
        reason = (
            f"{detail}; the rest of the file is not read (the {len(self.points)} point(s) "
            "before it are kept)"
        )
        return ParseIssue(self.path, line, reason)

    def _entity(self, *args: object) -> None:
        raise FormatError(
            self.path,
            f"line {self.parser.CurrentLineNumber}: declares an XML entity, which no Sonic "
            "Visualiser file does; not read",
        )

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        line = self.parser.CurrentLineNumber
        if self.root is None:
            self.root = name
            if name != "sv":
                raise FormatError(
                    self.path, f"not a Sonic Visualiser layer file (its XML is <{name}>, not <sv>)"
                )
            return
        if name == "model":
            self._model(attrs, line)
        elif name == "dataset":
            model_id = self.datasets.get(attrs.get("id", ""))
            self.dataset = self.models.get(model_id) if model_id is not None else None
            if self.dataset is None:
                reason = f"dataset {attrs.get('id', '')!r} belongs to no <model>; its points are left out"
                self.issues.append(ParseIssue(self.path, line, reason))
        elif name == "point" and self.dataset is not None:
            self._point(self.dataset, attrs, line)
        elif name == "layer" and attrs.get("model"):
            self.layer_names.setdefault(attrs["model"], attrs.get("name", "").strip())

    def _end(self, name: str) -> None:
        if name == "dataset":
            self.dataset = None

    def _model(self, attrs: dict[str, str], line: int) -> None:
        model = _Model(
            attrs.get("id", ""),
            _kind(attrs),
            line,
            name=attrs.get("name", "").strip(),
            units=attrs.get("units", "").strip(),
        )
        if model.kind == "other":
            return  # the audio itself (a session's wavefile model), an alignment: no layer
        if model.kind in _EVENT_KINDS:
            try:
                rate = parse_number(attrs.get("sampleRate", ""), "sampleRate")
                if rate == 0:
                    raise ValueError("sampleRate is 0")
            except ValueError as exc:
                reason = f"{_KIND_WORDS[model.kind]} {model.id!r}: {exc}; its points are left out"
                self.issues.append(ParseIssue(self.path, line, reason))
                model.kind = "broken"
            else:
                model.sample_rate = rate
        self.models[model.id] = model
        if "dataset" in attrs:
            self.datasets[attrs["dataset"]] = model.id

    def _point(self, model: _Model, attrs: dict[str, str], line: int) -> None:
        model.points += 1
        if model.kind not in _EVENT_KINDS:
            return
        assert model.sample_rate is not None
        try:
            if line in self.bad_lines:
                raise ValueError(self.bad_lines[line])
            event = _point_event(model, attrs)
        except ValueError as exc:
            self.issues.append(ParseIssue(self.path, line, f"point: {exc}"))
            return
        if not event.label:
            model.unlabelled += 1
        self.points.append(_Point(model, line, event))

    def _result(self, damage: ParseIssue | None) -> ParseResult:
        result = ParseResult(issues=bad_line_issues(self.path, self._unused_bad_lines()))
        result.issues.extend(self.issues)
        kept = [m for m in self.models.values() if m.kind in _EVENT_KINDS or m.kind == "broken"]
        if not kept and damage is None:
            held = sorted({_KIND_WORDS[m.kind] for m in self.models.values()})
            raise FormatError(
                self.path,
                "holds no events: "
                + (f"it has a {' and a '.join(held)}" if held else "it has no annotation layer")
                + "; tfstudio imports region, note, box and time-instant layers",
            )
        for model in self.models.values():
            if model.kind in _KIND_WORDS and model.kind not in _EVENT_KINDS:
                reason = f"{_KIND_WORDS[model.kind]} {self._layer_name(model)!r} left out"
                result.warnings.append(ParseIssue(self.path, model.line, reason))
        names: dict[str, str | None] = {}
        for model in self.models.values():
            if model.unlabelled:
                names[model.id] = self._class_from_layer(model, result)
            if model.kind == "notes" and model.points:
                reason = (
                    f"note layer {self._layer_name(model)!r}: the notes' pitches (value) are "
                    "left out; each note is an event of its label"
                )
                result.warnings.append(ParseIssue(self.path, model.line, reason))
            instants = sum(1 for p in self.points if p.model is model)
            if model.kind == "instants" and instants:
                reason = (
                    f"time-instant layer {self._layer_name(model)!r}: {instants} instant(s) "
                    "read as zero-length events (onset = offset); lengthen them in the app to "
                    "train on them"
                )
                result.warnings.append(ParseIssue(self.path, model.line, reason))
        for point in self.points:
            event = point.event
            if not event.label:
                name = names.get(point.model.id)
                if name is None:
                    reason = "point: empty label, and its layer has no name to take instead"
                    result.issues.append(ParseIssue(self.path, point.line, reason))
                    continue
                event = LabelEvent("", event.onset, event.offset, name, event.low_hz, event.high_hz)
            result.events.append(event)
        if damage is not None:
            result.issues.append(damage)
        result.issues.sort(key=lambda issue: issue.line)
        return result

    def _unused_bad_lines(self) -> dict[int, str]:
        """Undecodable lines that are no point's (a point's own is reported as that point's)."""
        used = {p.line for p in self.points} | {i.line for i in self.issues}
        return {n: r for n, r in self.bad_lines.items() if n not in used}

    def _layer_name(self, model: _Model) -> str:
        name = self.layer_names.get(model.id, "")
        if not name:
            # SV names a plugin's output model "<audio file>: <output>".
            name = model.name.split(": ", 1)[1] if ": " in model.name else model.name
        return name.strip()

    def _class_from_layer(self, model: _Model, result: ParseResult) -> str | None:
        name = self._layer_name(model)
        try:
            name = check_class_name(name)
        except ValueError:
            return None
        reason = (
            f"{model.unlabelled} point(s) of {_KIND_WORDS[model.kind]} {name!r} have no label: "
            "imported as the class named by the layer"
        )
        result.warnings.append(ParseIssue(self.path, model.line, reason))
        return name


def _xml_error(exc: expat.ExpatError) -> str:
    """What broke the XML, in words (the caller names the line)."""
    codes = expat.errors.codes
    if exc.code in (
        codes[expat.errors.XML_ERROR_NO_ELEMENTS],
        codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
    ):
        return "the file ends early (cut short?)"
    message = expat.errors.messages[exc.code] if exc.code else str(exc)
    return f"the XML is broken here ({message}, column {exc.offset + 1})"


def _kind(attrs: dict[str, str]) -> str:
    kind = attrs.get("type", "").strip()
    subtype = attrs.get("subtype", "").strip()
    dimensions = attrs.get("dimensions", "").strip()
    if kind == "dense":
        return "dense"
    if kind != "sparse":
        return "other"
    if dimensions == "1":
        return "image" if subtype == "image" else "instants"
    if dimensions == "2":
        if subtype == "text":
            return "text"
        if subtype == "path":
            return "other"
        if subtype in ("box", "timefrequencybox"):
            return "boxes"
        return "values"
    if dimensions == "3":
        return "regions" if subtype == "region" else "notes"
    return "other"


def _point_event(model: _Model, attrs: dict[str, str]) -> LabelEvent:
    rate = model.sample_rate
    assert rate is not None
    frame_text = attrs.get("frame")
    if frame_text is None:
        raise ValueError("no frame")
    frame = parse_number(frame_text, "frame")
    end = frame
    low_hz = high_hz = None
    if model.kind != "instants":
        length = attrs.get("duration")
        if length is None:
            raise ValueError(f"no duration (a {_KIND_WORDS[model.kind]} point has one)")
        end = frame + parse_number(length, "duration")
    if model.kind == "boxes":
        low_text = attrs.get("value", attrs.get("frequency"))
        if low_text is None or "extent" not in attrs:
            raise ValueError("a box needs a value (its lowest frequency) and an extent")
        low_hz = parse_number(low_text, "value")
        extent = parse_number(attrs["extent"], "extent")
        high_hz = low_hz + extent
        exact = attrs.get(HIGH_HZ)
        agrees = False
        if exact is not None and is_number(exact):
            candidate = float(exact)
            agrees = math.isclose(candidate - low_hz, extent, rel_tol=1e-6, abs_tol=1e-6)
            if agrees:
                high_hz = candidate
        if model.units not in ("", "Hz"):
            low_hz = high_hz = None  # a box in another unit has no band in Hz
        elif attrs.get(LOW_UNKNOWN) == "1" and low_hz == 0 and agrees:
            low_hz = None  # tfstudio's export filled it in: unknown, as it was
        elif attrs.get(HIGH_UNKNOWN) == "1" and agrees:
            high_hz = None
        check_band(low_hz, high_hz)
    onset, offset = frame / rate, end / rate
    exact_onset, exact_offset = attrs.get(ONSET), attrs.get(OFFSET)
    if exact_onset is not None and exact_offset is not None:
        # tfstudio's own export: the exact times, where they agree with the frames (a layer
        # edited in SV keeps only its frames).
        try:
            candidate_onset = parse_number(exact_onset, "onset")
            candidate_offset = parse_number(exact_offset, "offset")
        except ValueError:
            pass
        else:
            if (
                round(candidate_onset * rate) == frame
                and round(candidate_offset * rate) == end
                and candidate_onset <= candidate_offset
            ):
                onset, offset = candidate_onset, candidate_offset
    label = attrs.get("label", "").strip()
    if label:
        check_class_name(label)
    return LabelEvent("", onset, offset, label, low_hz, high_hz)


# --- CSV -------------------------------------------------------------------------------------

# Header names SV writes (in upper case), per kind of layer.
_TIME_NAMES = {"TIME": False, "FRAME": True}  # name -> times are frames
_BOX_NAMES = {("START", "END"): False, ("STARTFRAME", "ENDFRAME"): True}
_OTHER_NAMES = frozenset({"VALUE", "DURATION", "LEVEL", "LABEL"})


@dataclass(frozen=True)
class _Layout:
    """Where each field of an SV CSV row is."""

    frames: bool | None  # None: not known yet (no header)
    time: int
    label: int | None
    width: int
    duration: int | None = None
    end: int | None = None  # boxes: end time instead of a duration
    low: int | None = None
    high: int | None = None


def _header_columns(cells: list[str]) -> _Layout | None:
    """The layout an SV CSV header names, or None when ``cells`` is not one."""
    names = [cell.strip().upper() for cell in cells]
    if len(names) < 2:
        return None
    if names[0] in _TIME_NAMES and set(names[1:]) <= _OTHER_NAMES:
        return _Layout(
            _TIME_NAMES[names[0]],
            time=0,
            label=names.index("LABEL") if "LABEL" in names else None,
            width=len(names),
            duration=names.index("DURATION") if "DURATION" in names else None,
            # A VALUE without a DURATION is a time-value layer: marked by low (refused).
            low=names.index("VALUE") if "VALUE" in names and "DURATION" not in names else None,
        )
    frames = _BOX_NAMES.get((names[0], names[1]))
    if frames is not None and names[2:] in (
        ["EXTENT START", "EXTENT END", "LABEL"],
        ["EXTENT START", "EXTENT END"],
    ):
        return _Layout(
            frames,
            time=0,
            end=1,
            low=2,
            high=3,
            label=4 if len(names) > 4 else None,
            width=len(names),
        )
    return None


def _split_cells(line: str, delimiter: str) -> list[str]:
    """One CSV row as SV writes it: a field holding the delimiter is quoted (quotes inside
    doubled), any other is written as it is."""
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        return line.split(delimiter)


def _read_csv(
    path: Path, text: str, bad_lines: dict[int, str], sample_rate: float | None
) -> ParseResult:
    rows = [
        (number, line)
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#") and number not in bad_lines
    ]
    result = ParseResult(issues=bad_line_issues(path, bad_lines))
    if not rows:
        return result
    delimiter = "\t" if "\t" in rows[0][1] else ","
    split = [(number, _split_cells(line, delimiter)) for number, line in rows]
    layout = _header_columns(split[0][1])
    if layout is not None:
        split = split[1:]
        if layout.low is not None and layout.high is None:
            raise FormatError(
                path,
                "is a time-value layer's export (time, value, label: values over time, not "
                "events); tfstudio imports region, note, box and time-instant layers",
            )
    elif all(len(cells) <= 2 for _, cells in split):
        layout = _Layout(None, time=0, label=1, width=2)  # time instants: time[, label]
    else:
        layout = _Layout(None, time=0, duration=2, label=3, width=4)
    frames = layout.frames
    if frames is None:
        # SV writes seconds with nine decimals and frames as whole numbers.
        times = [
            cells[k].strip()
            for _, cells in split
            for k in (layout.time, layout.duration)
            if k is not None and k < len(cells) and is_number(cells[k])
        ]
        frames = bool(times) and all(t.isdigit() for t in times)
    scale = 1.0
    if frames:
        if sample_rate is None or not sample_rate > 0:
            raise FormatError(
                path,
                "its times are sample frames (Sonic Visualiser's 'frames' export option) and the "
                "sample rate of its recording is unknown: import it with its recording, named "
                "after it (<recording stem>.csv), or export it from Sonic Visualiser in seconds",
            )
        scale = 1.0 / sample_rate
    instants = layout.duration is None and layout.end is None
    for number, cells in split:
        try:
            result.events.append(_csv_event(cells, layout, scale, delimiter))
        except ValueError as exc:
            result.issues.append(ParseIssue(path, number, str(exc)))
    if instants and result.events:
        reason = (
            f"a time-instant layer: {len(result.events)} instant(s) read as zero-length events "
            "(onset = offset); lengthen them in the app to train on them"
        )
        result.warnings.append(ParseIssue(path, 0, reason))
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _csv_event(cells: list[str], layout: _Layout, scale: float, delimiter: str) -> LabelEvent:
    width = layout.width
    if layout.label is not None and layout.label == width - 1 and len(cells) > width:
        # A label holding the delimiter, written without quotes (SV before 2.0 did not quote).
        cells = [*cells[: width - 1], delimiter.join(cells[width - 1 :])]
    needed = width - 1 if layout.label is not None else width
    if len(cells) < needed or len(cells) > width:
        raise ValueError(f"expected {needed} or {width} fields, found {len(cells)}")
    onset = parse_number(cells[layout.time], "time") * scale
    offset = onset
    if layout.duration is not None:
        offset = onset + parse_number(cells[layout.duration], "duration") * scale
    if layout.end is not None:
        offset = parse_number(cells[layout.end], "end") * scale
        if offset < onset:
            raise ValueError(f"end {format_number(offset)} is before start {format_number(onset)}")
    low_hz = high_hz = None
    if layout.high is not None and layout.low is not None:
        low_hz = parse_number(cells[layout.low], "extent start")
        high_hz = parse_number(cells[layout.high], "extent end")
        check_band(low_hz, high_hz)
    label = (
        cells[layout.label].strip()
        if layout.label is not None and layout.label < len(cells)
        else ""
    )
    if not label:
        raise ValueError("no label (Sonic Visualiser leaves the label out of a row without one)")
    check_class_name(label)
    return LabelEvent("", onset, offset, label, low_hz, high_hz)


# --- export ----------------------------------------------------------------------------------


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    duration: float | None = None,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
) -> None:
    """Write an ``.svl`` Sonic Visualiser opens as annotation layers, times in frames at
    ``sample_rate`` (the recording's); ``duration`` is accepted for symmetry and unused."""
    check_writable(events, NAME)
    if not (math.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"{NAME}: sample rate {sample_rate!r} is not a positive number")
    boxes = [e for e in events if e.low_hz is not None or e.high_hz is not None]
    instants = [e for e in events if _no_band(e) and e.offset == e.onset]
    regions = [e for e in events if _no_band(e) and e.offset > e.onset]
    layers = []
    if regions or not events:
        layers.append(("regions", regions))
    if boxes:
        layers.append(("boxes", boxes))
    if instants:
        layers.append(("instants", instants))
    # Written as it is made: the document of 100 000 events held whole was 60 MB more.
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sonic-visualiser>\n'
            f'<sv xmlns:tfstudio="{NAMESPACE}">\n  <data>\n'
        )
        for number, (kind, layer_events) in enumerate(layers):
            handle.writelines(_model_lines(kind, layer_events, sample_rate, 3 * number))
        handle.write("  </data>\n  <display>\n")
        for number, (kind, _) in enumerate(layers):
            handle.write(_display_line(kind, 3 * number))
        handle.write("  </display>\n</sv>\n")


# SV's own attributes for each kind of layer (what its Export Annotation Layer writes).
_LAYERS = {
    "regions": (
        "Regions",
        'dimensions="3" resolution="1" notifyOnAdd="true" dataset="{dataset}" subtype="region" '
        'valueQuantization="0" minimum="{minimum}" maximum="{maximum}" units=""',
        'type="regions" name="Regions" model="{model}" verticalScale="0" plotStyle="1" '
        'colourName="Green" colour="#008000" darkBackground="false"',
    ),
    "boxes": (
        "Boxes",
        'dimensions="2" resolution="1" notifyOnAdd="true" dataset="{dataset}" subtype="box" '
        'minimum="{minimum}" maximum="{maximum}" units="Hz"',
        'type="boxes" name="Boxes" model="{model}" verticalScale="0" '
        'colourName="Orange" colour="#ff9632" darkBackground="false"',
    ),
    "instants": (
        "Time Instants",
        'dimensions="1" resolution="1" notifyOnAdd="true" dataset="{dataset}"',
        'type="timeinstants" name="Time Instants" model="{model}" plotStyle="0" '
        'colourName="Purple" colour="#c832ff" darkBackground="false"',
    ),
}


def _model_lines(
    kind: str, events: list[LabelEvent], sample_rate: float, first_id: int
) -> Iterator[str]:
    """A layer's ``<model>`` and its ``<dataset>`` of points in time order, a line at a time
    (ids from ``first_id``: dataset, model, then the display's layer)."""
    name, model_attrs, _ = _LAYERS[kind]
    dataset, model = first_id, first_id + 1
    rate = format_number(sample_rate)
    start = min((round(e.onset * sample_rate) for e in events), default=0)
    end = max((round(e.offset * sample_rate) for e in events), default=0)
    values = {label: k for k, label in enumerate(sorted({e.label for e in events}), start=1)}
    if kind == "boxes":
        minimum = min((_box(e, sample_rate)[0] for e in events), default=0.0)
        maximum = max((_box(e, sample_rate)[1] for e in events), default=0.0)
    else:
        minimum, maximum = (1, len(values)) if values else (0, 0)
    dimensions = 1 if kind == "instants" else 2 if kind == "boxes" else 3
    yield (
        f'    <model id="{model}" name="{name}" sampleRate="{rate}" start="{start}" '
        f'end="{end}" type="sparse" '
        + model_attrs.format(
            dataset=dataset, minimum=format_number(minimum), maximum=format_number(maximum)
        )
        + " />\n"
    )
    yield f'    <dataset id="{dataset}" dimensions="{dimensions}">\n'
    labels = {label: _escape(label) for label in values}

    def span(e: LabelEvent) -> tuple[int, int]:
        return round(e.onset * sample_rate), round(e.offset * sample_rate)

    for e in sorted(events, key=span):
        frame, stop = span(e)
        attrs = f'frame="{frame}" '
        if kind == "regions":
            attrs += f'value="{values[e.label]}" duration="{stop - frame}" '
        elif kind == "boxes":
            low, high = _box(e, sample_rate)
            attrs += (
                f'value="{format_time(low)}" duration="{stop - frame}" '
                f'extent="{format_time(high - low)}" '
            )
        attrs += f'label="{labels[e.label]}" '
        attrs += f'{ONSET}="{format_time(e.onset)}" {OFFSET}="{format_time(e.offset)}" '
        if kind == "boxes":
            attrs += f'{HIGH_HZ}="{format_time(_box(e, sample_rate)[1])}" '
            if e.low_hz is None:
                attrs += f'{LOW_UNKNOWN}="1" '
            elif e.high_hz is None:
                attrs += f'{HIGH_UNKNOWN}="1" '
        yield f"      <point {attrs}/>\n"
    yield "    </dataset>\n"


def _no_band(e: LabelEvent) -> bool:
    return e.low_hz is None and e.high_hz is None


def _box(e: LabelEvent, sample_rate: float) -> tuple[float, float]:
    """The box of an event with a band: a side not known filled in, the low one at 0 Hz, the
    high one at the Nyquist frequency (or at the low side, above it), as SV can show it."""
    low = 0.0 if e.low_hz is None else e.low_hz
    high = max(low, sample_rate / 2) if e.high_hz is None else e.high_hz
    return low, high


def _display_line(kind: str, first_id: int) -> str:
    """The ``<layer>`` that shows the layer whose ids start at ``first_id``."""
    layer_attrs = _LAYERS[kind][2]
    return f'    <layer id="{first_id + 2}" ' + layer_attrs.format(model=first_id + 1) + " />\n"


def _escape(text: str) -> str:
    """An attribute value as SV's encodeEntities writes it."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )
