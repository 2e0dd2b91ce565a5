"""Label Studio's audio exports (JSON, JSON-MIN, CSV) in, its JSON task list out.

The files are written here in the shape Label Studio 1.x exports an audio project labelled
with ``<Labels name="label" toName="audio">`` on ``<Audio name="audio" value="$audio">``
(the fields and their order as its export and label-studio-converter's ``convert_to_json_min``
and ``csv2`` write them); none is copied from another project.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from tfstudio.formats import FormatError, LabelEvent, guess_format, labelstudio


def region(start, end, labels, *, rid="wvs1", score=None, from_name="label", channel=0):
    result = {
        "original_length": 9.0,
        "value": {"start": start, "end": end, "channel": channel, "labels": labels},
        "id": rid,
        "from_name": from_name,
        "to_name": "audio",
        "type": "labels",
        "origin": "manual",
    }
    if score is not None:
        result["score"] = score
        result["origin"] = "prediction"
    return result


def annotation(aid, results, *, by=1, updated="2024-05-02T10:15:00.000000Z", **extra):
    return {
        "id": aid,
        "completed_by": by,
        "result": results,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2024-05-02T10:11:12.345678Z",
        "updated_at": updated,
        "draft_created_at": None,
        "lead_time": 42.1,
        "prediction": {},
        "result_count": len(results),
        "unique_id": f"00000000-0000-4000-8000-{aid:012d}",
        "import_id": None,
        "last_action": None,
        "task": 17,
        "project": 3,
        "updated_by": by,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
        **extra,
    }


def task(tid, audio, annotations, predictions=()):
    return {
        "id": tid,
        "annotations": annotations,
        "file_upload": audio.rsplit("/", 1)[-1],
        "drafts": [],
        "predictions": list(predictions),
        "data": {"audio": audio},
        "meta": {},
        "created_at": "2024-05-02T09:00:00.000000Z",
        "updated_at": "2024-05-02T10:15:00.000000Z",
        "inner_id": tid,
        "total_annotations": len(annotations),
        "cancelled_annotations": 0,
        "total_predictions": len(predictions),
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 3,
        "updated_by": 1,
        "comment_authors": [],
    }


TASKS = [
    task(
        17,
        "/data/upload/3/1a2b3c4d-rec1.wav",
        [
            annotation(
                31,
                [
                    region(0.5, 2.25, ["Turdus merula"], rid="a1"),
                    # Two labels on one region (a Labels tag with choice="multiple").
                    region(3.0, 4.5, ["rödhake", "car horn, far"], rid="a2"),
                    {
                        "value": {"start": 3.0, "end": 4.5, "channel": 0, "text": ["tsip"]},
                        "id": "a2",
                        "from_name": "transcription",
                        "to_name": "audio",
                        "type": "textarea",
                        "origin": "manual",
                    },
                ],
            )
        ],
        [
            {
                "id": 5,
                "model_version": "birdnet-2.4",
                "created_ago": "3 days",
                "result": [
                    region(6.0, 9.0, ["Turdus merula"], rid="p1", score=0.91),
                    region(1.0, 1.0, ["click"], rid="p2"),  # no score of its own
                ],
                "score": 0.8,
                "cluster": None,
                "neighbors": None,
                "mislabeling": 0.0,
                "task": 17,
                "project": 3,
            }
        ],
    ),
    task(
        18,
        "/data/local-files/?d=field/site%202/s%C3%A4nger.wav",
        [
            annotation(41, [region(1.0, 2.0, ["early"], rid="b1")], by=1),
            annotation(
                42,
                [region(1.1, 2.1, ["late"], rid="b2")],
                by=2,
                updated="2024-05-03T08:00:00.000000Z",
            ),
            annotation(43, [region(0.0, 9.0, ["skip me"], rid="b3")], by=3, was_cancelled=True),
        ],
    ),
]


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_json_export_reads_labels_detections_and_says_what_it_left_out(tmp_path):
    path = write_json(tmp_path / "project-3-at-2024-05-04-10-00-1a2b3c4d.json", TASKS)
    result = labelstudio.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("1a2b3c4d-rec1.wav", 0.5, 2.25, "Turdus merula"),
        LabelEvent("1a2b3c4d-rec1.wav", 3.0, 4.5, "rödhake"),
        LabelEvent("1a2b3c4d-rec1.wav", 3.0, 4.5, "car horn, far"),
        LabelEvent("1a2b3c4d-rec1.wav", 6.0, 9.0, "Turdus merula", source="model", confidence=0.91),
        LabelEvent("1a2b3c4d-rec1.wav", 1.0, 1.0, "click", source="model", confidence=0.8),
        # The most recently updated of the two annotators' annotations.
        LabelEvent("field/site 2/sänger.wav", 1.1, 2.1, "late"),
    ]
    warnings = [w.reason for w in result.warnings]
    assert warnings == [
        "1 cancelled (skipped) annotation(s) left out: task 2 (id 18), annotation 3",
        "1 task(s) were labelled by several annotators; one annotation of each was imported: "
        "task 2 (id 18), annotation 2: imported the one by 2 (the most recently updated), left "
        "out the one by 1",
        "results that are not Labels regions left out (1 'textarea'): only labelled regions "
        "are events",
    ]
    assert guess_format(path) == "labelstudio"


def test_a_ground_truth_annotation_is_the_one_imported(tmp_path):
    tasks = copy.deepcopy(TASKS[1:])
    tasks[0]["annotations"][0]["ground_truth"] = True
    result = labelstudio.read(write_json(tmp_path / "export.json", tasks))
    assert [e.label for e in result.events] == ["early"]
    assert "imported the one by 1 (the ground truth), left out the one by 2" in (
        result.warnings[1].reason
    )


def test_bad_regions_are_reported_at_their_task_and_the_rest_kept(tmp_path):
    tasks = copy.deepcopy(TASKS[:1])
    results = tasks[0]["annotations"][0]["result"]
    results[0]["value"]["end"] = 0.25  # before its start
    results[1]["value"]["labels"] = []
    results.append(region("1.0", 2.0, ["x"]))
    results.append(region(1.0, 2.0, [""]))
    results.append("not a region")
    tasks.append(["not", "a task"])
    tasks.append(
        task(19, "/data/upload/3/1a2b3c4d-rec2.wav", [annotation(51, [region(1, 2, ["ok"])])])
    )
    path = write_json(tmp_path / "export.json", tasks)
    result = labelstudio.read(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    line_of_task_2 = lines.index("  [") + 1
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "task 1 (id 17), annotation 1, result 1: 'end' 0.25 is before 'start' 0.5"),
        (2, "task 1 (id 17), annotation 1, result 2: the region 3–4.5 s has no label"),
        (2, "task 1 (id 17), annotation 1, result 4: 'start' is '1.0', not a time"),
        (2, "task 1 (id 17), annotation 1, result 5: label '' is not a class name"),
        (2, "task 1 (id 17), annotation 1, result 6: not an object"),
        (line_of_task_2, "task 2: not an object"),
    ]
    assert [e.label for e in result.events if e.source == "human"] == ["ok"]
    assert len([e for e in result.events if e.source == "model"]) == 2


def test_a_file_cut_short_keeps_the_tasks_before_the_cut(tmp_path):
    text = json.dumps(TASKS, indent=2, ensure_ascii=False)
    cut = text[: text.index('"id": 18') + 5]
    path = tmp_path / "export.json"
    path.write_text(cut, encoding="utf-8")
    result = labelstudio.read(path)
    assert {e.recording for e in result.events} == {"1a2b3c4d-rec1.wav"}
    assert len(result.events) == 5
    [issue] = result.issues
    # Where the broken task starts.
    assert issue.line == text[: text.index('"id": 18')].count("\n")
    assert issue.reason == (
        "task 2 is not valid JSON: Expecting value (the file ends; cut short?); the rest of "
        "the file is not read (the 1 task(s) before it are kept)"
    )


def test_a_file_damaged_before_its_first_task_is_refused(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n  {"id": 1, "data": {"audio": "a.wav"}, ', encoding="utf-8")
    with pytest.raises(FormatError) as info:
        labelstudio.read(path)
    assert str(info.value) == (
        f"{path}: line 2: task 1 is not valid JSON: Expecting property name enclosed in double "
        "quotes (the file ends; cut short?)"
    )


def json_min(tasks) -> list[dict]:
    """The records label-studio-converter's convert_to_json_min makes of a JSON export."""
    records = []
    for t in tasks:
        for a in t["annotations"]:
            if a.get("was_cancelled"):
                continue
            record = dict(t["data"])
            record["id"] = t["id"]
            regions = [
                {k: v for k, v in r["value"].items()} for r in a["result"] if r["type"] == "labels"
            ]
            record["label"] = regions
            record["annotator"] = a["completed_by"]
            record["annotation_id"] = a["id"]
            record["created_at"] = a["created_at"]
            record["updated_at"] = a["updated_at"]
            record["lead_time"] = a["lead_time"]
            records.append(record)
    return records


