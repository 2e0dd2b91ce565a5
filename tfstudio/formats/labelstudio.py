"""Label Studio: its audio projects' exports, one file for a whole project.

Label Studio labels audio with an ``<Audio>`` object and ``<Labels>`` on it: each region is
a result ``{"type": "labels", "value": {"start", "end", "channel", "labels": [...]}}`` in
seconds. Its three exports read:

- ``JSON``: the task list, ``[{"id", "data": {"audio": ...}, "annotations": [{"result":
  [...], "was_cancelled", "ground_truth", "completed_by", ...}], "predictions": [{"result":
  [...], "score", "model_version"}]}]`` (also one task, and the annotation files a target
  storage holds, ``{"result", "task": {...}}``);
- ``JSON-MIN``: one record per annotation, ``[{"audio": ..., "id", "label": [{"start",
  "end", "labels": [...]}], "annotator", "annotation_id", "updated_at", ...}]`` (the regions
  under the Labels tag's name, whatever it is);
- ``CSV`` (or TSV): one row per annotation, the regions as a JSON list in a column named as
  the Labels tag.

Each label of a region is an event of that class (a region with two labels is two events);
a region without one is reported. The recording is named by the task's ``audio`` field (or
the one data field holding an audio file's name, URL or path): an upload
(``/data/upload/3/1a2b3c4d-rec1.wav``) by its file name, which matches the recording named so
or, failing that, the one named without the ``1a2b3c4d-`` Label Studio put before it
(:func:`recording_aliases`); local storage (``/data/local-files/?d=site/rec1.wav``) and URLs
by their path. Results of other types (transcriptions, choices, relations) hold no events:
left out with one warning. The channel is not kept (tfstudio's events span all channels).

Annotations: a cancelled (skipped) one is left out with a warning. When several annotators
labelled one task, the ground-truth annotation is imported, else the most recently updated
one, and the others are left out with a warning naming them: taking all of them would put
each sound in the project once per annotator, with slightly different edges, and a model
trained on that learns the disagreement. Predictions are a model's output: their regions
are detections (model events) with the result's ``score``, else the prediction's.

A file cut short (or damaged) keeps the tasks before the damage, with one issue at its line.

Export: the JSON task list, ready for Label Studio's import: a task per recording (with
``recordings``, also those without events, to label on), ``data.audio`` the recording's
name (or path where names repeat; prefix it with your storage's URL in Label Studio),
labels as the task's annotation and detections as its prediction (``model_version``
"tfstudio", each region with its score and the prediction with their mean where every
region has one). The regions
are written for the labelling config ``<Labels name="label" toName="audio">`` on ``<Audio
name="audio" value="$audio">``; frequency bands are not carried (Label Studio's audio regions
are time spans).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tfstudio.formats.base import (
    FormatError,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    checked,
    format_number,
    read_text,
    write_lines,
)

NAME = "labelstudio"
PER_RECORDING = False
SUFFIX = ".json"
FROM_NAME = "label"
TO_NAME = "audio"
MODEL_VERSION = "tfstudio"
# The prefix Label Studio gives an uploaded file's name: 8 hex digits of a UUID and a dash.
_UPLOAD_PREFIX = re.compile(r"[0-9a-f]{8}-(?=.)")
_AUDIO_SUFFIXES = frozenset(
    [
        ".wav",
        ".wave",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".mp3",
        ".m4a",
        ".aac",
        ".aif",
        ".aiff",
        ".aifc",
        ".wma",
        ".webm",
        ".mp4",
    ]
)
# Keys of a JSON-MIN record or CSV row that are Label Studio's, not the task's data.
_RECORD_KEYS = frozenset(
    [
        "id",
        "annotator",
        "annotation_id",
        "created_at",
        "updated_at",
        "lead_time",
        "agreement",
        "history",
        "was_cancelled",
    ]
)
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]")
_URL_SCHEMES = frozenset({"http", "https", "s3", "gs", "azure-blob", "file", "ftp"})
_CUT = "; the rest of the file is not read (the {} task(s) before it are kept)"


def looks_like(text: str) -> bool:
    """Whether a label file is one of Label Studio's exports (JSON, JSON-MIN or CSV)."""
    head = text[:65536].lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return any(
            key in head
            for key in ('"annotations"', '"predictions"', '"annotation_id"', '"completions"')
        )
    if head.startswith("{"):
        return '"tfstudio-labels"' not in head[:4096] and (
            ('"data"' in head and ('"annotations"' in head or '"predictions"' in head))
            or ('"task"' in head and '"result"' in head)
        )
    first = head.split("\n", 1)[0]
    cells = {cell.strip().strip('"') for cell in re.split(r"[\t,]", first)}
    return {"annotation_id", "annotator"} <= cells


