"""The status bar shows a long message whole (wrapped), and long enough to be read."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt


def shown_whole(bar) -> bool:
    """The message's wrapped lines fit in what the bar shows of it."""
    label = bar.message_label
    room = label.contentsRect()
    needed = label.fontMetrics().boundingRect(
        QRect(0, 0, room.width(), 10_000), int(Qt.TextFlag.TextWordWrap), label.text()
    )
    return label.isVisible() and needed.height() <= room.height() and needed.width() <= room.width()


def test_accepting_on_a_test_recording_says_all_of_why_at_1024_px(review_window, qtbot):
    """At 1024 px the message stopped at "…is a test recording: this label is now part of"."""
    window = review_window
    window.resize(1024, 640)
    ws = window.workspace
    ws.set_split([ws.recording.id], "test")
    graphics = window.view.graphics
    graphics.setFocus()
    qtbot.keyClick(graphics, Qt.Key.Key_J)
    qtbot.keyClick(graphics, Qt.Key.Key_A)
    bar = window.statusBar()
    text = bar.currentMessage()
    assert "test recording" in text and text.endswith("(Ctrl+Z undoes)")
    qtbot.waitUntil(lambda: shown_whole(bar), timeout=2000)
    assert bar.message_label.text() == text and bar.message_label.toolTip() == text
    # It has the bar's width: the readouts on the right give way while it shows.
    assert not window.play_label.isVisible()
    # A short message takes one line beside the readouts again.
    window.statusBar().showMessage("Saved", 3000)
    qtbot.waitUntil(lambda: shown_whole(bar) and bar.lines() == 1, timeout=2000)
    assert window.play_label.isVisible()


def test_a_long_message_stays_long_enough_to_read(window, qtbot):
    bar = window.statusBar()
    long = "word " * 40
    bar.showMessage(long, 1000)
    qtbot.wait(1200)
    assert bar.currentMessage() == long  # 200 characters: not gone after one second
    bar.showMessage("Saved", 300)  # a short one goes when asked
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=1500)
