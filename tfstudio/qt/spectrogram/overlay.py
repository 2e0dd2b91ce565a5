"""The active run's output on this recording: its detections over the spectrogram and in the
class lanes (:mod:`tfstudio.qt.detection_items`), and its posteriorgram, one row per class in
lane order, tinted by class colour, on the spectrogram's time axis."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QColor

from tfstudio.qt.detection_items import DetectionOverlay, posteriorgram_image
from tfstudio.qt.spectrogram.events import LaneMap
from tfstudio.qt.subscribe import listen
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.workspace import Workspace

POSTERIOR_ROW_PX = 11
# Detections made from the file's earlier audio (re-imported since): drawn faint, the Review
# dock's hint says why; their captions stay readable.
EARLIER_AUDIO_OPACITY = 0.4


class DetectionLayer(QObject):
    """Draws what the detection model says is drawn; hides the posteriorgram without one."""

    def __init__(
        self,
        workspace: Workspace,
        model: DetectionModel,
        lane_map: LaneMap,
        spec: pg.PlotItem,
        lanes: pg.PlotItem,
        post: pg.PlotItem,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.model = model
        self.lane_map = lane_map
        self.has_recording = False
        self.background = QColor("#000000")
        self.post = post
        self.post_vb = post.getViewBox()
        self.spec_detections = DetectionOverlay(spec.getViewBox(), "spectrogram")
        self.lane_detections = DetectionOverlay(lanes.getViewBox(), "lanes")
        self.post_image = pg.ImageItem(axisOrder="row-major")
        self.post_image.setAutoDownsample(True)  # hours of frames into a few hundred pixels
        post.addItem(self.post_image, ignoreBounds=True)
        listen(self, model.events.drawn, self.redraw_detections)
        listen(self, model.events.posteriors, self.redraw_posteriors)
        listen(self, model.events.visible, self._on_visibility_change)
        listen(self, model.events.earlier_audio, self._on_earlier_audio_change)
        self._on_earlier_audio_change()

    def set_rows(self, n_rows: int, row_px: int = POSTERIOR_ROW_PX) -> None:
        """Size the posteriorgram for one row per lane, ``row_px`` tall each."""
        n = max(1, n_rows)
        self.post_vb.setLimits(yMin=0, yMax=n)
        self.post_vb.setYRange(0, n, padding=0)
        post_height = max(24, n * row_px + 8)
        self.post.setMinimumHeight(post_height)
        self.post.setMaximumHeight(post_height)

    def set_frequency_extent(self, low: float, high: float) -> None:
        self.spec_detections.y_extent = (low, high)
        self.redraw_detections()

    def set_background(self, color: QColor) -> None:
        """The plot background, which the posteriorgram's rows fade into."""
        self.background = QColor(color)
        self.redraw_posteriors()

    def redraw_detections(self) -> None:
        drawn = self.model.drawn()
        names = {c.id: c.name for c in self.workspace.classes()}
        colors = self.lane_map.colors
        self.spec_detections.update(drawn, self.lane_map.every, colors, names)
        self.lane_detections.update(drawn, self.lane_map.rows, colors, names)

    def _on_visibility_change(self, visible: bool) -> None:
        for overlay in (self.spec_detections, self.lane_detections):
            overlay.set_visible(visible)
        self.redraw_posteriors()

    def _on_earlier_audio_change(self) -> None:
        faint = EARLIER_AUDIO_OPACITY if self.model.earlier_audio else 1.0
        for overlay in (self.spec_detections, self.lane_detections):
            overlay.item.setOpacity(faint)
            overlay.texts.setOpacity(0.5 + faint / 2)

    def detections_opacity(self) -> float:
        """How opaque the detections' shapes are drawn (faint: of the file's earlier audio)."""
        return float(self.lane_detections.item.opacity())

    def redraw_posteriors(self) -> None:
        model = self.model
        post, info = model.posteriors, model.info
        rows = self.lane_map.rows
        if not rows or post is None or info is None or not model.visible or not self.has_recording:
            self.post.setVisible(False)
            self.post_image.clear()
            return
        column_of = {c: k for k, c in enumerate(model.class_ids()) if c is not None}
        order = sorted(rows, key=rows.__getitem__)
        columns = [column_of.get(class_id) for class_id in order]
        colors = [self.lane_map.color(class_id, "#888888") for class_id in order]
        image = posteriorgram_image(post, columns, colors, self.background)
        self.post_image.setImage(image, autoLevels=False, levels=(0, 255))
        # Frame i covers [i·hop, (i+1)·hop): the same convention as the detected events.
        self.post_image.setRect(QRectF(0.0, 0.0, post.shape[0] * info.hop_s, max(1, len(order))))
        self.post.setVisible(True)

    def posteriorgram_rect(self) -> QRectF | None:
        """Where the posteriorgram image lies (seconds × rows), None when none is shown."""
        if not self.post.isVisible() or self.post_image.image is None:
            return None
        return self.post_image.mapRectToParent(self.post_image.boundingRect())

    def detection_count(self) -> int:
        """Detections drawn in the lanes (pending and rejected)."""
        return self.lane_detections.count() if self.lane_detections.item.isVisible() else 0
