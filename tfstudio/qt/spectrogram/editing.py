"""Editing with the mouse: the selected event's live items, dragging out new events and
picking events under the pointer (the gestures come from :class:`.viewbox.EditViewBox`).

Static events are drawn in bulk (:mod:`.events`); only the selected one is a live, draggable
region (time only) or box (time and frequency), mirrored in its class lane while dragged and
written to the workspace once when the drag finishes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from tfstudio.features.freq_scale import FrequencyScale
from tfstudio.qt.event_items import RectsItem
from tfstudio.qt.spectrogram.events import LaneMap
from tfstudio.qt.spectrogram.image import AudioInfo
from tfstudio.qt.spectrogram.viewbox import EditViewBox
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.view_settings import ViewSettings
from tfstudio.session.workspace import Workspace

MIN_DRAG_PX = 4


def _set_span(region: pg.LinearRegionItem, low: float, high: float) -> None:
    """Span a region's band and its edge lines from ``low`` to ``high`` (view fractions).

    pyqtgraph's ``setSpan`` leaves each line's cached bounding rectangle and end points as they
    were: the handles stayed on the old lane (a lane filter moved the event's lane) until the
    region happened to be moved.
    """
    if region.span == (low, high):
        return
    region.setSpan(low, high)
    for line in region.lines:
        line.prepareGeometryChange()
        line.viewTransformChanged()  # drops the cached rectangle and end points
        line.update()


def _press_modifiers(item: pg.GraphicsObject) -> Qt.KeyboardModifier:
    """The keys held when the button went down for the drag now starting (a drag event
    carries those of the latest move)."""
    presses = getattr(item.scene(), "clickEvents", None)
    return presses[0].modifiers() if presses else Qt.KeyboardModifier.NoModifier


class EditTool(QObject):
    """The selected event's live items, new events dragged out, and clicks that select.

    Writes only to the workspace; the view shows what the workspace then says.
    """

    spanChanged = Signal(object)  # seconds of the event being drawn/edited, or None
    seekRequested = Signal(float)

    def __init__(
        self,
        workspace: Workspace,
        detections: DetectionModel,
        settings: ViewSettings,
        lane_map: LaneMap,
        spec: pg.PlotItem,
        lanes: pg.PlotItem,
        focus: pg.GraphicsLayoutWidget,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.detections = detections
        self.settings = settings
        self.lane_map = lane_map
        self.audio: AudioInfo | None = None
        self._focus = focus
        self._drag_box = False
        self._drag_select = False
        spec_vb, lane_vb = spec.getViewBox(), lanes.getViewBox()
        assert isinstance(spec_vb, EditViewBox) and isinstance(lane_vb, EditViewBox)
        self.spec_vb, self.lane_vb = spec_vb, lane_vb

        # Live items for the selected event (only one set ever exists).
        self.live_region = pg.LinearRegionItem(swapMode="sort")
        self.live_roi = pg.ROI([0, 0], [1, 1], movable=True, rotatable=False, resizable=False)
        for handle in (
            ([1, 0.5], [0, 0.5]),
            ([0, 0.5], [1, 0.5]),
            ([0.5, 1], [0.5, 0]),
            ([0.5, 0], [0.5, 1]),
            ([1, 1], [0, 0]),
            ([0, 0], [1, 1]),
        ):
            self.live_roi.addScaleHandle(*handle)
        self.lane_region = pg.LinearRegionItem(swapMode="sort")
        for item, plot in (
            (self.live_region, spec),
            (self.live_roi, spec),
            (self.lane_region, lanes),
        ):
            item.setZValue(30)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        # A Ctrl+drag is a rubber band wherever it starts: begun on the selected event (its
        # body, an edge, a box's handle) it moved or resized that event instead.
        self._passing_drag = False
        for item, vb in (
            (self.live_region, self.spec_vb),
            *((line, self.spec_vb) for line in self.live_region.lines),
            (self.live_roi, self.spec_vb),
            *((handle, self.spec_vb) for handle in self.live_roi.getHandles()),
            (self.lane_region, self.lane_vb),
            *((line, self.lane_vb) for line in self.lane_region.lines),
        ):
            self._pass_ctrl_drags(item, vb)

        # Rubber bands shown while a new event is dragged out.
        self._drag_items = []
        pen = QPen(QColor("#ffffff"), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        for vb in (self.spec_vb, self.lane_vb):
            item = QGraphicsRectItem()
            item.setZValue(40)
            item.setPen(pen)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setVisible(False)
            vb.addItem(item, ignoreBounds=True)
            self._drag_items.append(item)

        # The other selected events (Ctrl+click): outlined, in both views.
        outline = QPen(QColor("#ffffff"), 2.0)
        outline.setCosmetic(True)
        self.also_items = []
        for vb in (self.spec_vb, self.lane_vb):
            rects = RectsItem(35)
            rects.set_style(outline, QBrush(QColor(255, 255, 255, 50)))
            vb.addItem(rects, ignoreBounds=True)
            self.also_items.append(rects)

        self.spec_vb.sigDrag.connect(self._on_spec_drag)
        self.lane_vb.sigDrag.connect(self._on_lane_drag)
        self.spec_vb.sigClick.connect(self._on_spec_click)
        self.lane_vb.sigClick.connect(self._on_lane_click)
        self.live_region.sigRegionChanged.connect(self._on_live_region_change)
        self.live_region.sigRegionChangeFinished.connect(self._on_live_region_finish)
        self.live_roi.sigRegionChanged.connect(self._on_live_roi_change)
        self.live_roi.sigRegionChangeFinished.connect(self._on_live_roi_finish)
        self.lane_region.sigRegionChanged.connect(self._on_lane_region_change)
        self.lane_region.sigRegionChangeFinished.connect(self._on_lane_region_finish)

    def _pass_ctrl_drags(self, item: pg.GraphicsObject, vb: EditViewBox) -> None:
        """Hand ``item``'s drags that start with Ctrl held to ``vb`` (its rubber band)."""
        own = item.mouseDragEvent

        def mouseDragEvent(ev, *args) -> None:
            if ev.isStart():
                mods = ev.modifiers() | _press_modifiers(item)
                self._passing_drag = bool(mods & Qt.KeyboardModifier.ControlModifier)
            if not self._passing_drag:
                own(ev, *args)
                return
            if ev.isFinish():
                self._passing_drag = False
            ev.currentItem = vb  # positions in the view box's coordinates
            vb.mouseDragEvent(ev)

        item.mouseDragEvent = mouseDragEvent

    # ---------------------------------------------------------- the selection
    def show_selection(self) -> None:
        """Put the live items on the workspace's selected event (or hide them), and outline
        the others that are selected with it."""
        self._show_also_selected()
        event = self.workspace.selected_event()
        if event is None or self.audio is None:
            for item in (self.live_region, self.live_roi, self.lane_region):
                item.setVisible(False)
            self.spanChanged.emit(None)
            return
        color = self.lane_map.color(event.class_id)
        fill = QColor(color)
        fill.setAlpha(70)
        hover = QColor(color)
        hover.setAlpha(110)
        edge = pg.mkPen("#ffffff", width=2)
        edge_hover = pg.mkPen(color.lighter(130), width=4)
        low_hz, high_hz = event.low_hz, event.high_hz
        box = low_hz is not None and high_hz is not None
        for region in (self.live_region, self.lane_region):
            region.setBrush(fill)
            region.setHoverBrush(hover)
            for line in region.lines:
                line.setPen(edge)
                line.setHoverPen(edge_hover)
            with QSignalBlocker(region):
                region.setBounds([0, self.audio.duration])
                region.setRegion((event.onset, event.offset))
        lane = self.lane_map.rows.get(event.class_id)
        n = self.lane_map.height_rows
        if lane is not None:
            _set_span(self.lane_region, lane / n + 0.1 / n, (lane + 1) / n - 0.1 / n)
        self.lane_region.setVisible(lane is not None)  # its lane may be scrolled away
        self.live_region.setVisible(not box)
        self.live_roi.setVisible(box)
        if low_hz is not None and high_hz is not None:  # a box
            self.live_roi.setPen(pg.mkPen("#ffffff", width=2))
            self.live_roi.hoverPen = pg.mkPen(color.lighter(130), width=3)
            y0, y1 = (float(self.scale.to_axis(f)) for f in (low_hz, high_hz))
            with QSignalBlocker(self.live_roi):
                self.live_roi.setPos(QPointF(event.onset, y0), update=False, finish=False)
                self.live_roi.setSize(QPointF(event.duration, y1 - y0), update=True, finish=False)
        self.spanChanged.emit(event.duration)

    def _show_also_selected(self) -> None:
        ws = self.workspace
        others = [
            e for e in (ws.labels.get(i) or ws.detections.get(i) for i in ws.also_selected) if e
        ]
        spec_items, lane_items = self.also_items
        if not others:
            for item in self.also_items:
                item.set_rects(*(np.zeros(0),) * 4)
            return
        on = np.array([e.onset for e in others])
        off = np.array([e.offset for e in others])
        _, (y0, y1) = self.spec_vb.viewRange()
        lows = np.array(
            [self.scale.to_axis(e.low_hz) if e.low_hz is not None else y0 for e in others]
        )
        highs = np.array(
            [self.scale.to_axis(e.high_hz) if e.high_hz is not None else y1 for e in others]
        )
        spec_items.set_rects(on, off, lows, highs)
        rows = [self.lane_map.rows.get(e.class_id) for e in others]
        shown = [k for k, row in enumerate(rows) if row is not None]
        lane_rows = np.array([rows[k] for k in shown], dtype=float)
        lane_items.set_rects(on[shown], off[shown], lane_rows + 0.1, lane_rows + 0.9)

    # Live region edits: mirror between views while dragging; write once when finished.
    def _on_live_region_change(self) -> None:
        t0, t1 = self.live_region.getRegion()
        with QSignalBlocker(self.lane_region):
            self.lane_region.setRegion((t0, t1))
        self.spanChanged.emit(t1 - t0)

    def _on_lane_region_change(self) -> None:
        t0, t1 = self.lane_region.getRegion()
        if self.live_region.isVisible():
            with QSignalBlocker(self.live_region):
                self.live_region.setRegion((t0, t1))
        elif self.live_roi.isVisible():
            size = self.live_roi.size()
            with QSignalBlocker(self.live_roi):
                self.live_roi.setPos(
                    QPointF(t0, self.live_roi.pos().y()), update=False, finish=False
                )
                self.live_roi.setSize(QPointF(t1 - t0, size.y()), update=True, finish=False)
        self.spanChanged.emit(t1 - t0)

    def _on_live_roi_change(self) -> None:
        pos, size = self.live_roi.pos(), self.live_roi.size()
        with QSignalBlocker(self.lane_region):
            self.lane_region.setRegion((pos.x(), pos.x() + size.x()))
        self.spanChanged.emit(abs(size.x()))

    def _on_live_region_finish(self) -> None:
        self._write_times(*self.live_region.getRegion())

    def _on_lane_region_finish(self) -> None:
        if self.live_roi.isVisible():
            self._on_live_roi_finish()
        else:
            self._write_times(*self.lane_region.getRegion())

    def _on_live_roi_finish(self) -> None:
        event_id = self.workspace.selected_id
        if event_id is None or self.audio is None:
            return
        pos, size = self.live_roi.pos(), self.live_roi.size()
        t0, t1 = sorted((pos.x(), pos.x() + size.x()))
        f0, f1 = self._hz_span(pos.y(), pos.y() + size.y())
        t0, t1 = max(0.0, t0), min(self.audio.duration, t1)
        self.workspace.update_event(event_id, onset=t0, offset=t1, low_hz=f0, high_hz=f1)
        self.show_selection()

    @property
    def scale(self) -> FrequencyScale:
        return FrequencyScale(self.settings.freq_scale)

    def _hz_span(self, y0: float, y1: float) -> tuple[float, float]:
        """Two heights on the spectrogram's axis → (low, high) Hz within the recording's."""
        assert self.audio is not None
        f0, f1 = sorted(float(self.scale.to_hz(y)) for y in (y0, y1))
        return max(0.0, f0), min(self.audio.nyquist, f1)

    def _write_times(self, t0: float, t1: float) -> None:
        event_id = self.workspace.selected_id
        if event_id is None or self.audio is None:
            return
        t0, t1 = max(0.0, float(t0)), min(self.audio.duration, float(t1))
        self.workspace.update_event(event_id, onset=t0, offset=max(t0, t1))
        self.show_selection()

    # -------------------------------------------------------- creating events
    def _drag_rect(self, item: QGraphicsRectItem, rect: QRectF, class_id: int | None) -> None:
        color = self.lane_map.color(class_id) if class_id else QColor("#ffffff")
        fill = QColor(color)
        fill.setAlpha(80)
        item.setBrush(fill)
        item.setRect(rect.normalized())
        item.setVisible(True)

    def _end_drag(self) -> None:
        for item in self._drag_items:
            item.setVisible(False)

    def _drag_long_enough(self, vb: pg.ViewBox, start: QPointF, end: QPointF) -> bool:
        a = vb.mapViewToScene(start)
        b = vb.mapViewToScene(end)
        return abs(a.x() - b.x()) >= MIN_DRAG_PX

    def _on_spec_drag(self, start: QPointF, end: QPointF, phase: str, mods) -> None:
        if self.audio is None:
            return
        # Ctrl+drag (at the start or the release): a rubber band that selects the events it
        # touches, no new event.
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        self._drag_select = ctrl if phase == "start" else self._drag_select or ctrl
        if self._drag_select:
            self._rubber_band(0, start, end, phase)
            return
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        # Shift at the start or at the release makes a box (either is what users mean).
        self._drag_box = shift if phase == "start" else self._drag_box or shift
        box = self._drag_box
        class_id = self.workspace.current_class_id
        t0, t1 = sorted((start.x(), end.x()))
        t0, t1 = max(0.0, t0), min(self.audio.duration, t1)
        if box:
            y0, y1 = sorted((start.y(), end.y()))
            f0, f1 = self._hz_span(y0, y1)
        else:
            _, (y0, y1) = self.spec_vb.viewRange()
        if phase != "finish":
            self._drag_rect(self._drag_items[0], QRectF(t0, y0, t1 - t0, y1 - y0), class_id)
            self.spanChanged.emit(t1 - t0)
            return
        self._end_drag()
        if not self._drag_long_enough(self.spec_vb, start, end):
            return
        if box and f1 > f0:
            self.workspace.add_event(t0, t1, low_hz=f0, high_hz=f1)
        else:
            self.workspace.add_event(t0, t1)

    def _rubber_band(self, where: int, start: QPointF, end: QPointF, phase: str) -> None:
        """Select every label (and shown detection) the dragged rectangle touches: in time,
        and in frequency for boxes over the spectrogram (``where`` 0), or in the lanes it
        spans (1); with the ones already selected."""
        assert self.audio is not None
        t0, t1 = sorted((start.x(), end.x()))
        y0, y1 = sorted((start.y(), end.y()))
        if phase != "finish":
            item = self._drag_items[where]
            self._drag_rect(item, QRectF(t0, y0, t1 - t0, y1 - y0), None)
            item.setBrush(QColor(255, 255, 255, 30))
            return
        self._end_drag()
        if where == 1:
            rows = range(math.floor(y0), math.floor(y1) + 1)
            lanes = {self.lane_map.class_at(row) for row in rows}
            f0, f1 = -math.inf, math.inf
        else:
            lanes = None
            f0, f1 = self._hz_span(y0, y1)
        ws = self.workspace
        indexes = [ws.labels] + ([ws.detections] if self.detections.visible else [])
        touched: list[int] = []
        for index in indexes:
            for k in index.visible(t0, t1):
                event = index.get(int(index.ids[k]))
                if event is None or (lanes is not None and event.class_id not in lanes):
                    continue
                boxed = event.low_hz is not None and event.high_hz is not None
                if boxed and (event.high_hz < f0 or event.low_hz > f1):  # type: ignore[operator]
                    continue
                touched.append(event.id)
        ws.select_events(ws.selection() + [i for i in touched if i not in ws.selection()])

    def _on_lane_drag(self, start: QPointF, end: QPointF, phase: str, mods) -> None:
        if self.audio is None:
            return
        # Ctrl+drag selects here too: it drew a new event over the ones it meant to pick.
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        self._drag_select = ctrl if phase == "start" else self._drag_select or ctrl
        if self._drag_select:
            self._rubber_band(1, start, end, phase)
            return
        lane = math.floor(start.y())
        class_id = self.lane_map.class_at(lane)
        t0, t1 = sorted((start.x(), end.x()))
        t0, t1 = max(0.0, t0), min(self.audio.duration, t1)
        if phase != "finish":
            self._drag_rect(self._drag_items[1], QRectF(t0, lane + 0.1, t1 - t0, 0.8), class_id)
            self.spanChanged.emit(t1 - t0)
            return
        self._end_drag()
        if class_id is None or not self._drag_long_enough(self.lane_vb, start, end):
            return
        self.workspace.add_event(t0, t1, class_id=class_id)

    # --------------------------------------------------------------- clicking
    def _pick(self, t: float, candidates: list[int], mods=None) -> None:
        """Select among the events under the pointer; clicking again steps to the next.
        Ctrl (or Shift) + click adds the event to the selection or takes it out."""
        extend = mods is not None and bool(
            mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        )
        if extend:
            if candidates:
                self.workspace.select_event(candidates[0], toggle=True)
            return
        if not candidates:
            self.workspace.select_event(None)
            self.seekRequested.emit(max(0.0, t))
            return
        current = self.workspace.selected_id
        if current in candidates:
            nxt = candidates[(candidates.index(current) + 1) % len(candidates)]
        else:
            nxt = candidates[0]
        self.workspace.select_event(nxt)

    def _tolerance(self) -> float:
        t0, t1 = self.spec_vb.time_range()
        return 3 * (t1 - t0) / self.spec_vb.pixel_width()

    def _on_spec_click(self, pos: QPointF, button, mods) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        self._focus.setFocus()
        labels = self.workspace.labels
        hz = float(self.scale.to_hz(pos.y()))
        candidates = labels.at(pos.x(), hz, self._tolerance())
        if not self.settings.label_overlay:
            candidates = [i for i in candidates if labels.get(i).low_hz is not None]  # type: ignore[union-attr]
        if self.detections.visible:
            detections = self.workspace.detections
            candidates += [
                i
                for i in detections.at(pos.x(), None, self._tolerance())
                if detections.get(i).review != "rejected"  # type: ignore[union-attr]
            ]
        self._pick(pos.x(), candidates, mods)

    def _on_lane_click(self, pos: QPointF, button, mods) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        self._focus.setFocus()
        class_id = self.lane_map.class_at(math.floor(pos.y()))
        candidates = []
        indexes = [self.workspace.labels]
        if self.detections.visible:
            indexes.append(self.workspace.detections)
        for index in indexes:
            candidates += [
                i
                for i in index.at(pos.x(), None, self._tolerance())
                if index.get(i).class_id == class_id  # type: ignore[union-attr]
            ]
        if class_id is not None and not candidates:
            self.workspace.set_current_class(class_id)
        self._pick(pos.x(), candidates, mods)
