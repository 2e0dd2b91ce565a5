"""The window around the workspace: states, menus' import/export, settings, classes, playback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton

from tfstudio.store import Project


def test_without_a_project_the_welcome_page_shows(qtbot, tmp_path):
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.stack.currentWidget() is win.welcome
    assert not win.toolbar.isEnabled()
    # A new, empty project: the page offering to import recordings.
    win.workspace.open_project(tmp_path / "new", create=True)
    assert win.stack.currentWidget() is win.empty
    assert win.windowTitle().startswith("new")


def test_recent_projects_are_remembered(window, small_project):
    from tfstudio.qt import settings as qs

    assert qs.recent_projects()[0] == small_project.absolute()
    window.close_project()
    assert window.stack.currentWidget() is window.welcome
    window._fill_recent_list()
    assert window.recent_list.count() == 1
    # A project moved away stays listed, greyed and not openable, so the user sees it.
    moved = small_project.parent / "moved"
    small_project.rename(moved)
    window._fill_recent_list()
    (item,) = [window.recent_list.item(i) for i in range(window.recent_list.count())]
    assert item.text().endswith("(not found)")
    assert not item.flags() & Qt.ItemFlag.ItemIsEnabled
    moved.rename(small_project)


def test_import_recordings_and_labels_then_export(window, tmp_path, wav_writer):
    ws = window.workspace
    more = tmp_path / "more"
    more.mkdir()
    wav_writer(more / "extra.wav", 3.0)
    (more / "broken.wav").write_bytes(b"not audio at all")
    report = window.import_recordings([more], show_report=False)
    assert report.added == 1 and len(report.skipped) == 1
    assert "extra.wav" in {r.name for r in ws.recordings()}
    assert window.browser.model.rowCount() == 4

    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "filename\tonset\toffset\tevent_label\n"
        "extra.wav\t0.5\t1.0\tbird\n"
        "extra.wav\t1.0\t2.5\twhale\n"
        "extra.wav\tnot-a-number\t2\tbird\n"
    )
    report = window.import_labels([labels], show_report=False)
    assert report.labels_added == 2 and report.label_issues
    assert "whale" in {c.name for c in ws.classes()}

    out = tmp_path / "export.tsv"
    (written,) = window.export("dcase", "labels", out)
    text = written.read_text()
    assert "extra.wav\t0.5" in text and "whale" in text


def _answer_next_question(qtbot, button):
    """Click ``button`` of the next modal message box, as a user would."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen = []

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)
    return seen


