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
    recording_names,
    to_label_events,
)
from tfstudio.formats import FORMATS, audacity, dcase, jsonfmt, raven, soundevent, textgrid
from tfstudio.importer import import_labels
from tfstudio.store import Project
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
    names = list(recording_names(busy.recordings()).values())
    # The two x.wav are written by their paths, which read back to each of them.
    assert names == ["one/x.wav", "two/x.wav", "y.wav", "z.wav"]
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


def _same_recordings(tmp_path):
    """A new project with the busy project's four recordings and no labels."""
    other = Project.create(tmp_path / "other")
    for name in ("one/x.wav", "two/x.wav", "y.wav", "z.wav"):
        fake_recording(other, name, duration=300.0)
    return other


def _labels_by_path(project):
    names = {c.id: c.name for c in project.classes()}
    return {
        rec.path: sorted((e.onset, e.offset, names[e.class_id]) for e in project.labels(rec.id))
        for rec in project.recordings()
    }


@pytest.mark.parametrize("fmt", ["audacity", "raven", "textgrid"])
def test_recordings_of_one_name_get_a_file_each_and_read_back_to_it(busy, tmp_path, fmt):
    module = FORMATS[fmt]
    out = tmp_path / fmt
    files = export_labels(busy, fmt, out)
    assert sorted(p.relative_to(out).as_posix() for p in files) == [
        f"{name}{module.SUFFIX}" for name in ("one/x", "two/x", "y", "z")
    ]
    read = {"audacity": audacity.read, "raven": raven.read, "textgrid": textgrid.read}[fmt]
    for path in files:
        rec = busy.find_recording(path.relative_to(out).as_posix().split(".")[0] + ".wav")
        assert len(read(path).events) == len(busy.labels(rec.id))
    with _same_recordings(tmp_path) as other:
        report = import_labels(other, files, fmt=fmt)
        assert report.label_issues == []
        assert _labels_by_path(other) == _labels_by_path(busy)


def test_recordings_of_one_stem_get_a_file_each(project, tmp_path):
    """y.wav and y.flac: y.wav.txt and y.flac.txt, each read back to its own recording."""
    wav, flac = (fake_recording(project, name) for name in ("y.wav", "y.flac"))
    bird = project.add_class("bird").id
    project.add_events(
        [
            dict(recording_id=wav, class_id=bird, onset=0.1, offset=0.5),
            dict(recording_id=flac, class_id=bird, onset=0.3, offset=0.6),
        ]
    )
    files = export_labels(project, "audacity", tmp_path / "out")
    assert sorted(p.name for p in files) == ["y.flac.txt", "y.wav.txt"]
    assert audacity.read(tmp_path / "out" / "y.flac.txt").events[0].onset == 0.3
    other = Project.create(tmp_path / "other")
    with other:
        for name in ("y.wav", "y.flac"):
            fake_recording(other, name)
        assert import_labels(other, files).label_issues == []
        assert [(e.onset, e.offset) for e in other.labels(other.find_recording("y.flac").id)] == [
            (0.3, 0.6)
        ]


def test_one_file_formats_read_back_to_recordings_of_one_name(busy, tmp_path):
    for fmt, name in (("dcase", "labels.tsv"), ("json", "labels.json")):
        (path,) = export_labels(busy, fmt, tmp_path / name)
        with _same_recordings(tmp_path / fmt) as other:
            report = import_labels(other, [path], fmt=fmt)
            assert report.label_issues == [], fmt
            assert _labels_by_path(other) == _labels_by_path(busy), fmt


def test_a_bare_name_of_several_recordings_is_refused_by_name(busy, tmp_path):
    """ "x.wav" alone could be either: said, and nothing goes to the wrong one."""
    path = tmp_path / "bare.tsv"
    path.write_text("filename\tonset\toffset\tevent_label\nx.wav\t1.0\t2.0\tbird\n")
    before = _labels_by_path(busy)
    report = import_labels(busy, [path])
    assert _labels_by_path(busy) == before
    (issue,) = report.label_issues
    assert "'x.wav' matches 2 recordings" in str(issue) and "one/x.wav" in str(issue)
    path.write_text("filename\tonset\toffset\tevent_label\nsub/two/x.wav\t1.0\t2.0\tbird\n")
    assert import_labels(busy, [path]).labels_added == 1
    two = busy.find_recording("two/x.wav").id
    assert (1.0, 2.0, "bird") in _labels_by_path(busy)["two/x.wav"]
    assert busy.find_recording("one/x.wav").id != two


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
