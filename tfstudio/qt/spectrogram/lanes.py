"""The class lanes as a strip of bounded height: with many classes (tens to a thousand) it
shows the lanes that matter first, scrolls (wheel over the lane names, a scroll bar) and
filters by name, and always shows the current class's lane.

With :data:`.events.FEW_CLASSES` classes or fewer nothing of this appears: every lane is
shown, in class order, as it always was. The layout (which class is on which row) lives in
:class:`.events.LaneMap`; this module owns the widgets that change it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QScrollBar

from tfstudio.qt.axes import LaneAxis
from tfstudio.qt.spectrogram.events import LaneMap
from tfstudio.qt.subscribe import listen
from tfstudio.session.workspace import Workspace

WHEEL_ROWS = 3  # lanes scrolled per wheel step


class ScrollLaneAxis(LaneAxis):
    """Lane names; the wheel over them scrolls the lanes when they do not all fit."""

    sigScroll = Signal(int)  # rows, positive scrolls down
    sigPick = Signal(int)  # the row whose name was clicked

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scrolls = False

    def wheelEvent(self, ev):
        if not self.scrolls:
            super().wheelEvent(ev)  # as before: the linked plot zooms time
            return
        delta = ev.delta()
        if delta:
            self.sigScroll.emit(-WHEEL_ROWS if delta > 0 else WHEEL_ROWS)
        ev.accept()

    def mouseClickEvent(self, event):
        view = self.linkedView()
        if not self.scrolls or view is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(event)
            return
        event.accept()
        self.sigPick.emit(math.floor(view.mapSceneToView(event.scenePos()).y()))


class _FilterEdit(QLineEdit):
    """Escape clears the filter; Escape and Enter hand the keys back to the spectrogram."""

    done = Signal(bool)  # True: Enter (pick the first match), False: Escape

    def event(self, event: QEvent) -> bool:
        # Escape is also the window's Deselect shortcut, which took the key first: the filter
        # stayed, and so did the keys (1-9 and Delete typed into it).
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.done.emit(False)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.done.emit(True)
            return
        super().keyPressEvent(event)


class LaneStrip(QObject):
    """Scrolling and filtering of the class lanes; ``changed`` when other rows are on screen.

    The scroll bar sits in the plots' right margin beside the lanes, the filter field in the
    free corner under the lane names; both are children of the graphics viewport and shown
    only while the lanes scroll (or a filter is typed).
    """

    changed = Signal()

    def __init__(
        self,
        workspace: Workspace,
        lane_map: LaneMap,
        graphics: pg.GraphicsLayoutWidget,
        lanes: pg.PlotItem,
        axis: ScrollLaneAxis,
        *,
        margins: tuple[int, int, int, int],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.lane_map = lane_map
        self.graphics = graphics
        self.lanes = lanes
        self.axis = axis
        self._margins = margins
        self._right = margins[2]
        viewport = graphics.viewport()
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical, viewport)
        self.scrollbar.setSingleStep(1)
        self.scrollbar.setToolTip("Scroll the class lanes (or the wheel over their names)")
        self.scrollbar.hide()
        self.filter = _FilterEdit(viewport)
        self.filter.setClearButtonEnabled(True)
        self.filter.hide()
        # A faint band behind the current class's lane, while there are too many to see all.
        self.current_band = pg.LinearRegionItem(
            (0, 1),
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(255, 255, 255, 28),
            pen=pg.mkPen(None),
        )
        for item in (self.current_band, *self.current_band.lines):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setAcceptHoverEvents(False)
        self.current_band.setZValue(-10)
        self.current_band.hide()
        lanes.addItem(self.current_band, ignoreBounds=True)

        self.scrollbar.valueChanged.connect(self._on_scrollbar_change)
        self.filter.textChanged.connect(self._on_filter_change)
        self.filter.done.connect(self._on_filter_done)
        axis.sigScroll.connect(self.scroll_by)
        axis.sigPick.connect(self._on_name_click)
        lanes.geometryChanged.connect(self.place_widgets)
        viewport.installEventFilter(self)
        listen(self, workspace.events.current_class, self._on_current_class_change)

    # ----------------------------------------------------------------- layout
    def arrange(self) -> None:
        """Lay the lanes out afresh (new classes, recording or filter): relevant ones first."""
        self.lane_map.arrange(self._present(), self.workspace.current_class_id, self.filter.text())
        self._refresh()

    def set_capacity(self, rows: int) -> None:
        """The most lanes the strip may show at once (from the room the view has)."""
        scrolled = self.lane_map.scrolls
        if not self.lane_map.set_capacity(rows) and scrolled == self.lane_map.scrolls:
            return
        if scrolled != self.lane_map.scrolls:
            self.arrange()
        else:
            self.lane_map.ensure_visible(self.workspace.current_class_id)
            self._refresh()

    def scroll_by(self, rows: int) -> None:
        self.scroll_to(self.lane_map.first + rows)

    def scroll_to(self, first: int) -> None:
        before = self.lane_map.first
        self.lane_map.scroll_to(first)
        if self.lane_map.first != before:
            self._refresh()

    def _present(self) -> set[int]:
        """Classes with labels (or detections of the active run) on this recording."""
        ids = [self.workspace.labels.class_ids, self.workspace.detections.class_ids]
        # A set of the ids, not np.unique: that loads numpy.ma (~30 ms) while the window is built.
        return {int(c) for c in set(np.concatenate(ids).tolist())}

    def _refresh(self) -> None:
        lane_map = self.lane_map
        scrolls = lane_map.scrolls
        self.axis.scrolls = scrolls
        left, top, right, bottom = self._margins
        right += self.scrollbar.sizeHint().width() + 2 if scrolls else 0
        if right != self._right:  # room for the scroll bar beside the plots
            self._right = right
            self.graphics.ci.setContentsMargins(left, top, right, bottom)
        top = max(0, len(lane_map.order) - lane_map.height_rows)
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, top)
        self.scrollbar.setPageStep(lane_map.height_rows)
        self.scrollbar.setValue(lane_map.first)
        self.scrollbar.blockSignals(False)
        self.scrollbar.setVisible(scrolls)
        self.filter.setVisible(scrolls)
        self.filter.setPlaceholderText("Filter…")
        self.filter.setToolTip(
            f"Show the lanes of those of the {len(lane_map.every)} classes whose name contains"
            " these words\nEnter: make the first one the current class · Esc: clear"
        )
        self.changed.emit()
        self._show_current()
        self.place_widgets()

    def focus_filter(self) -> bool:
        """Put the keys in the filter field (Find class); False when the lanes do not scroll,
        so every class is on screen and there is no filter to type in."""
        if not self.filter.isVisible():
            return False
        self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter.selectAll()
        return True

    def _show_current(self) -> None:
        row = self.lane_map.rows.get(self.workspace.current_class_id)  # type: ignore[arg-type]
        self.current_band.setVisible(self.lane_map.scrolls and row is not None)
        if row is not None:
            self.current_band.setRegion((row, row + 1))

    def place_widgets(self) -> None:
        """Put the scroll bar beside the lanes and the filter under their names."""
        if not self.lane_map.scrolls:
            return
        vb = self.lanes.getViewBox()
        rect = self.graphics.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        width = self.scrollbar.sizeHint().width()
        self.scrollbar.setGeometry(QRect(rect.right() + 3, rect.top(), width, rect.height()))
        axis = self.lanes.getAxis("left")
        left = self.graphics.mapFromScene(axis.sceneBoundingRect()).boundingRect().left()
        height = min(self.filter.sizeHint().height(), 26)
        self.filter.setGeometry(
            QRect(left + 2, rect.bottom() + 8, max(40, rect.left() - left - 6), height)
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.place_widgets()
        return False

    # ----------------------------------------------------------------- events
    def _on_scrollbar_change(self, value: int) -> None:
        self.scroll_to(value)

    def _on_filter_change(self, _text: str) -> None:
        if self.lane_map.scrolls or self.lane_map.filter_text:
            self.arrange()

    def _on_filter_done(self, pick: bool) -> None:
        if pick:
            first = self.lane_map.first_match()
            if first is not None:
                self.workspace.set_current_class(first)
        self.graphics.setFocus()

    def _on_name_click(self, row: int) -> None:
        class_id = self.lane_map.class_at(row)
        if class_id is not None:
            self.workspace.set_current_class(class_id)

    def _on_current_class_change(self) -> None:
        current = self.workspace.current_class_id
        if current is None or current not in self.lane_map.every:
            self._show_current()
            return
        if self.lane_map.filter_text or current not in self.lane_map.order:
            self.arrange()  # a filtered-out current class is pinned on top, the last one not
        elif self.lane_map.ensure_visible(current):
            self._refresh()
        else:
            self._show_current()
