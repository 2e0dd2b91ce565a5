"""The mouse and wheel gestures shared by every plot of the spectrogram view: left drag draws
(where editable), wheel zooms time (Ctrl: frequency), Shift+wheel scrolls, middle or Alt+drag
pans, click reports where."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal


class EditViewBox(pg.ViewBox):
    """A ViewBox whose left drag draws a new event instead of panning."""

    sigDrag = Signal(object, object, str, object)  # start, current (view coords), phase, mods
    sigClick = Signal(object, object, object)  # view point, button, modifiers

    def __init__(self, *, zoom_y: bool = True, editable: bool = True, **kwargs):
        # No context menu: made and then disabled, pyqtgraph's menu cost 7-10 ms a plot.
        super().__init__(**{"enableMenu": False, **kwargs})
        self.zoom_y = zoom_y
        self.editable = editable

    def time_range(self) -> tuple[float, float]:
        """The visible seconds."""
        (x0, x1), _ = self.viewRange()
        return float(x0), float(x1)

    def pixel_width(self) -> float:
        return max(1.0, float(self.width()))

    def mouseDragEvent(self, ev, axis=None):
        mods = ev.modifiers()
        if (
            self.editable
            and ev.button() == Qt.MouseButton.LeftButton
            and not mods & Qt.KeyboardModifier.AltModifier
        ):
            ev.accept()
            phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
            start = self.mapToView(ev.buttonDownPos())
            self.sigDrag.emit(start, self.mapToView(ev.pos()), phase, mods)
            return
        if ev.button() == Qt.MouseButton.LeftButton and not self.editable:
            ev.ignore()
            return
        # Middle drag and Alt+left drag pan (pyqtgraph's pan mode), right drag zooms.
        super().mouseDragEvent(ev, axis=None if self.zoom_y else 0)

    def mouseClickEvent(self, ev):
        ev.accept()
        self.sigClick.emit(self.mapToView(ev.pos()), ev.button(), ev.modifiers())

    def wheelEvent(self, ev, axis=None):
        mods = ev.modifiers()
        horizontal = ev.orientation() == Qt.Orientation.Horizontal
        if horizontal or mods & Qt.KeyboardModifier.ShiftModifier:
            (x0, x1), _ = self.viewRange()
            step = -(x1 - x0) * 0.1 * np.sign(ev.delta())
            self.translateBy(x=step)
            ev.accept()
            return
        if mods & Qt.KeyboardModifier.ControlModifier:
            if self.zoom_y:
                super().wheelEvent(ev, axis=1)
            else:
                ev.accept()
            return
        super().wheelEvent(ev, axis=0)
