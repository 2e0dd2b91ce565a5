"""Fitting windows to the screen: dialog bodies that scroll, sizes capped to the screen."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

# Room left around a window for its frame and title bar, which Qt does not know before the
# window is shown.
FRAME_ROOM = QSize(16, 48)


class ScrollBody(QScrollArea):
    """A dialog's body that scrolls when the screen is too small for it.

    It asks for all of its content's size (a plain QScrollArea asks for at most 36 × 24 lines,
    which would squeeze a dialog on a large screen too); :func:`fit_to_screen` caps the dialog.
    """

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def sizeHint(self) -> QSize:
        content = self.widget()
        if content is None:
            return super().sizeHint()
        hint = content.sizeHint()
        width = hint.width()
        if content.hasHeightForWidth():
            # Wrapped text asks to be as wide as it is long: as a top-level window does, take
            # at most two thirds of the screen's width and the height the text then needs.
            room = available_size(self).width() * 2 // 3
            width = min(width, max(room, content.minimumSizeHint().width()))
            height = max(content.heightForWidth(width), content.minimumSizeHint().height())
        else:
            height = hint.height()
        frame = 2 * self.frameWidth()
        # The vertical bar's width always: adding it only when the height is capped would
        # make the content wrap differently on small and large screens.
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(width + frame + bar, height + frame)

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        line = self.fontMetrics().height()
        return QSize(min(hint.width(), 12 * line), min(hint.height(), 6 * line))


def screen_of(widget: QWidget) -> QScreen | None:
    """The screen ``widget`` is (or will be) shown on: its parent's before it is shown."""
    parent = widget.parentWidget()
    for candidate in (widget, parent.window() if parent is not None else None):
        if candidate is not None and candidate.isVisible():
            return candidate.screen()
    if parent is not None:
        return parent.window().screen()
    return QGuiApplication.primaryScreen()


def available_size(widget: QWidget) -> QSize:
    """The most a window of ``widget``'s can be, frame included, on its screen."""
    screen = screen_of(widget)
    if screen is None:
        return QSize(16_777_215, 16_777_215)
    room = screen.availableGeometry().size()
    return QSize(room.width() - FRAME_ROOM.width(), room.height() - FRAME_ROOM.height())


def fit_to_screen(window: QWidget, size: QSize | None = None) -> QSize:
    """Resize ``window`` to ``size`` (default: its size hint), capped to its screen's free
    area; return the size given."""
    wanted = size if size is not None else window.sizeHint()
    layout = window.layout()
    if layout is not None:
        wanted = wanted.expandedTo(layout.minimumSize())
    room = available_size(window)
    fitted = QSize(min(wanted.width(), room.width()), min(wanted.height(), room.height()))
    window.resize(fitted)
    return fitted


class TextDialog(QDialog):
    """A titled page of rich text that scrolls when it is taller than the screen, with OK
    always in view (a QMessageBox grows past the screen's bottom with a large font)."""

    def __init__(self, parent: QWidget | None, title: str, html: str, *, width_chars: int = 80):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QLabel(html)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        width = self.fontMetrics().averageCharWidth() * width_chars
        room = available_size(self).width() - 60
        self.text.setFixedWidth(max(200, min(width, room)))
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(4, 4, 4, 4)
        inner.addWidget(self.text)
        inner.addStretch(1)
        self.body = ScrollBody(content)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.buttons)
        fit_to_screen(self)


def follow_parent(widget: QWidget, watched: QWidget | None) -> QWidget | None:
    """Move ``widget``'s event filter from ``watched`` to its parent now (a scroll area's
    viewport, which a dock's relayout can replace), to hear of the room it is given; returns
    the parent, the widget watched from now on."""
    parent = widget.parentWidget()
    if parent is not watched:
        if watched is not None:
            watched.removeEventFilter(widget)
        if parent is not None:
            parent.installEventFilter(widget)
    return parent
