"""The recording browser's table: sorted by the model, filtered by the proxy, and kept in step
with edits without resetting (so the selection and the sort survive them)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tfstudio.qt.browser import RecordingBrowser
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
    proxy = browser.proxy
    return [proxy.index(row, col).data() for row in range(proxy.rowCount())]


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
    chips = browser.proxy.index(0, 4).data(Qt.ItemDataRole.UserRole + 4)
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
