"""Label Studio exports through `tfstudio import` and `tfstudio export`: uploads matched to
their recordings with and without Label Studio's name prefix, predictions imported as
detections, and a project exported as Label Studio tasks that imports again as nothing new.

Real WAV files, a real project, the real commands; the exports are written here in the shape
Label Studio 1.x writes them (see tests/formats/test_labelstudio.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.commands import project_of, tfstudio
from tfstudio.store import Project


@pytest.fixture
def project(tmp_path) -> Path:
    """rec1.wav, 1a2b3c4d-real.wav (named like an upload), sänger.wav in a folder, quiet.wav:
    3 s at 16 kHz each."""
    return project_of(
        tmp_path,
        [
            (name, 16000, 3)
            for name in ("rec1.wav", "1a2b3c4d-real.wav", "site 2/sänger.wav", "quiet.wav")
        ],
    )


def events(root: Path) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (
                recordings[e.recording_id],
                e.onset,
                e.offset,
                names[e.class_id],
                e.source,
                e.confidence,
            )
            for e in project.events()
        )


def region(start, end, labels, rid, score=None):
    result = {
        "original_length": 3.0,
        "value": {"start": start, "end": end, "channel": 0, "labels": labels},
        "id": rid,
        "from_name": "label",
        "to_name": "audio",
        "type": "labels",
        "origin": "prediction" if score is not None else "manual",
    }
    if score is not None:
        result["score"] = score
    return result


def task(tid, audio, annotations=(), predictions=()):
    return {
        "id": tid,
        "annotations": [
            {
                "id": 100 + k,
                "completed_by": by,
                "result": results,
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2024-05-02T10:11:12.345678Z",
                "updated_at": updated,
                "lead_time": 12.5,
                "task": tid,
                "project": 3,
            }
            for k, (by, updated, results) in enumerate(annotations)
        ],
        "file_upload": audio.rsplit("/", 1)[-1],
        "drafts": [],
        "predictions": [
            {"id": 200 + k, "model_version": "birdnet-2.4", "score": 0.5, "result": results}
            for k, results in enumerate(predictions)
        ],
        "data": {"audio": audio},
        "meta": {},
        "project": 3,
    }


EXPORT = [
    task(
        1,
        "/data/upload/3/9f8e7d6c-rec1.wav",  # uploaded rec1.wav
        [(1, "2024-05-02T10:15:00Z", [region(0.5, 1.25, ["song thrush, far"], "a1")])],
        [[region(2.0, 2.5, ["Turdus merula"], "p1", score=0.91)]],
    ),
    # A recording whose own name starts like an upload: matched as it is.
    task(
        2,
        "/data/upload/3/1a2b3c4d-real.wav",
        [(1, "2024-05-02T10:15:00Z", [region(1, 2, ["x"], "b")])],
    ),
    task(
        3,
        "/data/local-files/?d=field/site%202/s%C3%A4nger.wav",
        [
            (1, "2024-05-02T10:15:00Z", [region(0.0, 1.0, ["early"], "c1")]),
            (2, "2024-05-03T09:00:00Z", [region(0.1, 1.1, ["rödhake"], "c2")]),
        ],
    ),
    task(4, "/data/upload/3/0badc0de-missing.wav", [(1, "2024-05-02", [region(0, 1, ["y"], "d")])]),
    task(
        5, "/data/upload/3/5e5e5e5e-rec1.wav", [(1, "2024-05-02", [region(1.5, 1.0, ["z"], "e")])]
    ),
]


def test_an_export_goes_to_its_recordings_and_its_predictions_are_detections(project, tmp_path):
    path = tmp_path / "project-3-at-2024-05-04-10-00-4e5f6a7b.json"
    path.write_text(json.dumps(EXPORT, indent=2, ensure_ascii=False), encoding="utf-8")
    result = tfstudio("import", project, "--labels", path, "--json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["labels"] == {"files": 1, "added": 3, "existing": 0}
    assert report["detections"]["added"] == 1
    reasons = [p["reason"] for p in report["problems"]]
    assert reasons == [
        "task 5 (id 5), annotation 1, result 1: 'end' 1 is before 'start' 1.5",
        "1 event(s) for '0badc0de-missing.wav' (nor 'missing.wav'), which is not in the "
        "project (import the audio first)",
    ]
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[report["problems"][0]["line"] - 1] == "  {"
    assert '"id": 5,' in lines[report["problems"][0]["line"]]
    warnings = [w["reason"] for w in report["warnings"]]
    assert any("imported the one by 2 (the most recently updated)" in w for w in warnings)
    assert events(project) == [
        ("1a2b3c4d-real.wav", 1.0, 2.0, "x", "human", None),
        ("rec1.wav", 0.5, 1.25, "song thrush, far", "human", None),
        ("rec1.wav", 2.0, 2.5, "Turdus merula", "model", 0.91),
        ("sänger.wav", 0.1, 1.1, "rödhake", "human", None),
    ]
    with Project.open(project) as p:
        [run] = p.runs()
        assert run.name == f"imported {path.name}" and run.status == "done"


def test_a_json_min_and_a_csv_export_import_too(project, tmp_path):
    records = [
        {
            "audio": "/data/upload/3/9f8e7d6c-rec1.wav",
            "id": 1,
            "label": [{"start": 0.5, "end": 1.25, "channel": 0, "labels": ["dog, small"]}],
            "annotator": 1,
            "annotation_id": 101,
            "created_at": "2024-05-02T10:11:12.345678Z",
            "updated_at": "2024-05-02T10:15:00.000000Z",
            "lead_time": 12.5,
        }
    ]
    minimal = tmp_path / "project-3-min.json"
    minimal.write_text(json.dumps(records, indent=2), encoding="utf-8")
    table = tmp_path / "project-3.csv"
    table.write_text(
        '"annotation_id","annotator","audio","created_at","id","label","lead_time","updated_at"\n'
        '102,"a@example.org","/data/upload/3/9f8e7d6c-quiet.wav","2024-05-02T10:11:12Z",2,'
        '"[{""start"": 1.0, ""end"": 1.0, ""channel"": 0, ""labels"": [""click""]}]",3.5,'
        '"2024-05-02T10:11:12Z"\n',
        encoding="utf-8",
    )
    result = tfstudio("import", project, "--labels", minimal, "--labels", table)
    assert result.returncode == 0, result.stdout + result.stderr
    assert events(project) == [
        ("quiet.wav", 1.0, 1.0, "click", "human", None),
        ("rec1.wav", 0.5, 1.25, "dog, small", "human", None),
    ]


def test_a_project_exported_as_tasks_imports_again_as_nothing_new(project, tmp_path):
    with Project.open(project) as p:
        rec1, sanger = p.find_recording("rec1.wav"), p.find_recording("sänger.wav")
        p.add_event(rec1.id, p.ensure_class("Turdus merula").id, 1 / 3, 2.0 + 1e-7)
        p.add_event(rec1.id, p.ensure_class("鳥, far").id, 0.1 + 0.2, 0.1 + 0.2)
        p.add_event(sanger.id, p.ensure_class("rödhake").id, 0.5, 1.5, low_hz=500.0, high_hz=4e3)
    out = tmp_path / "tasks.json"
    result = tfstudio("export", project, "--format", "labelstudio", "-o", out)
    assert result.returncode == 0, result.stderr
    tasks = json.loads(out.read_text(encoding="utf-8"))
    # A task per recording, those without labels too, to label on in Label Studio.
    assert sorted(t["data"]["audio"] for t in tasks) == [
        "1a2b3c4d-real.wav",
        "quiet.wav",
        "rec1.wav",
        "sänger.wav",
    ]
    assert all(t["predictions"] == [] for t in tasks)
    before = events(project)
    result = tfstudio("import", project, "--labels", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "labels: 0 added, 3 already present from 1 file(s), 0 problem(s)" in result.stdout
    assert events(project) == before


def test_detections_export_as_predictions_and_import_again_as_nothing_new(project, tmp_path):
    path = tmp_path / "birdnet.json"
    path.write_text(json.dumps(EXPORT[:1], indent=2), encoding="utf-8")
    assert tfstudio("import", project, "--labels", path).returncode == 0
    out = tmp_path / "detections.json"
    result = tfstudio(
        "export", project, "--format", "labelstudio", "--source", "detections", "-o", out
    )
    assert result.returncode == 0, result.stderr
    [rec1] = [
        t for t in json.loads(out.read_text(encoding="utf-8")) if t["data"]["audio"] == "rec1.wav"
    ]
    assert rec1["annotations"] == []
    [prediction] = rec1["predictions"]
    assert prediction["score"] == 0.91
    assert [(r["value"]["labels"], r["score"]) for r in prediction["result"]] == [
        (["Turdus merula"], 0.91)
    ]
    before = events(project)
    result = tfstudio("import", project, "--labels", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert events(project) == before
