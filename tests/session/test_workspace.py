"""The open project as the widgets share it, without Qt: what is current, what is selected,
which run is active, what edits mean, and which events say so."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import detect_on, make_fake_run
from tfstudio.session.deferred import CallQueue, Deferred
from tfstudio.session.workspace import Workspace
from tfstudio.store import Project


@pytest.fixture
def root(tmp_path):
    """Three 10 s recordings (store rows only) and two classes."""
    with Project.create(tmp_path / "proj") as project:
        for i in range(3):
            fake_recording(project, f"rec{i}.wav")
        project.add_class("bird")
        project.add_class("frog")
        return project.root


@pytest.fixture
def loop():
    """The event loop's next turn, played by hand."""
    return CallQueue()


@pytest.fixture
def ws(root, loop):
    workspace = Workspace(schedule=loop)
    workspace.open_project(root)
    yield workspace
    workspace.close_project()


def record(workspace: Workspace) -> list[str]:
    """Names of the workspace's events, in the order they are emitted."""
    seen: list[str] = []
    for name in workspace.events:
        workspace.events[name].connect(lambda *_, name=name: seen.append(name))
    return seen


def test_opening_picks_the_first_recording_before_anyone_hears_of_it(root):
    ws = Workspace()
    seen: list[str] = []
    ws.events.project.connect(lambda: seen.append(ws.recording.stem if ws.recording else "-"))
    ws.open_project(root)
    assert seen == ["rec0"]
    assert [c.name for c in ws.classes()] == ["bird", "frog"]
    assert ws.current_class_id == ws.classes()[0].id
    ws.close_project()
    assert ws.project is None and ws.recording is None and ws.recordings() == []


def test_set_recording_clears_the_selection_and_says_so_once(ws):
    event = ws.add_event(1.0, 2.0)
    assert ws.selected_id == event.id
    seen = record(ws)
    ws.set_recording(ws.recordings()[1].id)
    assert ws.recording.stem == "rec1" and ws.selected_id is None and len(ws.labels) == 0
    assert seen == ["recording", "labels", "detections", "selection"]
    seen.clear()
    ws.set_recording(ws.recording.id)  # already current: nothing happens
    assert seen == []


def test_step_recording_and_the_next_unlabelled_one(ws):
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    ws.add_event(1.0, 2.0)  # rec0 has a label
    assert ws.step_recording(1) and ws.recording.stem == "rec1"
    assert ws.step_recording(1) and not ws.step_recording(1)  # stops at the last one
    assert ws.step_recording(1, unlabelled=True) and ws.recording.stem == "rec1"  # wraps
    for rec in ws.recordings():
        ws.set_recording(rec.id)
        ws.add_event(3.0, 4.0)
    assert not ws.step_recording(1, unlabelled=True)
    assert messages[-1] == "Every recording has labels"


def test_add_event_is_clamped_sorted_selected_and_of_the_current_class(ws):
    frog = ws.classes()[1].id
    ws.set_current_class(frog)
    event = ws.add_event(12.0, -1.0, low_hz=900.0, high_hz=300.0)
    assert (event.onset, event.offset) == (0.0, 10.0)
    assert (event.low_hz, event.high_hz) == (300.0, 900.0)
    assert event.class_id == frog and ws.selected_event() == event
    assert event.id in ws.labels  # the write is applied at once, not in the next turn


def test_without_a_class_adding_says_what_to_do(tmp_path):
    with Project.create(tmp_path / "bare") as project:
        fake_recording(project)
    ws = Workspace()
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    ws.open_project(tmp_path / "bare")
    assert ws.add_event(1.0, 2.0) is None
    assert messages == ["Add a class first: + Add class under Classes, or Ctrl+K"]
    ws.close_project()


def test_selecting_an_event_makes_its_class_current(ws):
    bird, frog = (c.id for c in ws.classes())
    event = ws.add_event(1.0, 2.0, class_id=frog)
    ws.set_current_class(bird)
    ws.select_event(None)
    seen = record(ws)
    ws.select_event(event.id)
    assert ws.current_class_id == frog and seen == ["current_class", "selection"]
    ws.select_event(999)  # not on this recording: selects nothing
    assert ws.selected_id is None


def test_relabel_delete_undo_redo(ws):
    bird, frog = (c.id for c in ws.classes())
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    event = ws.add_event(1.0, 2.0, class_id=bird)
    ws.set_selected_class(frog)
    assert ws.labels.get(event.id).class_id == frog and ws.current_class_id == frog
    assert ws.delete_selected() and len(ws.labels) == 0
    assert ws.undo_description() is not None
    ws.undo()
    assert ws.labels.get(event.id).class_id == frog
    assert messages[-1].startswith("Undone: ")
    ws.redo()
    assert len(ws.labels) == 0 and messages[-1].startswith("Redone: ")
    while ws.undo() is not None:  # the relabel, the add, then the fixture's classes
        pass
    assert len(ws.labels) == 0 and not ws.classes()
    assert messages[-1] == "Nothing to undo"


def test_a_store_error_becomes_a_message(ws):
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    assert ws.update_event(12345, onset=1.0) is None
    assert len(messages) == 1


