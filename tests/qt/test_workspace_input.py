"""Issue 15's annotation workspace through real input only (keys, clicks, drags, moves, the
right-click menu), each checked on the store as another process reads it: the parts the other
Qt tests reach through method calls."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from tests.qt.conftest import open_window
from tests.qt.test_annotation import class_ids, drag, key, mid_hz, store_labels
from tfstudio.store import Project

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def readout(window) -> str:
    return window.cursor_label.text()


def readout_hz(text: str) -> float:
    words = text.split()
    value, unit = float(words[words.index("f") + 1]), words[words.index("f") + 2]
    return value * (1000.0 if unit == "kHz" else 1.0)


def test_the_scale_key_reaches_mel_where_boxes_and_the_readout_stay_in_hz(
    window, qtbot, small_project
):
    view = window.view
    # Ctrl+Shift+F steps linear → log → mel.
    key(qtbot, window, Qt.Key.Key_F, CTRL | SHIFT)
    assert view.scale.kind == "log"
    key(qtbot, window, Qt.Key.Key_F, CTRL | SHIFT)
    assert view.scale.kind == "mel" and window.scale_actions["mel"].isChecked()
    qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.has_image(), timeout=10000)

    # A real pointer move over the 1 kHz tone: the status bar says its time, Hz and level.
    viewport = view.graphics.viewport()
    qtbot.mouseMove(viewport, view.viewport_pos("spec", 0.5, 1000.0))
    tone = readout(window)
    assert tone.startswith("t ") and tone.endswith(" dB")
    assert float(tone.split()[1]) == pytest.approx(0.5, abs=0.02)  # ± a pixel
    assert readout_hz(tone) == pytest.approx(1000.0, rel=0.02)  # ± a pixel on the mel axis
    qtbot.wait(20)
    qtbot.mouseMove(viewport, view.viewport_pos("spec", 0.5, 300.0))
    assert float(tone.split()[-2]) > float(readout(window).split()[-2]) + 20

    # Shift+drag on the mel axis: the box is stored in the Hz the user dragged over.
    drag(qtbot, view, "spec", (2.0, 400.0), (3.0, 2500.0), SHIFT)
    (event,) = store_labels(small_project)
    assert event.low_hz == pytest.approx(400.0, rel=0.05)
    assert event.high_hz == pytest.approx(2500.0, rel=0.05)
    # Back on a linear axis the same stored box is where it was made.
    key(qtbot, window, Qt.Key.Key_F, CTRL | SHIFT)
    assert view.scale.kind == "linear"
    assert store_labels(small_project)[0].low_hz == event.low_hz


def test_ctrl_click_in_the_lanes_selects_several_and_a_palette_click_moves_them_all(
    window, qtbot, small_project
):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    a = ws.add_event(1.0, 2.0, class_id=ids["bird"])
    b = ws.add_event(4.0, 5.0, class_id=ids["frog"])
    c = ws.add_event(7.0, 8.0, class_id=ids["bird"])
    ws.select_event(None)
    viewport = view.graphics.viewport()
    bird_lane = view.lane_of(ids["bird"]) + 0.5
    qtbot.mouseClick(viewport, LEFT, pos=view.viewport_pos("lanes", 1.5, bird_lane))
    qtbot.mouseClick(viewport, LEFT, CTRL, view.viewport_pos("lanes", 7.5, bird_lane))
    assert sorted(ws.selection()) == sorted([a.id, c.id])

    # A click on "frog" in the class list moves both to frog: one step, one undo.
    palette = window.palette_widget.list
    (frog_row,) = [
        r
        for r in range(palette.count())
        if palette.item(r).data(Qt.ItemDataRole.UserRole) == ids["frog"]
    ]
    qtbot.mouseClick(
        palette.viewport(), LEFT, pos=palette.visualItemRect(palette.item(frog_row)).center()
    )
    classes = {e.id: e.class_id for e in store_labels(small_project)}
    assert classes == {a.id: ids["frog"], b.id: ids["frog"], c.id: ids["frog"]}
    assert "relabel 2 events as 'frog'" in window.undo_action.text()
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    classes = {e.id: e.class_id for e in store_labels(small_project)}
    assert classes == {a.id: ids["bird"], b.id: ids["frog"], c.id: ids["bird"]}


def test_shift_click_in_the_event_table_then_arrows_nudge_all_in_one_undo_step(
    window, qtbot, small_project
):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    events = [ws.add_event(t, t + 0.5, class_id=ids["bird"]) for t in (1.0, 3.0, 5.0, 7.0)]
    ws.select_event(None)
    table = window.events.table
    model = window.events.model
    row = {model.event_id(r): r for r in range(model.rowCount())}

    def row_centre(event) -> QPoint:
        return table.visualRect(model.index(row[event.id], 0)).center()

    qtbot.mouseClick(table.viewport(), LEFT, pos=row_centre(events[0]))
    qtbot.mouseClick(table.viewport(), LEFT, SHIFT, row_centre(events[2]))
    assert sorted(ws.selection()) == sorted(e.id for e in events[:3])
    # Both outlined in the view (spectrogram and lanes) besides the current one.
    assert [len(item) for item in view.editor.also_items] == [2, 2]

    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Right)
    step = 10.0 / 100
    stored = {e.id: e.onset for e in store_labels(small_project)}
    for event in events[:3]:
        assert stored[event.id] == pytest.approx(event.onset + 2 * step)
    assert stored[events[3].id] == events[3].onset  # not selected, not moved
    assert "move 3 events" in window.undo_action.text()
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # each press was one step for all three
    stored = {e.id: e.onset for e in store_labels(small_project)}
    for event in events[:3]:
        assert stored[event.id] == pytest.approx(event.onset + step)


def test_shift_arrows_move_the_end_of_every_selected_event_in_one_undo_step(
    window, qtbot, small_project
):
    """Shift+arrows with several events selected moved only the current one's end, though
    the arrows act on all of them."""
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    a = ws.add_event(1.0, 2.0, class_id=ids["bird"])
    b = ws.add_event(4.0, 4.05, class_id=ids["frog"])
    c = ws.add_event(7.0, 8.0, class_id=ids["bird"])
    ws.select_event(None)
    hz = mid_hz(view)
    viewport = view.graphics.viewport()
    qtbot.mouseClick(viewport, LEFT, pos=view.viewport_pos("spec", 1.5, hz))
    qtbot.mouseClick(viewport, LEFT, CTRL, view.viewport_pos("spec", 4.02, hz))
    assert sorted(ws.selection()) == sorted([a.id, b.id])

    step = 10.0 / 100
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)
    after = {e.id: (e.onset, e.offset) for e in store_labels(small_project)}
    assert after[a.id] == pytest.approx((1.0, 2.0 + step))
    assert after[b.id] == pytest.approx((4.0, 4.05 + step))
    assert after[c.id] == (7.0, 8.0)  # not selected
    assert "move the offset of 2 events" in window.undo_action.text()
    # Earlier: each end stops at its own onset, never inside out.
    key(qtbot, window, Qt.Key.Key_Left, SHIFT)
    key(qtbot, window, Qt.Key.Key_Left, SHIFT)
    after = {e.id: (e.onset, e.offset) for e in store_labels(small_project)}
    assert after[a.id] == pytest.approx((1.0, 2.0 - step))
    assert after[b.id] == pytest.approx((4.0, 4.0))
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    after = {e.id: (e.onset, e.offset) for e in store_labels(small_project)}
    assert after[a.id] == pytest.approx((1.0, 2.0 + step))
    assert after[b.id] == pytest.approx((4.0, 4.05 + step))


def test_pgdown_and_pgup_follow_the_recordings_list_as_sorted_and_filtered(window, qtbot):
    """PgDown / PgUp went through the project's order whatever the list showed: sorted the
    other way, PgDown went up the list, and it opened recordings the filter hides."""
    ws, browser = window.workspace, window.browser
    names = {r.id: r.stem for r in ws.recordings()}
    assert names[ws.recording.id] == "rec0"
    header = browser.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(header.sectionPosition(0) + 20, 5))
    shown = [browser.model.index(r, 0).data() for r in range(browser.model.rowCount())]
    assert shown == ["rec2.wav", "rec1.wav", "rec0.wav"]

    def page(key_: Qt.Key) -> str:
        key(qtbot, window, key_)
        return names[ws.recording.id]

    assert page(Qt.Key.Key_PageDown) == "rec0"  # the last row: stays
    assert page(Qt.Key.Key_PageUp) == "rec1"
    assert page(Qt.Key.Key_PageUp) == "rec2"
    assert page(Qt.Key.Key_PageDown) == "rec1"

    # A label on rec1, then the list shows the unlabelled ones: PgDown passes rec1 over.
    ws.add_event(1.0, 2.0)
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("unlabelled"))
    assert browser.model.rowCount() == 2
    assert page(Qt.Key.Key_PageUp) == "rec2"
    assert page(Qt.Key.Key_PageDown) == "rec0"
    assert page(Qt.Key.Key_PageUp) == "rec2"
    assert page(Qt.Key.Key_PageUp) == "rec2"  # the first row: stays
    # Ctrl+U goes on down the list, around to its top.
    key(qtbot, window, Qt.Key.Key_U, CTRL)
    assert names[ws.recording.id] == "rec0"
    key(qtbot, window, Qt.Key.Key_U, CTRL)
    assert names[ws.recording.id] == "rec2"


def test_ctrl_click_in_the_recordings_list_adds_rows_that_set_split_then_moves(window, qtbot):
    """Ctrl+click on a second recording opened it and left it the only one selected: the
    list's selection, which Set split and Detect on selected act on, could not grow."""
    ws, browser = window.workspace, window.browser
    table, model = browser.table, browser.model

    def centre(row: int) -> QPoint:
        return table.visualRect(model.index(row, 0)).center()

    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    qtbot.mouseClick(table.viewport(), LEFT, pos=centre(0))
    qtbot.mouseClick(table.viewport(), LEFT, CTRL, centre(2))
    assert ws.recording.name == names[2]  # the clicked one opens
    chosen = {r.id for r in ws.recordings() if r.name in (names[0], names[2])}
    assert set(browser.selected_ids()) == chosen
    annotate = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Annotate")
    split = next(a.menu() for a in annotate.actions() if a.text() == "Set &split")
    next(a for a in split.actions() if a.text() == "T&est").trigger()
    with Project.open(ws.project.root) as project:
        splits = {r.name: r.split for r in project.recordings()}
    assert splits == {names[0]: "test", names[1]: None, names[2]: "test"}
    assert set(browser.selected_ids()) == chosen  # still both, for the next action
    # A plain click selects one row again.
    qtbot.mouseClick(table.viewport(), LEFT, pos=centre(1))
    assert browser.selected_ids() == [ws.recording.id] and ws.recording.name == names[1]


