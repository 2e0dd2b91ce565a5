"""The review list's class filter, and where J/K go from a detection the list leaves out.

The run is synthetic (``tests.session.fake_run``): on rec0 at 0.5, bird 0.9, frog 0.8,
bird 0.7, bird 0.55; at 0.3 also bird 0.35 and frog 0.45.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.session.fake_run import expected


def confidences(review) -> list[float]:
    model = review.model
    return [round(model.event_at(r).confidence, 2) for r in range(model.rowCount())]


def choose_class(qtbot, review, name: str) -> None:
    """Choose the class in the combo with keys, as a user tabbing to it would (a click on an
    item of the offscreen platform's popup selects nothing)."""
    combo = review.class_combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentText() != name:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"no class {name!r} in the filter"


def test_a_class_filter_lists_counts_and_steps_through_that_class_only(review_window, qtbot):
    win = review_window
    review, ws = win.review, win.workspace
    review.thresholds.set_threshold(0.3)
    assert confidences(review) == [0.9, 0.8, 0.7, 0.55, 0.45, 0.35]
    assert review.class_combo.currentText() == "All classes"

    choose_class(qtbot, review, "bird")
    assert confidences(review) == [0.9, 0.7, 0.55, 0.35]
    assert {review.model.data(review.model.index(r, 0)) for r in range(4)} == {"bird"}
    assert review.counts_label.text().startswith(f"<b>{expected(0.3, ['bird'])}</b> pending")
    assert "'bird'" in review.counts_label.toolTip()

    table = review.table
    table.setFocus()
    if ws.selected_event() is None:  # focusing the list may already make the first current
        qtbot.keyClick(table, Qt.Key.Key_J)
    assert ws.selected_event().confidence == pytest.approx(0.9)
    qtbot.keyClick(table, Qt.Key.Key_J)  # past frog 0.8: the list has birds only
    assert ws.selected_event().confidence == pytest.approx(0.7)
    qtbot.keyClick(table, Qt.Key.Key_K)
    assert ws.selected_event().confidence == pytest.approx(0.9)
    qtbot.keyClick(table, Qt.Key.Key_A)  # accepted; on to the next bird, not frog 0.8
    assert ws.selected_event().confidence == pytest.approx(0.7)
    assert review.counts_label.text().startswith("<b>3</b> pending")
    assert "1 accepted" in review.counts_label.text()
    qtbot.keyClick(table, Qt.Key.Key_R)
    assert ws.selected_event().confidence == pytest.approx(0.55)
    assert "1 rejected" in review.counts_label.text()

    # The window's J with the spectrogram focused stays in the filtered list too.
    win.view.graphics.setFocus()
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_J)
    assert ws.selected_event().confidence == pytest.approx(0.35)
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_J)
    assert ws.selected_event().confidence == pytest.approx(0.35)  # no more birds

    choose_class(qtbot, review, "frog")
    assert confidences(review) == [0.8, 0.45]
    assert review.counts_label.text().startswith("<b>2</b> pending · ")
    assert "0 accepted" in review.counts_label.text()


def test_the_class_filter_is_kept_and_follows_a_rename_and_a_deletion(review_window, qtbot):
    win = review_window
    review, ws = win.review, win.workspace
    project = ws.project
    choose_class(qtbot, review, "frog")
    frog = review.class_combo.currentData()
    others = [r for r in ws.recordings() if r.stem != "rec0"]
    rec0 = ws.recording.id
    ws.set_recording(others[0].id)
    ws.set_recording(rec0)
    review.scope_combo.setFocus()
    qtbot.keyClick(review.scope_combo, Qt.Key.Key_Down)  # all recordings
    assert review.model.scope == "all"
    assert review.class_combo.currentData() == frog
    assert confidences(review) == [0.8]

    ws.write(project.update_class, frog, name="toad")
    assert review.class_combo.currentText() == "toad"
    assert review.class_combo.currentData() == frog
    assert confidences(review) == [0.8]

    ws.write(project.delete_class, frog)  # its detections go with it
    assert review.class_combo.currentText() == "All classes"
    assert review.model.class_id is None
    assert confidences(review) == [0.9, 0.7, 0.55]
    assert review.counts_label.text().startswith("<b>3</b> pending")


def test_a_class_without_detections_says_so_and_j_tells_it(review_window, qtbot):
    win = review_window
    review, ws = win.review, win.workspace
    ws.write(ws.project.add_class, "owl")
    choose_class(qtbot, review, "owl")
    assert review.model.rowCount() == 0
    assert review.counts_label.text() == "No 'owl' detections on this recording"
    seen: list[str] = []
    ws.events.message.connect(seen.append)
    review.table.setFocus()
    qtbot.keyClick(review.table, Qt.Key.Key_J)
    assert seen and "No pending 'owl' detections on this recording" in seen[-1]


def test_after_redo_reaccepts_a_detection_j_and_k_go_on_from_where_it_stood(review_window, qtbot):
    win = review_window
    review, ws = win.review, win.workspace
    table = review.table
    table.setFocus()
    if ws.selected_event() is None:  # focusing the list may already make the first current
        qtbot.keyClick(table, Qt.Key.Key_J)
    qtbot.keyClick(table, Qt.Key.Key_J)
    middle = ws.selected_event()
    assert middle.confidence == pytest.approx(0.8)
    qtbot.keyClick(table, Qt.Key.Key_A)
    assert ws.selected_event().confidence == pytest.approx(0.7)
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(
        table, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier
    )  # accepted again: selected, not listed
    assert ws.selected_id == middle.id
    assert middle.id in ws.labels and not table.currentIndex().isValid()

    qtbot.keyClick(table, Qt.Key.Key_J)  # the next pending after 0.8, not the top (0.9)
    assert ws.selected_event().confidence == pytest.approx(0.7)

    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(table, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert ws.selected_id == middle.id
    qtbot.keyClick(table, Qt.Key.Key_K)  # the one before it, not the bottom (0.55)
    assert ws.selected_event().confidence == pytest.approx(0.9)
