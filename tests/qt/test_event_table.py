"""The event table on a long recording: times as h:mm:ss.mmm that fit their columns, and typed
back in the same form."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.conftest import write_wav
from tfstudio.qt.axes import format_time, parse_time


def test_parse_time_reads_what_format_time_writes():
    for seconds in (0.0, 5.25, 62.5, 3723.125, 7199.999):
        assert parse_time(format_time(seconds, 3)) == pytest.approx(seconds)
    assert parse_time(" 12 ") == 12.0 and parse_time("-1:00.5") == -60.5
    for bad in ("", "1:", "a:10", "1:75.0", "1:2:3:4", "ten"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_long_recording_times_fit_and_edit_as_hours_minutes_seconds(qtbot, tmp_path):
    from tests.qt.conftest import open_window
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    write_wav(audio / "night.wav", 3700.0, sample_rate=1000)  # just over an hour
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
        (rec,) = project.recordings()
        cls = project.add_class("owl")
        project.add_event(rec.id, cls.id, 3723.125 - 60, 3690.5)
    window = open_window(qtbot, tmp_path / "proj")
    try:
        table = window.events
        model, view = table.model, table.table
        onset = model.index(0, 1)
        assert model.data(onset) == "1:01:03.125"
        width = view.fontMetrics().horizontalAdvance("1:01:03.125")
        assert view.columnWidth(1) >= width and view.columnWidth(2) >= width
        # Typing a time in the same form moves the event.
        assert model.data(onset, Qt.ItemDataRole.EditRole) == "1:01:03.1250"
        assert model.setData(onset, "1:00:00.5")
        assert window.workspace.labels.get(model.event_id(0)).onset == pytest.approx(3600.5)
        assert not model.setData(onset, "soon")
        assert "Not a time" in window.statusBar().currentMessage()
    finally:
        window.close()


def test_editing_times_in_the_table_moves_the_event_without_qt_warnings(window, qtbot, qtlog):
    """Click, double-click, type, Enter: the event moves, the edit is one undo step, and Qt
    says nothing (the model was reset under the open editor: "commitData called with an
    editor that does not belong to this view" at every edit)."""
    from PySide6.QtWidgets import QLineEdit

    ws = window.workspace
    rec = ws.recording
    bird = next(c for c in ws.classes() if c.name == "bird")
    ws.project.add_event(rec.id, bird.id, 2.0, 3.0)
    ws.project.add_event(rec.id, bird.id, 5.0, 6.0)
    ws.refresh()
    table, model = window.events.table, window.events.model
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    viewport = table.viewport()
    for col, text, field, expected in ((1, "2.5", "onset", 2.5), (2, "3.75", "offset", 3.75)):
        pos = table.visualRect(model.index(0, col)).center()
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
        (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
        editor.selectAll()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.wait(50)
        event = ws.labels.get(model.event_id(0))
        assert getattr(event, field) == pytest.approx(expected)
    # An edit that moves the second event before the first reorders the rows; still no
    # warning. Tab (also the window's Next event) commits it and edits the moved event's next
    # cell, as in a spreadsheet.
    second = model.event_id(1)
    pos = table.visualRect(model.index(1, 1)).center()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, "1")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.wait(50)
    assert ws.labels.get(second).onset == 1.0
    assert model.event_id(0) == second
    (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
    assert table.visualRect(model.index(0, 2)).contains(editor.geometry().center())
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not [e for e in table.findChildren(QLineEdit) if e.isVisible()]
    assert not [r for r in qtlog.records if "commitData" in r.message]