def test_ctrl_z_after_set_split_gives_the_splits_back(window, qtbot):
    """Set split was not in the undo history: Ctrl+Z after it undid an older, unrelated edit
    and left the splits as they were set."""
    ws, browser = window.workspace, window.browser
    table, model = browser.table, browser.model
    before = {r.name: r.split for r in ws.recordings()}
    ws.add_event(1.0, 2.0, class_id=ws.classes()[0].id)  # an older edit that must stay
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(model.index(0, 0)).center())
    annotate = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Annotate")
    split = next(a.menu() for a in annotate.actions() if a.text() == "Set &split")
    next(a for a in split.actions() if a.text() == "&Validation").trigger()
    name = model.index(0, 0).data()
    assert {r.name: r.split for r in ws.recordings()}[name] == "val"
    labels = len(ws.project.labels())
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert {r.name: r.split for r in ws.recordings()} == before
    assert len(ws.project.labels()) == labels  # the label is still there
    split_column = next(
        c
        for c in range(model.columnCount())
        if model.headerData(c, Qt.Orientation.Horizontal) == "Split"
    )
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
    assert model.index(row, split_column).data() == (before[name] or "–")  # a dash: none


def test_set_split_automatically_splits_the_labelled_ones_in_one_undo_step(window, qtbot):
    ws = window.workspace
    first, second, _unlabelled = ws.recordings()
    for rec in (first, second):  # two labelled recordings, one without labels
        ws.write(ws.project.add_event, rec.id, ws.classes()[0].id, 1.0, 2.0)
    ws.write(ws.project.set_split, [r.id for r in ws.recordings()], None)
    labelled = set(ws.project.label_totals())
    assert labelled == {first.id, second.id}
    annotate = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Annotate")
    split = next(a.menu() for a in annotate.actions() if a.text() == "Set &split")
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    next(a for a in split.actions() if a.text().startswith("&Automatically")).trigger()
    splits = {r.id: r.split for r in ws.recordings()}
    assert {splits[i] for i in labelled} == {"train", "val"}
    assert all(s is None for i, s in splits.items() if i not in labelled)
    assert messages[-1].startswith(f"Put {len(labelled)} labelled recording(s) into a split")
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert {r.split for r in ws.recordings()} == {None}
    next(a for a in split.actions() if a.text().startswith("&Automatically")).trigger()
    next(a for a in split.actions() if a.text().startswith("&Automatically")).trigger()
    assert messages[-1] == "Every labelled recording already has a split"


