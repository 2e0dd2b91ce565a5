"""The main window's status bar: messages wrap onto a second line (or third) instead of being cut
at the window's edge, and stay up long enough to be read."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

# Reading time: a long message stays at least this long per character.
MS_PER_CHAR = 70
MAX_LINES = 3


class _MessageLabel(QLabel):
    """A label that asks for the lines its text takes again whenever its width changes."""

    def __init__(self, on_resize: Callable[[], None]):
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._on_resize()


class MessageBar(QStatusBar):
    """A status bar whose messages are shown whole, in a label that wraps.

    QStatusBar draws a message on one line and cuts what does not fit ("… is a test recording:
    this label is now part of" and no more at 1024 px). A message longer than the room beside
    the readouts (:meth:`add_readout`: cursor, selection, playback) has the bar's whole width
    while it shows, on as many lines as it needs (at most :data:`MAX_LINES`; the tooltip has
    it all); the readouts come back when it goes. ``showMessage``, ``clearMessage`` and
    ``currentMessage`` work as QStatusBar's for Python callers. Menu status tips (shown by Qt
    itself) still use QStatusBar's own line.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message_label = _MessageLabel(self._fit)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message_label.setContentsMargins(4, 0, 4, 0)
        self.addWidget(self.message_label, 1)
        self._readouts: list[QWidget] = []
        self._readouts_hidden = False
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.clearMessage)

    def add_readout(self, widget: QWidget) -> None:
        """A permanent widget on the right that gives way to a long message."""
        self.addPermanentWidget(widget)
        self._readouts.append(widget)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        text = text or ""
        timeout = timeout or 0
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        self._fit()
        if timeout > 0 and text:
            self._timer.start(max(timeout, MS_PER_CHAR * len(text)))
        else:
            self._timer.stop()
        self.messageChanged.emit(text)

    def clearMessage(self) -> None:
        self._timer.stop()
        super().clearMessage()  # a status tip Qt showed
        if self.message_label.text():
            self.message_label.clear()
            self.message_label.setToolTip("")
            self._fit()
            self.messageChanged.emit("")

    def currentMessage(self) -> str:
        return self.message_label.text() or super().currentMessage()

    def lines(self) -> int:
        """Lines the current message takes in the room it has now."""
        label = self.message_label
        if not label.text():
            return 1
        return self._lines(label.width())

    def _lines(self, width: int) -> int:
        label = self.message_label
        margins = label.contentsMargins()
        room = max(40, width - margins.left() - margins.right())
        rect = label.fontMetrics().boundingRect(
            QRect(0, 0, room, 10_000), int(Qt.TextFlag.TextWordWrap), label.text()
        )
        return max(1, round(rect.height() / max(1, label.fontMetrics().lineSpacing())))

    def _fit(self) -> None:
        label = self.message_label
        text = label.text()
        whole = self.contentsRect().width() - 24  # the size grip and the layout's margins
        beside = whole - sum(
            w.sizeHint().width() + 6
            for w in self._readouts
            if not w.isHidden() or self._readouts_hidden
        )
        margins = label.contentsMargins().left() + label.contentsMargins().right()
        fits_beside = not text or label.fontMetrics().horizontalAdvance(text) + margins <= beside
        hide = not fits_beside
        if hide != self._readouts_hidden:
            self._readouts_hidden = hide
            for widget in self._readouts:
                widget.setVisible(not hide)
        lines = 1 if not text else min(MAX_LINES, self._lines(whole if hide else beside))
        metrics = label.fontMetrics()
        height = metrics.height() + (lines - 1) * metrics.lineSpacing()
        label.setMinimumHeight(height)
        label.setMaximumHeight(height)
