"""Label with the real widgets, mouse and keys, and check what reached the store."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from tfstudio.store import Project

LEFT = Qt.MouseButton.LeftButton


def store_labels(root):
    """Labels as another process would see them: a fresh connection."""
    with Project.open(root) as project:
        return project.labels()


def drag(qtbot, view, plot, start, end, modifier=Qt.KeyboardModifier.NoModifier):
    viewport = view.graphics.viewport()
    a = view.viewport_pos(plot, *start)
    b = view.viewport_pos(plot, *end)
    qtbot.mousePress(viewport, LEFT, modifier, a)
    for k in range(1, 7):
        qtbot.wait(12)  # pyqtgraph drops moves closer than 10 ms (mouseRateLimit)
        qtbot.mouseMove(viewport, a + (b - a) * k / 6)
    qtbot.mouseRelease(viewport, LEFT, modifier, b)


def click(qtbot, view, plot, t, y):
    qtbot.mouseClick(view.graphics.viewport(), LEFT, pos=view.viewport_pos(plot, t, y))


def mid_hz(view):
    """The frequency in the middle of the spectrogram's axis (linear, log or mel)."""
    _, (y0, y1) = view.spec_vb.viewRange()
    return float(view.scale.to_hz((y0 + y1) / 2))


def key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.view.graphics, key, modifier)


def class_ids(window):
    return {c.name: c.id for c in window.workspace.classes()}


def test_drag_on_spectrogram_creates_an_event_of_the_current_class(window, qtbot, small_project):
    view = window.view
    drag(qtbot, view, "spec", (2.0, mid_hz(view)), (3.0, mid_hz(view)))
    (event,) = store_labels(small_project)
    assert event.onset == pytest.approx(2.0, abs=0.06)
    assert event.offset == pytest.approx(3.0, abs=0.06)
    assert event.low_hz is None and event.high_hz is None
    assert event.class_id == class_ids(window)["bird"]
    assert window.workspace.selected_id == event.id
    assert window.events.model.rowCount() == 1
    row = window.browser.model.row_of(window.workspace.recording.id)
    assert window.browser.model.index(row, 3).data() == "1"


def test_shift_drag_creates_a_time_frequency_box(window, qtbot, small_project):
    view = window.view
    drag(qtbot, view, "spec", (4.0, 1000.0), (5.0, 3000.0), Qt.KeyboardModifier.ShiftModifier)
    (event,) = store_labels(small_project)
    assert (event.onset, event.offset) == (
        pytest.approx(4.0, abs=0.06),
        pytest.approx(5.0, abs=0.06),
    )
    assert event.low_hz == pytest.approx(1000.0, abs=150)
    assert event.high_hz == pytest.approx(3000.0, abs=150)
    assert view.live_roi.isVisible()


def test_drag_in_a_lane_labels_that_lanes_class(window, qtbot, small_project):
    view = window.view
    frog = class_ids(window)["frog"]
    lane = view.lane_of(frog) + 0.5
    drag(qtbot, view, "lanes", (6.0, lane), (7.5, lane))
    (event,) = store_labels(small_project)
    assert event.class_id == frog
    assert event.offset - event.onset == pytest.approx(1.5, abs=0.1)