def test_a_number_key_after_delete_relabels_nothing(window, qtbot, small_project):
    ws, view = window.workspace, window.view
    ids = class_ids(window)
    view.show_range(0.0, 10.0)
    ws.add_event(1.0, 2.0, class_id=ids["bird"])
    target = ws.add_event(4.0, 5.0, class_id=ids["bird"])
    ws.add_event(7.0, 8.0, class_id=ids["bird"])
    ws.select_event(None)
    qtbot.mouseClick(
        view.graphics.viewport(), LEFT, pos=view.viewport_pos("spec", 4.5, mid_hz(view))
    )
    assert ws.selected_id == target.id
    key(qtbot, window, Qt.Key.Key_Delete)
    # Nothing is left on screen to show for it: the status bar says what went, and the way back.
    said = window.statusBar().currentMessage()
    assert said.startswith("Done: delete 'bird' at 4") and said.endswith("(Ctrl+Z undoes it)")
    key(qtbot, window, Qt.Key.Key_2)
    left = store_labels(small_project)
    assert target.id not in {e.id for e in left} and len(left) == 2
    assert {e.class_id for e in left} == {ids["bird"]}  # neighbours untouched
    assert ws.selected_id is None
    assert ws.current_class_id == ids["frog"]  # the key still picks the class for new events


