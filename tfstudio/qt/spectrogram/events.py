"""The labels layer: the current recording's events drawn in bulk over the spectrogram, in one
lane per class, and as a strip along the bottom of the overview."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor

from tfstudio.qt.axes import LaneAxis
from tfstudio.qt.event_items import EventPaths
from tfstudio.qt.spectrogram.viewbox import EditViewBox
from tfstudio.session.workspace import Workspace
from tfstudio.store import EventClass

LANE_PX = 20
FEW_CLASSES = 8  # this many lanes or fewer are always all shown, in class order
MIN_LANES = 4  # a scrolling strip never shows fewer


class LaneMap:
    """Which lane (row on screen, top first) and colour each class has; shared by every layer.

    With many classes the lanes form a strip of at most ``capacity`` rows that scrolls
    (``first`` is the top row's place in ``order``) and can be filtered by name; ``rows`` holds
    only the classes on screen, ``every`` all classes (the spectrogram and overview draw them
    all). The current class is always in ``order``; see :meth:`arrange`.
    """

    def __init__(self) -> None:
        self.rows: dict[int, int] = {}
        self.colors: dict[int, QColor] = {}
        self.every: dict[int, int] = {}  # class id -> place in class order
        self.names: dict[int, str] = {}  # as the lanes show them, with the hotkey
        self._folded: dict[int, str] = {}  # as a filter matches them
        self.order: list[int] = []  # the lanes after filtering, in display order
        self.first = 0
        self.capacity = FEW_CLASSES
        self.filter_text = ""
        self.lane_px = LANE_PX  # pixels per lane: fewer in a short view

    # ---------------------------------------------------------------- classes
    def set_classes(self, classes: Sequence[EventClass]) -> None:
        """All classes, in class order, with every lane shown (call :meth:`arrange` next)."""
        self.every = {c.id: i for i, c in enumerate(classes)}
        self.colors = {c.id: QColor(c.color) for c in classes}
        self.names = {c.id: f"{c.hotkey}  {c.name}" if c.hotkey else c.name for c in classes}
        self._folded = {c.id: c.name.casefold() for c in classes}
        self.order = list(self.every)
        self.first = 0
        self._window()

    @property
    def scrolls(self) -> bool:
        """Too many classes for every lane at once: the strip scrolls and can be filtered."""
        return len(self.every) > max(FEW_CLASSES, self.capacity)

    @property
    def height_rows(self) -> int:
        """Rows the lanes plot is tall: fixed while filtering, so the layout never jumps."""
        if not self.scrolls:
            return max(1, len(self.every))
        return max(MIN_LANES, self.capacity)

    def set_capacity(self, rows: int) -> bool:
        """The most lanes shown at once; True when that changes what is on screen."""
        before = (self.height_rows, dict(self.rows))
        self.capacity = max(MIN_LANES, int(rows))
        self._window()
        return before != (self.height_rows, self.rows)

    def arrange(
        self, present: set[int], current: int | None, filter_text: str | None = None
    ) -> None:
        """Lay the lanes out: all in class order while they fit; else the classes matching the
        filter (every word a part of the name, any case), those ``present`` (e.g. labelled on
        this recording) first, and always the ``current`` class."""
        if filter_text is not None:
            self.filter_text = filter_text.strip()
        ids = list(self.every)
        if self.scrolls:
            ids = [c for c in ids if self._matches(c)]
            ids.sort(key=lambda c: c not in present)  # stable: class order within each group
            if current in self.every and current not in ids:
                ids.insert(0, current)
        self.order = ids
        self.first = 0
        self._window()
        self.ensure_visible(current)

    # ---------------------------------------------------------------- scrolling
    def scroll_to(self, first: int) -> None:
        self.first = max(0, min(int(first), len(self.order) - self.height_rows))
        self._window()

    def ensure_visible(self, class_id: int | None) -> bool:
        """Scroll the least that shows ``class_id``'s lane; True when it scrolled."""
        if class_id is None or class_id not in self.order or class_id in self.rows:
            self._window()
            return False
        k = self.order.index(class_id)
        rows = self.height_rows
        self.scroll_to(k if k < self.first else k - rows + 1)
        return True

    def _window(self) -> None:
        self.first = max(0, min(self.first, len(self.order) - self.height_rows))
        shown = self.order[self.first : self.first + self.height_rows]
        self.rows = {c: i for i, c in enumerate(shown)}

    # ---------------------------------------------------------------- queries
    def class_at(self, row: int) -> int | None:
        """The class whose lane is ``row`` on screen, None for none."""
        return next((cid for cid, i in self.rows.items() if i == row), None)

    def _matches(self, class_id: int) -> bool:
        words = self.filter_text.casefold().split()
        name = self._folded[class_id]
        return all(w in name for w in words)

    def first_match(self) -> int | None:
        """The top lane that matches the filter (the pinned current class may not)."""
        return next((c for c in self.order if self._matches(c)), None)

    def shown_names(self) -> list[str]:
        return [self.names[c] for c in sorted(self.rows, key=self.rows.__getitem__)]

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

    def set_lanes(self) -> None:
        """Name the lanes on screen and size the lanes plot to the lane map's rows."""
        lane_map = self.lane_map
        n = lane_map.height_rows
        names = lane_map.shown_names()
        self.lane_axis.set_names(names or ["(no classes)"])
        self.lane_vb.setLimits(yMin=0, yMax=n)
        self.lane_vb.setYRange(0, n, padding=0)
        height = n * lane_map.lane_px + 40
        self.lanes.setMinimumHeight(height)
        self.lanes.setMaximumHeight(height)
        self.lane_paths.built = None
        self.schedule()

    def set_overlay_spans(self, on: bool) -> None:
        """Draw time-only labels over the spectrogram as faint bands, or not."""
        self.spec_paths.overlay_spans = on

    def set_frequency_extent(
        self, low: float, high: float, y_map: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        """The spectrogram's axis span (axis units) and how a box's Hz map onto the axis."""
        self.spec_paths.y_extent = (low, high)
        self.spec_paths.y_map = y_map
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
        every, colors = self.lane_map.every, self.lane_map.colors
        for paths, rows in ((self.spec_paths, every), (self.lane_paths, self.lane_map.rows)):
            if paths.needs_rebuild(t0, t1, px):
                paths.rebuild(labels, rows, colors, t0 - margin, t1 + margin, px)
        # The overview marks where labels are: one thin strip along its bottom.
        if self.ov_labels.built is None:
            _, (y0, y1) = self.ov_vb.viewRange()
            self.ov_labels.strip = (y0, y0 + (y1 - y0) * 0.16)
            self.ov_labels.rebuild(labels, every, colors, 0.0, duration, duration / pixel_width)
