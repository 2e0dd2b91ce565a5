"""The events of one recording as arrays: fast culling, hit tests and navigation."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tfstudio.store import Event


class LabelIndex:
    """Events of one recording sorted by onset, with numpy columns for vectorised queries."""

    def __init__(self, events: Iterable[Event] = ()):
        self._events: dict[int, Event] = {e.id: e for e in events}
        self._rebuild()

    # ----------------------------------------------------------------- building
    def _rebuild(self) -> None:
        events = sorted(self._events.values(), key=lambda e: (e.onset, e.offset, e.id))
        self.order: list[Event] = events
        n = len(events)
        self.ids = np.fromiter((e.id for e in events), dtype=np.int64, count=n)
        self.onsets = np.fromiter((e.onset for e in events), dtype=np.float64, count=n)
        self.offsets = np.fromiter((e.offset for e in events), dtype=np.float64, count=n)
        self.class_ids = np.fromiter((e.class_id for e in events), dtype=np.int64, count=n)
        nan = math.nan
        self.lows = np.fromiter(
            (nan if e.low_hz is None else e.low_hz for e in events), dtype=np.float64, count=n
        )
        self.highs = np.fromiter(
            (nan if e.high_hz is None else e.high_hz for e in events), dtype=np.float64, count=n
        )
        self.is_box = ~(np.isnan(self.lows) | np.isnan(self.highs))
        self.max_duration = float((self.offsets - self.onsets).max()) if n else 0.0
        self._position = {int(i): k for k, i in enumerate(self.ids)}

    def patch(self, upserted: Iterable[Event], removed: Iterable[int]) -> None:
        """Apply a few changes without re-reading the whole recording."""
        for event_id in removed:
            self._events.pop(event_id, None)
        for event in upserted:
            self._events[event.id] = event
        self._rebuild()

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._events

    def get(self, event_id: int | None) -> Event | None:
        return None if event_id is None else self._events.get(event_id)

    def position(self, event_id: int) -> int | None:
        return self._position.get(event_id)

    def visible(self, t0: float, t1: float) -> np.ndarray:
        """Indices (into ``order``) of events overlapping [t0, t1]."""
        if not len(self.order):
            return np.zeros(0, dtype=np.int64)
        # Events are sorted by onset; anything starting before t0 - max_duration ends before t0.
        lo = int(np.searchsorted(self.onsets, t0 - self.max_duration, side="left"))
        hi = int(np.searchsorted(self.onsets, t1, side="right"))
        candidates = np.arange(lo, hi)
        return candidates[self.offsets[lo:hi] >= t0]

    def at(self, t: float, hz: float | None = None, tolerance: float = 0.0) -> list[int]:
        """Ids of events under a time (and frequency): boxes containing the point first, then
        the time-only events covering the time, each group shortest first."""
        idx = self.visible(t - tolerance, t + tolerance)
        if not len(idx):
            return []
        boxes: list[tuple[float, int]] = []
        spans: list[tuple[float, int]] = []
        for k in idx:
            length = self.offsets[k] - self.onsets[k]
            if self.is_box[k]:
                if hz is None or self.lows[k] <= hz <= self.highs[k]:
                    boxes.append((length, int(self.ids[k])))
            else:
                spans.append((length, int(self.ids[k])))
        if hz is None:
            return [i for _, i in sorted(boxes + spans)]
        return [i for _, i in sorted(boxes)] + [i for _, i in sorted(spans)]

    def neighbour(self, event_id: int | None, step: int, t: float = 0.0) -> int | None:
        """The event ``step`` places after (negative: before) ``event_id`` in time order; with
        no current event, the first one starting at or after ``t`` (or before, going back)."""
        if not len(self.order):
            return None
        pos = self.position(event_id) if event_id is not None else None
        if pos is None:
            if step > 0:
                k = int(np.searchsorted(self.onsets, t, side="left"))
                return int(self.ids[min(k, len(self.ids) - 1)])
            k = int(np.searchsorted(self.onsets, t, side="right")) - 1
            return int(self.ids[max(k, 0)])
        k = pos + step
        if 0 <= k < len(self.ids):
            return int(self.ids[k])
        return None

    def neighbour_of_class(self, event_id: int, step: int) -> int | None:
        """The next (``step`` > 0) or previous event of ``event_id``'s class, in time order."""
        pos = self.position(event_id)
        if pos is None:
            return None
        same = np.flatnonzero(self.class_ids == self.class_ids[pos])
        k = int(np.searchsorted(same, pos)) + (1 if step > 0 else -1)
        return int(self.ids[same[k]]) if 0 <= k < len(same) else None

    def counts(self) -> dict[int, int]:
        values, counts = np.unique(self.class_ids, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


def coalesce(
    onsets: np.ndarray, offsets: np.ndarray, min_gap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge intervals (sorted by onset) that overlap or lie closer than ``min_gap``.

    Used to draw thousands of events zoomed out: intervals closer than a pixel look the same
    merged, and the number of rectangles is then bounded by the width in pixels.
    """
    if len(onsets) <= 1 or min_gap <= 0:
        return onsets, offsets
    running_end = np.maximum.accumulate(offsets)
    starts_new = np.empty(len(onsets), dtype=bool)
    starts_new[0] = True
    starts_new[1:] = onsets[1:] > running_end[:-1] + min_gap
    group = np.cumsum(starts_new) - 1
    merged_on = onsets[starts_new]
    merged_off = np.zeros(len(merged_on))
    np.maximum.at(merged_off, group, offsets)
    return merged_on, merged_off