def recording_aliases(name: str) -> list[str]:
    """Other names the recording a task names may have: without the spaces around it (a
    recording may be named `` take 1.wav``, so the name as written is looked for first), and
    without the ``1a2b3c4d-`` Label Studio puts before an uploaded file's name."""
    stripped = name.strip()
    aliases = [stripped] if stripped and stripped != name else []
    folder, slash, base = stripped.replace("\\", "/").rpartition("/")
    match = _UPLOAD_PREFIX.match(base)
    return [*aliases, folder + slash + base[match.end() :]] if match else aliases


def recording_name(audio: str) -> str:
    """The recording a task's audio field names: an upload's file name (the folder is Label
    Studio's project number), a local-storage file's path, a URL's path, or the text as is."""
    text = audio.strip()
    if _WINDOWS_PATH.match(text):
        return text
    parts = urlsplit(text)
    path = unquote(parts.path)
    if path.startswith("/data/"):
        found = parse_qs(parts.query).get("d")
        if found:  # /data/local-files/?d=folder/rec1.wav
            return found[0].strip("/")
        return PurePosixPath(path).name
    if parts.scheme.lower() in _URL_SCHEMES:
        return path.lstrip("/") or text
    return audio  # a plain name, as written (:func:`recording_aliases` tries it stripped)


@dataclass
class _Annotation:
    """One annotation (or prediction) of a task, as read."""

    task: str  # how issues name the task: "task 3 (id 17)"
    line: int
    recording: str
    results: list[Any]
    model: bool = False
    score: float | None = None
    key: Any = None  # the task's id, grouping one task's annotations
    ground_truth: bool = False
    updated: str = ""
    annotator: str = ""
    cancelled: bool = False
    # What its results make, worked out as it is read (the results' dicts, several times the
    # size of the events, are not kept): events, (result number, problem), other types.
    events: list[LabelEvent] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    other_types: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k, item in enumerate(self.results, start=1):
            try:
                self.events.extend(_region_events(self, item))
            except ValueError as exc:
                self.problems.append((k, str(exc)))
        self.results = []


@dataclass
class _Reader:
    path: Path
    result: ParseResult = field(default_factory=ParseResult)
    annotations: list[_Annotation] = field(default_factory=list)
    other_types: dict[str, int] = field(default_factory=dict)

    def issue(self, line: int, reason: str) -> None:
        self.result.issues.append(ParseIssue(self.path, line, reason))

    def warn(self, reason: str) -> None:
        self.result.warnings.append(ParseIssue(self.path, 0, reason))


def read(path: Path) -> ParseResult:
    """Events from a Label Studio JSON, JSON-MIN or CSV export; bad tasks, annotations and
    regions become issues."""
    path = Path(path)
    text = read_text(path)
    reader = _Reader(path)
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in ("[", "{"):
        _read_json(reader, text)
    elif start:
        _read_csv(reader, text)
    _events(reader)
    reader.result.issues.sort(key=lambda issue: issue.line)
    return reader.result


# Reading JSON