def test_exporting_over_an_existing_file_asks_first(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    out = tmp_path / "export.tsv"
    out.write_text("keep me\n")
    seen = _answer_next_question(qtbot, QMessageBox.StandardButton.Cancel)
    assert window.export("dcase", "labels", out) == []
    assert seen and "already exists" in seen[0]
    assert out.read_text() == "keep me\n"
    assert "cancelled" in window.statusBar().currentMessage()

    seen = _answer_next_question(qtbot, QMessageBox.StandardButton.Yes)
    (written,) = window.export("dcase", "labels", out)
    assert seen and written == out and out.read_text().startswith("filename\tonset")


def test_report_dialog_lists_every_problem(qtbot):
    from PySide6.QtWidgets import QPlainTextEdit

    from tfstudio.qt.dialogs import ReportDialog

    dialog = ReportDialog(
        None, "Import", "1 added, 2 skipped", ["a.wav: not audio", "b.wav: empty"]
    )
    qtbot.addWidget(dialog)
    (edit,) = dialog.findChildren(QPlainTextEdit)
    assert edit.toPlainText().splitlines() == ["a.wav: not audio", "b.wav: empty"]


def test_demo_project_from_the_menu_code(qtbot, tmp_path):
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.create_demo(tmp_path / "demo", recordings=3, seconds=5.0)
    assert len(win.workspace.recordings()) == 3
    assert len(win.workspace.classes()) >= 3
    assert len(win.workspace.labels) > 0
    assert win.stack.currentWidget() is win.view


def test_settings_are_applied_and_remembered(window):
    from tfstudio.qt import settings as qs
    from tfstudio.qt.dialogs import SettingsDialog

    dialog = SettingsDialog(window.view_settings, window, nyquist=8000)
    dialog.colormap.setCurrentText("Viridis")
    dialog.n_fft.setCurrentIndex(dialog.n_fft.findData(512))
    dialog.hop.setValue(128)
    dialog.max_hz.setValue(4000)
    dialog.range_db.setValue(70)
    window.apply_settings(dialog.values())
    dialog.deleteLater()

    remembered = qs.load_view_settings(qs.qsettings())
    assert (remembered.colormap, remembered.n_fft, remembered.hop) == ("Viridis", 512, 128)
    assert remembered.max_hz == 4000 and remembered.range_db == 70
    view = window.view
    assert view.spec_vb.viewRange()[1][1] == pytest.approx(4000)
    assert view._params.n_fft == 512
    assert view.levels_db()[1] - view.levels_db()[0] == pytest.approx(70)


def test_class_management_through_the_palette(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    ws, palette = window.workspace, window.palette_widget
    cls = palette.add_class("cricket")
    assert cls is not None and cls.hotkey == "3"
    palette.rename(cls, "field cricket")
    palette.recolor(ws.event_class(cls.id), "#123456")
    changed = ws.event_class(cls.id)
    assert (changed.name, changed.color) == ("field cricket", "#123456")

    bird = next(c for c in ws.classes() if c.name == "bird")
    palette.set_hotkey(changed, "1")  # takes the key from bird
    assert ws.event_class(cls.id).hotkey == "1"
    assert ws.event_class(bird.id).hotkey is None

    ws.add_event(1.0, 2.0, class_id=cls.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    palette.ask_merge(ws.event_class(cls.id), bird)
    assert ws.event_class(cls.id) is None
    assert [e.class_id for e in ws.project.labels()] == [bird.id]
    ws.undo()  # the merge is one step
    assert ws.event_class(cls.id) is not None
    assert [e.class_id for e in ws.project.labels()] == [cls.id]
    # The lanes follow the classes.
    assert window.view.lane_of(cls.id) is not None
    assert window.palette_widget.list.count() == 3


def test_a_class_name_with_an_ampersand_reads_as_typed_in_the_classes_menu(window, qtbot):
    """The seeded walk (seed 2, step 91) renamed a class "a & b": its context menu offered
    "Merge “a  b” into" and "Delete “a  b”…" (Qt took the "&" for a shortcut marker and drew
    none), and the merge submenu listed it so."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    palette = window.palette_widget
    assert palette.add_class("Tom & Jerry") is not None
    listing = palette.list
    row = next(r for r in range(listing.count()) if "Tom & Jerry" in listing.item(r).text())
    bird = next(r for r in range(listing.count()) if "bird" in listing.item(r).text())
    shown: dict[str, list[str]] = {}

    def as_drawn(menu: QMenu) -> list[str]:
        # What QMenu draws: "&&" is an "&", a lone "&" marks the next letter and is not drawn.
        return [
            a.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            for a in menu.actions()
            if not a.isSeparator()
        ]

    def read(key: str) -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, lambda: read(key))
            return
        shown[key] = as_drawn(menu)
        merge = next((a.menu() for a in menu.actions() if a.menu() and "Merge" in a.text()), None)
        if merge is not None:
            shown[f"{key} merge"] = as_drawn(merge)
        menu.close()

    for key, r in (("own", row), ("bird's", bird)):
        QTimer.singleShot(0, lambda key=key: read(key))
        viewport = listing.viewport()
        pos = listing.visualItemRect(listing.item(r)).center()
        qtbot.mouseMove(viewport, pos)
        QApplication.sendEvent(
            viewport,
            QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)),
        )
    assert "Rename “Tom & Jerry”…" in shown["own"]
    assert "Merge “Tom & Jerry” into" in shown["own"]
    assert "Delete “Tom & Jerry”…" in shown["own"]
    assert "Tom & Jerry" in shown["bird's merge"]


def test_browser_filters_by_name_and_state(window):
    ws, browser = window.workspace, window.browser
    ws.add_event(1.0, 2.0)
    browser.filter_edit.setText("rec2")
    assert browser.model.rowCount() == 1
    browser.filter_edit.clear()
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("unlabelled"))
    assert browser.model.rowCount() == 2
    browser.state_combo.setCurrentIndex(browser.state_combo.findData("labelled"))
    assert browser.model.rowCount() == 1
    # Choosing a row opens that recording.
    browser.state_combo.setCurrentIndex(0)
    index = browser.model.index(2, 0)
    browser.table.setCurrentIndex(index)
    assert ws.recording.name == browser.model.data(index)


def test_playback_off_is_said_not_raised(window, qtbot):
    assert not window.player.available
    assert "Playback off" in window.play_label.text()
    window.toggle_play()
    assert "Playback is off" in window.statusBar().currentMessage()
    event = window.workspace.add_event(4.0, 5.0)
    qtbot.keyClick(window.view.graphics, Qt.Key.Key_P)
    assert window.player.position == pytest.approx(event.onset)


def test_cursor_and_selection_in_the_status_bar(window, qtbot):
    view = window.view
    _, (f0, f1) = view.spec_vb.viewRange()
    pos = view.viewport_pos("spec", 5.0, (f0 + f1) / 2)
    scene = view.graphics.mapToScene(pos)
    view.graphics.scene().sigMouseMoved.emit(scene)
    assert window.cursor_label.text().startswith("t 5.0")
    assert "kHz" in window.cursor_label.text()
    assert window.cursor_label.text().endswith(" dB")


def test_the_status_bar_reads_the_level_under_the_cursor(window, qtbot):
    """The recordings hold a 1 kHz tone in the first second of every four over quiet noise."""
    view = window.view
    view.show_range(0.0, 4.0)
    qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.has_image(), timeout=10000)

    def level_shown(seconds: float, hz: float) -> float:
        scene = view.graphics.mapToScene(view.viewport_pos("spec", seconds, hz))
        view.graphics.scene().sigMouseMoved.emit(scene)
        text = window.cursor_label.text()
        assert text.endswith(" dB"), text
        return float(text.split()[-2])

    tone = level_shown(0.5, 1000.0)
    assert tone == pytest.approx(view.level_at(0.5, 1000.0), abs=0.5)
    assert tone > level_shown(0.5, 3000.0) + 20  # the tone's bin against noise
    assert tone > level_shown(2.5, 1000.0) + 20  # the tone against the same bin later
    window.workspace.add_event(1.0, 1.75)
    assert window.span_label.text() == "Selection 0.750 s"


def test_killing_the_app_loses_no_label(small_project, tmp_path):
    """Edit, then die without any cleanup (SIGKILL-like os._exit); the label is on disk."""
    script = textwrap.dedent(
        f"""
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["TFSTUDIO_NO_AUDIO"] = "1"
        from tfstudio.qt.app import create_application
        from tfstudio.qt.main_window import MainWindow
        app = create_application()
        win = MainWindow()
        win.show()
        win.open_project({str(small_project)!r})
        ws = win.workspace
        event = ws.add_event(2.0, 3.0)
        ws.update_event(event.id, offset=3.5)
        ws.set_selected_class(ws.classes()[1].id)
        os._exit(9)
        """
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert result.returncode == 9
    with Project.open(small_project) as project:
        (event,) = project.labels()
        assert (event.onset, event.offset) == (2.0, 3.5)
        assert event.class_id == project.class_by_name("frog").id
        assert project.undo_description() is not None  # history survived too


def test_a_training_dock_the_user_closed_stays_closed_after_a_restart(qtbot, small_project):
    from tests.qt.conftest import open_window
    from tests.session.fake_run import make_fake_run
    from tfstudio.store import Project

    with Project.open(small_project) as project:
        make_fake_run(project)
    window = open_window(qtbot, small_project)
    training, runs = window.docks["training"], window.docks["runs"]
    assert not training.isHidden() and not runs.isHidden()  # a trained project shows its runs
    training.toggleViewAction().trigger()  # View ▸ Training
    qtbot.mouseClick(
        runs.findChild(QAbstractButton, "qt_dockwidget_closebutton"), Qt.MouseButton.LeftButton
    )
    assert training.isHidden() and runs.isHidden()
    window.close()

    again = open_window(qtbot, small_project)
    assert again.docks["training"].isHidden() and again.docks["runs"].isHidden()
    again.docks["runs"].toggleViewAction().trigger()
    again.close()

    third = open_window(qtbot, small_project)
    assert not third.docks["runs"].isHidden() and third.docks["training"].isHidden()
    third.close()


def test_the_window_fits_a_small_screen_and_show_log_does_not_grow_it(qtbot, small_project):
    """Docks with tall panels (training curves, runs, review) scroll instead of asking for
    more height than a 720 px screen has; Show log never pushes the window down."""
    from tests.qt.conftest import open_window
    from tests.session.fake_run import make_fake_run

    with Project.open(small_project) as project:
        make_fake_run(project)
    window = open_window(qtbot, small_project, size=(1280, 700))
    try:
        assert not window.docks["training"].isHidden()
        assert window.minimumSizeHint().height() <= 600
        before = window.height()
        qtbot.mouseClick(window.training.log_toggle, Qt.MouseButton.LeftButton)
        assert window.training.log_view.isVisible()
        assert window.height() == before and window.minimumSizeHint().height() <= 600
    finally:
        window.close()


def test_help_about_opens_the_about_dialog(window, qtbot):
    from tfstudio.qt.about import AboutDialog

    (action,) = [a for a in window.findChildren(QAction) if a.text() == "&About tfstudio"]
    action.trigger()
    dialogs = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].close()


def test_settings_lead_to_the_compute_device_and_cache(window, qtbot):
    from tfstudio.qt.about import AboutDialog
    from tfstudio.qt.dialogs import SettingsDialog

    dialog = SettingsDialog(window.view_settings, window, show_machine=window.show_about)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.machine_button.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.machine_button, Qt.MouseButton.LeftButton)
    shown = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    assert len(shown) == 1
    shown[0].close()
    plain = SettingsDialog(window.view_settings, window)
    qtbot.addWidget(plain)
    assert not plain.machine_button.isVisibleTo(plain)


def test_an_export_that_leaves_events_out_lists_them(window, qtbot, tmp_path):
    """A label after its recording's end has no place in its TextGrid: the export says so, as
    the command line does (exit 3), instead of dropping it quietly."""
    from PySide6.QtCore import QTimer

    from tests.qt.conftest import read_report_when_shown

    ws = window.workspace
    rec = ws.recordings()[0]
    bird = next(c for c in ws.classes() if c.name == "bird")
    after = rec.duration + 2
    ws.project.add_event(rec.id, bird.id, after, after + 1)  # e.g. from a longer copy's labels
    ws.project.add_event(rec.id, bird.id, 2.0, 2.0)  # a point: goes out on a TextTier
    ws.project.add_event(rec.id, bird.id, 3.0, 4.0)
    seen: list[str] = []
    QTimer.singleShot(0, lambda: read_report_when_shown(seen))
    written = window.export("textgrid", "labels", tmp_path / "grids")
    assert len(written) == len(ws.recordings())
    assert seen and rec.name in seen[0] and "after the recording's end" in seen[0]
    assert "1 event(s) left out" in window.statusBar().currentMessage()
    grid = next(p for p in written if p.stem == Path(rec.name).stem).read_text()
    assert 'xmin = 3.0 \n            xmax = 4.0 \n            text = "bird"' in grid
    assert 'number = 2.0 \n            mark = "bird"' in grid
