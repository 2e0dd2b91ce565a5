"""Exports stream events from the store (issue 11): every format writes what it wrote when
the events were loaded all at once, also past one fetch of rows and with two recordings of
the same name."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_recording
from tfstudio.exporter import (
    count_project_events,
    export_labels,
    project_events,
    to_label_events,
)
from tfstudio.formats import FORMATS, audacity, dcase, jsonfmt, raven, soundevent, textgrid
from tfstudio.store.events import _STREAM_ROWS


@pytest.fixture
def busy(project):
    """x.wav in two folders, y.wav, and an empty z.wav; more labels than one fetch."""
    recs = [
        fake_recording(project, name, duration=300.0)
        for name in ("one/x.wav", "two/x.wav", "y.wav", "z.wav")
    ]
    classes = [project.add_class(name).id for name in ("bird", "frog", "wind")]
    rows = []
    for k in range(_STREAM_ROWS + 300):
        onset = float((k * 31) % 2900) / 10
        rows.append(
            dict(
                recording_id=recs[k % 3],
                class_id=classes[k % 3],
                onset=onset,
                offset=onset + 0.5 + (k % 3) / 10,
                tier="words" if k % 13 == 0 else None,
            )
        )
    project.add_events(rows)
    return project


def test_one_file_formats_write_what_the_whole_list_writes(busy, tmp_path):
    events = to_label_events(busy, project_events(busy), confidences=False)
    names = [r.name for r in busy.recordings()]
    dcase.write(events, tmp_path / "whole.tsv", recordings=names)
    export_labels(busy, "dcase", tmp_path / "streamed.tsv")
    assert (tmp_path / "streamed.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()
    assert len(dcase.read(tmp_path / "streamed.tsv").events) == len(events)

    export_labels(busy, "soundevent", tmp_path / "streamed.json")
    text = (tmp_path / "streamed.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=1) + "\n"
    assert len(soundevent.read(tmp_path / "streamed.json").events) == len(events)

    export_labels(busy, "json", tmp_path / "labels.json")
    back = jsonfmt.read(tmp_path / "labels.json").events
    assert sorted(back, key=repr) == sorted(events, key=repr)
    # each recording's tiered labels first, as the TextGrid export keeps tiers in order
    first = [e.tier is not None for e in back if e.recording == "y.wav"]
    assert first == sorted(first, reverse=True) and any(first) and not all(first)


@pytest.mark.parametrize("fmt", ["audacity", "raven", "textgrid"])
def test_recordings_of_one_name_share_their_file(busy, tmp_path, fmt):
    module = FORMATS[fmt]
    files = export_labels(busy, fmt, tmp_path / fmt)
    assert sorted(p.name for p in files) == [f"{stem}{module.SUFFIX}" for stem in "xyz"]
    one, two = (r.id for r in busy.recordings() if r.name == "x.wav")
    labelled = len(busy.labels(one)) + len(busy.labels(two))
    read = {"audacity": audacity.read, "raven": raven.read, "textgrid": textgrid.read}[fmt]
    assert len(read(tmp_path / fmt / f"x{module.SUFFIX}").events) == labelled
    assert len(read(tmp_path / fmt / f"y{module.SUFFIX}").events) == len(
        busy.labels(busy.find_recording("y.wav").id)
    )
    assert read(tmp_path / fmt / f"z{module.SUFFIX}").events == []


def test_events_are_counted_without_loading_them(busy):
    run = busy.create_run({})
    rec = busy.recordings()[0].id
    cls = busy.classes()[0].id
    ids = busy.add_events(
        [
            dict(
                recording_id=rec, class_id=cls, onset=t, offset=t + 1, source="model", run_id=run.id
            )
            for t in (1.0, 2.0, 3.0)
        ]
    )
    busy.update_event(ids[0], review="accepted")
    busy.update_event(ids[1], review="rejected")
    for source in ("labels", "detections"):
        assert count_project_events(busy, source) == len(project_events(busy, source))
    assert count_project_events(busy, "detections") == 2
    with pytest.raises(ValueError, match="source must be one of labels, detections"):
        count_project_events(busy, "everything")