def _read_json(reader: _Reader, text: str) -> None:
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    if text.startswith("\ufeff", pos):
        pos = _skip(text, pos + 1)
    if text.startswith("{", pos):
        try:
            entry, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise FormatError(
                reader.path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except RecursionError:
            raise FormatError(
                reader.path, "not a label file: its JSON is nested too deeply"
            ) from None
        _trailing(reader, text, end, 1)
        _entry(reader, entry, 1, _line(text, pos))
        return
    pos = _skip(text, pos + 1)
    count = 0
    # Line breaks are counted on from the last task's start: counted from the file's start
    # for each task, a big export (10 000 tasks, 180 MB) took minutes.
    line, counted = 1, 0
    while not text.startswith("]", pos):
        start = pos
        try:
            entry, pos = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            _damaged(reader, text, start, exc, count)
            return
        count += 1
        line += text.count("\n", counted, start)
        counted = start
        _entry(reader, entry, count, line)
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif not text.startswith("]", pos):
            _damaged(reader, text, pos, None, count)
            return
    _trailing(reader, text, pos + 1, count)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _damaged(reader: _Reader, text: str, pos: int, exc: Exception | None, count: int) -> None:
    """The issue (or, before the first task, the refusal) for JSON that breaks at ``pos``:
    inside task ``count + 1`` when ``exc`` is its decoding error, else between tasks."""
    if isinstance(exc, json.JSONDecodeError):
        at = "the file ends" if exc.pos >= len(text) else f"line {exc.lineno} column {exc.colno}"
        reason = f"task {count + 1} is not valid JSON: {exc.msg} ({at}; cut short?)"
    elif isinstance(exc, RecursionError):
        reason = f"task {count + 1} is nested too deeply"
    elif pos >= len(text):
        reason = "the file ends early (cut short?)"
    else:
        reason = "not valid JSON: expected ',' or ']' after a task"
    if count == 0:
        raise FormatError(reader.path, f"line {_line(text, pos)}: {reason}")
    reader.issue(_line(text, pos), reason + _CUT.format(count))


def _trailing(reader: _Reader, text: str, pos: int, count: int) -> None:
    pos = _skip(text, pos)
    if pos < len(text):
        reader.issue(
            _line(text, pos),
            "not valid JSON: text after the end of the document" + _CUT.format(count),
        )


def _entry(reader: _Reader, entry: Any, number: int, line: int) -> None:
    if not isinstance(entry, dict):
        reader.issue(line, f"task {number}: not an object")
        return
    if isinstance(entry.get("task"), dict) and "result" in entry:
        # An annotation as a target storage keeps it: the task inside.
        task = dict(entry["task"])
        task["annotations"] = [entry]
        entry = task
    name = _task_name(entry, number)
    if isinstance(entry.get("data"), dict):
        audio = _audio(entry["data"])
        if isinstance(audio, ValueError):
            reader.issue(line, f"{name}: {audio}")
            return
        for kind in ("annotations", "completions", "predictions"):
            items = entry.get(kind) or []
            if not isinstance(items, list):
                reader.issue(line, f"{name}: {kind!r} is not a list")
                continue
            for k, item in enumerate(items, start=1):
                label = f"{name}, {kind[:-1]} {k}"
                if not isinstance(item, dict) or not isinstance(item.get("result", []), list):
                    reader.issue(line, f"{label}: not an object with a 'result' list")
                    continue
                reader.annotations.append(
                    _annotation(item, label, line, audio, entry.get("id", number), kind)
                )
        return
    _min_record(reader, entry, name, line)


def _task_name(entry: dict, number: int) -> str:
    key = entry.get("id")
    return f"task {number}" + (f" (id {key})" if isinstance(key, int | str) else "")


def _annotation(item: dict, label: str, line: int, audio: str, key: Any, kind: str) -> _Annotation:
    model = kind == "predictions"
    score = item.get("score")
    annotator = item.get("completed_by")
    if isinstance(annotator, dict):
        annotator = annotator.get("email") or annotator.get("id")
    return _Annotation(
        task=label,
        line=line,
        recording=audio,
        results=item.get("result") or [],
        model=model,
        score=_score(score),
        key=key,
        ground_truth=item.get("ground_truth") is True,
        updated=str(item.get("updated_at") or item.get("created_at") or ""),
        annotator="" if annotator is None else str(annotator),
        cancelled=bool(item.get("was_cancelled") or item.get("skipped")),
    )


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _audio(data: dict[str, Any]) -> str | ValueError:
    """The recording a task's data names, or why it names none."""
    if isinstance(data.get("audio"), str) and data["audio"].strip():
        return recording_name(data["audio"])
    strings = {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}
    audio = [k for k, v in strings.items() if _is_audio(v)]
    if len(audio) == 1:
        return recording_name(strings[audio[0]])
    if not audio and len(strings) == 1:
        return recording_name(next(iter(strings.values())))
    fields = ", ".join(repr(k) for k in (audio or strings)) or "none"
    return ValueError(
        f"cannot tell which data field names the audio (no 'audio' field; fields: {fields})"
    )


def _is_audio(value: str) -> bool:
    return PurePosixPath(urlsplit(value.strip()).path).suffix.lower() in _AUDIO_SUFFIXES


def _min_record(reader: _Reader, record: dict, name: str, line: int) -> None:
    """A JSON-MIN record (or a CSV row as one): the task's data, the regions under the Labels
    tag's name, and the annotation's own keys."""
    regions = {
        k: v
        for k, v in record.items()
        if k not in _RECORD_KEYS and isinstance(v, list) and any(_is_region(r) for r in v)
    }
    data = {
        k: v for k, v in record.items() if k not in _RECORD_KEYS and not isinstance(v, list | dict)
    }
    audio = _audio(data)
    if isinstance(audio, ValueError):
        if regions:
            reader.issue(line, f"{name}: {audio}")
        return
    results = [
        {"type": "labels", "value": region, "from_name": key}
        for key, value in regions.items()
        for region in value
    ]
    reader.annotations.append(
        _Annotation(
            task=name,
            line=line,
            recording=audio,
            results=results,
            key=record.get("id", name),
            updated=str(record.get("updated_at") or record.get("created_at") or ""),
            annotator=str(record.get("annotator") or ""),
            cancelled=record.get("was_cancelled") in (True, "true", "True"),
        )
    )


def _is_region(value: Any) -> bool:
    return isinstance(value, dict) and "start" in value and "end" in value


# Reading CSV


def _read_csv(reader: _Reader, text: str) -> None:
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(rows)
    except StopIteration:
        return
    if not {"annotation_id", "annotator"} <= set(header):
        raise FormatError(
            reader.path,
            "not a Label Studio export: a CSV export's header names annotation_id and "
            "annotator columns",
        )
    line = rows.line_num + 1
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            reader.issue(line, f"not a CSV row: {exc}")
            return
        start, line = line, rows.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        record: dict[str, Any] = {}
        for key, cell in zip(header, row, strict=False):
            record[key] = cell
            stripped = cell.strip()
            if stripped.startswith("[") and '"start"' in stripped:
                try:
                    record[key] = json.loads(stripped)
                except (json.JSONDecodeError, RecursionError):
                    reader.issue(start, f"column {key!r}: its regions are not valid JSON")
                    record[key] = None
        if isinstance(record.get("id"), str) and record["id"].strip().isdigit():
            record["id"] = int(record["id"])
        _min_record(reader, record, _task_name(record, number), start)


# From annotations to events


def _events(reader: _Reader) -> None:
    chosen = _choose(reader)
    for annotation in chosen:
        for k, problem in annotation.problems:
            reader.issue(annotation.line, f"{annotation.task}, result {k}: {problem}")
        reader.result.events.extend(annotation.events)
        for kind, n in annotation.other_types.items():
            reader.other_types[kind] = reader.other_types.get(kind, 0) + n
    if reader.other_types:
        kinds = ", ".join(f"{n} {kind!r}" for kind, n in sorted(reader.other_types.items()))
        reader.warn(
            f"results that are not Labels regions left out ({kinds}): only labelled regions "
            "are events"
        )


def _choose(reader: _Reader) -> list[_Annotation]:
    """The predictions, and per task the one annotation imported (see the module's text)."""
    cancelled = [a for a in reader.annotations if a.cancelled]
    if cancelled:
        reader.warn(
            f"{len(cancelled)} cancelled (skipped) annotation(s) left out: "
            + _listed(a.task for a in cancelled)
        )
    chosen: list[_Annotation] = []
    by_task: dict[Any, list[_Annotation]] = {}
    for a in reader.annotations:
        if a.model:
            chosen.append(a)
        elif not a.cancelled:
            by_task.setdefault(_hashable(a.key), []).append(a)
    left_out: list[str] = []
    for group in by_task.values():
        best = max(group, key=lambda a: (a.ground_truth, a.updated))
        chosen.append(best)
        others = [a for a in group if a is not best]
        if others:
            why = "the ground truth" if best.ground_truth else "the most recently updated"
            left_out.append(
                f"{best.task}: imported {_who(best)} ({why}), left out "
                + ", ".join(_who(a) for a in others)
            )
    if left_out:
        reader.warn(
            f"{len(left_out)} task(s) were labelled by several annotators; one annotation of "
            f"each was imported: {_listed(left_out)}"
        )
    chosen.sort(key=lambda a: (a.line, a.model))
    return chosen


def _hashable(key: Any) -> Any:
    return key if isinstance(key, int | str | float | type(None)) else repr(key)


def _who(annotation: _Annotation) -> str:
    return f"the one by {annotation.annotator}" if annotation.annotator else "one"


def _listed(items: Iterable[str], most: int = 3) -> str:
    items = list(items)
    shown = "; ".join(items[:most])
    return shown + (f"; and {len(items) - most} more" if len(items) > most else "")


def _region_events(annotation: _Annotation, item: Any) -> list[LabelEvent]:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    kind = str(item.get("type", ""))
    value = item.get("value")
    if kind.lower() != "labels" and not (isinstance(value, dict) and "labels" in value):
        kind = kind or "untyped"
        annotation.other_types[kind] = annotation.other_types.get(kind, 0) + 1
        return []
    if not isinstance(value, dict):
        raise ValueError("its 'value' is not an object")
    if isinstance(value.get("text"), str):
        # A Labels span of a text task (character offsets, not seconds).
        annotation.other_types["text span"] = annotation.other_types.get("text span", 0) + 1
        return []
    start = _time(value, "start")
    end = _time(value, "end")
    if end < start:
        raise ValueError(f"'end' {format_number(end)} is before 'start' {format_number(start)}")
    labels = value.get("labels")
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or not labels:
        raise ValueError(f"the region {format_number(start)}–{format_number(end)} s has no label")
    confidence = None
    if annotation.model:
        confidence = _score(item.get("score"))
        if confidence is None:
            confidence = annotation.score
    events = []
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"label {label!r} is not a class name")
        check_class_name(label)
        events.append(
            LabelEvent(
                annotation.recording,
                start,
                end,
                label,
                source="model" if annotation.model else "human",
                confidence=confidence,
            )
        )
    return events


