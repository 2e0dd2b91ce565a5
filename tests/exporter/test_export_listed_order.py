"""A Label Studio export reads the events a recording at a time in the order it writes the
tasks (the recordings as listed, by name, whatever their ids), writing each task as its
events pass, and writes what the whole list of events written at once makes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_recording
from tfstudio.exporter import export_labels, project_events, recording_names, to_label_events
from tfstudio.formats import labelstudio

# Added in an order unlike their names' (ids are not the listed order); two x.wav, and a
# recording without events between others.
NAMES = ("c.wav", "two/x.wav", "b.wav", "one/x.wav", "empty.wav", "a.wav")


@pytest.fixture
def shuffled(project):
    ids = {name: fake_recording(project, name, duration=60.0) for name in NAMES}
    bird, frog = (project.add_class(name).id for name in ("bird", "frog"))
    run = project.create_run({})
    rows = []
    for k in range(300):
        name = NAMES[k % len(NAMES)]
        if name == "empty.wav":
            continue
        onset = (k * 37 % 500) / 10
        row = dict(recording_id=ids[name], class_id=(bird, frog)[k % 2], onset=onset)
        row["offset"] = onset + (k % 4) / 3
        if k // len(NAMES) % 3 == 0:
            row.update(source="model", run_id=run.id, confidence=(k % 10) / 10)
            row["review"] = ("none", "accepted", "rejected")[k // 18 % 3]
        rows.append(row)
    project.add_events(rows)
    return project


def test_listed_events_come_in_the_order_of_the_recordings(shuffled):
    listed = [r.id for r in shuffled.recordings()]
    assert listed != sorted(listed)
    for selection in ("labels", "detections"):
        by_id = list(shuffled.iter_events(selection))
        events = list(shuffled.iter_events(selection, listed=True))
        assert sorted(events, key=lambda e: e.id) == sorted(by_id, key=lambda e: e.id)
        expected = [
            e for rec_id in listed for e in shuffled.iter_events(selection, recording_ids=[rec_id])
        ]
        assert events == expected


@pytest.mark.parametrize("source", ["labels", "detections"])
def test_a_label_studio_export_is_what_the_whole_list_writes(shuffled, tmp_path, source):
    names = list(recording_names(shuffled.recordings()).values())
    # by name, then id: the x.wav added first comes first
    assert names == ["a.wav", "b.wav", "c.wav", "empty.wav", "two/x.wav", "one/x.wav"]
    whole = tmp_path / "whole.json"
    events = to_label_events(shuffled, project_events(shuffled, source))
    labelstudio.write(events, whole, recordings=names, predictions=source == "detections")
    (out,) = export_labels(shuffled, "labelstudio", tmp_path / "streamed.json", source=source)
    assert out.read_bytes() == whole.read_bytes()
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"]["audio"] for t in tasks] == names
    assert sum(len(t["annotations"] or t["predictions"]) for t in tasks) == len(names) - 1