def test_a_json_min_export_reads_the_same_labels(tmp_path):
    path = write_json(tmp_path / "project-3-min.json", json_min(TASKS))
    result = labelstudio.read(path)
    assert result.issues == []
    assert result.events == [
        LabelEvent("1a2b3c4d-rec1.wav", 0.5, 2.25, "Turdus merula"),
        LabelEvent("1a2b3c4d-rec1.wav", 3.0, 4.5, "rödhake"),
        LabelEvent("1a2b3c4d-rec1.wav", 3.0, 4.5, "car horn, far"),
        LabelEvent("field/site 2/sänger.wav", 1.1, 2.1, "late"),
    ]
    assert "task 3 (id 18): imported the one by 2" in result.warnings[0].reason
    assert guess_format(path) == "labelstudio"


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_a_csv_export_reads_the_same_labels(tmp_path, delimiter):
    records = json_min(TASKS)
    keys = sorted({k for r in records for k in r} | {"annotator", "annotation_id"})
    path = tmp_path / ("export.csv" if delimiter == "," else "export.tsv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=keys, quoting=csv.QUOTE_NONNUMERIC, delimiter=delimiter
        )
        writer.writeheader()
        for record in records:
            writer.writerow(
                {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                    for k, v in record.items()
                }
            )
    result = labelstudio.read(path)
    assert result.issues == []
    assert [(e.recording, e.onset, e.label) for e in result.events] == [
        ("1a2b3c4d-rec1.wav", 0.5, "Turdus merula"),
        ("1a2b3c4d-rec1.wav", 3.0, "rödhake"),
        ("1a2b3c4d-rec1.wav", 3.0, "car horn, far"),
        ("field/site 2/sänger.wav", 1.1, "late"),
    ]
    assert guess_format(path) == "labelstudio"


