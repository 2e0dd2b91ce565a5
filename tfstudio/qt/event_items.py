"""Drawing events in bulk: one item per class and role, painting only what is on screen.

Thousands of interactive items make pyqtgraph crawl, and a filled QPainterPath of thousands of
rectangles takes seconds to rasterise. So static events are kept as numpy arrays in one
``RectsItem`` per class and role; each paint slices the rectangles inside the exposed area
(binary search on sorted onsets) and draws them with one ``QPainter.drawRects``
call (axis-aligned fills are spans, the cheapest thing a raster engine draws). Intervals closer than a pixel are merged when the arrays are
built, so the count drawn is bounded by the width in pixels. Only the selected event is a live,
draggable item (see ``spectrogram/editing.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from tfstudio.session.labels import LabelIndex, coalesce

MAX_OVERLAY_SPANS = 400


class SortedRects(pg.GraphicsObject):
    """Axis-aligned rectangles in view coordinates kept sorted by left edge, so a paint finds
    the ones in the exposed area with two binary searches (see :meth:`visible`)."""

    def __init__(self, z: float):
        super().__init__()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        # Without this flag Qt reports the whole bounding rect as exposed: no culling.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setZValue(z)
        self._x0 = self._x1 = self._y0 = self._y1 = np.zeros(0)
        self._max_width = 0.0
        self._bounds = QRectF()

    def _store_rects(self, x0: np.ndarray, x1: np.ndarray, y0, y1) -> np.ndarray:
        """Keep the rectangles sorted by left edge; returns the sorting order."""
        order = np.argsort(x0, kind="stable")
        n = len(x0)
        self._x0 = np.asarray(x0, dtype=np.float64)[order]
        self._x1 = np.asarray(x1, dtype=np.float64)[order]
        self._y0 = np.broadcast_to(np.asarray(y0, dtype=np.float64), (n,))[order]
        self._y1 = np.broadcast_to(np.asarray(y1, dtype=np.float64), (n,))[order]
        self._max_width = float((self._x1 - self._x0).max()) if n else 0.0
        self.prepareGeometryChange()
        if n:
            self._bounds = QRectF(
                float(self._x0[0]),
                float(self._y0.min()),
                float(self._x1.max() - self._x0[0]),
                float(self._y1.max() - self._y0.min()),
            )
        else:
            self._bounds = QRectF()
        return order

    def visible(self, option) -> np.ndarray:
        """Indices of the rectangles that reach into the exposed area."""
        if not len(self._x0):
            return np.zeros(0, dtype=np.int64)
        area = option.exposedRect if option is not None else self._bounds
        lo = int(np.searchsorted(self._x0, area.left() - self._max_width, side="left"))
        hi = int(np.searchsorted(self._x0, area.right(), side="right"))
        return np.nonzero(self._x1[lo:hi] >= area.left())[0] + lo

    def qrects(self, keep: np.ndarray) -> list[QRectF]:
        x0, x1 = self._x0[keep], self._x1[keep]
        y0, y1 = self._y0[keep], self._y1[keep]
        return [
            QRectF(a, b, c, d)
            for a, b, c, d in zip(x0.tolist(), y0.tolist(), (x1 - x0).tolist(), (y1 - y0).tolist())
        ]

    def __len__(self) -> int:
        return len(self._x0)

    def boundingRect(self) -> QRectF:
        return self._bounds


class RectsItem(SortedRects):
    """Rectangles of one class and role, drawn with one pen and brush."""

    def __init__(self, z: float):
        super().__init__(z)
        self.pen = QPen(Qt.PenStyle.NoPen)
        self.brush = QBrush(Qt.BrushStyle.NoBrush)

    def set_rects(self, x0: np.ndarray, x1: np.ndarray, y0, y1) -> None:
        self._store_rects(x0, x1, y0, y1)
        self.update()

    def set_style(self, pen: QPen, brush: QBrush) -> None:
        self.pen, self.brush = pen, brush
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        keep = self.visible(option)
        if not len(keep):
            return
        painter.setPen(self.pen)
        painter.setBrush(self.brush)
        painter.drawRects(self.qrects(keep))


class EventPaths:
    """Per-class rectangle items in one view box; ``mode`` is ``"lanes"`` or ``"spectrogram"``."""

    def __init__(self, viewbox: pg.ViewBox, mode: str, *, cached: bool = False):
        self.viewbox = viewbox
        self.mode = mode
        self.cached = cached  # for views that never scroll (the overview strip)
        self._items: dict[tuple[int, str], RectsItem] = {}
        self.overlay_spans = True  # spectrogram: draw time-only events as faint bands
        self.y_extent = (0.0, 1.0)  # spectrogram: frequency span for time-only bands
        self.y_map: Callable[[np.ndarray], np.ndarray] = _same  # spectrogram: Hz → axis
        self.built: tuple[float, float, float] | None = None  # t0, t1, seconds per pixel
        self.strip: tuple[float, float] | None = None  # lanes: draw every class in this band

    def clear(self) -> None:
        for item in self._items.values():
            self.viewbox.removeItem(item)
        self._items.clear()
        self.built = None

    def needs_rebuild(self, t0: float, t1: float, px: float) -> bool:
        if self.built is None:
            return True
        b0, b1, bpx = self.built
        return t0 < b0 or t1 > b1 or not (bpx / 1.5 <= px <= bpx * 1.5)

    def rect_count(self) -> int:
        return sum(len(item) for item in self._items.values() if item.isVisible())

    def rebuild(
        self,
        labels: LabelIndex,
        lanes: dict[int, int],
        colors: dict[int, QColor],
        t0: float,
        t1: float,
        px: float,
    ) -> None:
        """Rebuild the rectangles of events overlapping [t0, t1] (the view plus a margin)."""
        self.built = (t0, t1, px)
        idx = labels.visible(t0, t1)
        wanted: set[tuple[int, str]] = set()
        # Hundreds of translucent full-height bands cost more to blend than they tell: when
        # zoomed out that far, the lanes alone show where the time-only labels are.
        spans_too = self.overlay_spans and int((~labels.is_box[idx]).sum()) <= MAX_OVERLAY_SPANS
        for class_id, lane in lanes.items():
            mine = idx[labels.class_ids[idx] == class_id]
            color = colors.get(class_id, QColor("#888888"))
            if self.mode == "lanes":
                on, off = coalesce(labels.onsets[mine], labels.offsets[mine], px)
                y0, y1 = self.strip or (lane + 0.18, lane + 0.82)
                # A very short event stays visible: at least one pixel wide.
                self._set((class_id, "lane"), color, wanted, on, np.maximum(off, on + px), y0, y1)
                continue
            spans = mine[~labels.is_box[mine]]
            boxes = mine[labels.is_box[mine]]
            if spans_too and len(spans):
                on, off = coalesce(labels.onsets[spans], labels.offsets[spans], px)
                self._set(
                    (class_id, "span"), color, wanted, on, np.maximum(off, on + px), *self.y_extent
                )
            if len(boxes):
                on = labels.onsets[boxes]
                self._set(
                    (class_id, "box"),
                    color,
                    wanted,
                    on,
                    np.maximum(labels.offsets[boxes], on + px),
                    self.y_map(labels.lows[boxes]),
                    self.y_map(labels.highs[boxes]),
                )
        # Kept but hidden, not removed: adding items back to a view box costs more than
        # everything else of switching to a recording with other classes.
        for key in set(self._items) - wanted:
            self._items[key].setVisible(False)

    def _set(self, key: tuple[int, str], color: QColor, wanted: set, x0, x1, y0, y1) -> None:
        if not len(x0):
            return
        wanted.add(key)
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = RectsItem({"lane": 5, "span": 2, "box": 4}[key[1]])
            if self.cached:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.viewbox.addItem(item, ignoreBounds=True)
        item.setVisible(True)
        item.set_rects(x0, x1, y0, y1)
        item.set_style(_pen(color, key[1]), _brush(color, key[1]))


def _same(values: np.ndarray) -> np.ndarray:
    return values


def _pen(color: QColor, role: str) -> QPen:
    if role != "box":
        return QPen(Qt.PenStyle.NoPen)  # outlines double the cost of thousands of fills
    pen = QPen(color, 2)
    pen.setCosmetic(True)
    return pen


def _brush(color: QColor, role: str) -> QBrush:
    c = QColor(color)
    # Opaque lane fills take the raster engine's solid-fill path (no blending).
    c.setAlpha({"lane": 255, "span": 38, "box": 40}[role])
    return QBrush(c)
