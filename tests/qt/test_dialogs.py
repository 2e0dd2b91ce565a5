"""Dialogs fit the screen (their bodies scroll, their buttons stay in view), refuse what
cannot be shown, and keep what the user typed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QPushButton, QWidget

from tests.qt.conftest import app_font
from tfstudio.qt.fit import ScrollBody

LEFT = Qt.MouseButton.LeftButton


def on_screen(widget: QWidget) -> bool:
    """The whole of ``widget`` lies on its window's screen."""
    top_left = widget.mapToGlobal(QPoint(0, 0))
    rect = widget.rect().translated(top_left)
    return widget.window().screen().availableGeometry().contains(rect)


def when_modal(qtbot, handle: Callable[[QDialog], None]) -> list[QDialog]:
    """Call ``handle`` on the next modal dialog once it is shown (it is opened with exec).

    A failure in ``handle`` closes the dialog (else exec would wait for ever) and is raised
    again by the next call to :func:`check_modal`.
    """
    seen: list[QDialog] = []

    def check() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QDialog) or not box.isVisible():
            QTimer.singleShot(20, check)
            return
        seen.append(box)
        try:
            handle(box)
        except BaseException as exc:
            _failures.append(exc)
            box.reject()

    QTimer.singleShot(0, check)
    return seen


_failures: list[BaseException] = []


def check_modal() -> None:
    if _failures:
        raise _failures.pop()


def button(dialog: QDialog, role: QDialogButtonBox.StandardButton) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    found = box.button(role)
    assert found is not None
    return found


# ------------------------------------------------------------- fitting the screen
def test_the_keyboard_help_scrolls_and_its_ok_stays_on_screen(window, qtbot):
    """F1 with a large font: the list scrolls, OK is on screen and closes it (a message box
    grew to 1242 px with OK below the screen's bottom)."""
    with app_font(18):

        def read_and_close(box: QDialog) -> None:
            body = box.findChild(ScrollBody)
            assert body is not None and body.verticalScrollBar().maximum() > 0
            ok = button(box, QDialogButtonBox.StandardButton.Ok)
            assert on_screen(box) and on_screen(ok)
            qtbot.keyClick(body.widget(), Qt.Key.Key_End)
            qtbot.mouseClick(ok, LEFT)

        window.view.graphics.setFocus()
        seen = when_modal(qtbot, read_and_close)
        qtbot.keyClick(window.view.graphics, Qt.Key.Key_F1)
        check_modal()
        assert len(seen) == 1 and not seen[0].isVisible()
        assert seen[0].windowTitle() == "Keyboard and mouse"


