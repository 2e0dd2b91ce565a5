"""The spectrogram workspace: spectrogram, class lanes and overview strip in one graphics view.

- Spectrogram: tiles from ``TileService`` (coarse ancestors or the overview while the right
  level computes), events of the current recording drawn in bulk, the selected one live.
- Lanes: one row per class under the spectrogram, sharing its time axis; overlapping events
  of different classes never hide each other there, and dragging in a lane labels that class.
- Posteriorgram: when the active run has detected on this recording, one row per class (in
  lane order) of its frame posteriors, tinted by class colour, on the same time axis.
- Detections of the active run over the spectrogram and in the lanes (``detection_items``).
- Overview: the whole recording with the visible window marked; drag or click to move.

Mouse: drag = new event (Shift: time–frequency box), wheel = zoom time, Ctrl+wheel = zoom
frequency, Shift+wheel = scroll, middle or Alt+drag = pan, click = select (again: next event
under the pointer), click on empty space = move the playback cursor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QVBoxLayout, QWidget

from tfstudio.features.tiles import (
    TILE_COLUMNS,
    SpectrogramParams,
    TileKey,
    auto_top_db,
    db_to_code_level,
)
from tfstudio.qt.axes import LaneAxis, TimeAxis, pin_left_axis, time_axis_label
from tfstudio.qt.detection_items import DetectionOverlay, posteriorgram_image
from tfstudio.qt.detections import DetectionModel
from tfstudio.qt.event_items import EventPaths
from tfstudio.qt.settings import COLORMAPS, ViewSettings
from tfstudio.qt.tile_service import TileService
from tfstudio.qt.workspace import Workspace
from tfstudio.store import Event

AXIS_WIDTH = 96
LANE_PX = 20
POSTERIOR_ROW_PX = 11
OVERVIEW_PX = 64
INITIAL_VIEW_S = 60.0
MAX_ANCESTOR_LEVELS = 8
MIN_DRAG_PX = 4
BACKGROUND = "#15171c"
AXIS_COLOR = "#c8ccd4"


class FastImageItem(pg.ImageItem):
    """An ImageItem whose rendered QImage is RGB32 rather than ARGB32.

    pyqtgraph renders to non-premultiplied ARGB32, which Qt's raster engine converts on every
    draw; the spectrogram is opaque, so the same bytes reinterpreted as RGB32 take the fast
    blit path (about 3x cheaper per tile per frame).
    """

    def __init__(self, **kwargs):
        # Per item, not pg.setConfigOptions: other plots in the app keep their own defaults.
        super().__init__(axisOrder="row-major", **kwargs)

    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        if self.qimage is not None and self.qimage.format() == QImage.Format.Format_ARGB32:
            self.qimage.reinterpretAsFormat(QImage.Format.Format_RGB32)


@dataclass(frozen=True)
class _Audio:
    path: str
    sample_rate: int
    frames: int
    duration: float

    @property
    def nyquist(self) -> float:
        return self.sample_rate / 2


class EditViewBox(pg.ViewBox):
    """A ViewBox whose left drag draws a new event instead of panning."""

    sigDrag = Signal(object, object, str, object)  # start, current (view coords), phase, mods
    sigClick = Signal(object, object, object)  # view point, button, modifiers

    def __init__(self, *, zoom_y: bool = True, editable: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.zoom_y = zoom_y
        self.editable = editable
        self.setMenuEnabled(False)

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


class SpectrogramView(QWidget):
    """Spectrogram, lanes and overview of the workspace's current recording."""

    cursorMoved = Signal(float, object)  # seconds, Hz (None outside the spectrogram)
    spanChanged = Signal(object)  # seconds of the event being drawn/edited, or None
    seekRequested = Signal(float)
    firstImage = Signal(float)  # seconds from opening a recording to its first image

    def __init__(
        self,
        workspace: Workspace,
        settings: ViewSettings,
        parent: QWidget | None = None,
        *,
        detections: DetectionModel | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.detections = detections if detections is not None else DetectionModel(workspace, self)
        self.settings = settings
        self.tiles = TileService(settings.cache_mb << 20, parent=self)
        self.audio: _Audio | None = None
        self._params = SpectrogramParams(settings.n_fft, settings.hop)
        self._overview: np.ndarray | None = None
        self._overview_final = False
        self._auto_top: float | None = None
        self._tile_items: dict[TileKey, pg.ImageItem] = {}
        self._spare_items: list[pg.ImageItem] = []
        self._lanes: dict[int, int] = {}
        self._colors: dict[int, QColor] = {}
        self._opened_at = 0.0
        self._waiting_first_image = False
        self._play_position: float | None = None
        self._drag_box = False

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.ci.layout.setSpacing(0)
        self.graphics.ci.setContentsMargins(4, 6, 10, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self._build_plots()

        self._tile_timer = QTimer(self, singleShot=True, interval=0)
        self._tile_timer.timeout.connect(self._update_tiles)
        self._paths_timer = QTimer(self, singleShot=True, interval=0)
        self._paths_timer.timeout.connect(self._update_paths)

        self.tiles.tileReady.connect(self._on_tile_ready)
        self.tiles.overviewReady.connect(self._on_overview_ready)
        self.tiles.failed.connect(self._on_tile_failed)
        workspace.currentRecordingChanged.connect(self._on_recording_change)
        workspace.labelsChanged.connect(self._on_labels_change)
        workspace.classesChanged.connect(self._on_classes_change)
        workspace.selectionChanged.connect(self._on_selection_change)
        self.detections.drawnChanged.connect(self._on_detections_change)
        self.detections.posteriorsChanged.connect(self._on_posteriors_change)
        self.detections.visibilityChanged.connect(self._on_detections_visibility_change)
        self._apply_colormap()
        self._on_classes_change()
        self._on_recording_change()

    # ------------------------------------------------------------------ layout
    def _build_plots(self) -> None:
        self.spec_vb = EditViewBox(zoom_y=True)
        self.spec = self.graphics.addPlot(
            row=0, col=0, viewBox=self.spec_vb, axisItems={"bottom": TimeAxis()}
        )
        self.post_vb = EditViewBox(zoom_y=False, editable=False)
        self.post = self.graphics.addPlot(
            row=1, col=0, viewBox=self.post_vb, axisItems={"bottom": TimeAxis()}
        )
        self.lane_axis = LaneAxis()
        self.lane_vb = EditViewBox(zoom_y=False)
        self.lanes = self.graphics.addPlot(
            row=2,
            col=0,
            viewBox=self.lane_vb,
            axisItems={"bottom": TimeAxis(), "left": self.lane_axis},
        )
        self.ov_vb = EditViewBox(zoom_y=False, editable=False)
        self.overview = self.graphics.addPlot(row=3, col=0, viewBox=self.ov_vb)
        for plot in (self.spec, self.post, self.lanes, self.overview):
            plot.hideButtons()
            plot.setMenuEnabled(False)
            pin_left_axis(plot, AXIS_WIDTH)  # one width for all: they share the time axis
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(AXIS_COLOR))
                axis.setTextPen(pg.mkPen(AXIS_COLOR))
        self.spec.setLabel("left", "Frequency", units="Hz")
        self.spec.getAxis("bottom").setStyle(showValues=False)
        self.spec_vb.setMouseEnabled(x=True, y=True)
        self.lanes.setXLink(self.spec)
        self.lane_vb.setMouseEnabled(x=True, y=False)
        self.lane_vb.invertY(True)
        self.lanes.getAxis("bottom").setLabel(time_axis_label(0.0))
        self.post.setXLink(self.spec)
        self.post_vb.setMouseEnabled(x=True, y=False)
        self.post_vb.invertY(True)
        self.post.getAxis("bottom").setStyle(showValues=False, tickLength=0)
        self.post.getAxis("bottom").setHeight(4)
        self.post.getAxis("left").setStyle(showValues=False, tickLength=0)
        self.post.setLabel("left", "Posteriors")
        self.post.setVisible(False)
        self.lanes.getAxis("left").setStyle(tickLength=0)
        self.lanes.showGrid(x=True, y=False, alpha=0.15)
        self.overview.getAxis("left").setStyle(showValues=False, tickLength=0)
        self.overview.getAxis("bottom").setStyle(showValues=False, tickLength=0)
        self.overview.getAxis("bottom").setHeight(6)
        self.overview.setLabel("left", "Overview")
        self.ov_vb.setMouseEnabled(x=False, y=False)
        self.overview.setMaximumHeight(OVERVIEW_PX)
        self.overview.setMinimumHeight(OVERVIEW_PX)

        self.spec_fallback = FastImageItem()  # the overview stretched under missing tiles
        self.spec_fallback.setZValue(-100)
        self.spec.addItem(self.spec_fallback, ignoreBounds=True)
        self.ov_image = FastImageItem()
        # The strip only changes when the recording or its labels do: paint it from a cache.
        self.ov_image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.overview.addItem(self.ov_image, ignoreBounds=True)
        self.ov_window = pg.LinearRegionItem(
            brush=pg.mkBrush(255, 255, 255, 40),
            hoverBrush=pg.mkBrush(255, 255, 255, 70),
            pen=pg.mkPen("#ffffff", width=1.5),
        )
        self.ov_window.setZValue(20)
        self.overview.addItem(self.ov_window, ignoreBounds=True)
        self.ov_labels = EventPaths(self.ov_vb, "lanes", cached=True)

        self.spec_paths = EventPaths(self.spec_vb, "spectrogram")
        self.lane_paths = EventPaths(self.lane_vb, "lanes")
        self.spec_detections = DetectionOverlay(self.spec_vb, "spectrogram")
        self.lane_detections = DetectionOverlay(self.lane_vb, "lanes")
        self.post_image = pg.ImageItem(axisOrder="row-major")
        self.post_image.setAutoDownsample(True)  # hours of frames into a few hundred pixels
        self.post.addItem(self.post_image, ignoreBounds=True)

        cursor_pen = pg.mkPen("#ffffff", width=1.5)
        self.cursors = [pg.InfiniteLine(angle=90, pen=cursor_pen, movable=False) for _ in range(4)]
        for plot, line in zip((self.spec, self.post, self.lanes, self.overview), self.cursors):
            line.setZValue(50)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)

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
            (self.live_region, self.spec),
            (self.live_roi, self.spec),
            (self.lane_region, self.lanes),
        ):
            item.setZValue(30)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)

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

        self.message = pg.TextItem("", color=AXIS_COLOR, anchor=(0.5, 0.5))
        self.message.setZValue(60)
        self.spec.addItem(self.message, ignoreBounds=True)

        self.spec_vb.sigXRangeChanged.connect(self._on_range_change)
        self.spec_vb.sigResized.connect(self._on_range_change)
        self.spec_vb.sigDrag.connect(self._on_spec_drag)
        self.lane_vb.sigDrag.connect(self._on_lane_drag)
        self.spec_vb.sigClick.connect(self._on_spec_click)
        self.lane_vb.sigClick.connect(self._on_lane_click)
        self.post_vb.sigClick.connect(self._on_posteriorgram_click)
        self.ov_vb.sigClick.connect(self._on_overview_click)
        self.ov_window.sigRegionChanged.connect(self._on_overview_window_change)
        self.live_region.sigRegionChanged.connect(self._on_live_region_change)
        self.live_region.sigRegionChangeFinished.connect(self._on_live_region_finish)
        self.live_roi.sigRegionChanged.connect(self._on_live_roi_change)
        self.live_roi.sigRegionChangeFinished.connect(self._on_live_roi_finish)
        self.lane_region.sigRegionChanged.connect(self._on_lane_region_change)
        self.lane_region.sigRegionChangeFinished.connect(self._on_lane_region_finish)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_move)

    # -------------------------------------------------------------- public API
    def view_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.spec_vb.viewRange()
        return float(x0), float(x1)

    def show_range(self, t0: float, t1: float) -> None:
        if self.audio is None:
            return
        width = max(t1 - t0, self._min_width())
        t0 = min(max(0.0, t0), max(0.0, self.audio.duration - width))
        self.spec_vb.setXRange(t0, min(self.audio.duration, t0 + width), padding=0)

    def show_all(self) -> None:
        if self.audio is not None:
            self.show_range(0.0, self.audio.duration)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Zoom time by ``factor`` (>1 zooms in) around ``center`` (default: the middle)."""
        t0, t1 = self.view_range()
        c = (t0 + t1) / 2 if center is None else center
        width = (t1 - t0) / factor
        self.show_range(c - (c - t0) / factor, c - (c - t0) / factor + width)

    def pan(self, fraction: float) -> None:
        t0, t1 = self.view_range()
        shift = (t1 - t0) * fraction
        self.show_range(t0 + shift, t1 + shift)

    def zoom_to_selection(self) -> None:
        event = self.workspace.selected_event()
        if event is not None:
            pad = max(0.1 * event.duration, 0.05)
            self.show_range(event.onset - pad, event.offset + pad)

    def ensure_visible(self, event: Event) -> None:
        t0, t1 = self.view_range()
        if event.onset >= t0 and event.offset <= t1:
            return
        width = t1 - t0
        if event.duration > width * 0.9:
            self.zoom_to_selection()
        else:
            mid = (event.onset + event.offset) / 2
            self.show_range(mid - width / 2, mid + width / 2)

    def set_play_position(self, seconds: float | None, *, follow: bool = False) -> None:
        """Move the playback cursor; with ``follow`` page the view to keep it visible."""
        self._play_position = seconds
        for line in self.cursors:
            line.setVisible(seconds is not None)
            if seconds is not None:
                line.setPos(seconds)
        if follow and seconds is not None:
            t0, t1 = self.view_range()
            if seconds > t1 or seconds < t0:
                self.show_range(seconds, seconds + (t1 - t0))

    def play_position(self) -> float | None:
        return self._play_position

    def set_settings(self, settings: ViewSettings) -> None:
        old, self.settings = self.settings, settings
        self.tiles.cache.max_bytes = settings.cache_mb << 20
        if (old.n_fft, old.hop) != (settings.n_fft, settings.hop):
            self._params = SpectrogramParams(settings.n_fft, settings.hop)
            self._reload_audio(keep_range=True)
        self._apply_colormap()
        self._apply_levels()
        self._apply_frequency_limits()
        self.spec_paths.overlay_spans = settings.label_overlay
        self._rebuild_paths()

    def has_image(self) -> bool:
        """True once something of the current recording is on screen."""
        return self._overview is not None or any(i.isVisible() for i in self._tile_items.values())

    def viewport_pos(self, plot: str, t: float, y: float) -> QPoint:
        """Widget position (in the graphics viewport) of a time and y value; for tests."""
        vb = {"spec": self.spec_vb, "lanes": self.lane_vb, "overview": self.ov_vb}[plot]
        scene = vb.mapViewToScene(QPointF(t, y))
        return self.graphics.mapFromScene(scene)

    def lane_of(self, class_id: int) -> int | None:
        return self._lanes.get(class_id)

    def posteriorgram_rect(self) -> QRectF | None:
        """Where the posteriorgram image lies (seconds × rows), None when none is shown."""
        if not self.post.isVisible() or self.post_image.image is None:
            return None
        return self.post_image.mapRectToParent(self.post_image.boundingRect())

    def detection_count(self) -> int:
        """Detections drawn in the lanes (pending and rejected); for tests and benchmarks."""
        return self.lane_detections.count() if self.lane_detections.item.isVisible() else 0

    def shutdown(self) -> None:
        self.tiles.shutdown()

    # -------------------------------------------------------------- recording
    def _on_recording_change(self) -> None:
        self._reload_audio(keep_range=False)
        self._rebuild_paths()
        self._on_detections_change()
        self._on_posteriors_change()
        self._on_selection_change()

    def _reload_audio(self, *, keep_range: bool) -> None:
        previous = self.view_range() if keep_range and self.audio else None
        self.tiles.reset()
        for key in list(self._tile_items):
            self._release_item(key)
        self._overview = None
        self._overview_final = False
        self._auto_top = None
        self.spec_fallback.clear()
        self.ov_image.clear()
        self.audio = None
        rec = self.workspace.recording
        path = self.workspace.recording_path()
        if rec is None or path is None:
            self._show_message("No recording" if self.workspace.project else "")
            return
        self.audio = _Audio(str(path), rec.sample_rate, rec.frames, rec.duration)
        if not Path(path).exists():
            self._show_message(f"Audio file not found:\n{path}")
        else:
            self._show_message("")
            self._opened_at = time.perf_counter()
            self._waiting_first_image = True
            self.tiles.request_overview(self.audio.path, self._params)
        duration = rec.duration
        for vb in (self.spec_vb, self.post_vb, self.lane_vb, self.ov_vb):
            vb.setLimits(xMin=0, xMax=duration, minXRange=self._min_width(), maxXRange=duration)
        self.ov_vb.setRange(xRange=(0, duration), padding=0)
        with QSignalBlocker(self.ov_window):
            self.ov_window.setBounds([0, duration])
        self._apply_frequency_limits()
        if previous is not None:
            self.show_range(*previous)
        else:
            self.show_range(0.0, min(duration, INITIAL_VIEW_S))
        self._schedule_tiles()

    def _min_width(self) -> float:
        if self.audio is None:
            return 0.01
        return max(64 / self.audio.sample_rate, 0.005)

    def _apply_frequency_limits(self) -> None:
        if self.audio is None:
            return
        low = min(self.settings.min_hz, self.audio.nyquist * 0.9)
        high = self.settings.max_hz or self.audio.nyquist
        high = min(max(high, low + 100.0), self.audio.nyquist)
        self.spec_vb.setLimits(yMin=low, yMax=high, minYRange=min(50.0, high - low))
        self.spec_vb.setYRange(low, high, padding=0)
        self.ov_vb.setLimits(yMin=low, yMax=high)
        self.ov_vb.setYRange(low, high, padding=0)
        self.spec_paths.y_extent = (low, high)
        self.spec_detections.y_extent = (low, high)
        self.spec_paths.built = None
        self.ov_labels.built = None
        self._schedule_paths()
        self._on_detections_change()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        (x0, x1), (y0, y1) = self.spec_vb.viewRange()
        self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    # ------------------------------------------------------------------- tiles
    def _schedule_tiles(self) -> None:
        self._tile_timer.start()

    def _on_range_change(self, *_args) -> None:
        t0, t1 = self.view_range()
        with QSignalBlocker(self.ov_window):
            self.ov_window.setRegion((t0, t1))
        label = time_axis_label(t1)
        axis = self.lanes.getAxis("bottom")
        if axis.labelText != label:
            axis.setLabel(label)
        if self.message.isVisible():
            self._show_message(self.message.toPlainText())
        # Synchronously (all cheap): what the next paint shows is then already final. The
        # matrices too: pyqtgraph defers them to the paint, and changing them there makes
        # Qt schedule a second full paint of every frame.
        self._update_tiles()
        self._update_paths()
        for vb in (self.spec_vb, self.post_vb, self.lane_vb):
            vb.prepareForPaint()

    def _on_overview_window_change(self) -> None:
        t0, t1 = self.ov_window.getRegion()
        (v0, v1) = self.view_range()
        if abs((t1 - t0) - (v1 - v0)) > 1e-6 * max(1.0, v1 - v0):
            self.show_range(t0, t1)  # an edge was dragged: zoom
        else:
            self.show_range(t0, t0 + (v1 - v0))

    def _on_overview_click(self, pos: QPointF, button, _mods) -> None:
        if button == Qt.MouseButton.LeftButton and self.audio is not None:
            t0, t1 = self.view_range()
            half = (t1 - t0) / 2
            self.show_range(pos.x() - half, pos.x() + half)

    def _pixel_width(self) -> float:
        return max(1.0, float(self.spec_vb.width()))

    def _update_tiles(self) -> None:
        audio = self.audio
        if audio is None:
            return
        t0, t1 = self.view_range()
        t0, t1 = max(0.0, t0), min(audio.duration, t1)
        if t1 <= t0:
            return
        params = self._params
        samples_per_px = (t1 - t0) * audio.sample_rate / self._pixel_width()
        level = params.level_for(samples_per_px, audio.frames)
        wanted: list[TileKey] = []
        prefetch: list[TileKey] = []
        shown: dict[TileKey, np.ndarray] = {}
        overview_hop = audio.frames / self._overview.shape[1] if self._overview is not None else 0
        # The finished overview is already as sharp as this level: no tiles needed.
        if not (self._overview_final and params.level_hop(level) >= overview_hop):
            seconds = params.tile_seconds(audio.sample_rate, level)
            last = params.tiles(audio.frames, level) - 1
            first_i = max(0, int(t0 // seconds))
            last_i = min(last, int(t1 // seconds))
            visible = [TileKey(audio.path, params, level, i) for i in range(first_i, last_i + 1)]
            prefetch = [
                TileKey(audio.path, params, level, i)
                for i in (first_i - 1, last_i + 1)
                if 0 <= i <= last
            ]
            wanted = visible + prefetch
            for key in visible:
                image = self.tiles.cache.get(key)
                if image is not None:
                    shown[key] = image
                    continue
                ancestor = key
                for _ in range(MAX_ANCESTOR_LEVELS):
                    ancestor = ancestor.parent()
                    image = self.tiles.cache.get(ancestor)
                    if image is not None:
                        shown[ancestor] = image
                        break
        # The stretched overview only shows through gaps: skip drawing it when tiles cover all.
        complete = bool(wanted) and all(k in shown for k in wanted[: len(wanted) - len(prefetch)])
        self.spec_fallback.setVisible(not complete)
        for key in list(self._tile_items):
            if key not in shown:
                self._release_item(key)
        for key, image in shown.items():
            if key not in self._tile_items:
                self._place_tile(key, image)
        self.tiles.request(wanted)
        if shown:
            self._note_first_image()

    def _place_tile(self, key: TileKey, image: np.ndarray) -> None:
        audio = self.audio
        assert audio is not None
        item = self._spare_items.pop() if self._spare_items else FastImageItem()
        if item.scene() is None:
            self.spec.addItem(item, ignoreBounds=True)
        item.setLookupTable(self._lut)
        item.setImage(image, autoLevels=False, levels=self._levels())
        hop = self._params.level_hop(key.level)
        start = key.index * TILE_COLUMNS * hop / audio.sample_rate
        width = image.shape[1] * hop / audio.sample_rate
        bottom, height = self._params.frequency_rect(audio.sample_rate)
        item.setRect(QRectF(start, bottom, width, height))
        item.setZValue(-10 - key.level)
        item.setVisible(True)
        self._tile_items[key] = item

    def _release_item(self, key: TileKey) -> None:
        item = self._tile_items.pop(key)
        item.setVisible(False)
        self._spare_items.append(item)

    def _on_tile_ready(self, key: TileKey, image: np.ndarray) -> None:
        if self.audio is None or key.path != self.audio.path or key.params != self._params:
            return
        if self._auto_top is None:
            self._auto_top = auto_top_db(image)
            self._apply_levels()
        self._schedule_tiles()

    def _on_overview_ready(self, path: str, params, image: np.ndarray, final: bool) -> None:
        audio = self.audio
        if audio is None or path != audio.path or params != self._params:
            return
        self._overview = image
        self._overview_final = final
        self._auto_top = auto_top_db(image)
        bottom, height = self._params.frequency_rect(audio.sample_rate)
        rect = QRectF(0.0, bottom, audio.duration, height)
        for item in (self.spec_fallback, self.ov_image):
            item.setLookupTable(self._lut)
            item.setImage(image, autoLevels=False, levels=self._levels())
            item.setRect(rect)
        self._apply_levels()
        self._note_first_image()
        self._schedule_tiles()

    def _on_tile_failed(self, text: str) -> None:
        self.workspace.message.emit(f"Cannot read audio: {text}")

    def _note_first_image(self) -> None:
        if self._waiting_first_image:
            self._waiting_first_image = False
            self.firstImage.emit(time.perf_counter() - self._opened_at)

    def levels_db(self) -> tuple[float, float]:
        """The dB shown as the bottom and top colours."""
        s = self.settings
        top = self._auto_top if s.auto_top and self._auto_top is not None else s.top_db
        return (top - s.range_db, top)

    def _levels(self) -> tuple[float, float]:
        low, high = self.levels_db()
        return (db_to_code_level(low), db_to_code_level(high))

    def _apply_levels(self) -> None:
        levels = self._levels()
        for item in (*self._tile_items.values(), self.spec_fallback, self.ov_image):
            if item.image is not None:
                item.setLevels(levels)

    def _apply_colormap(self) -> None:
        name, reverse = COLORMAPS.get(self.settings.colormap, ("magma", False))
        cmap = pg.colormap.get(name)
        if reverse:
            cmap.reverse()
        self._lut = cmap.getLookupTable(nPts=256, alpha=False)
        for item in (
            *self._tile_items.values(),
            *self._spare_items,
            self.spec_fallback,
            self.ov_image,
        ):
            item.setLookupTable(self._lut)
        # Reversed (paper-like) maps need dark overlays; dark maps a light cursor.
        light = reverse
        self.graphics.setBackground("#f4f4f2" if light else BACKGROUND)
        pen = pg.mkPen("#202020" if light else "#ffffff", width=1.5)
        for line in self.cursors:
            line.setPen(pen)
        if hasattr(self, "post_image"):
            self._on_posteriors_change()  # its rows fade into the background colour

    # ------------------------------------------------------------------ events
    def _on_classes_change(self) -> None:
        classes = self.workspace.classes()
        self._lanes = {c.id: i for i, c in enumerate(classes)}
        self._colors = {c.id: QColor(c.color) for c in classes}
        n = max(1, len(classes))
        names = [f"{c.hotkey}  {c.name}" if c.hotkey else c.name for c in classes]
        self.lane_axis.set_names(names or ["(no classes)"])
        self.lane_vb.setLimits(yMin=0, yMax=n)
        self.lane_vb.setYRange(0, n, padding=0)
        height = n * LANE_PX + 40
        self.lanes.setMinimumHeight(height)
        self.lanes.setMaximumHeight(height)
        self.post_vb.setLimits(yMin=0, yMax=n)
        self.post_vb.setYRange(0, n, padding=0)
        post_height = max(36, n * POSTERIOR_ROW_PX + 8)
        self.post.setMinimumHeight(post_height)
        self.post.setMaximumHeight(post_height)
        self._rebuild_paths()
        self._on_posteriors_change()
        self._on_selection_change()

    def _on_labels_change(self) -> None:
        self._rebuild_paths()
        self._on_selection_change()

    def _rebuild_paths(self) -> None:
        for paths in (self.spec_paths, self.lane_paths, self.ov_labels):
            paths.built = None
        self._schedule_paths()

    def _schedule_paths(self) -> None:
        self._paths_timer.start()

    def _update_paths(self) -> None:
        labels = self.workspace.labels
        if self.audio is None:
            for paths in (self.spec_paths, self.lane_paths, self.ov_labels):
                paths.clear()
            return
        t0, t1 = self.view_range()
        px = (t1 - t0) / self._pixel_width()
        margin = t1 - t0
        for paths in (self.spec_paths, self.lane_paths):
            if paths.needs_rebuild(t0, t1, px):
                paths.rebuild(labels, self._lanes, self._colors, t0 - margin, t1 + margin, px)
        # The overview marks where labels are: one thin strip along its bottom.
        if self.ov_labels.built is None:
            _, (y0, y1) = self.ov_vb.viewRange()
            self.ov_labels.strip = (y0, y0 + (y1 - y0) * 0.16)
            ov_px = self.audio.duration / self._pixel_width()
            self.ov_labels.rebuild(
                labels, self._lanes, self._colors, 0.0, self.audio.duration, ov_px
            )

    # -------------------------------------------------------------- detections
    def _on_detections_change(self) -> None:
        if not hasattr(self, "spec_detections"):
            return  # during construction
        drawn = self.detections.drawn()
        names = {c.id: c.name for c in self.workspace.classes()}
        for overlay in (self.spec_detections, self.lane_detections):
            overlay.update(drawn, self._lanes, self._colors, names)

    def _on_detections_visibility_change(self, visible: bool) -> None:
        for overlay in (self.spec_detections, self.lane_detections):
            overlay.set_visible(visible)
        self._on_posteriors_change()

    def _on_posteriors_change(self) -> None:
        model = self.detections
        post, info = model.posteriors, model.info
        if post is None or info is None or not model.visible or self.audio is None:
            self.post.setVisible(False)
            self.post_image.clear()
            return
        column_of = {c: k for k, c in enumerate(model.class_ids()) if c is not None}
        order = sorted(self._lanes, key=self._lanes.__getitem__)
        columns = [column_of.get(class_id) for class_id in order]
        colors = [self._colors.get(class_id, QColor("#888888")) for class_id in order]
        background = QColor(self.graphics.backgroundBrush().color())
        image = posteriorgram_image(post, columns, colors, background)
        self.post_image.setImage(image, autoLevels=False, levels=(0, 255))
        # Frame i covers [i·hop, (i+1)·hop): the same convention as the detected events.
        self.post_image.setRect(QRectF(0.0, 0.0, post.shape[0] * info.hop_s, max(1, len(order))))
        self.post.setVisible(True)

    def _on_posteriorgram_click(self, pos: QPointF, button, _mods) -> None:
        if button == Qt.MouseButton.LeftButton:
            self.seekRequested.emit(max(0.0, pos.x()))

    def _on_selection_change(self) -> None:
        event = self.workspace.selected_event()
        if event is None or self.audio is None:
            for item in (self.live_region, self.live_roi, self.lane_region):
                item.setVisible(False)
            self.spanChanged.emit(None)
            return
        color = self._colors.get(event.class_id, QColor("#ffffff"))
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
        lane = self._lanes.get(event.class_id, 0)
        n = max(1, len(self._lanes))
        self.lane_region.setSpan(lane / n + 0.1 / n, (lane + 1) / n - 0.1 / n)
        self.lane_region.setVisible(True)
        self.live_region.setVisible(not box)
        self.live_roi.setVisible(box)
        if low_hz is not None and high_hz is not None:  # a box
            self.live_roi.setPen(pg.mkPen("#ffffff", width=2))
            self.live_roi.hoverPen = pg.mkPen(color.lighter(130), width=3)
            with QSignalBlocker(self.live_roi):
                self.live_roi.setPos(
                    QPointF(event.onset, float(low_hz)), update=False, finish=False
                )
                self.live_roi.setSize(
                    QPointF(event.duration, float(high_hz) - float(low_hz)),
                    update=True,
                    finish=False,
                )
        self.spanChanged.emit(event.duration)

    def _selected_id(self) -> int | None:
        return self.workspace.selected_id

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
        event_id = self._selected_id()
        if event_id is None or self.audio is None:
            return
        pos, size = self.live_roi.pos(), self.live_roi.size()
        t0, t1 = sorted((pos.x(), pos.x() + size.x()))
        f0, f1 = sorted((pos.y(), pos.y() + size.y()))
        t0, t1 = max(0.0, t0), min(self.audio.duration, t1)
        f0, f1 = max(0.0, f0), min(self.audio.nyquist, f1)
        self.workspace.update_event(event_id, onset=t0, offset=t1, low_hz=f0, high_hz=f1)
        self._on_selection_change()

    def _write_times(self, t0: float, t1: float) -> None:
        event_id = self._selected_id()
        if event_id is None or self.audio is None:
            return
        t0, t1 = max(0.0, float(t0)), min(self.audio.duration, float(t1))
        self.workspace.update_event(event_id, onset=t0, offset=max(t0, t1))
        self._on_selection_change()

    # -------------------------------------------------------- creating events
    def _drag_rect(self, item: QGraphicsRectItem, rect: QRectF, class_id: int | None) -> None:
        color = self._colors.get(class_id, QColor("#ffffff")) if class_id else QColor("#ffffff")
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
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        # Shift at the start or at the release makes a box (either is what users mean).
        self._drag_box = shift if phase == "start" else self._drag_box or shift
        box = self._drag_box
        class_id = self.workspace.current_class_id
        t0, t1 = sorted((start.x(), end.x()))
        t0, t1 = max(0.0, t0), min(self.audio.duration, t1)
        if box:
            f0, f1 = sorted((start.y(), end.y()))
            f0, f1 = max(0.0, f0), min(self.audio.nyquist, f1)
        else:
            _, (f0, f1) = self.spec_vb.viewRange()
        if phase != "finish":
            self._drag_rect(self._drag_items[0], QRectF(t0, f0, t1 - t0, f1 - f0), class_id)
            self.spanChanged.emit(t1 - t0)
            return
        self._end_drag()
        if not self._drag_long_enough(self.spec_vb, start, end):
            return
        if box and f1 > f0:
            self.workspace.add_event(t0, t1, low_hz=f0, high_hz=f1)
        else:
            self.workspace.add_event(t0, t1)

    def _on_lane_drag(self, start: QPointF, end: QPointF, phase: str, _mods) -> None:
        if self.audio is None:
            return
        lane = math.floor(start.y())
        class_id = next((cid for cid, i in self._lanes.items() if i == lane), None)
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
    def _pick(self, t: float, candidates: list[int]) -> None:
        """Select among the events under the pointer; clicking again steps to the next."""
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
        t0, t1 = self.view_range()
        return 3 * (t1 - t0) / self._pixel_width()

    def _on_spec_click(self, pos: QPointF, button, _mods) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        self.graphics.setFocus()
        labels = self.workspace.labels
        candidates = labels.at(pos.x(), pos.y(), self._tolerance())
        if not self.settings.label_overlay:
            candidates = [i for i in candidates if labels.get(i).low_hz is not None]  # type: ignore[union-attr]
        if self.detections.visible:
            detections = self.workspace.detections
            candidates += [
                i
                for i in detections.at(pos.x(), None, self._tolerance())
                if detections.get(i).review != "rejected"  # type: ignore[union-attr]
            ]
        self._pick(pos.x(), candidates)

    def _on_lane_click(self, pos: QPointF, button, _mods) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        self.graphics.setFocus()
        lane = math.floor(pos.y())
        class_id = next((cid for cid, i in self._lanes.items() if i == lane), None)
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
        self._pick(pos.x(), candidates)

    def _on_mouse_move(self, scene_pos) -> None:
        for vb, with_hz in ((self.spec_vb, True), (self.lane_vb, False)):
            if vb.sceneBoundingRect().contains(scene_pos):
                point = vb.mapSceneToView(scene_pos)
                self.cursorMoved.emit(point.x(), point.y() if with_hz else None)
                return
