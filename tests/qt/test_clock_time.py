"""Recordings whose start is known show it: a Recorded column in the browser (sorted and
filtered by it), times of day on the time axis (View ▸ Clock time) and in the status bar."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.conftest import audiomoth_comment, write_wav
from tests.qt.conftest import open_window, settle_layout
from tfstudio.qt.axes import TimeAxis
from tfstudio.qt.browser import RECORDED_COLUMN


def _deployment(tmp_path):
    """Two sites' AudioMoth files (site2's set to UTC+2, as its comment says) and a take
    whose file says nothing of when it was made."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    card = tmp_path / "card"
    for site in ("site1", "site2"):
        (card / site).mkdir(parents=True)
        for hour in ("05", "06"):
            write_wav(card / site / f"20240501_{hour}0000.WAV", 10.0, seed=int(hour))
    for hour in ("05", "06"):
        audiomoth_comment(
            card / "site2" / f"20240501_{hour}0000.WAV", f"{hour}:00:00 01/05/2024 (UTC+2)"
        )
    write_wav(card / "take.wav", 10.0, seed=9)
    project = Project.create(tmp_path / "proj")
    import_audio(project, [card])
    project.add_class("bird")
    root = project.root
    project.close()
    return root


def _column(browser, col: int) -> list[str]:
    model = browser.model
    return [model.index(row, col).data() for row in range(model.rowCount())]


def _open(win, qtbot, shown_name: str) -> None:
    browser = win.browser
    row = _column(browser, 0).index(shown_name)
    rect = browser.table.visualRect(browser.model.index(row, 0))
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: win.workspace.recording.name == shown_name.rsplit("/", 1)[-1])
    qtbot.waitUntil(lambda: win.view.has_image(), timeout=5000)
    settle_layout(qtbot, win.view)


def test_the_browser_shows_sorts_and_filters_by_when_recordings_started(qtbot, tmp_path):
    win = open_window(qtbot, _deployment(tmp_path), (1400, 800))
    browser, table = win.browser, win.browser.table
    assert not table.isColumnHidden(RECORDED_COLUMN)
    assert table.columnWidth(RECORDED_COLUMN) > table.fontMetrics().horizontalAdvance(
        "2024-05-01 05:00:00"
    )
    # Beside the name, where a deployment's list is read.
    assert table.horizontalHeader().visualIndex(RECORDED_COLUMN) == 1
    header = table.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(RECORDED_COLUMN) + 10, header.height() // 2),
    )
    assert _column(browser, 0) == [
        "site1/20240501_050000.WAV",  # the recorder's clock: sorted by its wall-clock time
        "site2/20240501_050000.WAV",
        "site1/20240501_060000.WAV",
        "site2/20240501_060000.WAV",
        "take.wav",  # undated, last
    ]
    assert _column(browser, RECORDED_COLUMN) == [
        "2024-05-01 05:00:00",
        "2024-05-01 05:00:00",
        "2024-05-01 06:00:00",
        "2024-05-01 06:00:00",
        "–",
    ]
    tips = [browser.model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) for r in (0, 1)]
    assert (
        "recorded 2024-05-01 05:00:00 (recorder's clock, zone unknown), as the file name says"
        in tips[0]
    )
    assert (
        "recorded 2024-05-01 05:00:00 UTC+02:00, as the AudioMoth's comment in the file says"
        in tips[1]
    )
    qtbot.keyClicks(browser.filter_edit, "2024-05-01 06")
    assert _column(browser, 0) == ["site1/20240501_060000.WAV", "site2/20240501_060000.WAV"]
    win.close()


