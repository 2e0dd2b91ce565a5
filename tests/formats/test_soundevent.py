"""soundevent / AOEF JSON (whombat's format, issue 14): annotation projects and model runs in,
annotation projects and model runs out.

The documents are written here in the shape soundevent 2.x saves (``{"version": "1.1.0",
"created_on", "data": {"collection_type", "tags", "recordings", "sound_events", "clips",
"sound_event_annotations" | "sound_event_predictions", ...}}``); none is copied from another
project. That the ``soundevent`` package itself loads what tfstudio writes, and that tfstudio
reads what it saves, was checked by hand against soundevent 2.10 (it is not a dependency).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format, jsonfmt, soundevent

REC1 = "6a1b7d4e-0000-4000-8000-000000000001"
REC2 = "6a1b7d4e-0000-4000-8000-000000000002"


def _sound_event(number: int, recording: str, geometry: dict) -> dict:
    return {
        "uuid": f"5e000000-0000-4000-8000-{number:012d}",
        "recording": recording,
        "geometry": geometry,
        "features": {"duration": 1.0},
    }


SOUND_EVENTS = [
    _sound_event(1, REC1, {"type": "BoundingBox", "coordinates": [1.0, 2000.0, 2.5, 6000.0]}),
    _sound_event(2, REC1, {"type": "TimeInterval", "coordinates": [3.0, 4.0]}),
    _sound_event(3, REC2, {"type": "TimeStamp", "coordinates": 1.5}),
    _sound_event(
        4,
        REC2,
        {
            "type": "Polygon",
            "coordinates": [[[0.5, 100.0], [0.9, 300.0], [0.7, 900.0], [0.5, 100.0]]],
        },
    ),
]
TAGS = [
    {"id": 0, "key": "dwc:scientificName", "value": "Turdus merula"},
    {"id": 1, "key": "call_type", "value": "song"},
    {"id": 2, "key": "dwc:scientificName", "value": "Erithacus rubecula"},
    {"id": 3, "key": "dwc:scientificName", "value": "Parus major"},
    {"id": 4, "key": "quality", "value": "A"},
]
RECORDINGS = [
    {
        "uuid": REC1,
        "path": "site1/rec1.wav",
        "duration": 10.0,
        "channels": 1,
        "samplerate": 48000,
        "owners": [],
    },
    {
        "uuid": REC2,
        "path": "C:\\field\\rec2.wav",
        "duration": 5.0,
        "channels": 1,
        "samplerate": 48000,
        "tags": [4],
        "owners": [],
    },
]


def annotation_project() -> dict:
    """A fresh document (tests change theirs)."""
    annotations = [
        {
            "uuid": f"a0000000-0000-4000-8000-{k:012d}",
            "sound_event": se["uuid"],
            "tags": tags,
            "created_on": "2024-10-03T13:11:30.408701",
        }
        for k, (se, tags) in enumerate(zip(SOUND_EVENTS, [[0, 1], [2, 1], [0], [3]]), start=1)
    ]
    return copy.deepcopy(
        {
            "version": "1.1.0",
            "created_on": "2024-10-07T11:03:31.608229",
            "data": {
                "uuid": "c0000000-0000-4000-8000-000000000001",
                "name": "Garden birds",
                "collection_type": "annotation_project",
                "tags": TAGS,
                "recordings": RECORDINGS,
                "sound_events": SOUND_EVENTS,
                "clips": [],
                "sound_event_annotations": annotations,
                "clip_annotations": [],
                "project_tags": [0, 2, 3],
            },
        }
    )


def model_run() -> dict:
    predictions = [
        {
            "uuid": "b0000000-0000-4000-8000-000000000001",
            "sound_event": SOUND_EVENTS[0]["uuid"],
            "score": 0.9,
            "tags": [[0, 0.83]],
        },
        {
            "uuid": "b0000000-0000-4000-8000-000000000002",
            "sound_event": SOUND_EVENTS[1]["uuid"],
            "score": 0.4,
            "tags": [[2, 0.41], [0, 0.2]],
        },
    ]
    return copy.deepcopy(
        {
            "version": "1.1.0",
            "created_on": "2024-10-07T11:03:31.608229",
            "data": {
                "uuid": "c0000000-0000-4000-8000-000000000002",
                "name": "BirdNET",
                "collection_type": "model_run",
                "model": {"name": "BirdNET", "version": "2.4"},
                "tags": TAGS,
                "recordings": RECORDINGS,
                "sound_events": SOUND_EVENTS[:2],
                "sound_event_predictions": predictions,
            },
        }
    )


def save(tmp_path: Path, document: dict, name: str = "project.json") -> Path:
    path = tmp_path / name
    # soundevent writes one line, as pydantic's model_dump_json does.
    path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return path


def test_an_annotation_project_reads_as_labels(tmp_path):
    path = save(tmp_path, annotation_project())
    assert guess_format(path) == "soundevent"
    result = soundevent.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("site1/rec1.wav", 1.0, 2.5, "Turdus merula", 2000.0, 6000.0),
        LabelEvent("site1/rec1.wav", 3.0, 4.0, "Erithacus rubecula"),
        LabelEvent("C:\\field\\rec2.wav", 1.5, 1.5, "Turdus merula"),
        LabelEvent("C:\\field\\rec2.wav", 0.5, 0.9, "Parus major", 100.0, 900.0),
    ]
    assert [w.reason for w in result.warnings] == [
        "1 Polygon geometry imported as its bounding box"
    ]


def test_label_column_chooses_the_tag_key(tmp_path):
    path = save(tmp_path, annotation_project())
    result = soundevent.read(path, label_column="Call_Type")
    assert [e.label for e in result.events] == ["song", "song"]
    # The file is one line (as pydantic writes it): the reason names the entry.
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "sound event annotation 3: no 'call_type' tag"),
        (1, "sound event annotation 4: no 'call_type' tag"),
    ]
    with pytest.raises(FormatError, match="no sound event has a 'colour' tag"):
        soundevent.read(path, label_column="colour")


def test_several_tag_keys_without_a_known_one_ask_for_label_column(tmp_path):
    document = annotation_project()
    renamed = {"dwc:scientificName": "taxon", "call_type": "vocalisation"}
    for tag in document["data"]["tags"]:
        tag["key"] = renamed.get(tag["key"], tag["key"])
    with pytest.raises(FormatError, match=r"several keys \(taxon, vocalisation\).*--label-col"):
        soundevent.read(save(tmp_path, document))


def test_a_model_run_reads_as_detections_scored_by_their_tags(tmp_path):
    result = soundevent.read(save(tmp_path, model_run(), "run.json"))
    assert result.issues == []
    assert result.events == [
        LabelEvent("site1/rec1.wav", 1.0, 2.5, "Turdus merula", 2000.0, 6000.0, "model", 0.83),
        LabelEvent("site1/rec1.wav", 3.0, 4.0, "Erithacus rubecula", None, None, "model", 0.41),
        LabelEvent("site1/rec1.wav", 3.0, 4.0, "Turdus merula", None, None, "model", 0.2),
    ]


def test_bad_entries_cost_only_themselves(tmp_path):
    document = annotation_project()
    data = document["data"]
    data["sound_event_annotations"][1]["sound_event"] = "missing"
    data["sound_events"][2]["geometry"] = {"type": "TimeInterval", "coordinates": [-1.0, 2.0]}
    data["sound_event_annotations"].append(
        {"uuid": "x", "sound_event": SOUND_EVENTS[0]["uuid"], "tags": [99]}
    )
    result = soundevent.read(save(tmp_path, document))
    assert [e.label for e in result.events] == ["Turdus merula", "Parus major"]
    assert [(i.line, i.reason) for i in result.issues] == [
        (1, "sound event annotation 2: sound event 'missing' is not listed"),
        (1, "sound event annotation 3: time -1.0 is negative"),
        (1, "sound event annotation 5: tag 99 is not listed"),
    ]
    # Pretty-printed (as tfstudio writes AOEF), each issue is on the line its entry starts.
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    issues = soundevent.read(path).issues
    uuids = [data["sound_event_annotations"][k]["uuid"] for k in (1, 2, 4)]
    assert [i.reason for i in issues] == [i.reason for i in result.issues]
    for issue, uuid in zip(issues, uuids, strict=True):
        assert lines[issue.line - 1].strip() == "{"
        assert lines[issue.line].strip() == f'"uuid": "{uuid}",'  # the entry's first field


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "tfstudio-labels", "version": 1}', "not a soundevent \\(AOEF\\) file"),
        ('{"version": "2.0.0", "data": {"collection_type": "annotation_set"}}', "version 2.0.0"),
        (
            '{"version": "1.1.0", "data": {"collection_type": "dataset", "recordings": []}}',
            "'dataset' collection holds no sound event annotations",
        ),
    ],
)
def test_files_that_are_not_aoef_annotations_raise_format_error(tmp_path, document, reason):
    path = tmp_path / "x.json"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(FormatError, match=reason):
        soundevent.read(path)


def test_tfstudio_json_names_soundevent_for_an_aoef_file(tmp_path):
    with pytest.raises(FormatError, match="use --format soundevent"):
        jsonfmt.read(save(tmp_path, annotation_project()))


RECORDING_INFO = [
    {
        "name": "rec1.wav",
        "path": "audio/rec1.wav",
        "duration": 10.0,
        "channels": 1,
        "samplerate": 16000,
        "hash": "abc",
    },
    {
        "name": "quiet.wav",
        "path": "audio/quiet.wav",
        "duration": 3.0,
        "channels": 2,
        "samplerate": 44100,
    },
]


def test_labels_write_an_annotation_project_that_reads_back(tmp_path):
    events = [
        LabelEvent("rec1.wav", 1.0, 2.5, "Turdus merula", 2000.0, 6000.0),
        LabelEvent("rec1.wav", 3.0, 3.0, "click"),
        LabelEvent("rec1.wav", 1 / 3, 0.1 + 0.2 + 1, "Turdus merula"),
    ]
    path = tmp_path / "out.json"
    soundevent.write(events, path, recordings=RECORDING_INFO, name="garden labels")
    document = json.loads(path.read_text(encoding="utf-8"))
    data = document["data"]
    assert document["version"] == "1.1.0"
    assert data["collection_type"] == "annotation_project" and data["name"] == "garden labels"
    assert [r["path"] for r in data["recordings"]] == ["audio/rec1.wav", "audio/quiet.wav"]
    assert len(data["clips"]) == len(data["tasks"]) == len(data["clip_annotations"]) == 2
    assert {tag["key"] for tag in data["tags"]} == {"label"}
    assert data["sound_events"][0]["geometry"] == {
        "type": "BoundingBox",
        "coordinates": [1.0, 2000.0, 2.5, 6000.0],
    }
    # The recording reads back as the path the file gives it.
    assert soundevent.read(path).events == [
        dataclasses.replace(e, recording="audio/rec1.wav") for e in events
    ]
    # The same export is the same file: identifiers come from the content.
    again = tmp_path / "again.json"
    soundevent.write(events, again, recordings=RECORDING_INFO, name="garden labels")
    assert again.read_bytes() == path.read_bytes()


def test_a_band_known_on_one_side_is_a_box_to_0_hz_or_to_nyquist(tmp_path):
    """A band "above 2 kHz" was written as a TimeInterval, losing its band: a box up to the
    recording's Nyquist frequency says the same; without a sample rate it stays a span."""
    events = [
        LabelEvent("rec1.wav", 1.0, 2.0, "wren", 2000.0, None),  # above 2 kHz, 16 kHz file
        LabelEvent("rec1.wav", 3.0, 4.0, "hum", None, 300.0),  # below 300 Hz
        LabelEvent("other.wav", 0.0, 1.0, "wren", 2000.0, None),  # sample rate unknown
    ]
    path = tmp_path / "out.json"
    soundevent.write(events, path, recordings=RECORDING_INFO)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    assert [e["geometry"] for e in data["sound_events"]] == [
        {"type": "BoundingBox", "coordinates": [1.0, 2000.0, 2.0, 8000.0]},
        {"type": "BoundingBox", "coordinates": [3.0, 0.0, 4.0, 300.0]},
        {"type": "TimeInterval", "coordinates": [0.0, 1.0]},
    ]
    # The side filled in is marked, and reads back unknown (as the project had it).
    assert [e.get("features") for e in data["sound_events"]] == [
        {"tfstudio:high_freq_unknown": 1.0},
        {"tfstudio:low_freq_unknown": 1.0},
        None,
    ]
    read = soundevent.read(path).events
    assert [(e.low_hz, e.high_hz) for e in read] == [(2000.0, None), (None, 300.0), (None, None)]


def test_detections_write_a_model_run_that_reads_back_as_detections(tmp_path):
    events = [
        LabelEvent("rec1.wav", 0.0, 3.0, "Wren", None, None, "model", 0.75),
        LabelEvent("rec1.wav", 3.0, 6.0, "Robin", None, None, "model", 0.5, "accepted"),
    ]
    path = tmp_path / "out.json"
    soundevent.write(events, path, recordings=RECORDING_INFO, predictions=True)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    assert data["collection_type"] == "model_run" and data["model"]["name"] == "tfstudio"
    assert [p["score"] for p in data["sound_event_predictions"]] == [0.75, 0.5]
    read = soundevent.read(path).events
    assert [(e.label, e.source, e.confidence) for e in read] == [
        ("Wren", "model", 0.75),
        ("Robin", "model", 0.5),
    ]


def test_write_refuses_events_without_a_recording(tmp_path):
    path = tmp_path / "out.json"
    with pytest.raises(ValueError, match="names no recording"):
        soundevent.write([LabelEvent("", 0.0, 1.0, "dog")], path)
    assert not path.exists()
