"""soundevent's Acoustic Objects Exchange Format (AOEF, version 1.x): the JSON that whombat and
the ``soundevent`` package read and write, one file per project.

A document is ``{"version": "1.1.0", "data": {"collection_type": ..., ...}}``. The data lists
``tags`` (``{"id", "key", "value"}``), ``recordings`` (``{"uuid", "path", "duration",
"channels", "samplerate"}``), ``sound_events`` (``{"uuid", "recording", "geometry"}``) and
either ``sound_event_annotations`` (``{"uuid", "sound_event", "tags": [tag ids]}``; collection
types ``annotation_set``, ``annotation_project``, ``evaluation_set``) or
``sound_event_predictions`` (``{"uuid", "sound_event", "score", "tags": [[tag id, score]]}``;
``prediction_set``, ``model_run``).

Import: an event per annotated (or predicted) sound event and class tag. The class is the
value of the tag whose key ``label_column`` names (``tfstudio import --label-column KEY``),
else of the only key the sound events use, else of the first of ``TAG_KEYS`` present.
Predictions become model events whose confidence is the tag's score (the prediction's score
when the tag has none). The recording is the recording's path as written (the import finds
it by its file name, and by its folders among recordings of one name). Geometries:
``TimeInterval`` and ``BoundingBox`` as they are, ``TimeStamp`` and ``Point`` as zero-length
events, lines and polygons as their bounding box (with one warning per file). Clip-level tags
carry no times and are not imported.

Export: labels as an ``annotation_project`` (one clip and one task per recording, the class as
a tag with key ``label``), detections as a ``model_run`` (model "tfstudio") whose predictions
score the confidence (1.0 when an event has none). A band with both sides known is a ``BoundingBox``;
so is a band with one side known, the other side at 0 Hz or at the recording's Nyquist
frequency ("above 2 kHz" is a box up to the top), where the sample rate is known, with a
feature (``tfstudio:low_freq_unknown`` or ``tfstudio:high_freq_unknown``: 1) that the import
reads to give the side back as unknown; anything else a ``TimeInterval``. Identifiers are UUIDs derived from the content, so the same
export gives the same file. The ``soundevent`` package itself is not used: it would bring
pydantic and email-validator for a plain JSON document.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tfstudio.formats.base import (
    FormatError,
    JsonDocument,
    LabelEvent,
    ParseIssue,
    ParseResult,
    check_class_name,
    checked,
    column_key,
    load_json,
    write_text,
)

NAME = "soundevent"
PER_RECORDING = False
SUFFIX = ".json"
READ_OPTIONS = frozenset({"label_column"})
AOEF_VERSION = "1.1.0"
# Sound-event features (AOEF's name -> number map) that mark a box side the export filled in.
LOW_UNKNOWN = "tfstudio:low_freq_unknown"
HIGH_UNKNOWN = "tfstudio:high_freq_unknown"
ANNOTATIONS = ("annotation_set", "annotation_project", "evaluation_set")
PREDICTIONS = ("prediction_set", "model_run")
# Tag keys that name an event's class, in the order they are preferred. soundevent maps a key
# to a vocabulary term: "species" is Darwin Core's scientificName, while "class" is Darwin
# Core's taxonomic class (Aves), a poor default: it comes last.
TAG_KEYS = (
    "label",
    "event_label",
    "sound_event",
    "event",
    "species",
    "dwc:scientificName",
    "scientific_name",
    "common_name",
    "dwc:vernacularName",
    "call_type",
    "sound_type",
    "class",
)
DEFAULT_TAG_KEY = "label"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "tfstudio:soundevent")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def looks_like(text: str) -> bool:
    """Whether a JSON text is an AOEF document rather than tfstudio's own JSON."""
    return '"collection_type"' in text and '"tfstudio-labels"' not in text[:4096]


