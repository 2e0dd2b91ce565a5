"""A recording's multi-label frame targets, kept as the spans its labels light.

Frames follow :func:`~tfstudio.train.single_label.frame_span` (see :mod:`tfstudio.train.data`
for the convention), clipped to the recording.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tfstudio.train.single_label import frame_span

__all__ = ["FrameTargets", "frame_targets"]


def frame_targets(
    events: Iterable[tuple[float, float, int]], n_frames: int, n_classes: int, hop_s: float
) -> np.ndarray:
    """Multi-hot (n_frames, n_classes) float32 from (onset s, offset s, class index) triples."""
    return np.asarray(FrameTargets.from_events(events, n_frames, n_classes, hop_s))


class FrameTargets:
    """A recording's multi-hot (n_frames, n_classes) float32 targets, made from its labels
    when a stretch of them is asked for.

    Held densely, targets grow with the audio times the classes (10 000 one-minute recordings
    of 30 classes at 50 frames a second: 3.6 GB); held as spans they cost their labels. Slicing
    ``[start:stop]`` gives that stretch as a new array (what a training window takes);
    ``np.asarray`` gives the whole of it (what validation and statistics take, one recording at
    a time). Frames follow :func:`frame_span`, clipped to the recording.
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, spans: np.ndarray, n_frames: int, n_classes: int):
        # (events, 3) int64 rows (first frame, frame past the end, class), non-empty.
        self.spans = spans
        self.shape = (n_frames, n_classes)

    @classmethod
    def from_events(
        cls,
        events: Iterable[tuple[float, float, int]],
        n_frames: int,
        n_classes: int,
        hop_s: float,
    ) -> FrameTargets:
        rows = []
        for onset, offset, index in events:
            start, stop = frame_span(onset, offset, hop_s)
            start, stop = max(0, start), min(n_frames, stop)
            if stop > start:
                rows.append((start, stop, index))
        spans = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return cls(spans, n_frames, n_classes)

    def part(self, start: int, stop: int) -> FrameTargets:
        """The targets of frames ``[start, stop)`` as their own recording's (frame 0 = start)."""
        spans = self.spans
        hit = spans[(spans[:, 0] < stop) & (spans[:, 1] > start)].copy()
        hit[:, 0] = np.maximum(hit[:, 0], start) - start
        hit[:, 1] = np.minimum(hit[:, 1], stop) - start
        return FrameTargets(hit, max(0, stop - start), self.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        rest: tuple = ()
        if isinstance(key, tuple) and key:
            key, rest = key[0], key[1:]
        if not isinstance(key, slice) or key.step not in (None, 1):
            # Any other index (a frame, a fancy index): as numpy does on the whole array.
            return np.asarray(self)[(key, *rest)]
        stretch = self._stretch(*key.indices(self.shape[0])[:2])
        return stretch[(slice(None), *rest)] if rest else stretch

    def _stretch(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((max(0, stop - start), self.shape[1]), dtype=np.float32)
        spans = self.spans
        hit = spans[(spans[:, 0] < stop) & (spans[:, 1] > start)]
        for first, end, index in hit.tolist():
            out[max(first, start) - start : min(end, stop) - start, index] = 1.0
        return out

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self._stretch(0, self.shape[0])
        return whole if dtype is None else whole.astype(dtype, copy=False)
