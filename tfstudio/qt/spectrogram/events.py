"""The labels layer: the current recording's events drawn in bulk over the spectrogram, in one
lane per class, and as a strip along the bottom of the overview."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor

from tfstudio.qt.axes import LaneAxis
from tfstudio.qt.event_items import EventPaths
from tfstudio.qt.spectrogram.viewbox import EditViewBox
from tfstudio.session.workspace import Workspace
from tfstudio.store import EventClass

LANE_PX = 20


class LaneMap:
    """Which lane (row, top first) and colour each class has; shared by every layer."""

    def __init__(self) -> None:
        self.rows: dict[int, int] = {}
        self.colors: dict[int, QColor] = {}

    def set_classes(self, classes: Sequence[EventClass]) -> None:
        self.rows = {c.id: i for i, c in enumerate(classes)}
        self.colors = {c.id: QColor(c.color) for c in classes}

    def class_at(self, row: int) -> int | None:
        """The class whose lane is ``row``, None for none."""
        return next((cid for cid, i in self.rows.items() if i == row), None)

    def color(self, class_id: int | None, default: str = "#ffffff") -> QColor:
        return self.colors.get(class_id, QColor(default))  # type: ignore[arg-type]


class EventLayer(QObject):
    """Labels over the spectrogram, in the class lanes and along the overview.

    Rebuilding is deferred to the event loop (:meth:`rebuild`) or done at once for the visible
    window (:meth:`update`), so a burst of edits rebuilds once.
    """

    def __init__(
        self,
        workspace: Workspace,
        lane_map: LaneMap,
        spec: pg.PlotItem,
        lanes: pg.PlotItem,
        lane_axis: LaneAxis,
        overview: pg.PlotItem,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.lane_map = lane_map
        self.lanes = lanes
        self.lane_axis = lane_axis
        self.spec_vb: EditViewBox = spec.getViewBox()
        self.lane_vb = lanes.getViewBox()
        self.ov_vb = overview.getViewBox()
        self.ov_labels = EventPaths(self.ov_vb, "lanes", cached=True)
        self.spec_paths = EventPaths(self.spec_vb, "spectrogram")
        self.lane_paths = EventPaths(self.lane_vb, "lanes")
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.update)
        self.duration: float | None = None  # the recording's; None when none is shown

    def set_classes(self, classes: Sequence[EventClass]) -> None:
        """One lane per class, named with its hotkey; sizes the lanes plot to fit."""
        n = max(1, len(classes))
        names = [f"{c.hotkey}  {c.name}" if c.hotkey else c.name for c in classes]
        self.lane_axis.set_names(names or ["(no classes)"])
        self.lane_vb.setLimits(yMin=0, yMax=n)
        self.lane_vb.setYRange(0, n, padding=0)
        height = n * LANE_PX + 40
        self.lanes.setMinimumHeight(height)
        self.lanes.setMaximumHeight(height)

    def set_overlay_spans(self, on: bool) -> None:
        """Draw time-only labels over the spectrogram as faint bands, or not."""
        self.spec_paths.overlay_spans = on

    def set_frequency_extent(self, low: float, high: float) -> None:
        self.spec_paths.y_extent = (low, high)
        self.spec_paths.built = None
        self.ov_labels.built = None
        self.schedule()

    def rebuild(self) -> None:
        """Draw everything afresh on the next turn of the event loop."""
        for paths in (self.spec_paths, self.lane_paths, self.ov_labels):
            paths.built = None
        self.schedule()

    def schedule(self) -> None:
        self._timer.start()

    def update(self) -> None:
        """Rebuild what the visible window needs (cheap when nothing does)."""
        labels, duration = self.workspace.labels, self.duration
        if duration is None:
            for paths in (self.spec_paths, self.lane_paths, self.ov_labels):
                paths.clear()
            return
        t0, t1 = self.spec_vb.time_range()
        pixel_width = self.spec_vb.pixel_width()
        px = (t1 - t0) / pixel_width
        margin = t1 - t0
        rows, colors = self.lane_map.rows, self.lane_map.colors
        for paths in (self.spec_paths, self.lane_paths):
            if paths.needs_rebuild(t0, t1, px):
                paths.rebuild(labels, rows, colors, t0 - margin, t1 + margin, px)
        # The overview marks where labels are: one thin strip along its bottom.
        if self.ov_labels.built is None:
            _, (y0, y1) = self.ov_vb.viewRange()
            self.ov_labels.strip = (y0, y0 + (y1 - y0) * 0.16)
            self.ov_labels.rebuild(labels, rows, colors, 0.0, duration, duration / pixel_width)