def read(path: Path, *, label_column: str | None = None) -> ParseResult:
    """Events from an AOEF document; bad entries become issues (on the line where the entry
    starts, the reason naming the entry's number)."""
    path = Path(path)
    loaded = load_json(path)
    document = loaded.value
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or "collection_type" not in data:
        raise FormatError(path, 'not a soundevent (AOEF) file: no "data" with a "collection_type"')
    version = str(document.get("version", AOEF_VERSION))
    if not version.startswith("1."):
        raise FormatError(
            path, f"AOEF version {version} is not supported (this tfstudio reads 1.x)"
        )
    kind = data["collection_type"]
    if kind in ANNOTATIONS:
        entries_key, model = "sound_event_annotations", False
    elif kind in PREDICTIONS:
        entries_key, model = "sound_event_predictions", True
    else:
        raise FormatError(
            path,
            f"a {kind!r} collection holds no sound event annotations or predictions "
            f"(tfstudio reads {', '.join(ANNOTATIONS + PREDICTIONS)})",
        )
    result = ParseResult()
    tags = _tags(path, loaded, data, result)
    recordings = _recordings(path, loaded, data, result)
    sound_events = _by_uuid(path, data, "sound_events")
    entries = _list(path, data, entries_key)
    key = _class_key(path, entries, tags, model, label_column)
    shapes: Counter[str] = Counter()
    for number, entry in enumerate(entries, start=1):
        what = f"{entries_key[:-1].replace('_', ' ')} {number}"
        try:
            result.events.extend(_events(entry, key, tags, recordings, sound_events, model, shapes))
        except ValueError as exc:
            line = loaded.entry_line(("data", entries_key), number - 1)
            result.issues.append(ParseIssue(path, line, f"{what}: {exc}"))
    for shape, count in sorted(shapes.items()):
        what = "geometry imported as its bounding box"
        if count > 1:
            what = "geometries imported as their bounding boxes"
        result.warnings.append(ParseIssue(path, 0, f"{count} {shape} {what}"))
    if not entries and any(
        isinstance(clip, dict) and clip.get("tags")
        for clip in _list(path, data, "clip_annotations")
    ):
        result.warnings.append(
            ParseIssue(path, 0, "clip-level tags have no times and were not imported")
        )
    return result