def test_store_changes_are_applied_together_in_the_next_turn(ws, loop):
    """Writes made past the workspace (a dialog adding classes) arrive as one refresh."""
    seen = record(ws)
    ws.project.add_class("owl")
    ws.project.add_class("bat")
    assert seen == [] and len(ws.classes()) == 2
    assert loop.run() == 1
    assert [c.name for c in ws.classes()] == ["bird", "frog", "owl", "bat"]
    assert seen.count("classes") == 1 and "recordings" in seen and "history" in seen


def test_a_write_by_another_process_shows_up_when_polled(ws, root):
    ws.poll()  # nothing new
    with Project.open(root) as other:
        rec, bird = other.recordings()[0], other.classes()[0]
        other.add_event(rec.id, bird.id, 4.0, 5.0)
    seen = record(ws)
    ws.poll()
    assert [(e.onset, e.offset) for e in ws.labels.order] == [(4.0, 5.0)]
    assert ws.label_counts(rec.id) == {bird.id: 1}
    assert "labels" in seen and "recordings" in seen
    seen.clear()
    ws.poll()
    assert seen == []


def test_an_edit_rereads_the_label_counts_of_the_recordings_it_touched_only(ws, loop, monkeypatch):
    """At 10 000 recordings re-reading every recording's counts took 461 ms per edit."""
    asked: list[list[int] | None] = []
    read_counts = ws.project.label_counts

    def spy(recording_ids=None):
        asked.append(None if recording_ids is None else sorted(recording_ids))
        return read_counts(recording_ids)

    monkeypatch.setattr(ws.project, "label_counts", spy)
    rec0, rec1 = ws.recordings()[:2]
    bird, frog = ws.classes()
    event = ws.add_event(1.0, 2.0, class_id=bird.id)
    assert asked == [[rec0.id]] and ws.label_counts(rec0.id) == {bird.id: 1}
    ws.update_event(event.id, class_id=frog.id)
    assert asked[-1] == [rec0.id] and ws.label_counts(rec0.id) == {frog.id: 1}
    ws.select_event(event.id)
    assert ws.delete_selected()
    assert asked[-1] == [rec0.id] and ws.label_counts(rec0.id) == {}
    ws.undo()
    assert asked[-1] == [rec0.id] and ws.label_counts(rec0.id) == {frog.id: 1}
    # Another recording's label, written past the workspace (e.g. a review list).
    other = ws.project.add_event(rec1.id, bird.id, 0.0, 1.0)
    loop.run()
    assert asked[-1] == [rec1.id] and ws.label_counts(rec1.id) == {bird.id: 1}
    # Deleted from a recording that was not shown: which one is unknown, so every
    # recording's totals are read, and its counts per class when asked for.
    read_totals = ws.project.label_totals
    monkeypatch.setattr(ws.project, "label_totals", lambda: asked.append(None) or read_totals())
    ws.project.delete_events([other.id])
    loop.run()
    assert asked[-1] is None and ws.label_totals(rec1.id) == (0, 0)
    assert ws.label_counts(rec1.id) == {} and asked[-1] is None  # no labels: nothing to read
    assert ws.label_counts(rec0.id) == {frog.id: 1} and asked[-1] == [rec0.id]
    assert {r.id: ws.label_counts(r.id) for r in ws.recordings()} == {
        r.id: read_counts([r.id]).get(r.id, {}) for r in ws.recordings()
    }


def test_opening_reads_each_recordings_totals_and_counts_per_class_only_when_asked(
    root, monkeypatch
):
    """10 000 recordings of 30 classes are 290 000 counts: the list needs one total each."""
    with Project.open(root) as project:
        rec0, rec1, rec2 = (r.id for r in project.recordings())
        bird, frog = (c.id for c in project.classes())
        for rec, cls, onset in ((rec0, bird, 0), (rec0, bird, 2), (rec0, frog, 4), (rec1, frog, 0)):
            project.add_event(rec, cls, onset, onset + 1)
    asked: list[list[int] | None] = []
    read_counts = Project.label_counts

    def spy(self, recording_ids=None):
        asked.append(None if recording_ids is None else sorted(recording_ids))
        return read_counts(self, recording_ids)

    monkeypatch.setattr(Project, "label_counts", spy)
    ws = Workspace()
    ws.open_project(root)
    try:
        assert asked == []
        assert [ws.label_totals(r) for r in (rec0, rec1, rec2)] == [(3, 2), (1, 1), (0, 0)]
        assert ws.label_counts(rec0) == {bird: 2, frog: 1} and asked == [[rec0]]
        assert ws.label_counts(rec0) == {bird: 2, frog: 1} and asked == [[rec0]]  # kept
        assert ws.label_counts(rec2) == {} and asked == [[rec0]]  # no labels: nothing to read
        ws.set_recording(rec1)
        assert ws.step_recording(1, unlabelled=True) and ws.recording.id == rec2
        assert ws.step_recording(1, unlabelled=True) and ws.recording.id == rec2  # the only one
    finally:
        ws.close_project()
    assert ws.label_totals(rec0) == (0, 0) and ws.label_counts(rec0) == {}


