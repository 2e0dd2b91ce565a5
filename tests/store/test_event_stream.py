"""Events streamed from the store (issue 11): an export of a million events reads them a few
thousand at a time, in the store's order, from one snapshot of the project."""

from __future__ import annotations

from tests.conftest import fake_recording
from tfstudio.store import Project
from tfstudio.store.events import _STREAM_ROWS


def _project_with_many(project: Project) -> dict[str, int]:
    recs = {name: fake_recording(project, name, duration=600.0) for name in ("a.wav", "b.wav")}
    bird, frog = project.add_class("bird").id, project.add_class("frog").id
    run = project.create_run({"imported": {}})
    rows = []
    # more events than one fetch, in an order unlike the store's, with ties on onset
    for k in range(_STREAM_ROWS + 500):
        rec = recs["b.wav"] if k % 3 else recs["a.wav"]
        onset = float((k * 7919) % 997) / 2
        row = dict(recording_id=rec, class_id=bird if k % 2 else frog, onset=onset)
        row["offset"] = onset + (k % 4) * 0.25
        if k % 5 == 0:
            row.update(source="model", confidence=k / 10_000, run_id=run.id)
            row["review"] = ("none", "accepted", "rejected")[k % 3]
        if k % 11 == 0:
            row["tier"] = "words" if k % 2 else "phones"
        rows.append(row)
    project.add_events(rows)
    return recs


def test_streamed_labels_and_detections_are_what_the_queries_give(project):
    recs = _project_with_many(project)
    assert list(project.iter_events("labels")) == project.labels()
    detections = [e for e in project.events(source="model") if e.review != "rejected"]
    assert list(project.iter_events("detections")) == detections
    assert {e.review for e in detections} == {"none", "accepted"}
    b = recs["b.wav"]
    assert list(project.iter_events("labels", recording_ids=[b])) == project.labels(b)
    assert list(project.iter_events("labels", recording_ids=[])) == []


def test_tier_order_puts_each_recordings_tiers_first_in_the_order_added(project):
    _project_with_many(project)
    events = project.labels()
    place = {r: k for k, r in enumerate(dict.fromkeys(e.recording_id for e in events))}
    expected = sorted(
        events,
        key=lambda e: (place[e.recording_id], e.tier is None, e.id if e.tier is not None else 0),
    )
    streamed = list(project.iter_events("labels", tier_order=True))
    assert streamed == expected
    assert streamed != events  # the tiers did move


def test_a_snapshot_does_not_see_what_another_process_commits_meanwhile(project):
    rec = fake_recording(project, "a.wav")
    bird = project.add_class("bird").id
    project.add_event(rec, bird, 1.0, 2.0)
    other = Project.open(project.root)
    try:
        with project.snapshot():
            before = list(project.iter_events("labels"))
            other.add_event(rec, bird, 3.0, 4.0)
            assert list(project.iter_events("labels")) == before
            assert len(project.recordings()) == 1
        assert len(list(project.iter_events("labels"))) == 2
    finally:
        other.close()
    assert not project.conn.in_transaction