def test_locate_from_the_rows_right_click_menu_relinks_the_folder(
    qtbot, small_project, monkeypatch
):
    audio = small_project.parent / "audio"
    moved = small_project.parent / "moved"
    shutil.move(audio, moved)
    window = open_window(qtbot, small_project)
    try:
        browser = window.browser
        table = browser.table
        index = browser.model.index(1, 0)
        name = index.data()
        chosen = moved / f"{name.rsplit('.', 1)[0]}.wav"
        # The OS file dialog is the one part replaced.
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(chosen), ""))
        )
        clicked: list[str] = []

        def choose_locate() -> None:
            menu = QApplication.activePopupWidget()
            assert isinstance(menu, QMenu)
            (action,) = [a for a in menu.actions() if a.text().startswith("&Locate")]
            clicked.append(action.text())
            qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())

        QTimer.singleShot(200, choose_locate)
        pos = table.visualRect(index).center()
        viewport = table.viewport()
        QApplication.sendEvent(
            viewport,
            QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)),
        )
        assert clicked == [f"&Locate {name}…"]
        with Project.open(small_project) as project:
            recordings = project.recordings()
            assert [r.status for r in recordings] == ["ok"] * 3
            assert {project.absolute_path(r).parent for r in recordings} == {moved}
    finally:
        window.close()