def _time(value: dict, key: str) -> float:
    number = value.get(key)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError(f"{key!r} is {'missing' if number is None else repr(number)}, not a time")
    number = float(number)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key!r} {number!r} is not a time in the recording")
    return number


# Writing


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    recordings: Sequence[str] | None = None,
    predictions: bool | None = None,
) -> None:
    """Write a task per recording (those of ``recordings`` in order, then any other the
    events name); events go to the tasks' predictions with ``predictions`` True, to their
    annotations with False, and by default detections not yet accepted (model events in
    review "none") to predictions and the rest to annotations."""
    tasks = _tasks(events, recordings, predictions)  # a ValueError before the file is touched
    write_lines(path, _task_lines(tasks.items()))


def lines(
    events: Iterable[LabelEvent],
    *,
    recordings: Sequence[str] | None = None,
    predictions: bool | None = None,
    grouped: bool = False,
) -> Iterator[str]:
    """The lines :func:`write` writes, one task a line, made as they are asked for. The events
    are gathered by recording first, in a compact form; with ``grouped`` they come grouped by
    recording in the order of ``recordings`` (as an export reads them from the store), and
    each task is written as soon as its events have passed, holding one task's regions at a
    time (a ValueError, as for an event that cannot be written, at one out of that order)."""
    if grouped:
        yield from _task_lines(_grouped_tasks(events, recordings, predictions))
    else:
        yield from _task_lines(_tasks(events, recordings, predictions).items())


