"""The Review tab on a laptop-sized window: its list's columns fit the dock, text whole."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.conftest import open_review_window


@pytest.mark.parametrize("scope", ["recording", "all"])
def test_the_review_list_shows_every_column_without_a_horizontal_scrollbar(
    qtbot, detected_project, scope
):
    """At 1350 x 720 the list's fixed widths (96 + 96 + 56 + 50 + 84 px, then the State column)
    overflowed the 340 px dock once Show ▸ All added the State column or the scope all
    recordings added the Recording column: a horizontal scrollbar, 'accepte' for 'accepted'
    and 'Confi' for 'Confidence'."""
    win = open_review_window(qtbot, detected_project)
    win.resize(1350, 720)
    review = win.review
    table = review.table
    qtbot.waitUntil(lambda: review.model.rowCount() > 0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_N)
    qtbot.keyClick(table, Qt.Key.Key_A)  # one accepted: the longest state word
    review.show_combo.setFocus()
    qtbot.keyClick(review.show_combo, Qt.Key.Key_Down)  # Pending -> All
    assert review.model.show == "all"
    review.set_scope(scope)
    qtbot.wait(50)
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    shown = [c for c in range(review.model.columnCount()) if not table.isColumnHidden(c)]
    assert 5 in shown and (1 in shown) == (scope == "all")
    right = max(header.sectionViewportPosition(c) + header.sectionSize(c) for c in shown)
    assert right <= table.viewport().width()
    # Length gives way to the names where both would not fit; on one recording it fits.
    assert (3 in shown) == (scope == "recording")
    for col in (0, 1, 2, 3, 5):  # names, times and states whole
        if col in shown:
            assert header.sectionSize(col) >= table.sizeHintForColumn(col), col
    for col in shown[1:] if scope == "all" else shown:  # titles whole (the class's may elide)
        assert header.sectionSize(col) >= header.sectionSizeFromContents(col).width() - 12, col
    win.close()