def test_settings_with_a_large_font_scroll_with_the_buttons_in_view(window, qtbot):
    checked: list[bool] = []

    def check(box: QDialog) -> None:
        body = box.findChild(ScrollBody)
        checked.append(
            body is not None
            and body.verticalScrollBar().maximum() > 0
            and on_screen(box)
            and on_screen(button(box, QDialogButtonBox.StandardButton.Ok))
        )
        qtbot.mouseClick(button(box, QDialogButtonBox.StandardButton.Cancel), LEFT)

    with app_font(20):
        when_modal(qtbot, check)
        window.view.graphics.setFocus()
        qtbot.keyClick(window.view.graphics, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    check_modal()
    assert checked == [True]


def test_the_train_dialog_fits_the_screen_with_start_and_cancel_in_view(window, qtbot):
    """The Train dialog's settings are taller than the 800 px test screen: they scroll,
    Start training and Cancel stay on screen and work."""
    from tfstudio.qt.training.dialog import TrainDialog

    seen: list[TrainDialog] = []

    def check(box: QDialog) -> None:
        assert isinstance(box, TrainDialog)
        seen.append(box)
        assert box.body.verticalScrollBar().maximum() > 0
        assert on_screen(box) and on_screen(box.start_button)
        # The last settings are reached by scrolling.
        bar = box.body.verticalScrollBar()
        qtbot.keyClick(bar, Qt.Key.Key_End)
        assert bar.value() == bar.maximum()
        qtbot.mouseClick(button(box, QDialogButtonBox.StandardButton.Cancel), LEFT)

    when_modal(qtbot, check)
    window.view.graphics.setFocus()
    qtbot.keyClick(window.view.graphics, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(seen) and not seen[0].isVisible(), timeout=10_000)
    check_modal()


# ------------------------------------------------------------- the frequency range
def _type(qtbot, field: QWidget, text: str) -> None:
    qtbot.mouseClick(field, LEFT)
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def test_settings_refuse_a_frequency_range_from_above_to(window, qtbot):
    """From 6000 Hz to 3000 Hz is refused beside the fields; the view keeps its range."""
    before = window.view_settings
    view_top = window.view.spec_vb.viewRange()[1]
    outcome: list[str] = []

    def type_inverted(box: QDialog) -> None:
        _type(qtbot, box.min_hz, "6000")
        _type(qtbot, box.max_hz, "3000")
        assert box.range_error.isVisible() and "below" in box.range_error.text()
        ok = button(box, QDialogButtonBox.StandardButton.Ok)
        assert not ok.isEnabled()
        qtbot.keyClick(box.max_hz, Qt.Key.Key_Return)  # Enter does not accept it either
        outcome.append("open" if box.isVisible() else "closed")
        _type(qtbot, box.max_hz, "7000")
        assert not box.range_error.isVisible() and ok.isEnabled()
        qtbot.mouseClick(ok, LEFT)

    when_modal(qtbot, type_inverted)
    window.view.graphics.setFocus()
    qtbot.keyClick(window.view.graphics, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    check_modal()
    assert outcome == ["open"]
    assert (window.view_settings.min_hz, window.view_settings.max_hz) == (6000, 7000)
    assert window.view.spec_vb.viewRange()[1] != view_top
    assert before.min_hz == 0


def test_an_inverted_range_remembered_by_an_older_version_shows_everything(qtbot):
    from tfstudio.qt import settings as qs
    from tfstudio.session.view_settings import ViewSettings

    qs.save_view_settings(ViewSettings(min_hz=6000, max_hz=3000))
    loaded = qs.load_view_settings()
    assert (loaded.min_hz, loaded.max_hz) == (0, 0)


# ------------------------------------------------------------- export path
@pytest.fixture
def export_dialog(qtbot, tmp_path):
    from tfstudio.formats import FORMATS
    from tfstudio.qt.dialogs import ExportDialog

    def default(fmt: str, source: str) -> Path:
        module = FORMATS[fmt]
        if module.PER_RECORDING:
            return tmp_path / "exports" / f"{source}-{fmt}"
        return tmp_path / "exports" / f"{source}{module.SUFFIX}"

    dialog = ExportDialog(FORMATS, default)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def choose(qtbot, combo, data: str) -> None:
    """Pick the item holding ``data`` with the keyboard, as a user does."""
    combo.setFocus()
    target = combo.findData(data)
    while combo.currentIndex() != target:
        key = Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)


def test_export_keeps_a_typed_path_when_the_format_changes(export_dialog, qtbot, tmp_path):
    dialog = export_dialog
    choose(qtbot, dialog.format, "dcase")
    assert dialog.path.text() == str(tmp_path / "exports" / "labels.tsv")
    mine = tmp_path / "mine" / "birds.tsv"
    _type(qtbot, dialog.path, str(mine))
    choose(qtbot, dialog.format, "json")
    assert dialog.path.text() == str(tmp_path / "mine" / "birds.json")  # only the suffix
    choose(qtbot, dialog.source, "detections")
    assert dialog.path.text() == str(tmp_path / "mine" / "birds.json")  # still theirs
    choose(qtbot, dialog.format, "textgrid")  # one file per recording: a folder
    assert dialog.path.text() == str(tmp_path / "mine" / "birds")
    choose(qtbot, dialog.format, "dcase")
    assert dialog.values() == ("dcase", "detections", tmp_path / "mine" / "birds.tsv")


def test_export_path_follows_format_and_source_until_edited(export_dialog, qtbot, tmp_path):
    dialog = export_dialog
    choose(qtbot, dialog.format, "json")
    choose(qtbot, dialog.source, "detections")
    assert dialog.path.text() == str(tmp_path / "exports" / "detections.json")
    # Emptied by the user: the default comes back at the next change.
    _type(qtbot, dialog.path, "x")
    qtbot.keyClick(dialog.path, Qt.Key.Key_Backspace)
    choose(qtbot, dialog.format, "dcase")
    assert dialog.path.text() == str(tmp_path / "exports" / "detections.tsv")


def test_an_import_report_shows_each_problem_whole(window, qtbot, tmp_path):
    """Labels for recordings not in the project: each problem names the file, then what to
    do; at 640 px the lines ran off the right ('(import the audio fi') behind a horizontal
    scroll bar. They wrap."""
    from PySide6.QtWidgets import QPlainTextEdit

    labels = tmp_path / "val labels.tsv"
    labels.write_text(
        "filename\tonset\toffset\tevent_label\n"
        + "".join(f"elsewhere_{i:03d}.wav\t1.0\t2.0\twren\n" for i in range(3))
    )
    seen = {}

    def read(dialog: QDialog) -> None:
        text = dialog.findChild(QPlainTextEdit)
        seen["text"] = text.toPlainText()
        seen["hidden"] = text.horizontalScrollBar().maximum()
        qtbot.mouseClick(button(dialog, QDialogButtonBox.StandardButton.Ok), LEFT)

    when_modal(qtbot, read)
    window.import_labels([labels])
    check_modal()
    assert "elsewhere_000.wav" in seen["text"] and "import the audio" in seen["text"]
    assert seen["hidden"] == 0  # nothing off to the right


def test_dialogs_opened_and_closed_leave_nothing_behind(window, qtbot):
    """Each opening of Settings, the keyboard help or the Train dialog left a hidden dialog
    behind as the window's child (the Train dialog with its plot), found by the seeded walk."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from tfstudio.qt.training.dialog import TrainDialog

    def dialogs() -> list[QDialog]:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return window.findChildren(QDialog)

    before = len(dialogs())
    for _ in range(2):
        for open_it in (window.ask_settings, window.show_help, window.training.open_dialog):
            when_modal(qtbot, lambda dialog: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
            open_it()
            check_modal()
    assert len(dialogs()) == before
    assert not [d for d in dialogs() if isinstance(d, TrainDialog)]


def test_a_report_tells_problems_from_warnings(qtbot):
    """A dropped folder whose notes file was passed over (a warning) read "1 problem(s)"."""
    from PySide6.QtWidgets import QLabel, QPlainTextEdit

    from tfstudio.qt.dialogs import ReportDialog

    def shown(dialog: ReportDialog) -> tuple[list[str], str]:
        qtbot.addWidget(dialog)
        labels = [label.text() for label in dialog.findChildren(QLabel)]
        return labels, dialog.findChild(QPlainTextEdit).toPlainText()

    labels, text = shown(ReportDialog(None, "Import", "labels: 1 added", [], ["1 passed over"]))
    assert labels[-1] == "1 warning(s):" and text == "warning: 1 passed over"
    labels, text = shown(ReportDialog(None, "Import", "labels: 0 added", ["a.txt: bad"], ["x"]))
    assert labels[-1] == "1 problem(s), 1 warning(s):"
    assert text == "a.txt: bad\nwarning: x"