def test_a_csv_row_with_broken_regions_is_reported_on_its_line(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        '"annotation_id","annotator","audio","id","label"\n'
        '1,1,"rec1.wav",1,"[{""start"": 0.5, ""end"": 1.0, ""labels"": [""dog""]}]"\n'
        '2,1,"rec2.wav",2,"[{""start"": 0.5, ""end"": 1.0, ""labels"": [""dog""]"\n'
        '3,1,"rec3.wav",3,"[{""start"": 0.5, ""end"": 1.0, ""labels"": [""cat""]}]"\n',
        encoding="utf-8",
    )
    result = labelstudio.read(path)
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, "column 'label': its regions are not valid JSON")
    ]
    assert [(e.recording, e.label) for e in result.events] == [
        ("rec1.wav", "dog"),
        ("rec3.wav", "cat"),
    ]


def test_a_storage_annotation_file_and_a_single_task_read(tmp_path):
    stored = dict(TASKS[0]["annotations"][0])
    stored["task"] = {"id": 17, "data": {"audio": "s3://bucket/birds/rec1.wav"}}
    result = labelstudio.read(write_json(tmp_path / "31", stored))
    assert [e.recording for e in result.events] == ["birds/rec1.wav"] * 3
    single = copy.deepcopy(TASKS[1])
    single["data"] = {"audio": "https://example.org/audio/rec%202.flac?token=abc", "site": "A"}
    result = labelstudio.read(write_json(tmp_path / "task.json", single))
    assert [e.recording for e in result.events] == ["audio/rec 2.flac"]


