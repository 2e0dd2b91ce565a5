"""The spectrogram workspace: waveform, spectrogram, class lanes and overview strip in one
graphics view.

- Waveform (View ▸ Show waveform): the min/max envelope per pixel column, above the
  spectrogram on the same time axis (:mod:`.waveform`).
- Spectrogram: tiles from ``TileService`` (coarse ancestors or the overview while the right
  level computes), events of the current recording drawn in bulk, the selected one live.
- Lanes: one row per class under the spectrogram, sharing its time axis; overlapping events
  of different classes never hide each other there, and dragging in a lane labels that class.
- Posteriorgram: when the active run has detected on this recording, one row per class (in
  lane order) of its frame posteriors, tinted by class colour, on the same time axis.
- Detections of the active run over the spectrogram and in the lanes (``detection_items``).
- Overview: the whole recording with the visible window marked; drag or click to move.

This module lays the plots out, navigates (zoom, pan, the overview window, the playback
cursor) and opens recordings; the layers it owns draw: :mod:`.image` (tiles, levels, colours),
:mod:`.events` (labels and lanes), :mod:`.overlay` (detections, posteriorgram) and
:mod:`.editing` (the selected event, new events, picking).

Mouse: drag = new event (Shift: time–frequency box), wheel = zoom time, Ctrl+wheel = zoom
frequency, Shift+wheel = scroll, middle or Alt+drag = pan, click = select (again: next event
under the pointer), click on empty space = move the playback cursor.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import (
    QEvent,
    QPoint,
    QPointF,
    QRectF,
    QSignalBlocker,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from tfstudio.features.freq_scale import FrequencyScale
from tfstudio.features.tiles import SpectrogramParams
from tfstudio.qt.axes import (
    LANE_NAME_PADDING,
    AxisPin,
    FittedTitleAxis,
    FrequencyAxis,
    TimeAxis,
    clock_axis_label,
    time_axis_label,
)
from tfstudio.qt.spectrogram.editing import EditTool
from tfstudio.qt.spectrogram.events import FEW_CLASSES, LANE_PX, MIN_LANES, EventLayer, LaneMap
from tfstudio.qt.spectrogram.image import AudioInfo, SpectrogramImage
from tfstudio.qt.spectrogram.lanes import LaneStrip, ScrollLaneAxis
from tfstudio.qt.spectrogram.overlay import POSTERIOR_ROW_PX, DetectionLayer
from tfstudio.qt.spectrogram.viewbox import EditViewBox
from tfstudio.qt.spectrogram.waveform import WAVEFORM_PX, WaveformStrip, WaveformViewBox
from tfstudio.qt.subscribe import listen
from tfstudio.qt.tile_service import TileService
from tfstudio.qt.workspace import qt_detections
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.view_settings import COLORMAPS, ViewSettings
from tfstudio.session.workspace import Workspace
from tfstudio.store import Event
from tfstudio.store.recorded import parse_stored

AXIS_WIDTH = 96  # the left axes' width at least (at the default font)
AXIS_SHARE = 0.28  # of the view's width the left axes take at most (long class names)
AXIS_MAX_PX = 280
OVERVIEW_PX = 64
OVERVIEW_MIN_PX = 40  # in a short view
MIN_LANE_PX = 12
MIN_POSTERIOR_ROW_PX = 5
SPEC_MIN_PX = 140  # the spectrogram's height, at least, in the view's minimum size
SPEC_MIN_WIDTH_PX = 260
VIEW_MIN_MAX_PX = 420  # the view's minimum height never more (a 720 px screen fits)
INITIAL_VIEW_S = 60.0
MARGINS = (4, 6, 10, 4)  # left, top, right, bottom of the plots
LANE_AXIS_PX = 40  # the time axis under the lanes
SPECTROGRAM_SHARE = 0.5  # of the view height the spectrogram keeps, however many classes
BACKGROUND = "#15171c"
AXIS_COLOR = "#c8ccd4"
AXIS_COLOR_ON_LIGHT = "#2a2d33"


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
        self.detections = detections if detections is not None else qt_detections(workspace, self)
        self.settings = settings
        self.tiles = TileService(settings.cache_mb << 20, parent=self)
        self.audio: AudioInfo | None = None
        self._params = SpectrogramParams(settings.n_fft, settings.hop, settings.window)
        self._clock_start: datetime | None = None  # View ▸ Clock time: see _apply_clock
        self._play_position: float | None = None
        # How many seconds the view showed of the recording open before this one.
        self.left_width: float | None = None
        self.lane_map = LaneMap()

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.ci.layout.setSpacing(0)
        self.graphics.ci.setContentsMargins(*MARGINS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self._build_plots()
        self._build_layers()

        self.tiles.failed.connect(self._on_tile_failed)
        listen(self, workspace.events.recording, self._on_recording_change)
        listen(self, workspace.events.labels, self._on_labels_change)
        listen(self, workspace.events.classes, self._on_classes_change)
        listen(self, workspace.events.selection, self.editor.show_selection)
        self._apply_colormap()
        self._on_classes_change()
        self._on_recording_change()

    # ------------------------------------------------------------------ layout
    def _build_plots(self) -> None:
        self.wave_vb = WaveformViewBox()
        self.wave = self.graphics.addPlot(row=0, col=0, viewBox=self.wave_vb)
        self.spec_vb = EditViewBox(zoom_y=True)
        self.freq_axis = FrequencyAxis()
        self.spec = self.graphics.addPlot(
            row=1,
            col=0,
            viewBox=self.spec_vb,
            axisItems={"bottom": TimeAxis(), "left": self.freq_axis},
        )
        self.post_vb = EditViewBox(zoom_y=False, editable=False)
        self.post = self.graphics.addPlot(
            row=2,
            col=0,
            viewBox=self.post_vb,
            axisItems={"bottom": TimeAxis(), "left": FittedTitleAxis("left", shorter=["Post."])},
        )
        self.lane_axis = ScrollLaneAxis()
        self.lane_vb = EditViewBox(zoom_y=False)
        self.lanes = self.graphics.addPlot(
            row=3,
            col=0,
            viewBox=self.lane_vb,
            axisItems={"bottom": TimeAxis(), "left": self.lane_axis},
        )
        self.ov_vb = EditViewBox(zoom_y=False, editable=False)
        self.overview = self.graphics.addPlot(
            row=4, col=0, viewBox=self.ov_vb, axisItems={"left": FittedTitleAxis("left")}
        )
        # One width for all: they share the time axis (see _fit_axis_width).
        self.axis_pin = AxisPin(self._plots(), AXIS_WIDTH)
        for plot in self._plots():
            plot.hideButtons()
            plot.setMenuEnabled(False)
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(AXIS_COLOR))
                axis.setTextPen(pg.mkPen(AXIS_COLOR))
        self.freq_axis.set_scale(self.scale)
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
        self.wave.setXLink(self.spec)
        self.wave_vb.setMouseEnabled(x=True, y=False)
        # No bottom axis: it would lay out ticks nobody sees at every zoom step.
        self.wave.hideAxis("bottom")
        self.wave.getAxis("left").setTicks([[(-1.0, "−1"), (0.0, "0"), (1.0, "1")], []])
        self.wave.setLabel("left", "Wave")
        self.wave.setMaximumHeight(WAVEFORM_PX)
        self.wave.setMinimumHeight(WAVEFORM_PX)
        self.wave.setVisible(self.settings.waveform)

    def _plots(self) -> tuple[pg.PlotItem, ...]:
        """Every plot, top to bottom; they share the time axis."""
        return (self.wave, self.spec, self.post, self.lanes, self.overview)

    def _build_layers(self) -> None:
        """The layers drawn in the plots; the order fixes which is made (and added) first."""
        self.image = SpectrogramImage(self.tiles, self.settings, self.spec, self.overview, self)
        self.image.firstImage.connect(self.firstImage)
        self.ov_window = pg.LinearRegionItem(
            brush=pg.mkBrush(255, 255, 255, 40),
            hoverBrush=pg.mkBrush(255, 255, 255, 70),
            pen=pg.mkPen("#ffffff", width=1.5),
        )
        self.ov_window.setZValue(20)
        self.overview.addItem(self.ov_window, ignoreBounds=True)
        self.events = EventLayer(
            self.workspace,
            self.lane_map,
            self.spec,
            self.lanes,
            self.lane_axis,
            self.overview,
            self,
        )
        self.overlay = DetectionLayer(
            self.workspace, self.detections, self.lane_map, self.spec, self.lanes, self.post, self
        )
        # The overlay's items under their old names: tests and benchmarks reach them.
        self.spec_detections = self.overlay.spec_detections
        self.lane_detections = self.overlay.lane_detections
        self.post_image = self.overlay.post_image

        cursor_pen = pg.mkPen("#ffffff", width=1.5)
        plots = self._plots()
        self.cursors = [
            pg.InfiniteLine(angle=90, pen=cursor_pen, movable=False) for _ in range(len(plots))
        ]
        for plot, line in zip(plots, self.cursors):
            line.setZValue(50)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)

        self.editor = EditTool(
            self.workspace,
            self.detections,
            self.settings,
            self.lane_map,
            self.spec,
            self.lanes,
            self.graphics,
            self,
        )
        self.editor.spanChanged.connect(self.spanChanged)
        self.editor.seekRequested.connect(self.seekRequested)
        self.live_region = self.editor.live_region
        self.live_roi = self.editor.live_roi

        self.message = pg.TextItem("", color=AXIS_COLOR, anchor=(0.5, 0.5))
        self.message.setZValue(60)
        self.spec.addItem(self.message, ignoreBounds=True)

        self.strip = LaneStrip(
            self.workspace,
            self.lane_map,
            self.graphics,
            self.lanes,
            self.lane_axis,
            margins=MARGINS,
            parent=self,
        )
        self._posterior_px = POSTERIOR_ROW_PX
        self.strip.changed.connect(self._on_lanes_change)
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self._fit_lanes)
        self.post.visibleChanged.connect(self._fit_timer.start)
        self.wave.visibleChanged.connect(self._fit_timer.start)
        self.waveform = WaveformStrip(self.wave, self)
        self.waveform.failed.connect(self._on_tile_failed)
        self.wave_vb.sigClick.connect(self._on_seek_click)

        self.spec_vb.sigXRangeChanged.connect(self._on_range_change)
        self.spec_vb.sigResized.connect(self._on_range_change)
        self.post_vb.sigClick.connect(self._on_seek_click)
        self.ov_vb.sigClick.connect(self._on_overview_click)
        self.ov_window.sigRegionChanged.connect(self._on_overview_window_change)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_move)

    # -------------------------------------------------------------- public API
    def view_range(self) -> tuple[float, float]:
        return self.spec_vb.time_range()

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
        """Fit the view to the selected events, all of them (it showed only the current one
        of several)."""
        events = self.workspace.selected_events()
        if events:
            onset, offset = min(e.onset for e in events), max(e.offset for e in events)
            pad = max(0.1 * (offset - onset), 0.05)
            self.show_range(onset - pad, offset + pad)

    def reveal_span(self, onset: float, offset: float, *, opened: bool = False) -> None:
        """Show ``onset``…``offset`` whole at the zoom the user had: scroll the least (with a
        little room on each side), zoom out only when it is wider than the view. ``opened``:
        the recording was just opened for it (an undo of another recording's edit): the
        span is centred at the zoom of the recording shown before, not the opening view's."""
        t0, t1 = self.view_range()
        width = t1 - t0
        if opened and self.left_width is not None:
            width = self.left_width
            t0 = t1 = (onset + offset) / 2  # nothing is shown yet: centre it
        elif onset >= t0 and offset <= t1:
            return
        span = offset - onset
        if span > 0.9 * width:
            pad = max(0.1 * span, 0.05)
            self.show_range(onset - pad, offset + pad)
            return
        pad = min(0.05 * width, (width - span) / 2)
        if t0 == t1:
            self.show_range(t0 - width / 2, t0 + width / 2)
        elif onset < t0:
            self.show_range(onset - pad, onset - pad + width)
        else:
            self.show_range(offset + pad - width, offset + pad)

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
        self.image.settings = self.editor.settings = settings
        self.tiles.cache.max_bytes = settings.cache_mb << 20
        if old.waveform != settings.waveform:
            self.set_waveform_visible(settings.waveform)
        if old.clock_time != settings.clock_time:
            self._apply_clock()
        looks = ("brightness", "contrast", "waveform", "clock_time")
        if old.with_changes(**{name: getattr(settings, name) for name in looks}) == settings:
            self.image.apply_levels()  # a slider moved: the tiles stay, their levels change
            return
        if (old.n_fft, old.hop, old.window) != (settings.n_fft, settings.hop, settings.window):
            self._params = SpectrogramParams(settings.n_fft, settings.hop, settings.window)
            self._reload_audio(keep_range=True)
        self._apply_colormap()
        self.image.apply_levels()
        if old.freq_scale != settings.freq_scale:
            self.freq_axis.set_scale(self.scale)
            self.image.redraw()
            self.editor.show_selection()
        self._apply_frequency_limits()
        self.events.set_overlay_spans(settings.label_overlay)
        self.events.rebuild()

    def set_waveform_visible(self, shown: bool) -> None:
        """Show or hide the waveform strip (the View menu's choice)."""
        self.wave.setVisible(shown)
        self.waveform.update()

    def waveform_visible(self) -> bool:
        return self.wave.isVisible()

    def has_image(self) -> bool:
        """True once something of the current recording is on screen."""
        return self.image.has_image()

    def level_at(self, seconds: float, hz: float) -> float | None:
        """The spectrogram's level in dB at that time and frequency, as drawn."""
        return self.image.level_db(seconds, hz)

    def levels_db(self) -> tuple[float, float]:
        """The dB shown as the bottom and top colours."""
        return self.image.levels_db()

    @property
    def scale(self) -> FrequencyScale:
        """The frequency axis the spectrogram is drawn on (boxes and readouts stay in Hz)."""
        return FrequencyScale(self.settings.freq_scale)

    def viewport_pos(self, plot: str, t: float, y: float) -> QPoint:
        """Widget position (in the graphics viewport) of a time and y value (Hz on the
        spectrogram and the overview, a row in the lanes); for tests."""
        vb = {
            "spec": self.spec_vb,
            "lanes": self.lane_vb,
            "overview": self.ov_vb,
            "wave": self.wave_vb,
        }[plot]
        if plot in ("spec", "overview"):
            y = self.scale.to_axis(y)
        scene = vb.mapViewToScene(QPointF(t, y))
        return self.graphics.mapFromScene(scene)

    def lane_of(self, class_id: int) -> int | None:
        return self.lane_map.rows.get(class_id)

    def posteriorgram_rect(self) -> QRectF | None:
        """Where the posteriorgram image lies (seconds × rows), None when none is shown."""
        return self.overlay.posteriorgram_rect()

    def detection_count(self) -> int:
        """Detections drawn in the lanes (pending and rejected); for tests and benchmarks."""
        return self.overlay.detection_count()

    def shutdown(self) -> None:
        self.tiles.shutdown()
        self.waveform.shutdown()

    @property
    def _overview_final(self) -> bool:  # tests wait on it
        return self.image.overview_final

    # -------------------------------------------------------------- recording
    def _on_recording_change(self) -> None:
        self.left_width = None
        if self.audio is not None:
            t0, t1 = self.view_range()
            self.left_width = t1 - t0
        self._reload_audio(keep_range=False)
        if self.lane_map.scrolls:
            self.strip.arrange()  # this recording's classes first
        self.events.rebuild()
        self.overlay.redraw_detections()
        self.overlay.redraw_posteriors()
        self.editor.show_selection()

    def _set_audio(self, audio: AudioInfo | None) -> None:
        self.audio = self.editor.audio = audio
        self.events.duration = audio.duration if audio is not None else None
        self.overlay.has_recording = audio is not None

    def _reload_audio(self, *, keep_range: bool) -> None:
        previous = self.view_range() if keep_range and self.audio else None
        self.image.clear()
        self.waveform.open(None)
        self._set_audio(None)
        rec = self.workspace.recording
        path = self.workspace.recording_path()
        if rec is None or path is None:
            self._show_message("No recording" if self.workspace.project else "")
            return
        audio = AudioInfo(str(path), rec.sample_rate, rec.frames, rec.duration)
        self._set_audio(audio)
        if not Path(path).exists():
            # No picture is asked for: the tiles would only fail, as a raw read error in the
            # status bar on top of this message.
            self._show_message(
                f"Audio file not found:\n{path}\n\nFile ▸ Locate missing recording… finds it "
                "(and the others of its folder)"
            )
        else:
            self.image.open(audio, self._params)
            self._show_message("")
            self.image.request_overview()
        duration = rec.duration
        for vb in (self.wave_vb, self.spec_vb, self.post_vb, self.lane_vb, self.ov_vb):
            vb.setLimits(xMin=0, xMax=duration, minXRange=self._min_width(), maxXRange=duration)
        self.ov_vb.setRange(xRange=(0, duration), padding=0)
        with QSignalBlocker(self.ov_window):
            self.ov_window.setBounds([0, duration])
        self._apply_frequency_limits()
        if previous is not None:
            self.show_range(*previous)
        else:
            self.show_range(0.0, min(duration, INITIAL_VIEW_S))
        self.waveform.open(audio if Path(path).exists() else None)
        self._apply_clock()
        self.image.schedule()

    def clock_start(self) -> datetime | None:
        """The start the time axis counts times of day from; None: it shows seconds."""
        return self._clock_start

    def _apply_clock(self) -> None:
        """Times of day on the time axis (View ▸ Clock time) where the recording's start is
        known (store.recorded), else seconds into it."""
        rec = self.workspace.recording
        start = None
        if self.settings.clock_time and rec is not None:
            start = parse_stored(rec.recorded_at)
        self._clock_start = start
        for plot in (self.spec, self.post, self.lanes):
            axis = plot.getAxis("bottom")
            if isinstance(axis, TimeAxis):
                axis.set_clock(start)
        self._label_time_axis()

    def _label_time_axis(self) -> None:
        start = self._clock_start
        label = (
            clock_axis_label(start) if start is not None else time_axis_label(self.view_range()[1])
        )
        axis = self.lanes.getAxis("bottom")
        if axis.labelText != label:
            axis.setLabel(label)

    def _min_width(self) -> float:
        if self.audio is None:
            return 0.01
        return max(64 / self.audio.sample_rate, 0.005)

    def _apply_frequency_limits(self) -> None:
        if self.audio is None:
            return
        scale = self.scale
        low = min(max(self.settings.min_hz, scale.floor_hz), self.audio.nyquist * 0.9)
        high = self.settings.max_hz or self.audio.nyquist
        high = min(max(high, low + 100.0), self.audio.nyquist)
        # Zoomed in at most to 50 Hz around the bottom of the range.
        y0, y1, y_min = (float(scale.to_axis(f)) for f in (low, high, low + min(50.0, high - low)))
        self.spec_vb.setLimits(yMin=y0, yMax=y1, minYRange=y_min - y0)
        self.spec_vb.setYRange(y0, y1, padding=0)
        self.ov_vb.setLimits(yMin=y0, yMax=y1)
        self.ov_vb.setYRange(y0, y1, padding=0)
        self.events.set_frequency_extent(y0, y1, scale.to_axis)
        self.overlay.set_frequency_extent(y0, y1)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        (x0, x1), (y0, y1) = self.spec_vb.viewRange()
        self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _on_tile_failed(self, text: str) -> None:
        self.workspace.report(f"Cannot read audio: {text}")

    def _apply_colormap(self) -> None:
        name, reverse = COLORMAPS.get(self.settings.colormap, ("magma", False))
        cmap = pg.colormap.get(name)
        if reverse:
            cmap.reverse()
        self.image.set_lookup_table(cmap.getLookupTable(nPts=256, alpha=False))
        # Reversed (paper-like) maps need dark overlays; dark maps a light cursor.
        light = reverse
        self.graphics.setBackground("#f4f4f2" if light else BACKGROUND)
        pen = pg.mkPen("#202020" if light else "#ffffff", width=1.5)
        for line in self.cursors:
            line.setPen(pen)
        # Axis lines, ticks, labels and the lanes' names: dark on a light background (light
        # grey text on the paper map's near-white was unreadable).
        text = AXIS_COLOR_ON_LIGHT if light else AXIS_COLOR
        self.waveform.set_colour(*(("#1f4f9a", "#c4c4c0") if light else ("#8fb7ff", "#3b3f48")))
        for plot in self._plots():
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(text))
                axis.setTextPen(pg.mkPen(text))
                axis.label.setDefaultTextColor(QColor(text))
        self.message.setColor(QColor(text))
        # The posteriorgram's rows fade into the background colour.
        self.overlay.set_background(QColor(self.graphics.backgroundBrush().color()))

    # -------------------------------------------------------------- navigation
    def _on_range_change(self, *_args) -> None:
        t0, t1 = self.view_range()
        with QSignalBlocker(self.ov_window):
            self.ov_window.setRegion((t0, t1))
        self._label_time_axis()
        if self.message.isVisible():
            self._show_message(self.message.toPlainText())
        # Synchronously (all cheap): what the next paint shows is then already final. The
        # matrices too: pyqtgraph defers them to the paint, and changing them there makes
        # Qt schedule a second full paint of every frame.
        self.image.update()
        self.events.update()
        self.waveform.update()
        for vb in (self.wave_vb, self.spec_vb, self.post_vb, self.lane_vb):
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

    def _on_seek_click(self, pos: QPointF, button, _mods) -> None:
        if button == Qt.MouseButton.LeftButton:
            self.seekRequested.emit(max(0.0, pos.x()))

    def _on_mouse_move(self, scene_pos) -> None:
        for vb, with_hz in ((self.spec_vb, True), (self.lane_vb, False), (self.wave_vb, False)):
            if vb.sceneBoundingRect().contains(scene_pos):
                point = vb.mapSceneToView(scene_pos)
                hz = float(self.scale.to_hz(point.y())) if with_hz else None
                self.cursorMoved.emit(point.x(), hz)
                return

    # ------------------------------------------------------------------ events
    def _on_classes_change(self) -> None:
        self.lane_map.set_classes(self.workspace.classes())
        self._fit_axis_width()
        self._fit_lanes(arrange=False)
        self.strip.arrange()
        self.events.rebuild()

    def _on_lanes_change(self) -> None:
        """Other classes on the lane rows (scrolled, filtered, resized): redraw the rows."""
        self.events.set_lanes()
        self.overlay.set_rows(self.lane_map.height_rows, self._posterior_px)
        self.overlay.redraw_detections()
        self.overlay.redraw_posteriors()
        self.editor.show_selection()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_axis_width()
        self._fit_lanes()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_axis_width()

    def axis_width_wanted(self) -> int:
        """The left axes' width: the longest class name in the lanes (whole, if the view is
        wide enough; elided in the middle beyond), never less than the frequency axis needs."""
        metrics = QFontMetrics(self.lane_axis.text_font())
        names = self.lane_map.names.values()
        longest = max((metrics.horizontalAdvance(n) for n in names), default=0)
        # The frequency axis: its rotated title, "10000"-wide ticks and their offsets.
        floor = max(AXIS_WIDTH, 2 * metrics.height() + metrics.horizontalAdvance("00000") + 16)
        ceiling = max(floor, min(AXIS_MAX_PX, int(self.width() * AXIS_SHARE)))
        # (+2: elidedText cuts a name whose rounded advance is exactly the room)
        return int(min(max(floor, longest + LANE_NAME_PADDING + 2), ceiling))

    def _fit_axis_width(self) -> None:
        if self.axis_pin.set_width(self.axis_width_wanted()):
            self.lane_axis.refresh()
            self.strip.place_widgets()

    def _fit_lanes(self, *, arrange: bool = True) -> None:
        """As many lanes as leave the spectrogram its share of the height (the posteriorgram,
        when shown, has a row per lane too). A short view (a small window, the docks open)
        first makes the overview, the lanes and the posteriorgram rows thinner: with a few
        classes, which never scroll, the spectrogram was squeezed to a sliver."""
        height = self.graphics.height()
        posteriors = self.post.isVisible()
        fixed = MARGINS[1] + MARGINS[3] + LANE_AXIS_PX + (8 if posteriors else 0)
        if self.wave.isVisible():
            fixed += WAVEFORM_PX
        room = height * (1 - SPECTROGRAM_SHARE) - fixed
        n = len(self.lane_map.every)
        full_row = LANE_PX + (POSTERIOR_ROW_PX if posteriors else 0)
        lane_px, post_px, overview = LANE_PX, POSTERIOR_ROW_PX, OVERVIEW_PX
        if n <= FEW_CLASSES and n * full_row > room - OVERVIEW_PX:
            overview = OVERVIEW_MIN_PX
            scale = (room - overview) / max(1, n * full_row)
            lane_px = int(min(LANE_PX, max(self._min_lane_px(), LANE_PX * scale)))
            post_px = int(
                min(POSTERIOR_ROW_PX, max(MIN_POSTERIOR_ROW_PX, POSTERIOR_ROW_PX * scale))
            )
        elif room - OVERVIEW_PX < MIN_LANES * full_row:
            overview = OVERVIEW_MIN_PX
        rows = int((room - overview) // (lane_px + (post_px if posteriors else 0)))
        resized = (lane_px, post_px, overview) != (
            self.lane_map.lane_px,
            self._posterior_px,
            self.overview.maximumHeight(),
        )
        self.lane_map.lane_px, self._posterior_px = lane_px, post_px
        if overview != self.overview.maximumHeight():
            self.overview.setMinimumHeight(overview)
            self.overview.setMaximumHeight(overview)
        if arrange:
            self.strip.set_capacity(rows)
        else:
            self.lane_map.set_capacity(rows)
        if resized:
            self._on_lanes_change()

    def _min_lane_px(self) -> int:
        """Lanes never thinner than their names."""
        return max(MIN_LANE_PX, QFontMetrics(self.lane_axis.text_font()).height() - 2)

    def minimumSizeHint(self) -> QSize:
        """Room for a usable spectrogram above thin lanes, posteriorgram and overview: the
        docks give way to it (they scroll) rather than squeeze it to nothing."""
        hint = super().minimumSizeHint()
        n = min(len(self.lane_map.every), FEW_CLASSES) or 1
        row = self._min_lane_px() + (MIN_POSTERIOR_ROW_PX if self.post.isVisible() else 0)
        height = SPEC_MIN_PX + MARGINS[1] + MARGINS[3] + LANE_AXIS_PX + OVERVIEW_MIN_PX
        height += n * row + (WAVEFORM_PX if self.wave.isVisible() else 0)
        width = self.axis_pin.width + SPEC_MIN_WIDTH_PX + MARGINS[0] + MARGINS[2]
        return QSize(max(hint.width(), width), max(hint.height(), min(height, VIEW_MIN_MAX_PX)))

    def _on_labels_change(self) -> None:
        self.events.rebuild()
        self.editor.show_selection()