def test_clock_time_puts_times_of_day_on_the_axis_and_in_the_status_bar(qtbot, tmp_path):
    win = open_window(qtbot, _deployment(tmp_path), (1400, 800))
    _open(win, qtbot, "site2/20240501_050000.WAV")
    axis = win.view.lanes.getAxis("bottom")
    assert isinstance(axis, TimeAxis) and axis.labelText == "Time (s)"
    qtbot.keyClick(
        win, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert win.clock_action.isChecked() and win.view_settings.clock_time
    assert axis.labelText == "Time of day (UTC+02:00)"
    t0, t1 = win.view.view_range()
    ticks = [v for _, values in axis.tickValues(t0, t1, axis.width() or 800) for v in values]
    texts = axis.tickStrings(ticks[:3], 1.0, 1.0)
    assert texts[0].startswith("05:00:0") and all(len(t) == 8 for t in texts)
    # The status bar reads the time of day under the pointer too.
    view = win.view.graphics
    qtbot.mouseMove(view.viewport(), QPoint(view.width() // 2, view.height() // 3))
    qtbot.waitUntil(lambda: "(05:00:0" in win.cursor_label.text())
    # An undated recording: seconds again, and the choice is kept for the next dated one.
    _open(win, qtbot, "take.wav")
    assert axis.labelText == "Time (s)" and win.clock_action.isChecked()
    qtbot.mouseMove(view.viewport(), QPoint(view.width() // 2 + 5, view.height() // 3))
    qtbot.waitUntil(lambda: win.cursor_label.text().startswith("t "))
    assert "(" not in win.cursor_label.text()
    _open(win, qtbot, "site1/20240501_060000.WAV")
    assert axis.labelText == "Time of day"  # the name's time: the zone is not known
    win.close()


def test_the_events_table_gives_each_events_time_of_day_in_its_tooltip(qtbot, tmp_path):
    win = open_window(qtbot, _deployment(tmp_path), (1400, 800))
    _open(win, qtbot, "site2/20240501_050000.WAV")
    bird = win.workspace.classes()[0]
    win.workspace.add_event(1.25, 2.5, class_id=bird.id)
    model = win.events.model
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    tips = [model.index(0, col).data(Qt.ItemDataRole.ToolTipRole) for col in (1, 2)]
    assert tips == ["2024-05-01 05:00:01.250 UTC+02:00", "2024-05-01 05:00:02.500 UTC+02:00"]
    _open(win, qtbot, "take.wav")
    win.workspace.add_event(1.0, 2.0, class_id=bird.id)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole) is None
    win.close()


def test_a_project_without_starts_has_no_recorded_column(qtbot, small_project):
    win = open_window(qtbot, small_project)
    assert win.browser.table.isColumnHidden(RECORDED_COLUMN)
    win.close()


def test_clock_ticks_fall_on_round_times_of_day_across_midnight(qapp):
    from datetime import datetime

    axis = TimeAxis()
    axis.set_clock(datetime(2024, 5, 1, 22, 30, 15))
    levels = axis.tickValues(0.0, 3 * 3600.0, 800)
    spacing, values = levels[0]
    texts = axis.tickStrings(values, 1.0, spacing)
    # Round clock times (not 22:30:15 + n · step), going on past midnight.
    assert texts == ["23:00:00", "23:30:00", "00:00:00", "00:30:00", "01:00:00", "01:30:00"]
    assert values[2] == 3600 * 1.5 - 15  # midnight is 5385 s into the recording
    axis.set_clock(None)
    assert axis.tickStrings([3600.0], 1.0, 600.0) == ["1:00:00"]


def test_with_clock_time_the_events_table_shows_and_takes_times_of_day(qtbot, tmp_path):
    from PySide6.QtWidgets import QLineEdit

    win = open_window(qtbot, _deployment(tmp_path), (1400, 800))
    _open(win, qtbot, "site2/20240501_050000.WAV")
    ws, table, model = win.workspace, win.events.table, win.events.model
    bird = ws.classes()[0]
    ws.add_event(1.25, 2.5, class_id=bird.id)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.index(0, 1).data() == "1.250"
    qtbot.keyClick(
        win, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert [model.index(0, c).data() for c in (1, 2)] == ["05:00:01.250", "05:00:02.500"]
    assert table.columnWidth(1) > table.fontMetrics().horizontalAdvance("05:00:01.250")
    tip = model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "2024-05-01 05:00:01.250 UTC+02:00 (1.250 s in)"

    def edit(col: int, text: str) -> None:
        pos = table.visualRect(model.index(0, col)).center()
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
        assert editor.text().startswith("05:00:0")  # the time of day, to edit
        editor.selectAll()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.wait(50)

    edit(1, "05:00:02")
    assert ws.labels.get(model.event_id(0)).onset == pytest.approx(2.0)
    edit(2, "5:00:03.75")
    assert ws.labels.get(model.event_id(0)).offset == pytest.approx(3.75)
    edit(1, "2.5")  # seconds are not a time of day: said, nothing moves
    assert ws.labels.get(model.event_id(0)).onset == pytest.approx(2.0)
    assert "Not a time of day: '2.5'" in win.statusBar().currentMessage()
    # Off again: seconds.
    win.set_clock_time_shown(False)
    assert model.index(0, 1).data() == "2.000"
    win.close()


def test_a_time_of_day_after_midnight_is_the_next_days(qapp):
    from datetime import datetime

    from tfstudio.qt.event_table import EventTableModel
    from tfstudio.session.workspace import Workspace

    model = EventTableModel(Workspace())
    model.set_clock(datetime(2024, 4, 30, 23, 59, 58, 500000))
    assert model.parse_time_text("23:59:59") == pytest.approx(0.5)
    assert model.parse_time_text("00:00:01.5") == pytest.approx(3.0)
    assert model.time_text(3.0) == "00:00:01.500"
    for bad in ("24:00:00", "05:60:00", "1:02.5", "noon"):
        with pytest.raises(ValueError, match="not a time of day"):
            model.parse_time_text(bad)


def _answer_input(qtbot, text: str) -> None:
    """Type ``text`` into the modal input dialog once it is open, and press Enter."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

    box = QApplication.activeModalWidget()
    if not isinstance(box, QInputDialog):
        QTimer.singleShot(20, lambda: _answer_input(qtbot, text))
        return
    edit = box.findChild(QLineEdit)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_go_to_time_takes_a_time_of_day_from_field_notes(qtbot, tmp_path):
    win = open_window(qtbot, _deployment(tmp_path), (1400, 800))
    _open(win, qtbot, "site2/20240501_050000.WAV")
    win.view.zoom(4.0)
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(win, Qt.Key.Key_T, ctrl_shift)  # Clock time on
    _answer_input(qtbot, "05:00:07")
    qtbot.keyClick(win, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    t0, t1 = win.view.view_range()
    assert (t0 + t1) / 2 == pytest.approx(7.0, abs=0.01) and t1 - t0 < 5
    assert win.player.position == pytest.approx(7.0)
    assert not win.go_to_time("05:30:00")
    assert (
        "05:30:00 is not in this recording (05:00:00–05:00:10)" in win.statusBar().currentMessage()
    )
    win.set_clock_time_shown(False)  # seconds again
    assert win.go_to_time("2.5") and win.player.position == pytest.approx(2.5)
    assert not win.go_to_time("05:00:07")  # 5 hours: past the end
    win.close()


def test_set_split_by_folder_or_day_keeps_groups_together(qtbot, tmp_path):
    from tfstudio.store import Project

    root = _deployment(tmp_path)
    with Project.open(root) as project:
        bird = project.classes()[0]
        for rec in project.recordings():
            project.add_event(rec.id, bird.id, 1.0, 2.0)
    win = open_window(qtbot, root, (1400, 800))
    menu = win.browser.split_menu()
    actions = {a.text(): a for a in menu.actions()}
    assert actions["Automatically, each &day in one split"].isEnabled()
    actions["Automatically, each &folder (site) in one split"].trigger()
    with Project.open(root) as project:
        by_folder: dict[str, set] = {}
        for rec in project.recordings():
            by_folder.setdefault(rec.path.rpartition("/")[0], set()).add(rec.split)
    assert all(len(s) == 1 and None not in s for s in by_folder.values()), by_folder
    assert "Put 5 labelled recording(s) into a split" in win.statusBar().currentMessage()
    win.close()


def test_the_review_lists_tooltip_gives_a_detections_time_of_day(qtbot, tmp_path):
    from tfstudio.importer import import_labels
    from tfstudio.store import Project

    root = _deployment(tmp_path)
    table = tmp_path / "detections.tsv"
    table.write_text(
        "filename\tonset\toffset\tevent_label\tconfidence\n"
        "site2/20240501_050000.WAV\t1.5\t2.0\tbird\t0.9\n"
    )
    with Project.open(root) as project:
        import_labels(project, [table])
    win = open_window(qtbot, root, (1400, 800))
    _open(win, qtbot, "site2/20240501_050000.WAV")
    model = win.review.model
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    tip = model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "1.500–2.000 (2024-05-01 05:00:01.5 UTC+02:00)" in tip
    win.close()