@pytest.mark.parametrize(
    ("audio", "name", "aliases"),
    [
        ("/data/upload/3/1a2b3c4d-rec1.wav", "1a2b3c4d-rec1.wav", ["rec1.wav"]),
        ("/data/upload/3/1a2b3c4d-my%20rec.wav", "1a2b3c4d-my rec.wav", ["my rec.wav"]),
        ("/data/upload/3/rec1.wav", "rec1.wav", []),
        ("/data/upload/3/1A2B3C4D-rec1.wav", "1A2B3C4D-rec1.wav", []),
        ("/data/local-files/?d=birds/site%201/rec1.wav", "birds/site 1/rec1.wav", []),
        ("rec1.wav", "rec1.wav", []),
        ("site 2/deadbeef-x.wav", "site 2/deadbeef-x.wav", ["site 2/x.wav"]),
        ("C:\\audio\\rec1.wav", "C:\\audio\\rec1.wav", []),
        ("gs://bucket/a/rec1.wav", "a/rec1.wav", []),
        ("note:1.wav", "note:1.wav", []),
    ],
)
def test_recording_names_and_their_upload_prefix(audio, name, aliases):
    assert labelstudio.recording_name(audio) == name
    assert labelstudio.recording_aliases(name) == aliases


def test_a_task_that_names_no_audio_field_is_reported(tmp_path):
    tasks = [task(1, "x.wav", [annotation(1, [region(0, 1, ["a"])])])]
    tasks[0]["data"] = {"url": "one.wav", "other": "two.mp3"}
    result = labelstudio.read(write_json(tmp_path / "export.json", tasks))
    assert [i.reason for i in result.issues] == [
        "task 1 (id 1): cannot tell which data field names the audio (no 'audio' field; "
        "fields: 'url', 'other')"
    ]
    tasks[0]["data"] = {"sound": "https://example.org/x/clip.ogg", "text": "notes"}
    result = labelstudio.read(write_json(tmp_path / "export.json", tasks))
    assert [e.recording for e in result.events] == ["x/clip.ogg"]


def test_an_export_reads_back_the_same_events_and_a_task_per_recording(tmp_path, random_events):
    labels = [LabelEvent("rec 1.wav", e.onset, e.offset, e.label) for e in random_events(3, 30)]
    detections = [
        LabelEvent("b/x.wav", 1 / 3, 2.5, "dog", source="model", confidence=0.25),
        LabelEvent("b/x.wav", 0.1 + 0.2, 0.1 + 0.2, "鳥", source="model", confidence=None),
    ]
    path = tmp_path / "tasks.json"
    labelstudio.write(labels + detections, path, recordings=["empty.wav", "rec 1.wav"])
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert [t["data"]["audio"] for t in tasks] == ["empty.wav", "rec 1.wav", "b/x.wav"]
    assert tasks[0] == {"data": {"audio": "empty.wav"}, "annotations": [], "predictions": []}
    [prediction] = tasks[2]["predictions"]
    assert prediction["model_version"] == "tfstudio"
    assert [r.get("score") for r in prediction["result"]] == [0.25, None]
    # No mean where a region has no score: it would read back as that region's.
    assert "score" not in prediction
    result = labelstudio.read(path)
    assert result.issues == [] and result.warnings == []
    assert result.events == labels + detections
    assert guess_format(path) == "labelstudio"
    # Written once more, the same bytes (region ids are made from the content).
    again = tmp_path / "again.json"
    labelstudio.write(labels + detections, again, recordings=["empty.wav", "rec 1.wav"])
    assert again.read_bytes() == path.read_bytes()


def test_write_refuses_an_event_it_cannot_hold(tmp_path):
    path = tmp_path / "tasks.json"
    with pytest.raises(ValueError, match="offset is before onset"):
        labelstudio.write([LabelEvent("a.wav", 2.0, 1.0, "x")], path)
    assert not path.exists()