# One region as gathered for its task: a prediction?, start, end, label, score.
_Region = tuple[bool, float, float, str, float | None]


def _regions(
    events: Iterable[LabelEvent], predictions: bool | None
) -> Iterator[tuple[str, _Region]]:
    """Each event's recording and region; ValueError at the first event that cannot be
    written."""
    labels: dict[str, str] = {}  # one string per class name, not one per event
    for e in checked(events, NAME, tab_separated=False):
        model = (
            predictions if predictions is not None else e.source == "model" and e.review == "none"
        )
        score = e.confidence if model else None
        if score is not None and not math.isfinite(score):
            raise ValueError(f"{NAME}: confidence {score!r} is not a finite number")
        label = labels.setdefault(e.label, e.label)
        yield e.recording, (model, e.onset, e.offset, label, score)


def _tasks(
    events: Iterable[LabelEvent],
    recordings: Sequence[str] | None,
    predictions: bool | None,
) -> dict[str, list[_Region]]:
    """Each task's regions in the events' order; ValueError at the first event that cannot
    be written."""
    tasks: dict[str, list[_Region]] = {}
    for name in recordings or ():
        tasks.setdefault(name, [])
    for recording, region in _regions(events, predictions):
        tasks.setdefault(recording, []).append(region)
    return tasks


