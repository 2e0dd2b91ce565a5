"""Ctrl+Z and Ctrl+Shift+Z in the window show what they changed: an edit of another recording
than the one shown opens that recording (in the list too, past its filter), scrolls the least
to the event and selects what came back; the review's run chooser drops an imported run whose
detections were undone away, and the redo brings it back. Real key presses on a real project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.qt.conftest import settle_layout
from tests.qt.test_annotation import class_ids, key, store_labels

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def rec_id(window, stem: str) -> int:
    return next(r.id for r in window.workspace.recordings() if r.stem == stem)


def listed_selection(window) -> list[int]:
    from tfstudio.qt.browser import ID_ROLE

    rows = window.browser.table.selectionModel().selectedRows()
    return sorted(int(index.data(ID_ROLE)) for index in rows)


def test_ctrl_z_of_another_recordings_deletion_opens_it_past_the_filter_and_selects_it(
    window, qtbot, small_project
):
    ws, view, browser = window.workspace, window.view, window.browser
    bird = class_ids(window)["bird"]
    # On rec1 a label far from the start, deleted with Del.
    key(qtbot, window, Qt.Key.Key_PageDown)
    assert ws.recording.stem == "rec1"
    event = ws.add_event(8.0, 8.5, class_id=bird)
    assert event is not None and ws.selected_id == event.id
    key(qtbot, window, Qt.Key.Key_Delete)
    assert store_labels(small_project) == []
    # Back on rec0, zoomed in on its start; the list filtered to rec0 alone.
    key(qtbot, window, Qt.Key.Key_PageUp)
    assert ws.recording.stem == "rec0"
    view.show_range(0.0, 2.0)
    QTest.keyClicks(browser.filter_edit, "rec0")
    assert browser.model.rowCount() == 1
    view.graphics.setFocus()

    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert [e.id for e in store_labels(small_project)] == [event.id]
    # The recording changed is open, listed (the filter cleared, as the message says) and
    # chosen in the list; the event is selected and in view at the same zoom.
    assert ws.recording.stem == "rec1"
    assert browser.filter_edit.text() == "" and browser.model.rowCount() == 3
    assert listed_selection(window) == [rec_id(window, "rec1")]
    assert ws.selection() == [event.id]
    t0, t1 = view.view_range()
    assert t0 <= 8.0 and t1 >= 8.5 and t1 - t0 == pytest.approx(2.0)
    message = window.statusBar().currentMessage()
    assert message == (
        "Undone: delete 'bird' at 8.00 s (on rec1.wav, shown by clearing the recordings filter)"
    )
    assert window.windowTitle().startswith("rec1.wav")

    # The redo, from rec2: back to rec1, the label deleted again, nothing selected.
    key(qtbot, window, Qt.Key.Key_PageDown)
    assert ws.recording.stem == "rec2"
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert store_labels(small_project) == []
    assert ws.recording.stem == "rec1" and ws.selection() == []
    assert window.statusBar().currentMessage() == "Redone: delete 'bird' at 8.00 s (on rec1.wav)"


def test_an_event_wider_than_the_view_is_shown_whole(window, qtbot, small_project):
    ws, view = window.workspace, window.view
    key(qtbot, window, Qt.Key.Key_PageDown)
    event = ws.add_event(2.0, 9.0)
    assert event is not None
    key(qtbot, window, Qt.Key.Key_Delete)
    key(qtbot, window, Qt.Key.Key_PageUp)
    view.show_range(0.0, 1.0)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert ws.recording.stem == "rec1" and ws.selection() == [event.id]
    t0, t1 = view.view_range()
    assert t0 <= 2.0 and t1 >= 9.0 and t1 - t0 < 10.0  # zoomed out to it, not to everything


def test_ctrl_z_of_a_split_selects_its_recordings_in_the_list(window, qtbot):
    ws = window.workspace
    ids = [rec_id(window, "rec1"), rec_id(window, "rec2")]
    ws.set_split(ids, "test")
    window.browser.select_ids([rec_id(window, "rec0")])
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert {r.split for r in ws.recordings() if r.id in ids} == {None}
    assert listed_selection(window) == sorted(ids)
    assert ws.recording.stem == "rec0"  # the open recording stays
    assert "2 recordings, selected in the list" in window.statusBar().currentMessage()


def test_the_run_chooser_drops_an_imported_run_undone_away_and_the_redo_brings_it_back(
    review_window, qtbot, tmp_path
):
    from tfstudio.importer import import_labels

    win = review_window
    ws, chooser = win.workspace, win.review.run_chooser
    results = tmp_path / "rec1.BirdNET.results.txt"
    results.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
    assert ws.project is not None
    imported = import_labels(ws.project, [results]).run_id
    ws.refresh()
    runs = [chooser.itemData(i) for i in range(chooser.count())]
    assert imported in runs and len(runs) == 2
    chooser.setCurrentIndex(chooser.findData(imported))  # the user picks it
    assert ws.run_id == imported
    win.view.graphics.setFocus()

    key(qtbot, win, Qt.Key.Key_Z, CTRL)
    assert [chooser.itemData(i) for i in range(chooser.count())] == [
        r for r in runs if r != imported
    ]
    assert ws.run_id != imported and chooser.currentData() == ws.run_id
    key(qtbot, win, Qt.Key.Key_Z, CTRL | SHIFT)
    assert [chooser.itemData(i) for i in range(chooser.count())] == runs
    assert ws.run_id == imported and chooser.currentData() == imported
    settle_layout(qtbot, win.view)


def test_on_the_open_recording_the_view_scrolls_the_least_at_the_same_zoom(window, qtbot):
    ws, view = window.workspace, window.view
    view.show_range(4.0, 6.0)
    event = ws.add_event(5.0, 5.5)
    assert event is not None
    key(qtbot, window, Qt.Key.Key_Delete)
    view.show_range(0.0, 2.0)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert ws.recording.stem == "rec0" and ws.selection() == [event.id]
    t0, t1 = view.view_range()
    # Its end just inside the right edge (a tenth of a second of room), not centred.
    assert t1 - t0 == pytest.approx(2.0)
    assert t1 == pytest.approx(5.5 + 0.1)
    assert window.statusBar().currentMessage() == "Undone: delete 'bird' at 5.00 s"
    # Already in view: the redo and the undo after it leave the view where it is.
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert view.view_range() == (t0, t1)