def test_lines_from_a_generator_are_the_written_file(tmp_path, random_events):
    # An export streams the store's events through lines(), a task a line.
    events = [LabelEvent("b.wav", e.onset, e.offset, e.label) for e in random_events(3, 20)]
    events += [
        LabelEvent("a.wav", 1.0, 2.0, "dog", source="model", confidence=0.25),
        LabelEvent("b.wav", 0.5, 0.5, "鳥", source="model", confidence=0.75, review="accepted"),
    ]
    for options in ({}, {"predictions": True}, {"recordings": ["z.wav", "b.wav"]}):
        path = tmp_path / "tasks.json"
        labelstudio.write(events, path, **options)
        streamed = "".join(line + "\n" for line in labelstudio.lines(iter(events), **options))
        assert streamed.encode("utf-8") == path.read_bytes()
    assert list(labelstudio.lines([])) == ["[", "]"]


def test_grouped_events_are_written_a_task_at_a_time(tmp_path, random_events):
    # An export reads the events a recording at a time, in the order of the recordings: each
    # task is written as soon as its events have passed, and the file is the one write makes.
    recordings = ["a.wav", "empty.wav", "b.wav", "c.wav", "none.wav"]
    events = [LabelEvent("a.wav", e.onset, e.offset, e.label) for e in random_events(3, 20)]
    events += [
        LabelEvent("b.wav", 1.0, 2.0, "dog", source="model", confidence=0.25),
        LabelEvent("b.wav", 0.5, 0.5, "鳥", source="model", confidence=0.75, review="accepted"),
        LabelEvent("c.wav", 0.0, 1.0, "dog"),
    ]
    read: list[LabelEvent] = []

    def stored():
        for e in events:
            read.append(e)
            yield e

    for options in ({}, {"predictions": True}):
        path = tmp_path / "tasks.json"
        labelstudio.write(events, path, recordings=recordings, **options)
        read.clear()
        made = labelstudio.lines(stored(), recordings=recordings, grouped=True, **options)
        first = [next(made), next(made)]
        # a.wav's task is out once b.wav's first event is read, before the others are
        assert read == events[:21]
        streamed = "".join(line + "\n" for line in [*first, *made])
        assert streamed == path.read_text(encoding="utf-8")
    for options in ({}, {"recordings": ["z.wav"]}):
        assert list(labelstudio.lines([], grouped=True, **options)) == list(
            labelstudio.lines([], **options)
        )


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (["b.wav", "a.wav"], "an event of 'a.wav' comes after its task"),
        (["a.wav", "b.wav", "a.wav"], "an event of 'a.wav' comes after its task"),
        (["a.wav", "x.wav"], "an event of 'x.wav' is not one of the recordings"),
    ],
)
def test_grouped_events_out_of_order_are_refused(order, reason):
    events = [LabelEvent(name, 0.0, 1.0, "dog") for name in order]
    with pytest.raises(ValueError, match=reason):
        list(labelstudio.lines(events, recordings=["a.wav", "b.wav"], grouped=True))


def test_write_refuses_a_score_that_is_not_a_number_before_touching_the_file(tmp_path):
    path = tmp_path / "tasks.json"
    nan = LabelEvent("a.wav", 1.0, 2.0, "x", source="model", confidence=float("nan"))
    with pytest.raises(ValueError, match="confidence nan is not a finite number"):
        labelstudio.write([LabelEvent("a.wav", 0.0, 1.0, "x"), nan], path)
    assert not path.exists()


def test_labels_on_a_text_are_not_taken_for_sounds(tmp_path):
    # A named-entity task: Labels spans at character offsets of the task's text.
    span = region(0, 5, ["PER"])
    span["value"]["text"] = "Alice"
    span["to_name"] = "text"
    tasks = [task(1, "x.wav", [annotation(1, [span])])]
    tasks[0]["data"] = {"text": "Alice went home."}
    result = labelstudio.read(write_json(tmp_path / "export.json", tasks))
    assert result.events == [] and result.issues == []
    assert [w.reason for w in result.warnings] == [
        "results that are not Labels regions left out (1 'text span'): only labelled regions "
        "are events"
    ]