def _grouped_tasks(
    events: Iterable[LabelEvent],
    recordings: Sequence[str] | None,
    predictions: bool | None,
) -> Iterator[tuple[str, list[_Region]]]:
    """:func:`_tasks`' tasks in turn, from events grouped by recording in the order of
    ``recordings``; ValueError at an event that cannot be written or comes out of order."""
    order = list(dict.fromkeys(recordings or ()))
    position = {name: k for k, name in enumerate(order)}
    done = 0  # the tasks of order[:done] are made (the last one may still be filling)
    regions: list[_Region] | None = None
    for recording, region in _regions(events, predictions):
        if regions is None or recording != order[done - 1]:
            k = position.get(recording, -1)
            if k < done:
                where = "is not one of the recordings" if k < 0 else "comes after its task"
                raise ValueError(
                    f"{NAME}: an event of {recording!r} {where}: grouped events come a "
                    "recording at a time, in the order of the recordings"
                )
            if regions is not None:
                yield order[done - 1], regions
            for name in order[done:k]:
                yield name, []
            done, regions = k + 1, []
        regions.append(region)
    if regions is not None:
        yield order[done - 1], regions
    for name in order[done:]:
        yield name, []


def _task_lines(tasks: Iterable[tuple[str, list[_Region]]]) -> Iterator[str]:
    yield "["
    previous: str | None = None
    for name, regions in tasks:
        if previous is not None:
            yield previous + ","
        previous = "  " + _task_json(name, regions)
    if previous is not None:
        yield previous
    yield "]"


def _task_json(name: str, regions: list[_Region]) -> str:
    annotations: list[dict[str, Any]] = []
    predicted: list[dict[str, Any]] = []
    scores: list[float] = []
    for index, (model, start, end, label, score) in enumerate(regions):
        region: dict[str, Any] = {
            "id": _region_id(name, index),
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "origin": "prediction" if model else "manual",
            "value": {"start": start, "end": end, "channel": 0, "labels": [label]},
        }
        if score is not None:
            region["score"] = score
            scores.append(score)
        (predicted if model else annotations).append(region)
    task: dict[str, Any] = {"data": {"audio": name}, "annotations": [], "predictions": []}
    if annotations:
        task["annotations"] = [
            {"result": annotations, "was_cancelled": False, "ground_truth": False}
        ]
    if predicted:
        prediction: dict[str, Any] = {"model_version": MODEL_VERSION, "result": predicted}
        if len(scores) == len(predicted):
            # Only where every region has one: a region without reads it as its own.
            prediction["score"] = sum(scores) / len(scores)
        task["predictions"] = [prediction]
    return json.dumps(task, ensure_ascii=False)


def _region_id(recording: str, index: int) -> str:
    """A region id as Label Studio makes them (10 characters), the same on every export."""
    return hashlib.sha1(f"{recording}\0{index}".encode(), usedforsecurity=False).hexdigest()[:10]