def _list(path: Path, data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FormatError(path, f'"{key}" is not a list')
    return value


def _tags(
    path: Path, loaded: JsonDocument, data: Mapping[str, Any], result: ParseResult
) -> dict[Any, tuple[str, str]]:
    tags: dict[Any, tuple[str, str]] = {}
    for number, entry in enumerate(_list(path, data, "tags"), start=1):
        if (
            not isinstance(entry, dict)
            or isinstance(entry.get("id"), bool)
            or not isinstance(entry.get("id"), int)
            or not isinstance(entry.get("key"), str)
            or not isinstance(entry.get("value"), str)
        ):
            line = loaded.entry_line(("data", "tags"), number - 1)
            result.issues.append(
                ParseIssue(path, line, f'tag {number}: expected {{"id": number, "key", "value"}}')
            )
            continue
        tags[entry["id"]] = (entry["key"], entry["value"])
    return tags


def _recordings(
    path: Path, loaded: JsonDocument, data: Mapping[str, Any], result: ParseResult
) -> dict[str, str]:
    names: dict[str, str] = {}
    for number, entry in enumerate(_list(path, data, "recordings"), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            line = loaded.entry_line(("data", "recordings"), number - 1)
            result.issues.append(ParseIssue(path, line, f'recording {number}: no "path"'))
            continue
        # The path as written: its folders pick among recordings of one name at import.
        names[str(entry.get("uuid"))] = entry["path"]
    return names


def _by_uuid(path: Path, data: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in _list(path, data, key):
        if isinstance(entry, dict) and "uuid" in entry:
            found[str(entry["uuid"])] = entry
    return found


def _tag_ids(entry: Mapping[str, Any], model: bool) -> list[tuple[Any, float | None]]:
    """(tag id, score) pairs of an annotation (score None) or a prediction."""
    raw = entry.get("tags") or []
    if not isinstance(raw, list):
        raise ValueError('"tags" is not a list')
    pairs: list[tuple[Any, float | None]] = []
    for item in raw:
        if model and isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((item[0], _score(item[1])))
        elif model and isinstance(item, dict) and "tag" in item:
            pairs.append((item["tag"], _score(item.get("score"))))
        else:
            pairs.append((item, None))
    return pairs


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"score {value!r} is not a finite number")
    return float(value)


def _class_key(
    path: Path,
    entries: list[Any],
    tags: Mapping[Any, tuple[str, str]],
    model: bool,
    label_column: str | None,
) -> str:
    used: Counter[str] = Counter()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            pairs = _tag_ids(entry, model)
        except ValueError:
            continue
        used.update({tags[tag][0] for tag, _ in pairs if tag in tags})
    if label_column is not None:
        wanted = column_key(label_column)
        key = next((k for k in used if column_key(k) == wanted), None)
        if key is None and used:
            raise FormatError(
                path, f"no sound event has a {label_column!r} tag (its tag keys: {', '.join(used)})"
            )
        return key or label_column
    if len(used) <= 1:
        return next(iter(used), DEFAULT_TAG_KEY)
    by_key = {column_key(k): k for k in used}
    for preferred in TAG_KEYS:
        if column_key(preferred) in by_key:
            return by_key[column_key(preferred)]
    raise FormatError(
        path,
        f"the sound events carry tags with several keys ({', '.join(sorted(used))}); name the "
        "one that holds the class with --label-column",
    )


def _events(
    entry: Any,
    key: str,
    tags: Mapping[Any, tuple[str, str]],
    recordings: Mapping[str, str],
    sound_events: Mapping[str, Mapping[str, Any]],
    model: bool,
    shapes: Counter[str],
) -> list[LabelEvent]:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    sound_event = sound_events.get(str(entry.get("sound_event")))
    if sound_event is None:
        raise ValueError(f"sound event {entry.get('sound_event')!r} is not listed")
    recording = recordings.get(str(sound_event.get("recording")))
    if recording is None:
        raise ValueError(f"recording {sound_event.get('recording')!r} is not listed")
    onset, offset, low_hz, high_hz = _geometry(sound_event.get("geometry"), shapes)
    features = sound_event.get("features")
    if isinstance(features, dict) and low_hz is not None:
        # A side tfstudio's export filled in (0 Hz, the Nyquist frequency) is unknown again.
        if features.get(LOW_UNKNOWN) == 1 and low_hz == 0:
            low_hz = None
        if features.get(HIGH_UNKNOWN) == 1:
            high_hz = None
    labels = []
    for tag, score in _tag_ids(entry, model):
        if tag not in tags:
            raise ValueError(f"tag {tag!r} is not listed")
        tag_key, value = tags[tag]
        if tag_key == key:
            labels.append((value.strip(), score))
    if not labels:
        raise ValueError(f"no {key!r} tag")
    events = []
    for label, score in labels:
        if not label:
            raise ValueError(f"empty {key!r} tag")
        check_class_name(label)
        event = LabelEvent(recording, onset, offset, label, low_hz, high_hz)
        if model:
            confidence = score if score is not None else _score(entry.get("score"))
            event = LabelEvent(
                recording, onset, offset, label, low_hz, high_hz, "model", confidence
            )
        events.append(event)
    return events


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} {value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} {value!r} is not a finite number")
    if value < 0:
        raise ValueError(f"{what} {value!r} is negative")
    return value


def _points(coordinates: Any) -> list[tuple[float, float]]:
    """Every (time, frequency) pair in a nested coordinate list."""
    if (
        isinstance(coordinates, list)
        and len(coordinates) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
    ):
        return [(coordinates[0], coordinates[1])]
    if not isinstance(coordinates, list) or not coordinates:
        raise ValueError("coordinates are not a list of [time, frequency] points")
    return [point for part in coordinates for point in _points(part)]


def _geometry(
    geometry: Any, shapes: Counter[str]
) -> tuple[float, float, float | None, float | None]:
    """Onset, offset, low and high frequency of a geometry."""
    if not isinstance(geometry, dict):
        raise ValueError("the sound event has no geometry")
    shape, coordinates = geometry.get("type"), geometry.get("coordinates")
    if shape == "TimeStamp":
        time = _number(coordinates, "time")
        return time, time, None, None
    if shape == "TimeInterval":
        if not isinstance(coordinates, list) or len(coordinates) != 2:
            raise ValueError("a TimeInterval needs [start, end]")
        start, end = sorted(_number(c, "time") for c in coordinates)
        return start, end, None, None
    if shape == "BoundingBox":
        if not isinstance(coordinates, list) or len(coordinates) != 4:
            raise ValueError("a BoundingBox needs [start time, low freq, end time, high freq]")
        start, end = sorted(_number(coordinates[k], "time") for k in (0, 2))
        low, high = sorted(_number(coordinates[k], "frequency") for k in (1, 3))
        return start, end, low, high
    if shape in ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"):
        points = [(_number(t, "time"), _number(f, "frequency")) for t, f in _points(coordinates)]
        if shape != "Point":
            shapes[shape] += 1
        times = [t for t, _ in points]
        freqs = [f for _, f in points]
        return min(times), max(times), min(freqs), max(freqs)
    raise ValueError(f"unknown geometry type {shape!r}")


def _uuid(*parts: object) -> str:
    """``str(uuid.uuid5(_NAMESPACE, …))`` of the parts, without a UUID object: an export
    makes three per event."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(map(str, parts)).encode()).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def write(
    events: Sequence[LabelEvent],
    path: Path,
    *,
    recordings: Sequence[Mapping[str, Any]] = (),
    predictions: bool | None = None,
    name: str | None = None,
    tag_key: str = DEFAULT_TAG_KEY,
    model_version: str = "",
) -> None:
    """Write an annotation project (``predictions`` False) or a model run (True; by default
    when every event is a model event). ``recordings`` describe the files: ``name``, ``path``,
    ``duration``, ``channels``, ``samplerate``, optional ``hash`` and ``start`` (a datetime:
    AOEF's ``date`` and ``time``, the offset with it where known); a recording an event names
    without a description gets its name as path, its last offset as duration, one channel and
    sample rate 0 (unknown)."""
    text_lines = list(
        lines(
            events,
            recordings=recordings,
            predictions=predictions,
            name=name,
            tag_key=tag_key,
            model_version=model_version,
        )
    )
    write_text(path, "\n".join(text_lines) + "\n")


def lines(
    events: Iterable[LabelEvent],
    *,
    recordings: Sequence[Mapping[str, Any]] = (),
    predictions: bool | None = None,
    name: str | None = None,
    tag_key: str = DEFAULT_TAG_KEY,
    model_version: str = "",
) -> Iterator[str]:
    """The document :func:`write` writes, as lines (a line may hold several of the file's)
    made as they are written: ``events`` is iterated three times (a list, or an export's query
    that runs again on each pass), and what is held besides the recordings' descriptions is
    16 bytes per event. ValueError, before the first line, for an event the format cannot
    carry."""
    ends: dict[str, float] = {}
    labels: dict[str, None] = {}
    named: dict[str, None] = {}
    all_model = True
    for number, e in enumerate(checked(events, NAME, tab_separated=False), start=1):
        if not e.recording:
            raise ValueError(f"{NAME}: event {number} ({e.label!r}) names no recording")
        if e.confidence is not None and not math.isfinite(e.confidence):
            raise ValueError(f"{NAME}: event {number}: confidence must be finite")
        all_model = all_model and e.source == "model"
        ends[e.recording] = max(ends.get(e.recording, 0.0), e.offset)
        labels.setdefault(e.label)
        named.setdefault(e.recording)
    if predictions is None:
        predictions = bool(ends) and all_model
    described = {str(r["name"]): r for r in recordings}
    order = list(dict.fromkeys([*described, *named]))
    recording_objects = []
    for rec_name in order:
        info = described.get(rec_name, {})
        item: dict[str, Any] = {
            "uuid": _uuid("recording", info.get("path", rec_name)),
            "path": str(info.get("path", rec_name)),
            "duration": float(info.get("duration", ends.get(rec_name, 0.0))),
            "channels": int(info.get("channels", 1)),
            "samplerate": int(info.get("samplerate", 0)),
        }
        if info.get("hash"):
            item["hash"] = str(info["hash"])
        start = info.get("start")
        if isinstance(start, datetime):  # AOEF's date and time of day (with its offset)
            item["date"] = start.date().isoformat()
            item["time"] = start.timetz().isoformat()
        recording_objects.append(item)
    rec_uuid = {name: obj["uuid"] for name, obj in zip(order, recording_objects)}
    duration = {name: obj["duration"] for name, obj in zip(order, recording_objects)}
    nyquist = {name: obj["samplerate"] / 2 for name, obj in zip(order, recording_objects)}

    tag_id = {label: k for k, label in enumerate(labels)}
    tags = [{"id": k, "key": tag_key, "value": label} for label, k in tag_id.items()]
    clips = {
        rec_name: {
            "uuid": _uuid("clip", rec_uuid[rec_name]),
            "recording": rec_uuid[rec_name],
            "start_time": 0.0,
            "end_time": max(duration[rec_name], ends.get(rec_name, 0.0)),
        }
        for rec_name in order
    }
    # Each clip's entries, as the 16 bytes of their UUIDs, filled while the entries are written.
    per_clip: dict[str, bytearray] = {rec_name: bytearray() for rec_name in order}

    def event_uuid(number: int, e: LabelEvent) -> str:
        return _uuid("sound_event", rec_uuid[e.recording], number, e.onset, e.offset, e.label)

    def sound_events() -> Iterator[dict[str, Any]]:
        for number, e in enumerate(events):
            low, high = e.low_hz, e.high_hz
            if low is None and high is not None:
                low = 0.0  # "below high": from 0 Hz
            elif high is None and low is not None and nyquist[e.recording] > 0:
                # "above low": up to the top (a side above the top, as a flat box at it)
                high = max(low, nyquist[e.recording])
            item: dict[str, Any] = {
                "uuid": event_uuid(number, e),
                "recording": rec_uuid[e.recording],
            }
            if low is not None and high is not None:
                item["geometry"] = {
                    "type": "BoundingBox",
                    "coordinates": [e.onset, low, e.offset, high],
                }
                # Which side was filled in, so the import gives the event back as it was (and
                # an export imported again adds nothing); other readers see the box.
                if e.low_hz is None:
                    item["features"] = {LOW_UNKNOWN: 1.0}
                elif e.high_hz is None:
                    item["features"] = {HIGH_UNKNOWN: 1.0}
            else:
                item["geometry"] = {"type": "TimeInterval", "coordinates": [e.onset, e.offset]}
            yield item

    def entries() -> Iterator[dict[str, Any]]:
        for number, e in enumerate(events):
            sound_event = event_uuid(number, e)
            entry = _uuid("entry", sound_event)
            per_clip[e.recording] += bytes.fromhex(entry.replace("-", ""))
            if predictions:
                score = 1.0 if e.confidence is None else e.confidence
                yield {
                    "uuid": entry,
                    "sound_event": sound_event,
                    "score": score,
                    "tags": [[tag_id[e.label], score]],
                }
            else:
                yield {"uuid": entry, "sound_event": sound_event, "tags": [tag_id[e.label]]}

    def clip_entries(kind: str) -> Iterator[dict[str, Any]]:
        for rec_name, clip in clips.items():
            held = per_clip[rec_name]
            yield {
                "uuid": _uuid(kind, clip["uuid"]),
                "clip": clip["uuid"],
                "sound_events": [
                    str(uuid.UUID(bytes=bytes(held[k : k + 16]))) for k in range(0, len(held), 16)
                ],
            }
            per_clip[rec_name] = bytearray()

    collection: dict[str, Any] = {
        "uuid": _uuid("collection", predictions, name or "", *order),
        "name": name or ("tfstudio detections" if predictions else "tfstudio labels"),
        "collection_type": "model_run" if predictions else "annotation_project",
        "tags": tags,
        "recordings": recording_objects,
        "sound_events": sound_events(),
        "clips": list(clips.values()),
    }
    if predictions:
        collection["model"] = {"name": "tfstudio", "version": model_version}
        collection["sound_event_predictions"] = entries()
        collection["clip_predictions"] = clip_entries("clip_predictions")
    else:
        collection["sound_event_annotations"] = entries()
        collection["clip_annotations"] = clip_entries("clip_annotations")
        collection["project_tags"] = list(tag_id.values())
        collection["tasks"] = [
            {"uuid": _uuid("task", clip["uuid"]), "clip": clip["uuid"]} for clip in clips.values()
        ]
    yield "{"
    yield f' "version": {_json(AOEF_VERSION, 1)},'
    yield ' "data": {'
    for position, (key, value) in enumerate(collection.items(), start=1):
        comma = "," if position < len(collection) else ""
        if not isinstance(value, Iterator):
            yield f"  {_json(key, 2)}: {_json(value, 2)}{comma}"
            continue
        # What json.dumps(document, indent=1) writes for this list, a chunk of items at a time
        # (one json.dumps per item costs more than the items).
        previous: str | None = None
        for chunk in _chunks(value, _ITEMS_PER_DUMP):
            yield f"  {_json(key, 2)}: [" if previous is None else f"{previous},"
            previous = _json_items(chunk, 3)
        if previous is None:
            yield f"  {_json(key, 2)}: []{comma}"
        else:
            yield previous
            yield f"  ]{comma}"
    yield " }"
    yield "}"


_ITEMS_PER_DUMP = 512


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _json_items(items: list[Any], level: int) -> str:
    """The items of a list at nesting ``level - 1``, as json.dumps(…, indent=1) writes them
    between the brackets: each at ``level``, separated by a comma and a line break."""
    text = _json(items, level - 1)  # "[\n" + items + "\n" + indent + "]"
    return text[2 : text.rindex("\n")]


def _json(value: Any, level: int) -> str:
    """``value`` as ``json.dumps(…, indent=1)`` writes it at nesting ``level`` of a document
    (JSON strings hold no raw line breaks, so indenting every line is exact)."""
    text = json.dumps(value, ensure_ascii=False, indent=1, allow_nan=False)
    return text.replace("\n", "\n" + " " * level)
