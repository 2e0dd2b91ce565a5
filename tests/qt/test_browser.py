"""The recording browser's table: sorted and filtered by its model, and kept in step with edits
without resetting (so the selection and the sort survive them)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from tfstudio.qt.browser import CHIPS_ROLE, ID_ROLE, RecordingBrowser
from tfstudio.session.workspace import Workspace


@pytest.fixture
def browser(qtbot, small_project):
    workspace = Workspace()
    workspace.open_project(small_project)
    widget = RecordingBrowser(workspace)
    qtbot.addWidget(widget)
    yield widget
    workspace.close_project()


def column(browser: RecordingBrowser, col: int) -> list[str]:
    model = browser.model
    return [model.index(row, col).data() for row in range(model.rowCount())]


def test_sorting_by_a_column_either_way_keeps_ties_in_their_order(browser):
    """As Qt's stable sort does: equal keys stay in the order the previous sort left."""
    ws = browser.workspace
    rec0, rec1, rec2 = ws.recordings()
    assert column(browser, 0) == [rec0.name, rec1.name, rec2.name]
    browser.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert column(browser, 0) == [rec2.name, rec1.name, rec0.name]
    ws.set_recording(rec1.id)
    ws.add_event(1.0, 2.0)
    browser.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    assert column(browser, 0) == [rec1.name, rec2.name, rec0.name]
    browser.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert column(browser, 0) == [rec2.name, rec0.name, rec1.name]
    assert column(browser, 3) == ["none", "none", "1"]


def test_an_edit_updates_its_row_and_keeps_the_selection_and_the_order(browser):
    ws = browser.workspace
    rec0, rec1, rec2 = ws.recordings()
    browser.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    ws.set_recording(rec2.id)
    browser.select_ids([rec0.id, rec2.id])
    ws.add_event(1.0, 2.0)
    assert column(browser, 0)[0] == rec2.name and column(browser, 3)[0] == "1"
    assert sorted(browser.selected_ids()) == [rec0.id, rec2.id]
    ws.set_recording(rec1.id)
    browser.select_ids([rec0.id, rec2.id])
    ws.add_event(1.0, 2.0)
    ws.add_event(3.0, 4.0)
    assert column(browser, 0) == [rec1.name, rec2.name, rec0.name]  # re-sorted by labels
    assert column(browser, 3) == ["2", "1", "none"]
    assert sorted(browser.selected_ids()) == [rec0.id, rec2.id]
    chips = browser.model.index(0, 4).data(Qt.ItemDataRole.UserRole + 4)
    assert [(name, n) for _, name, n in chips] == [("bird", 2)]


def test_filtering_by_name_and_by_labelled_state(browser):
    ws = browser.workspace
    rec0, rec1, _ = ws.recordings()
    ws.set_recording(rec1.id)
    ws.add_event(1.0, 2.0)
    browser.filter_edit.setText(rec1.name.upper())
    assert column(browser, 0) == [rec1.name]
    browser.filter_edit.clear()
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("unlabelled"))
    assert rec1.name not in column(browser, 0) and len(column(browser, 0)) == 2
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("labelled"))
    assert column(browser, 0) == [rec1.name]
    ws.set_recording(rec0.id)
    ws.add_event(1.0, 2.0)
    assert sorted(column(browser, 0)) == sorted([rec0.name, rec1.name])  # dynamic filter


def chips(browser: RecordingBrowser, recording_id: int) -> list[tuple[str, str, int]]:
    row = browser.model.row_of(recording_id)
    return list(browser.model.index(row, 4).data(CHIPS_ROLE))


def test_a_label_moved_to_another_class_redraws_its_chips_though_the_totals_stay(browser, qtbot):
    """One label of one class before and after: only the chips tell the change."""
    ws = browser.workspace
    bird, frog = ws.classes()
    rec = ws.recording
    event = ws.add_event(1.0, 2.0, class_id=bird.id)
    assert chips(browser, rec.id) == [(bird.color, "bird", 1)]
    row = browser.model.row_of(rec.id)

    def covers_the_row(first, last, *_roles) -> bool:
        return first.row() <= row <= last.row() and first.column() <= 4 <= last.column()

    with qtbot.waitSignal(browser.model.dataChanged, check_params_cb=covers_the_row):
        ws.update_event(event.id, class_id=frog.id)
    assert chips(browser, rec.id) == [(frog.color, "frog", 1)]
    assert column(browser, 3)[row] == "1"
    tooltip = browser.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.endswith("labels: frog 1")


