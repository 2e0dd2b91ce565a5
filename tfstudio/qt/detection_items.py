"""Drawing detections and posteriors: visibly not labels, shaded by confidence, cheap to repaint.

Labels are solid fills. Detections are dashed outlines in their class's colour, more opaque the
more confident the model is: over the spectrogram only the outline (the audio stays readable)
with a "class 0.87" tab along the top (white on a dark backing with a bar in the class's colour,
readable on any spectrogram; within the part of the box in view, the class name shortened
("anim… 0.68") or left out where the box is narrow, the whole text in its tooltip); in the lanes over a diagonal hatch, under the labels, so
that a detection matching a label frames it, with its confidence written on top. Rejected ones
are faint dotted outlines (lanes only). One ``DetectionItem`` per layer draws them all, grouped
by style so that a paint is a few ``drawRects`` calls, and only what is exposed (binary search
on onsets, as in ``event_items.RectsItem``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from tfstudio.qt.event_items import SortedRects
from tfstudio.session.detections import DetectionArrays

CONFIDENCE_BINS = 5
MIN_OUTLINE_PX = 4.0  # narrower detections are drawn as fills only (dashes would be noise)
MIN_TEXT_PX = 34.0  # room needed to write a confidence
MAX_TEXTS = 80  # more labels than this on screen is clutter, not information
TEXT_PAD_PX = 3.0  # inside a caption's backing, left and right
BAR_PX = 3.0  # the class-coloured bar at a backed caption's left
BACKING = QColor(10, 10, 14, 205)
PENDING, ACCEPTED, REJECTED = 0, 1, 2


@dataclass(frozen=True)
class _Style:
    pen: QPen
    brush: QBrush
    text: QColor | None


def confidence_bin(confidence: np.ndarray) -> np.ndarray:
    return np.clip(
        (np.asarray(confidence) * CONFIDENCE_BINS).astype(np.int64), 0, CONFIDENCE_BINS - 1
    )


def detection_style(
    color: QColor,
    level: int,
    *,
    rejected: bool = False,
    fill: bool = True,
    text: QColor | None = None,
) -> _Style:
    """Pen and hatch for a confidence level (0 … CONFIDENCE_BINS - 1)."""
    if rejected:
        pen = QPen(QColor(150, 150, 150, 170), 1.2, Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        return _Style(pen, QBrush(Qt.BrushStyle.NoBrush), None)
    strength = (level + 1) / CONFIDENCE_BINS  # 0.2 … 1.0
    edge = QColor(color)
    edge.setAlpha(int(90 + 165 * strength))
    pen = QPen(edge, 1.6, Qt.PenStyle.CustomDashLine)
    pen.setDashPattern([4.0, 2.5])
    pen.setCosmetic(True)
    hatch = QColor(color)
    hatch.setAlpha(int(40 + 150 * strength))
    brush = QBrush(hatch, Qt.BrushStyle.BDiagPattern) if fill else QBrush(Qt.BrushStyle.NoBrush)
    return _Style(pen, brush, text or QColor(color).lighter(125))


class Caption(NamedTuple):
    """A caption as drawn: where (item coordinates), what it says, what its tooltip says."""

    rect: QRectF
    text: str
    full: str


def fit_caption(full: str, confidence: str, metrics: QFontMetricsF, room: float) -> str | None:
    """``full`` ("class 0.68") when it fits in ``room`` px, else the class name shortened
    ("cla… 0.68", at least two letters), else the confidence alone, else None."""
    if metrics.horizontalAdvance(full) <= room:
        return full
    name = full[: len(full) - len(confidence)].rstrip()
    if name and confidence:
        tail = f" {confidence}"
        left = room - metrics.horizontalAdvance(tail)
        short = metrics.elidedText(name, Qt.TextElideMode.ElideRight, left)
        if len(short) >= 3 and short != "…":
            return short + tail
    if confidence and metrics.horizontalAdvance(confidence) <= room:
        return confidence
    return None


class DetectionItem(SortedRects):
    """Rectangles in view coordinates, each with a style index and an optional text."""

    def __init__(self, z: float):
        super().__init__(z)
        self._group = np.zeros(0, dtype=np.int64)
        self._order = np.zeros(0, dtype=np.int64)
        self._text: Callable[[int], str] | None = None
        self._styles: list[_Style] = []
        self.font = QFont()
        self.font.setPointSizeF(max(7.0, self.font.pointSizeF() * 0.82))
        self.show_shapes = True
        self.show_text = True
        self.text_rows = 1  # lines of texts stacked at the top before one is left out
        self.backing = False  # captions on a dark tab (over the spectrogram), else a halo
        self._tip: Callable[[int], str] | None = None
        self._confidence: Callable[[int], str] | None = None
        self.captions: list[Caption] = []  # as last painted; their tooltips on hover

    def set_rects(
        self,
        x0: np.ndarray,
        x1: np.ndarray,
        y0: np.ndarray | float,
        y1: np.ndarray | float,
        group: np.ndarray,
        styles: list[_Style],
        text: Callable[[int], str] | None = None,
        tip: Callable[[int], str] | None = None,
        confidence: Callable[[int], str] | None = None,
    ) -> None:
        """Replace every rectangle (``y0``, ``y1``: per rectangle or one for all); ``text(i)``
        is written in rectangle ``i`` when it is wide (shortened to ``confidence(i)`` and a
        shortened name when it is not wide enough), ``tip(i)`` is its tooltip."""
        order = self._store_rects(x0, x1, y0, y1)
        self._group = np.asarray(group, dtype=np.int64)[order]
        self._order = order
        self._text = text
        self._tip = tip or text
        self._confidence = confidence
        self._styles = styles
        self.update()

    def shape(self) -> QPainterPath:
        # Only the captions: the pointer over a box's inside still reaches what lies below.
        path = QPainterPath()
        for caption in self.captions:
            path.addRect(caption.rect)
        return path

    def caption_at(self, pos: QPointF) -> Caption | None:
        return next((c for c in self.captions if c.rect.contains(pos)), None)

    def hoverMoveEvent(self, event) -> None:
        caption = self.caption_at(event.pos())
        self.setToolTip(caption.full if caption is not None else "")

    def hoverLeaveEvent(self, event) -> None:
        self.setToolTip("")

    def paint(self, painter: QPainter, option, widget=None) -> None:
        transform = painter.transform()
        px_per_x = abs(transform.m11()) or 1.0
        if self.show_text and self._text is not None:
            self._paint_texts(painter, px_per_x, self._text)
        if not self.show_shapes:
            return
        keep = self.visible(option)
        if not len(keep):
            return
        wide = (self._x1[keep] - self._x0[keep]) * px_per_x >= MIN_OUTLINE_PX
        groups = self._group[keep]
        for g in np.unique(groups).tolist():
            style = self._styles[g]
            for outlined in (True, False):
                mine = keep[(groups == g) & (wide == outlined)]
                if not len(mine):
                    continue
                painter.setBrush(style.brush)
                painter.setPen(style.pen if outlined else Qt.PenStyle.NoPen)
                painter.drawRects(self.qrects(mine))

    def _paint_texts(
        self, painter: QPainter, px_per_x: float, text_of: Callable[[int], str]
    ) -> None:
        """Captions laid out over the whole view (a partial repaint lays them out the same):
        each at the top of the part of its box in view, greedily on the first of
        ``text_rows`` rows where it overlaps no other, shortened to fit that part."""
        self.captions = []
        vb = self.getViewBox()
        if vb is None:
            return
        view = vb.viewRect()
        lo = int(np.searchsorted(self._x0, view.left() - self._max_width, side="left"))
        hi = int(np.searchsorted(self._x0, view.right(), side="right"))
        keep = np.nonzero(self._x1[lo:hi] >= view.left())[0] + lo
        keep = keep[(self._x1[keep] - self._x0[keep]) * px_per_x >= MIN_OUTLINE_PX]
        if not len(keep):
            return
        transform = painter.transform()
        view_px = transform.mapRect(view)
        left = np.maximum(self._x0[keep], view.left())
        # A caption may run on past a narrow box up to where the next box starts.
        next_left = np.append(self._x0[keep][1:], np.inf)
        reach = np.minimum(np.maximum(self._x1[keep], next_left), view.right())
        room = (reach - left) * px_per_x
        roomy, reach = keep[room >= MIN_TEXT_PX], reach[room >= MIN_TEXT_PX]
        if not len(roomy) or len(roomy) > MAX_TEXTS:
            return
        inverse, _ = transform.inverted()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        metrics = QFontMetricsF(self.font)
        line = metrics.height() + (2 if self.backing else 0)
        inset = TEXT_PAD_PX + (BAR_PX if self.backing else 0.0)
        row_ends: dict[int, float] = {}
        for i, end in zip(roomy.tolist(), reach.tolist(), strict=True):
            style = self._styles[self._group[i]]
            if style.text is None:
                continue
            a = transform.map(QPointF(self._x0[i], self._y0[i]))
            b = transform.map(QPointF(self._x1[i], self._y1[i]))
            box = QRectF(a, b).normalized().intersected(view_px)
            if box.isEmpty():
                continue
            row = next(
                (r for r in range(self.text_rows) if row_ends.get(r, -1e9) <= box.left()), None
            )
            if row is None:
                continue
            top = box.top() + 1 + row * line
            if top + line > box.bottom() + 2:
                continue
            index = int(self._order[i])
            full = text_of(index)
            confidence = self._confidence(index) if self._confidence is not None else ""
            end_px = transform.map(QPointF(end, self._y0[i])).x()
            if end_px > box.right():  # past the box: a gap before the next one
                end_px -= 3
            room_px = max(box.right(), end_px) - box.left() - 1
            text = fit_caption(full, confidence, metrics, room_px - inset - TEXT_PAD_PX)
            if text is None:
                continue
            width = min(room_px, metrics.horizontalAdvance(text) + inset + TEXT_PAD_PX)
            rect = QRectF(box.left() + 1, top, width, line)
            row_ends[row] = rect.right() + 2
            tip = self._tip(index) if self._tip is not None else full
            self.captions.append(Caption(inverse.mapRect(rect), text, tip))
            text_box = rect.adjusted(inset, 0, 0, 0)
            flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            if self.backing:
                painter.fillRect(rect, BACKING)
                painter.fillRect(QRectF(rect.left(), rect.top(), BAR_PX, line), style.pen.color())
            else:  # a dark halo keeps the text readable on a label of any colour
                painter.setPen(QColor(0, 0, 0, 200))
                for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    painter.drawText(text_box.translated(dx, dy), flags, text)
            painter.setPen(style.text)
            painter.drawText(text_box, flags, text)
        painter.restore()


class DetectionOverlay:
    """Detections in one view box: the spectrogram (full height) or the class lanes."""

    def __init__(self, viewbox: pg.ViewBox, mode: str):
        self.viewbox = viewbox
        self.mode = mode
        # Spectrogram: above time-only label bands, under boxes; lanes: under the labels, so
        # a detection that matches a label frames it.
        self.item = DetectionItem(3 if mode == "spectrogram" else 4)
        self.item.show_text = False
        # Texts on a layer of their own, above the labels, where they are never hidden.
        self.texts = DetectionItem(7)
        self.texts.show_shapes = False
        # Three rows over the spectrogram: as many sounds as the demo has at once.
        self.texts.text_rows = 3 if mode == "spectrogram" else 1
        self.texts.backing = mode == "spectrogram"
        self.texts.setAcceptHoverEvents(True)  # the whole caption in a tooltip
        for item in (self.item, self.texts):
            viewbox.addItem(item, ignoreBounds=True)
        self.y_extent = (0.0, 1.0)

    def set_visible(self, visible: bool) -> None:
        self.item.setVisible(visible)
        self.texts.setVisible(visible)

    def count(self) -> int:
        return len(self.item)

    def update(
        self,
        detections: DetectionArrays,
        lanes: dict[int, int],
        colors: dict[int, QColor],
        names: dict[int, str],
    ) -> None:
        """Rebuild from detections of the current recording (vectorised: thousands per frame
        while a threshold slider moves)."""
        lane_ids = np.array(sorted(lanes), dtype=np.int64)
        lane_of = np.array([lanes[c] for c in lane_ids.tolist()], dtype=np.int64)
        pos = np.searchsorted(lane_ids, detections.class_ids)
        pos = np.minimum(pos, max(len(lane_ids) - 1, 0))
        known = (
            lane_ids[pos] == detections.class_ids
            if len(lane_ids)
            else np.zeros(len(detections), dtype=bool)
        )
        if self.mode == "spectrogram":
            known &= detections.states != REJECTED  # a "no" needs no space over the audio
        idx = np.flatnonzero(known)
        class_ids = detections.class_ids[idx]
        levels = confidence_bin(detections.confidences[idx])
        rejected = detections.states[idx] == REJECTED
        # One style per (class, confidence level), and one for every rejection.
        keys = np.where(rejected, -1, class_ids * CONFIDENCE_BINS + levels)
        unique, group = np.unique(keys, return_inverse=True)
        styles = [
            detection_style(
                colors.get(int(key) // CONFIDENCE_BINS, QColor("#888888")),
                int(key) % CONFIDENCE_BINS,
                rejected=key < 0,
                fill=self.mode == "lanes",
                # In a lane the text may lie on a label of the very same colour; over the
                # spectrogram it lies on a dark tab.
                text=QColor("#ffffff") if self.mode == "lanes" else QColor("#f4f4f4"),
            )
            for key in unique.tolist()
        ]
        lane = lane_of[pos[idx]].astype(np.float64)
        conf = detections.confidences[idx]
        y0: np.ndarray | float
        y1: np.ndarray | float

        def confidence(i: int) -> str:
            return f"{conf[i]:.2f}"

        def full(i: int) -> str:
            return f"{names.get(int(class_ids[i]), '?')} {conf[i]:.2f}"

        if self.mode == "lanes":
            y0, y1 = lane + 0.06, lane + 0.94
            text = confidence  # the lane says the class
        else:
            y0, y1 = self.y_extent
            text = full
        onsets = detections.onsets[idx]
        offsets = np.maximum(detections.offsets[idx], onsets)
        self.item.set_rects(onsets, offsets, y0, y1, group, styles)
        self.texts.set_rects(onsets, offsets, y0, y1, group, styles, text, full, confidence)


def posteriorgram_image(
    posteriors: np.ndarray,
    columns: list[int | None],
    colors: list[QColor],
    background: QColor,
) -> np.ndarray:
    """(rows, frames, 4) uint8: row ``r`` shows column ``columns[r]`` tinted by ``colors[r]``
    from the background (p = 0) to the class colour (p = 1); None gives an empty row."""
    frames = posteriors.shape[0]
    rows = len(columns)
    bg = np.array([background.red(), background.green(), background.blue()], dtype=np.float32)
    image = np.empty((rows, frames, 4), dtype=np.uint8)
    image[..., 3] = 255
    for r, (column, color) in enumerate(zip(columns, colors)):
        if column is None:
            image[r, :, :3] = bg.astype(np.uint8)
            continue
        p = np.clip(posteriors[:, column], 0.0, 1.0)[:, None]
        fg = np.array([color.red(), color.green(), color.blue()], dtype=np.float32)
        image[r, :, :3] = (bg + (fg - bg) * p).astype(np.uint8)
    return image
