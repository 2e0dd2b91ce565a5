"""Sorting the Events table by a click on a column header: numbers as numbers, classes by name,
the indicator in the header, the sort kept across recordings; selection, editing, Tab (time
order whatever the sort), undo and new or deleted events keep working on the sorted rows."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from tests.qt.test_annotation import class_ids, key, store_labels

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder


def click_header(qtbot, window, column: int) -> None:
    header = window.events.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(x, header.height() // 2))


def row_ids(window) -> list[int]:
    model = window.events.model
    return [model.event_id(r) for r in range(model.rowCount())]


def selected_ids(window) -> set[int]:
    model = window.events.model
    rows = window.events.table.selectionModel().selectedRows()
    return {model.event_id(index.row()) for index in rows}


def click_row(qtbot, window, event_id: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    table, model = window.events.table, window.events.model
    row = model.row_of(event_id)
    assert row is not None
    pos = table.visualRect(model.index(row, 0)).center()
    qtbot.mouseClick(table.viewport(), LEFT, modifier, pos)


@pytest.fixture
def events(window):
    """Four labels whose order differs by every column: (event, name) by onset."""
    ws = window.workspace
    ids = class_ids(window)
    made = [
        ws.add_event(1.0, 4.0, class_id=ids["frog"], low_hz=800.0, high_hz=1200.0),
        ws.add_event(2.0, 2.5, class_id=ids["bird"]),
        ws.add_event(3.0, 9.5, class_id=ids["frog"], low_hz=3000.0, high_hz=4000.0),
        ws.add_event(6.0, 7.0, class_id=ids["bird"], low_hz=950.0, high_hz=5000.0),
    ]
    ws.select_event(None)
    return [e.id for e in made]


def test_a_header_click_sorts_by_its_column_and_a_second_click_reverses(window, qtbot, events):
    a, b, c, d = events
    header = window.events.table.horizontalHeader()
    assert header.isSortIndicatorShown()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (1, ASC)
    assert row_ids(window) == [a, b, c, d]  # time order to begin with
    expected = {
        0: [b, d, a, c],  # by name: bird, bird, frog, frog; ties in time order
        1: [a, b, c, d],
        2: [b, a, d, c],  # offsets 2.5, 4.0, 7.0, 9.5
        3: [b, d, a, c],  # lengths 0.5, 1.0, 3.0, 6.5
        4: [a, d, c, b],  # bands by low Hz as numbers (800 < 950 < 3000), none last
    }
    for column, ascending in expected.items():
        click_header(qtbot, window, column)
        if header.sortIndicatorOrder() == DESC:  # Qt may start a new column descending
            click_header(qtbot, window, column)
        assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (column, ASC)
        assert row_ids(window) == ascending, COLUMNS_NAME[column]
        click_header(qtbot, window, column)
        assert header.sortIndicatorOrder() == DESC
        descending = row_ids(window)
        if column == 4:  # descending bands, still none last
            assert descending == [c, d, a, b]
        elif column == 0:  # frogs first, each class still in time order
            assert descending == [a, c, b, d]
        else:
            assert descending == ascending[::-1]


COLUMNS_NAME = ("Class", "Onset", "Offset", "Length", "Band")


def test_selection_is_shared_both_ways_on_sorted_rows(window, qtbot, events):
    a, b, c, d = events
    ws, view = window.workspace, window.view
    click_header(qtbot, window, 3)  # by length: b, d, a, c
    if window.events.table.horizontalHeader().sortIndicatorOrder() == DESC:
        click_header(qtbot, window, 3)
    assert row_ids(window) == [b, d, a, c]
    # A click in the table selects that row's event; Ctrl+click adds another.
    click_row(qtbot, window, a)
    assert ws.selection() == [a]
    click_row(qtbot, window, b, CTRL)
    assert sorted(ws.selection()) == sorted([a, b]) and ws.selection()[0] == b
    assert selected_ids(window) == {a, b}
    # A click in the spectrogram selects the row showing that event, wherever it is.
    view.show_range(0.0, 10.0)
    qtbot.mouseClick(view.graphics.viewport(), LEFT, pos=view.viewport_pos("spec", 6.5, 2000.0))
    assert ws.selection() == [d]
    assert selected_ids(window) == {d}
    current = window.events.table.selectionModel().currentIndex()
    assert window.events.model.event_id(current.row()) == d
    # Sorting again keeps the same events selected.
    click_header(qtbot, window, 0)
    assert selected_ids(window) == {d} and ws.selection() == [d]


def test_tab_steps_in_time_order_whatever_the_sort(window, qtbot, events):
    a, b, c, d = events
    ws = window.workspace
    click_header(qtbot, window, 0)
    click_header(qtbot, window, 0)  # one of the two is descending by class: not time order
    assert row_ids(window) != [a, b, c, d]
    click_row(qtbot, window, a)
    table = window.events.table
    seen = [ws.selected_id]
    for _ in range(3):
        qtbot.keyClick(table, Qt.Key.Key_Tab)
        seen.append(ws.selected_id)
    assert seen == [a, b, c, d]
    qtbot.keyClick(table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert ws.selected_id == c
    assert selected_ids(window) == {c}


def test_editing_a_sorted_table_moves_its_event_and_refuses_an_offset_before_onset(
    window, qtbot, events, small_project
):
    a, b, c, d = events
    ws = window.workspace
    table, model = window.events.table, window.events.model
    click_header(qtbot, window, 0)  # by class: b, d, a, c or a, c, b, d

    def edit(event_id: int, column: int, text: str) -> None:
        pos = table.visualRect(model.index(model.row_of(event_id), column)).center()
        qtbot.mouseClick(table.viewport(), LEFT, pos=pos)
        qtbot.mouseDClick(table.viewport(), LEFT, pos=pos)
        (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
        editor.selectAll()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.wait(50)

    order = row_ids(window)
    edit(c, 1, "0.5")  # the onset of the last frog: it stays in its row (sorted by class)
    assert {e.id: e.onset for e in store_labels(small_project)}[c] == pytest.approx(0.5)
    assert ws.labels.get(c).onset == pytest.approx(0.5)
    assert row_ids(window) == (
        [b, d, c, a] if order == [b, d, a, c] else [c, a, b, d]
    )  # a frog tie now goes by the new time order
    edit(d, 2, "5.0")  # offset before its onset (6.0): refused, and said
    assert ws.labels.get(d).offset == pytest.approx(7.0)
    assert "before" in window.statusBar().currentMessage()  # says why
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # undo the onset edit
    assert ws.labels.get(c).onset == pytest.approx(3.0)
    assert model.data(model.index(model.row_of(c), 1)) == "3.000"


def test_new_and_deleted_events_take_their_sorted_place_and_the_sort_is_kept(window, qtbot, events):
    a, b, c, d = events
    ws = window.workspace
    click_header(qtbot, window, 3)
    header = window.events.table.horizontalHeader()
    if header.sortIndicatorOrder() == ASC:
        click_header(qtbot, window, 3)  # longest first: c, a, d, b
    assert row_ids(window) == [c, a, d, b]
    bird = class_ids(window)["bird"]
    new = ws.add_event(0.2, 0.45, class_id=bird)  # the shortest: last row, selected
    assert row_ids(window) == [c, a, d, b, new.id]
    assert selected_ids(window) == {new.id}
    click_row(qtbot, window, a)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert row_ids(window) == [c, d, b, new.id] and not selected_ids(window)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert row_ids(window) == [c, a, d, b, new.id]
    # Another recording opens sorted the same way.
    key(qtbot, window, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: window.events.model.rowCount() == 0)
    short = ws.add_event(1.0, 1.5, class_id=bird)
    long = ws.add_event(2.0, 6.0, class_id=bird)
    assert row_ids(window) == [long.id, short.id]
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (3, DESC)


def test_ten_thousand_events_sort_by_every_column(window, qtbot):
    """The sort is vectorised: a header click on 10 000 events is quick, and exact."""
    import time

    import numpy as np

    ws = window.workspace
    ids = class_ids(window)
    rng = np.random.default_rng(0)
    onsets = np.round(rng.uniform(0, 9, 10_000), 3)
    rows = [
        dict(
            recording_id=ws.recording.id,
            class_id=ids["bird" if i % 3 else "frog"],
            onset=float(t),
            offset=float(t + rng.uniform(0.01, 1.0)),
        )
        for i, t in enumerate(onsets)
    ]
    ws.project.add_events(rows, description="many")
    ws.refresh()
    model = window.events.model
    qtbot.waitUntil(lambda: model.rowCount() == 10_000, timeout=10_000)
    took = []
    for column in (3, 0, 2):
        start = time.perf_counter()
        click_header(qtbot, window, column)
        took.append(time.perf_counter() - start)
        events = [ws.labels.get(model.event_id(r)) for r in range(model.rowCount())]
        lengths = [e.duration for e in events]
        if column == 3:
            assert lengths in (sorted(lengths), sorted(lengths, reverse=True))
        if column == 2:
            offsets = [e.offset for e in events]
            assert offsets in (sorted(offsets), sorted(offsets, reverse=True))
    print("header clicks on 10 000 events (s):", [round(t, 3) for t in took])
    assert max(took) < 5.0  # a coarse bound: seconds would mean a sort in Python per cell