def test_window_shape_and_the_paper_map_chosen_in_settings_by_keys_and_ok(window, qtbot):
    """Ctrl+, opens the settings; keys pick the paper map and the next window shape; OK."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QDialogButtonBox

    from tfstudio.qt import settings as qs
    from tfstudio.qt.dialogs import SettingsDialog

    view = window.view
    before = view._params.window
    chosen: dict[str, str] = {}

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SettingsDialog)
        qtbot.keyClick(dialog.colormap, Qt.Key.Key_End)  # the last map: grey paper
        qtbot.keyClick(dialog.window_shape, Qt.Key.Key_Down)
        chosen["map"] = dialog.colormap.currentText()
        chosen["window"] = str(dialog.window_shape.currentData())
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, LEFT)

    QTimer.singleShot(100, fill_in)
    key(qtbot, window, Qt.Key.Key_Comma, CTRL)
    assert chosen["map"].startswith("Grey (paper") and chosen["window"] != before
    assert view._params.window == chosen["window"]
    qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.has_image(), timeout=10000)
    remembered = qs.load_view_settings()
    assert (remembered.colormap, remembered.window) == (chosen["map"], chosen["window"])

    # Axis text stays readable on the paper map's light background.
    background = view.graphics.backgroundBrush().color()
    assert background.lightness() > 200
    for name in ("left", "bottom"):
        text = view.spec.getAxis(name).textPen().color()
        assert abs(text.lightness() - background.lightness()) > 120, name
    label = QColor(view.freq_axis.label.defaultTextColor())
    assert abs(label.lightness() - background.lightness()) > 120


def test_a_time_typed_in_the_event_table_moves_the_event_and_undo_names_it(
    window, qtbot, small_project
):
    """Double-click the onset, type m:ss.mmm, Enter; the undo step speaks the user's words."""
    from PySide6.QtWidgets import QLineEdit

    ws = window.workspace
    bird = class_ids(window)["bird"]
    ws.add_event(2.0, 3.0, class_id=bird)
    table, model = window.events.table, window.events.model
    cell = table.visualRect(model.index(0, 1)).center()
    qtbot.mouseClick(table.viewport(), LEFT, pos=cell)
    qtbot.mouseDClick(table.viewport(), LEFT, pos=cell)
    (editor,) = [e for e in table.findChildren(QLineEdit) if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, "0:01.25")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next loop turn
    qtbot.waitUntil(lambda: store_labels(small_project)[0].onset != 2.0, timeout=3000)
    (stored,) = store_labels(small_project)
    assert (stored.onset, stored.offset) == (pytest.approx(1.25), pytest.approx(3.0))
    assert re.fullmatch(r"&Undo (move|resize) 'bird' at 2\.00 s", window.undo_action.text())
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert store_labels(small_project)[0].onset == pytest.approx(2.0)


def test_a_missing_file_is_said_once_not_as_a_read_error(qtbot, small_project):
    """Bug: the view still asked for tiles of a file it knew was missing, so the status bar
    added a raw "Cannot read audio: …: No such file" to the friendly message."""
    shutil.move(small_project.parent / "audio", small_project.parent / "moved")
    window = open_window(qtbot, small_project)
    try:
        view = window.view
        assert "Audio file not found" in view.message.toPlainText()
        view.zoom(2.0)  # the view asks for what it shows
        assert view.tiles.wait(5.0)
        qtbot.wait(50)  # a failure is delivered by a queued signal
        assert "Cannot read audio" not in window.statusBar().currentMessage()
    finally:
        window.close()


def test_the_readout_is_cleared_when_another_recording_opens(window, qtbot):
    """Bug: after PgDown the status bar still read the last recording's time, Hz and dB."""
    view = window.view
    qtbot.mouseMove(view.graphics.viewport(), view.viewport_pos("spec", 0.5, 1000.0))
    assert readout(window).endswith(" dB")
    first = window.workspace.recording.id
    key(qtbot, window, Qt.Key.Key_PageDown)
    assert window.workspace.recording.id != first
    assert readout(window) == ""
    qtbot.waitUntil(view.has_image, timeout=5000)
    qtbot.wait(20)
    qtbot.mouseMove(view.graphics.viewport(), view.viewport_pos("spec", 0.6, 1000.0))
    assert float(readout(window).split()[1]) == pytest.approx(0.6, abs=0.02)  # ± a pixel


def test_the_recordings_right_click_menu_says_it_sets_the_split(window, qtbot):
    """Right-click on a recording listed 'Train', 'Validation', 'Test' with nothing above
    them: 'Train' read as 'train a model on it'. A header names what they set, and for how
    many recordings."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMenu

    ws, browser = window.workspace, window.browser
    table, model = browser.table, browser.model
    seen = {}

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, choose)
            return
        actions = [a for a in menu.actions() if not a.isSeparator()]
        seen["header"] = (actions[0].text(), actions[0].isEnabled())
        seen["next"] = actions[1].text()
        menu.setActiveAction(actions[1])
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(0, choose)
    where = table.visualRect(model.index(1, 0)).center()
    qtbot.mouseClick(
        window.windowHandle(),
        Qt.MouseButton.RightButton,
        Qt.KeyboardModifier.NoModifier,
        table.viewport().mapTo(window, where),
    )
    qtbot.waitUntil(lambda: "header" in seen)
    name = model.index(1, 0).data()
    assert seen["header"] == ("Split of 1 recording (" + name + "):", False)
    assert seen["next"] == "&Train"
    qtbot.waitUntil(lambda: {r.name: r.split for r in ws.recordings()}[name] == "train")