def test_chips_follow_the_classes_order_names_and_colours(browser, qtbot):
    ws = browser.workspace
    bird, frog = ws.classes()
    rec = ws.recording
    ws.add_event(1.0, 2.0, class_id=frog.id)
    ws.add_event(3.0, 4.0, class_id=bird.id)
    ws.add_event(5.0, 6.0, class_id=frog.id)
    assert chips(browser, rec.id) == [(bird.color, "bird", 1), (frog.color, "frog", 2)]
    with qtbot.waitSignal(browser.model.dataChanged):
        ws.project.update_class(frog.id, name="toad", color="#123456")
    assert chips(browser, rec.id) == [(bird.color, "bird", 1), ("#123456", "toad", 2)]
    ws.project.update_class(frog.id, position=-1)  # moved before bird
    assert [c.name for c in ws.classes()] == ["toad", "bird"]
    assert chips(browser, rec.id) == [("#123456", "toad", 2), (bird.color, "bird", 1)]


def test_sorting_by_classes_and_the_open_recording_through_filters_and_sorts(browser):
    ws = browser.workspace
    bird, frog = ws.classes()
    rec0, rec1, rec2 = ws.recordings()
    ws.set_recording(rec2.id)
    ws.add_event(1.0, 2.0, class_id=bird.id)
    ws.add_event(3.0, 4.0, class_id=frog.id)
    ws.set_recording(rec0.id)
    for onset in (1.0, 3.0, 5.0):  # more labels, fewer classes
        ws.add_event(onset, onset + 1, class_id=bird.id)
    ws.set_recording(rec1.id)
    browser.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    assert column(browser, 0) == [rec2.name, rec0.name, rec1.name]
    browser.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    assert column(browser, 0) == [rec0.name, rec2.name, rec1.name]

    def current() -> list[int]:
        index = browser.table.currentIndex()
        return [int(index.data(ID_ROLE))] if index.isValid() else []

    assert current() == browser.selected_ids() == [rec1.id]
    browser.filter_edit.setText("REC2")
    assert column(browser, 0) == [rec2.name]
    assert not browser.table.selectionModel().selectedRows() and ws.recording.id == rec1.id
    browser.filter_edit.clear()
    assert column(browser, 0) == [rec0.name, rec2.name, rec1.name]  # still sorted by labels
    assert current() == browser.selected_ids() == [rec1.id]
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("labelled"))
    browser.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert column(browser, 0) == [rec0.name, rec2.name]  # sorted while filtered
    ws.set_recording(rec2.id)
    assert current() == [rec2.id]
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("all"))
    assert column(browser, 0) == [rec0.name, rec1.name, rec2.name]
    assert current() == browser.selected_ids() == [rec2.id]


def test_switching_recordings_draws_the_new_row_selected_and_the_old_one_not(browser, qtbot):
    ws = browser.workspace
    rec0, rec1, _ = ws.recordings()
    browser.resize(500, 300)
    browser.show()
    qtbot.waitExposed(browser)
    table = browser.table
    highlight = table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)

    def drawn_selected(recording_id: int) -> bool:
        # What is on the screen (the window's backing store), not a fresh paint (grab()).
        QApplication.processEvents()
        image = browser.screen().grabWindow(browser.winId()).toImage()
        rect = table.visualRect(browser.model.index(browser.model.row_of(recording_id), 2))
        at = table.viewport().mapTo(browser, rect.center())
        colour = image.pixelColor(table.viewport().mapTo(browser, rect.topRight()).x() - 2, at.y())
        return colour.rgb() == highlight.rgb()

    ws.set_recording(rec0.id)
    assert drawn_selected(rec0.id) and not drawn_selected(rec1.id)
    ws.set_recording(rec1.id)
    assert drawn_selected(rec1.id) and not drawn_selected(rec0.id)
    browser.filter_edit.setText(rec0.name)  # the open one filtered out: nothing selected
    assert not drawn_selected(rec0.id)