def test_move_resize_relabel_delete_undo_redo_with_mouse_and_keys(window, qtbot, small_project):
    view, ws = window.view, window.workspace
    hz = mid_hz(view)
    drag(qtbot, view, "spec", (2.0, hz), (3.0, hz))
    (event,) = store_labels(small_project)
    onset, offset = event.onset, event.offset

    # Move: drag the body of the selected event one second to the right.
    drag(qtbot, view, "spec", ((onset + offset) / 2, hz), ((onset + offset) / 2 + 1.0, hz))
    (moved,) = store_labels(small_project)
    assert moved.onset == pytest.approx(onset + 1.0, abs=0.06)
    assert moved.offset - moved.onset == pytest.approx(offset - onset, abs=1e-6)

    # Resize: drag the right edge.
    drag(qtbot, view, "spec", (moved.offset, hz), (moved.offset + 0.6, hz))
    (resized,) = store_labels(small_project)
    assert resized.onset == pytest.approx(moved.onset, abs=1e-6)
    assert resized.offset == pytest.approx(moved.offset + 0.6, abs=0.06)

    # Relabel with the number key, then with the palette.
    ids = class_ids(window)
    key(qtbot, window, Qt.Key.Key_2)
    assert store_labels(small_project)[0].class_id == ids["frog"]
    palette = window.palette_widget.list
    bird_row = next(
        r
        for r in range(palette.count())
        if palette.item(r).data(Qt.ItemDataRole.UserRole) == ids["bird"]
    )
    rect = palette.visualItemRect(palette.item(bird_row))
    qtbot.mouseClick(palette.viewport(), LEFT, pos=rect.center())
    assert store_labels(small_project)[0].class_id == ids["bird"]
    assert ws.current_class_id == ids["bird"]

    # Delete, undo, redo.
    key(qtbot, window, Qt.Key.Key_Delete)
    assert store_labels(small_project) == []
    assert "delete" in window.undo_action.text()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    (restored,) = store_labels(small_project)
    assert (restored.onset, restored.offset) == (resized.onset, resized.offset)
    assert restored.class_id == ids["bird"]
    assert len(ws.labels) == 1
    key(
        qtbot,
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert store_labels(small_project) == []
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert store_labels(small_project) == []
    assert len(ws.labels) == 0


def test_clicks_cycle_through_overlapping_events(window, qtbot):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    a = ws.add_event(1.0, 4.0, class_id=ids["bird"])
    b = ws.add_event(2.0, 3.0, class_id=ids["frog"])
    ws.select_event(None)
    hz = mid_hz(view)
    click(qtbot, view, "spec", 2.5, hz)
    first = ws.selected_id
    qtbot.wait(600)  # not a double click
    click(qtbot, view, "spec", 2.5, hz)
    second = ws.selected_id
    assert {first, second} == {a.id, b.id}
    # In the lanes, each class has its own row: a click picks that class's event.
    qtbot.wait(600)
    click(qtbot, view, "lanes", 2.5, view.lane_of(ids["bird"]) + 0.5)
    assert ws.selected_id == a.id
    # A click on empty space deselects and moves the playback cursor there.
    qtbot.wait(600)
    click(qtbot, view, "spec", 8.0, hz)
    assert ws.selected_id is None
    assert view.play_position() == pytest.approx(8.0, abs=0.06)


def test_keyboard_navigation(window, qtbot):
    ws = window.workspace
    bird = class_ids(window)["bird"]
    events = [ws.add_event(t, t + 0.5, class_id=bird) for t in (1.0, 3.0, 5.0)]
    ws.select_event(events[0].id)
    key(qtbot, window, Qt.Key.Key_Tab)
    assert ws.selected_id == events[1].id
    key(qtbot, window, Qt.Key.Key_Tab)
    assert ws.selected_id == events[2].id
    key(qtbot, window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert ws.selected_id == events[1].id

    first = ws.recording.id
    key(qtbot, window, Qt.Key.Key_PageDown)
    assert ws.recording.id != first
    key(qtbot, window, Qt.Key.Key_PageUp)
    assert ws.recording.id == first
    # The first recording has labels now: Ctrl+U skips it.
    key(qtbot, window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert ws.recording.id != first
    assert not ws.label_counts(ws.recording.id)


def test_tab_in_the_filter_box_moves_focus_instead(window, qtbot):
    ws = window.workspace
    bird = class_ids(window)["bird"]
    ws.add_event(1.0, 1.5, class_id=bird)
    ws.select_event(None)
    window.browser.filter_edit.setFocus()
    qtbot.keyClicks(window.browser.filter_edit, "rec1")
    assert window.browser.model.rowCount() == 1
    assert ws.selected_id is None


def test_writes_by_another_process_show_up(window, qtbot, small_project):
    ws = window.workspace
    with Project.open(small_project) as other:
        frog = other.class_by_name("frog")
        other.add_event(ws.recording.id, frog.id, 5.0, 6.0)
    qtbot.waitUntil(lambda: len(ws.labels) == 1, timeout=3000)
    assert window.events.model.rowCount() == 1


def test_edit_in_the_event_table(window):
    ws = window.workspace
    event = ws.add_event(1.0, 2.0)
    model = window.events.model
    assert model.setData(model.index(0, 1), "1.25")
    assert store_labels(ws.project.root)[0].onset == pytest.approx(1.25)
    assert not model.setData(model.index(0, 1), "soon")
    assert ws.labels.get(event.id).onset == pytest.approx(1.25)


def test_view_keys_zoom_and_scroll(window, qtbot):
    view = window.view
    view.show_range(0, 8)
    key(qtbot, window, Qt.Key.Key_Equal)
    t0, t1 = view.view_range()
    assert t1 - t0 == pytest.approx(4.0, rel=0.01)
    key(qtbot, window, Qt.Key.Key_Right)
    assert view.view_range()[0] == pytest.approx(t0 + 1.0, rel=0.01)
    key(qtbot, window, Qt.Key.Key_0)
    assert view.view_range() == pytest.approx((0.0, 10.0), abs=0.01)
    ws = window.workspace
    ws.add_event(6.0, 6.5)
    key(qtbot, window, Qt.Key.Key_Z)
    t0, t1 = view.view_range()
    assert t0 < 6.0 < 6.5 < t1 and t1 - t0 < 1.0


def test_fit_selection_shows_every_selected_event(window, qtbot):
    """Z (and the toolbar's Fit selection) with several events selected fitted the current
    one alone, the others out of sight."""
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    ws.add_event(1.0, 1.5, class_id=ids["bird"])
    ws.add_event(6.5, 7.0, class_id=ids["frog"])
    ws.add_event(9.0, 9.5, class_id=ids["bird"])
    ws.select_event(None)
    hz = mid_hz(view)
    viewport = view.graphics.viewport()
    qtbot.mouseClick(viewport, LEFT, pos=view.viewport_pos("spec", 1.25, hz))
    qtbot.mouseClick(
        viewport, LEFT, Qt.KeyboardModifier.ControlModifier, view.viewport_pos("spec", 6.75, hz)
    )
    assert len(ws.selection()) == 2
    key(qtbot, window, Qt.Key.Key_Z)
    t0, t1 = view.view_range()
    assert t0 < 1.0 and 7.0 < t1 < 9.0
    view.show_range(3.0, 4.0)
    fit = next(a for a in window.toolbar.actions() if a.text() == "Fit selection")
    qtbot.mouseClick(window.toolbar.widgetForAction(fit), LEFT)
    assert view.view_range() == pytest.approx((t0, t1))


def test_wheel_zooms_time_around_the_pointer(window, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = window.view
    view.show_range(0, 10)
    pos = QPointF(view.viewport_pos("spec", 5.0, mid_hz(view)))
    viewport = view.graphics.viewport()
    event = QWheelEvent(
        pos,
        QPointF(viewport.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)
    t0, t1 = view.view_range()
    assert t1 - t0 < 10.0
    assert t0 < 5.0 < t1


def test_a_class_added_in_the_palette_gets_a_colour_no_class_has(window, qtbot, monkeypatch):
    """Bug: after deleting a class, "+ Add class" gave the new one a colour already in use."""
    from PySide6.QtWidgets import QInputDialog, QMessageBox, QToolButton

    palette = window.palette_widget
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    palette.ask_delete(window.workspace.event_class(class_ids(window)["bird"]))
    assert [c.name for c in window.workspace.classes()] == ["frog"]

    add = next(b for b in palette.findChildren(QToolButton) if b.text() == "+ Add class")
    for name in ("wren", "toad", "cicada"):
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, n=name, **k: (n, True))
        qtbot.mouseClick(add, LEFT)
    colors = [c.color.upper() for c in window.workspace.classes()]
    assert [c.name for c in window.workspace.classes()] == ["frog", "wren", "toad", "cicada"]
    assert len(set(colors)) == 4
    # The list shows each class with its own swatch.
    assert palette.list.count() == 4


def test_keyboard_editing_nudges_sets_edges_and_steps_within_a_class(window, qtbot, small_project):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    first = ws.add_event(2.0, 3.0, class_id=ids["bird"])
    ws.add_event(4.0, 5.0, class_id=ids["frog"])
    third = ws.add_event(6.0, 7.0, class_id=ids["bird"])
    ws.select_event(first.id)
    step = 10.0 / 100  # a hundredth of the visible span

    key(qtbot, window, Qt.Key.Key_Right)  # with a selection, the arrows nudge it
    moved = ws.labels.get(first.id)
    assert (moved.onset, moved.offset) == pytest.approx((2.0 + step, 3.0 + step))
    assert view.view_range() == pytest.approx((0.0, 10.0))  # and do not scroll
    key(qtbot, window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # one pixel back
    fine = ws.labels.get(first.id)
    pixel = 10.0 / view.spec_vb.pixel_width()
    assert moved.onset - fine.onset == pytest.approx(pixel) and pixel < step
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)  # the end only
    longer = ws.labels.get(first.id)
    assert longer.onset == fine.onset and longer.offset == pytest.approx(fine.offset + step)
    assert (
        "move 'bird'" in window.undo_action.text() or "resize 'bird'" in window.undo_action.text()
    )

    # I and O put the edges at the playback cursor.
    view.set_play_position(1.5)
    key(qtbot, window, Qt.Key.Key_I)
    view.set_play_position(2.5)
    key(qtbot, window, Qt.Key.Key_O)
    edged = ws.labels.get(first.id)
    assert (edged.onset, edged.offset) == pytest.approx((1.5, 2.5))

    # "." jumps to the next bird, over the frog between them; "," back.
    key(qtbot, window, Qt.Key.Key_Period)
    assert ws.selected_id == third.id
    key(qtbot, window, Qt.Key.Key_Comma)
    assert ws.selected_id == first.id

    # Nothing selected: the arrows scroll again.
    ws.select_event(None)
    view.show_range(4.0, 8.0)
    key(qtbot, window, Qt.Key.Key_Left)
    assert view.view_range()[0] == pytest.approx(3.0)
    stored = {e.id: (e.onset, e.offset) for e in store_labels(small_project)}
    assert stored[first.id] == pytest.approx((1.5, 2.5))


def test_ctrl_click_selects_several_and_keys_act_on_all_in_one_step(window, qtbot, small_project):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    a = ws.add_event(1.0, 2.0, class_id=ids["bird"])
    b = ws.add_event(4.0, 5.0, class_id=ids["bird"])
    c = ws.add_event(7.0, 8.0, class_id=ids["bird"])
    ws.select_event(None)
    viewport = view.graphics.viewport()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(viewport, LEFT, pos=view.viewport_pos("spec", 1.5, mid_hz(view)))
    qtbot.mouseClick(viewport, LEFT, ctrl, view.viewport_pos("spec", 7.5, mid_hz(view)))
    assert ws.selection() == [c.id, a.id]
    # The other selected event is outlined in the spectrogram and its lane.
    assert [len(item) for item in view.editor.also_items] == [1, 1]
    # …and both rows are selected in the event table.
    rows = window.events.table.selectionModel().selectedRows()
    assert sorted(r.row() for r in rows) == [0, 2]

    key(qtbot, window, Qt.Key.Key_2)  # relabel both
    classes = {e.id: e.class_id for e in store_labels(small_project)}
    assert classes == {a.id: ids["frog"], b.id: ids["bird"], c.id: ids["frog"]}
    key(qtbot, window, Qt.Key.Key_Delete)
    assert [e.id for e in store_labels(small_project)] == [b.id]
    assert [len(item) for item in view.editor.also_items] == [0, 0]
    key(qtbot, window, Qt.Key.Key_Z, ctrl)  # one undo brings both back
    assert sorted(e.id for e in store_labels(small_project)) == sorted([a.id, b.id, c.id])


def test_ctrl_drag_is_a_rubber_band_that_selects_what_it_touches(window, qtbot, small_project):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    a = ws.add_event(1.0, 2.0, class_id=ids["bird"])
    b = ws.add_event(3.0, 4.0, class_id=ids["frog"], low_hz=1000.0, high_hz=2000.0)
    ws.add_event(6.0, 7.0, class_id=ids["bird"])
    ws.add_event(3.2, 3.8, class_id=ids["bird"], low_hz=5000.0, high_hz=6000.0)  # above the band
    ws.select_event(None)
    drag(
        qtbot,
        view,
        "spec",
        (1.5, 500.0),
        (3.5, 3000.0),
        Qt.KeyboardModifier.ControlModifier,
    )
    assert sorted(ws.selection()) == sorted([a.id, b.id])
    assert len(store_labels(small_project)) == 4  # no event was made


def test_ctrl_drag_in_the_lanes_selects_the_events_of_the_lanes_it_spans(
    window, qtbot, small_project
):
    """Ctrl+drag in the lanes drew a new event of the lane's class (over the events it was
    meant to pick) instead of selecting."""
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    a = ws.add_event(1.0, 2.0, class_id=ids["bird"])
    b = ws.add_event(3.0, 4.0, class_id=ids["frog"], low_hz=1000.0, high_hz=2000.0)
    c = ws.add_event(3.5, 4.5, class_id=ids["bird"])
    ws.add_event(6.0, 7.0, class_id=ids["bird"])  # later than the band
    ws.select_event(None)
    bird = view.lane_of(ids["bird"]) + 0.5
    drag(qtbot, view, "lanes", (1.5, bird), (4.2, bird), Qt.KeyboardModifier.ControlModifier)
    assert sorted(ws.selection()) == sorted([a.id, c.id])  # the bird lane only
    assert len(store_labels(small_project)) == 4  # no event was made
    frog = view.lane_of(ids["frog"]) + 0.5
    drag(qtbot, view, "lanes", (3.2, frog), (3.4, bird), Qt.KeyboardModifier.ControlModifier)
    assert sorted(ws.selection()) == sorted([a.id, b.id, c.id])  # both lanes, with the others
    assert len(store_labels(small_project)) == 4
    assert not any(item.isVisible() for item in view.editor._drag_items)


def test_ctrl_drag_begun_on_the_selected_event_selects_and_moves_nothing(
    window, qtbot, small_project
):
    """A Ctrl+drag that began on the selected event (its body, an edge, a box) moved or
    resized that event instead of drawing the rubber band: a label changed unasked."""
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    ctrl = Qt.KeyboardModifier.ControlModifier
    a = ws.add_event(2.0, 6.0, class_id=ids["bird"])
    b = ws.add_event(3.0, 4.5, class_id=ids["frog"])
    c = ws.add_event(7.0, 8.0, class_id=ids["frog"])
    box = ws.add_event(8.5, 9.5, class_id=ids["bird"], low_hz=1000.0, high_hz=3000.0)
    before = {e.id: e for e in store_labels(small_project)}
    hz = mid_hz(view)

    ws.select_event(a.id)
    drag(qtbot, view, "spec", (4.0, hz), (7.5, 100.0), ctrl)  # from its body
    assert sorted(ws.selection()) == sorted([a.id, b.id, c.id])
    ws.select_event(a.id)
    drag(qtbot, view, "spec", (6.0, hz), (7.5, hz), ctrl)  # from its right edge
    assert sorted(ws.selection()) == sorted([a.id, c.id])
    ws.select_event(a.id)
    lane = view.lane_of(ids["bird"]) + 0.5
    drag(qtbot, view, "lanes", (5.0, lane), (9.0, lane), ctrl)  # from it in its lane
    assert sorted(ws.selection()) == sorted([a.id, box.id])
    ws.select_event(box.id)
    drag(qtbot, view, "spec", (9.0, 2000.0), (5.5, 1500.0), ctrl)  # from a box's body
    assert sorted(ws.selection()) == sorted([box.id, a.id, c.id])
    assert {e.id: e for e in store_labels(small_project)} == before