def test_the_newest_run_becomes_active_unless_one_was_chosen(ws):
    first = make_fake_run(ws.project)
    detect_on(ws.project, first, ws.recording)
    ws.refresh()
    assert ws.run_id == first.id and len(ws.detections) == 4
    second = make_fake_run(ws.project)
    ws.refresh()
    assert ws.run_id == second.id  # a training just ended: its run is what one reviews next
    assert len(ws.detections) == 0
    ws.set_run(first.id)
    assert len(ws.detections) == 4
    make_fake_run(ws.project)
    ws.refresh()
    assert ws.run_id == first.id  # chosen by the user: kept


def test_adjusting_a_detection_accepts_it_and_deleting_one_rejects_it(ws):
    run = make_fake_run(ws.project)
    detect_on(ws.project, run, ws.recording)
    ws.refresh()
    first, second = ws.detections.order[:2]
    assert ws.is_detection(first.id) and not ws.labels
    ws.update_event(first.id, offset=first.offset + 0.5)
    assert first.id in ws.labels and not ws.is_detection(first.id)
    assert ws.labels.get(first.id).review == "accepted"
    assert ws.label_counts(ws.recording.id) == {first.class_id: 1}
    ws.select_event(second.id)
    assert ws.selected_detection() == second
    assert ws.delete_selected()
    assert ws.detections.get(second.id).review == "rejected"  # kept: a "no" to learn from
    assert ws.review([second.id], "none") == 1 and ws.detections.get(second.id).review == "none"


def test_relabelling_a_detection_accepts_it_and_says_as_what(ws):
    # A number key on a pending detection: the status bar said nothing, and the undo step
    # named only the class the model said ("accept adjusted 'bird'" for a frog).
    run = make_fake_run(ws.project)
    detect_on(ws.project, run, ws.recording)
    ws.refresh()
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    first, second = ws.detections.order[:2]
    bird, frog = ws.project.classes()
    other = frog if first.class_id == bird.id else bird
    ws.update_event(first.id, class_id=other.id)
    assert ws.labels.get(first.id).class_id == other.id
    assert messages[-1].startswith(f"Accepted the detection as {other.name!r}")
    assert ws.project.undo_description().endswith(f"as {other.name!r}")
    ws.update_event(second.id, offset=second.offset + 0.5)
    assert messages[-1].startswith("Accepted the adjusted detection")
    assert ws.project.undo_description().startswith("accept adjusted ")


def test_deferred_runs_once_however_often_it_is_started_and_not_after_stop(loop):
    calls: list[int] = []
    deferred = Deferred(lambda: calls.append(1), loop)
    deferred.start()
    deferred.start()
    assert deferred.is_active() and len(loop) == 1
    loop.run()
    assert calls == [1] and not deferred.is_active()
    deferred.start()
    deferred.stop()
    deferred.start()  # a new request: the stopped one must not fire as well
    loop.run()
    assert calls == [1, 1]


def test_after_delete_nothing_is_selected_so_a_class_key_relabels_nothing(ws):
    bird, frog = (c.id for c in ws.classes())
    first = ws.add_event(1.0, 2.0, class_id=bird)
    second = ws.add_event(3.0, 4.0, class_id=bird)
    ws.select_event(first.id)
    assert ws.delete_selected()
    assert ws.selected_id is None
    ws.set_selected_class(frog)  # what the key of frog does
    assert ws.labels.get(second.id).class_id == bird
    assert ws.current_class_id == frog
    # Tab still reaches the event that followed.
    assert ws.step_event(1, 2.5) == second.id


def test_several_selected_events_are_relabelled_moved_and_deleted_in_one_step_each(ws):
    bird, frog = (c.id for c in ws.classes())
    a = ws.add_event(1.0, 2.0, class_id=bird)
    b = ws.add_event(3.0, 4.0, class_id=bird)
    c = ws.add_event(5.0, 6.0, class_id=bird)
    ws.select_event(a.id)
    ws.select_event(c.id, toggle=True)  # Ctrl+click: c joins, and is the current one
    assert ws.selection() == [c.id, a.id]
    ws.select_event(b.id, toggle=True)
    ws.select_event(b.id, toggle=True)  # and leaves again
    assert ws.selection() == [c.id, a.id]

    ws.set_selected_class(frog)
    assert {ws.labels.get(i).class_id for i in (a.id, c.id)} == {frog}
    assert ws.labels.get(b.id).class_id == bird
    assert ws.undo_description() == "relabel 2 events as 'frog'"

    ws.nudge_selected(0.5)
    assert (ws.labels.get(a.id).onset, ws.labels.get(c.id).onset) == (1.5, 5.5)
    assert ws.undo_description() == "move 2 events"
    assert ws.selection() == [c.id, a.id]  # still selected after the edit

    assert ws.delete_selected()
    assert set(ws.labels.ids.tolist()) == {b.id} and ws.selection() == []
    assert ws.undo_description() == "delete 2 events"
    ws.undo()  # one step brings both back
    assert {a.id, c.id} <= set(ws.labels.ids.tolist())
    ws.select_event(a.id)  # a plain click selects one again
    assert ws.selection() == [a.id]
