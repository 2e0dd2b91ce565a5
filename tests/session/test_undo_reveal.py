"""Undo and redo show what they changed: a step on another recording opens it and selects
what came back, a step over several stays put and says how many, splits select their
recordings; an imported run whose detections were all undone away is not offered for review
until the redo brings them back."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import make_fake_run
from tfstudio.session.workspace import Reveal, Workspace
from tfstudio.store import Project


@pytest.fixture
def ws(tmp_path):
    """Three 10 s recordings (store rows only) and two classes, rec0 open."""
    with Project.create(tmp_path / "proj") as project:
        for i in range(3):
            fake_recording(project, f"rec{i}.wav")
        project.add_class("bird")
        project.add_class("frog")
        root = project.root
    workspace = Workspace()
    workspace.open_project(root)
    yield workspace
    workspace.close_project()


def listen(ws: Workspace) -> tuple[list[str], list[Reveal]]:
    messages: list[str] = []
    reveals: list[Reveal] = []
    ws.events.message.connect(messages.append)
    ws.events.reveal.connect(reveals.append)
    return messages, reveals


def rec(ws: Workspace, stem: str) -> int:
    return next(r.id for r in ws.recordings() if r.stem == stem)


def test_undoing_a_deletion_on_another_recording_opens_it_and_selects_the_event(ws):
    bird = ws.classes()[0].id
    ws.set_recording(rec(ws, "rec1"))
    event = ws.add_event(6.0, 7.0, class_id=bird)
    assert event is not None
    ws.delete_selected()
    ws.set_recording(rec(ws, "rec0"))
    messages, reveals = listen(ws)
    ws.undo()
    assert ws.recording is not None and ws.recording.stem == "rec1"
    assert ws.selection() == [event.id]
    assert messages[-1] == "Undone: delete 'bird' at 6.00 s (on rec1.wav)"
    assert reveals == [Reveal((6.0, 7.0), (rec(ws, "rec1"),), unhide=False, opened=True)]

    # The redone deletion opens it too (from rec2) and leaves nothing selected.
    ws.set_recording(rec(ws, "rec2"))
    ws.redo()
    assert ws.recording.stem == "rec1" and ws.selection() == []
    assert messages[-1] == "Redone: delete 'bird' at 6.00 s (on rec1.wav)"


def test_a_step_on_the_open_recording_says_no_where_and_selects_what_it_changed(ws):
    bird, frog = (c.id for c in ws.classes())
    a = ws.add_event(1.0, 2.0, class_id=bird)
    b = ws.add_event(4.0, 5.0, class_id=bird)
    assert a is not None and b is not None
    ws.select_events([a.id, b.id])
    ws.set_selected_class(frog)  # one step for both
    ws.select_event(None)
    messages, reveals = listen(ws)
    ws.undo()
    assert sorted(ws.selection()) == sorted([a.id, b.id])
    assert {ws.labels.get(a.id).class_id, ws.labels.get(b.id).class_id} == {bird}
    assert messages[-1] == "Undone: relabel 2 events as 'frog'"
    assert reveals[-1].span == (1.0, 5.0) and not reveals[-1].opened


def test_a_step_over_several_recordings_stays_and_says_how_many(ws):
    bird = ws.classes()[0].id
    assert ws.project is not None
    ws.project.add_new_events(
        [
            dict(recording_id=rec(ws, stem), class_id=bird, onset=1.0, offset=2.0)
            for stem in ("rec1", "rec2")
        ],
        description="import labels",
    )
    ws.refresh()
    messages, reveals = listen(ws)
    ws.undo()
    assert ws.recording.stem == "rec0"
    assert messages[-1] == "Undone: import labels (2 recordings)"
    assert reveals[-1] == Reveal()


def test_a_recording_the_list_filter_hides_is_shown_and_the_message_says_so(ws):
    bird = ws.classes()[0].id
    ws.set_recording(rec(ws, "rec2"))
    ws.add_event(3.0, 4.0, class_id=bird)
    ws.set_recording(rec(ws, "rec0"))
    ws.set_recording_order([r.id for r in ws.recordings()], listed=[rec(ws, "rec0")])
    messages, reveals = listen(ws)
    ws.undo()
    assert ws.recording.stem == "rec2"
    assert reveals[-1].unhide and reveals[-1].recordings == (rec(ws, "rec2"),)
    assert messages[-1].endswith("(on rec2.wav, shown by clearing the recordings filter)")


def test_an_undone_split_selects_its_recordings(ws):
    ids = [rec(ws, "rec1"), rec(ws, "rec2")]
    ws.set_split(ids, "test")
    messages, reveals = listen(ws)
    ws.undo()
    assert reveals[-1] == Reveal(None, tuple(ids), False)
    assert messages[-1] == "Undone: set split test (2 recordings, selected in the list)"
    assert ws.recording.stem == "rec0"


def test_nothing_to_undo_says_so_and_reveals_nothing(ws):
    while ws.undo() is not None:
        pass
    messages, reveals = listen(ws)
    assert ws.undo() is None
    assert messages == ["Nothing to undo"] and reveals == []


def _import_birdnet(ws: Workspace, tmp_path) -> int:
    from tfstudio.importer import import_labels

    assert ws.project is not None
    results = tmp_path / "rec1.BirdNET.results.txt"
    results.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
    run_id = import_labels(ws.project, [results]).run_id
    assert run_id is not None
    ws.refresh()
    return run_id


def test_an_imported_run_undone_away_is_not_offered_and_its_redo_brings_it_back(ws, tmp_path):
    assert ws.project is not None
    trained = make_fake_run(ws.project)
    imported = _import_birdnet(ws, tmp_path)
    assert [r.id for r in ws.runs()] == [trained.id, imported]
    ws.set_run(imported)  # the user chose it in the review's run chooser
    ws.undo()
    assert [r.id for r in ws.runs()] == [trained.id]
    assert ws.run_id == trained.id  # not a run with nothing in it
    ws.redo()
    assert [r.id for r in ws.runs()] == [trained.id, imported]
    assert ws.run_id == imported  # chosen again, as before the undo


def test_an_imported_run_alone_undone_away_leaves_no_run(ws, tmp_path):
    imported = _import_birdnet(ws, tmp_path)
    assert ws.run_id == imported
    ws.undo()
    assert ws.runs() == [] and ws.run_id is None
    ws.redo()
    assert ws.run_id == imported


def test_undoing_a_decision_on_a_run_not_shown_says_which_run_holds_it(ws, tmp_path):
    """The view draws the chosen run's detections only: a review decision on another run's
    detection, undone, changed nothing in sight, and the message says where it went."""
    assert ws.project is not None
    trained = make_fake_run(ws.project)
    imported = _import_birdnet(ws, tmp_path)
    ws.set_run(imported)
    ws.set_recording(rec(ws, "rec1"))
    (detection,) = [e.id for e in ws.project.events(rec(ws, "rec1"), source="model")]
    ws.review([detection], "rejected")
    ws.set_run(trained.id)
    messages, _ = listen(ws)
    ws.undo()
    assert ws.recording is not None and ws.recording.stem == "rec1"
    assert ws.selection() == []  # not drawn: nothing to select
    assert messages[-1].endswith(
        f"; a detection of run {imported}, not shown: choose the run in the Review panel to see it"
    )
    # Shown, it says no more than before.
    ws.redo()
    ws.set_run(imported)
    ws.undo()
    assert "not shown" not in messages[-1]
    assert ws.selection() == [detection]
