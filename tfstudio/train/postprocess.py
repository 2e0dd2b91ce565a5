"""Frame posteriors -> events: threshold, hysteresis, median filter, gap filling, minimum
duration.

Everything is vectorised over frames (runs are found with ``np.diff`` on padded activity);
classes are processed in chunks so that hours of frames x hundreds of classes never need
more than a few tens of MB of temporaries beyond the input itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "REPEAT_OVERLAP",
    "DetectedEvent",
    "EventArrays",
    "decisions_array",
    "decisions_to_event_arrays",
    "decisions_to_events",
    "posteriors_to_event_arrays",
    "posteriors_to_events",
    "repeats",
    "winner_posteriors",
]

# Elements (frames x classes) handled per chunk of classes.
_CHUNK_ELEMENTS = 1 << 22
# Seconds: "shorter than" comparisons forgive float rounding of frames * hop.
_TIME_TOL = 1e-9
# A new detection repeats a reviewed one when they overlap by more than this share of the
# shorter of the two.
REPEAT_OVERLAP = 0.5


@dataclass(frozen=True)
class DetectedEvent:
    """One detected event; confidence is the mean and peak the max posterior over its frames."""

    onset: float
    offset: float
    label: str
    confidence: float
    peak: float


@dataclass(frozen=True)
class EventArrays:
    """Detected events as parallel arrays, sorted by (onset, class): frame indices
    ``[start, stop)``, class index, mean and max posterior."""

    start: np.ndarray
    stop: np.ndarray
    class_index: np.ndarray
    confidence: np.ndarray
    peak: np.ndarray


def _per_class(value: float | Sequence[float], n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one value per class ({n})")
    return arr


def _median_sizes(value: int | Sequence[int], n: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    if arr.shape != (n,):
        raise ValueError(f"median_filter_frames must be an int or have one value per class ({n})")
    sizes = arr.astype(np.int64)
    if np.any(sizes != arr) or np.any(sizes < 1) or np.any(sizes % 2 == 0):
        raise ValueError("median_filter_frames must be odd positive integers")
    return sizes


def _majority(active: np.ndarray, size: int) -> np.ndarray:
    """Median filter of binary (classes, T) rows along time with scipy.ndimage's default
    'reflect' boundary (d c b a | a b c d | d c b a): a frame is active when more than half
    of the ``size`` frames around it are. A running sum, O(T) whatever the size."""
    half = size // 2
    padded = np.pad(active, ((0, 0), (half, half)), mode="symmetric")
    csum = np.zeros((padded.shape[0], padded.shape[1] + 1), dtype=np.int32)
    np.cumsum(padded, axis=1, dtype=np.int32, out=csum[:, 1:])
    return (csum[:, size:] - csum[:, :-size]) > half


def _hysteresis(value: float | Sequence[float], n: int) -> np.ndarray:
    ratios = _per_class(value, n, "hysteresis")
    if not np.all((ratios > 0) & (ratios <= 1)):
        raise ValueError("hysteresis must be in (0, 1]: a share of the threshold")
    return ratios


def _filtered(active: np.ndarray, sizes: np.ndarray) -> None:
    """Median filter padded (classes, T + 2) activity rows in place, each with its size."""
    n_frames = active.shape[1] - 2
    for size in np.unique(sizes):
        if size > 1 and n_frames:
            # A median filter commutes with thresholding (median > t iff more than half
            # of the window is > t), so filtering the binarised activity equals
            # thresholding scipy.ndimage.median_filter(posteriors), and is much cheaper.
            rows = np.flatnonzero(sizes == size)
            active[rows, 1:-1] = _majority(active[rows, 1:-1], int(size))


def _edges(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``[start, stop)`` bounds of the runs of padded (classes, T + 2) activity, in a
    (classes, T + 1) layout (index ``c * (T + 1) + frame``): class-major, so runs come
    grouped by class and in time order."""
    edges = np.diff(active, axis=1).ravel()  # +1 at starts, -1 at stops
    where = np.flatnonzero(edges)
    sign = edges[where]
    return where[sign == 1], where[sign == -1]


def _runs_reaching(
    low: tuple[np.ndarray, np.ndarray], high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The runs ``low`` (flat bounds, :func:`_edges`) that hold at least one active frame of
    padded activity ``high``: one maximum over each run, no dense activity rebuilt."""
    start, stop = low
    if start.size == 0:
        return start, stop
    inside = high[:, 1:].ravel()  # frame t of a row at t, as the bounds count
    bounds = np.empty(2 * start.size, dtype=np.int64)
    bounds[0::2] = start
    bounds[1::2] = stop
    reached = np.maximum.reduceat(inside, bounds)[0::2] > 0
    return start[reached], stop[reached]


def posteriors_to_event_arrays(
    posteriors: np.ndarray,
    hop_s: float,
    *,
    threshold: float | Sequence[float] = 0.5,
    median_filter_frames: int | Sequence[int] = 1,
    min_event_s: float = 0.0,
    min_gap_s: float = 0.0,
    hysteresis: float | Sequence[float] = 1.0,
) -> EventArrays:
    """Array form of :func:`posteriors_to_events` (no labels, frame indices instead of
    seconds); useful for redrawing many detections quickly."""
    post = np.asarray(posteriors)
    if post.ndim != 2:
        raise ValueError("posteriors must be a (frames, classes) array")
    if not hop_s > 0:
        raise ValueError("hop_s must be > 0")
    n_frames, n_classes = post.shape
    thresholds = _per_class(threshold, n_classes, "threshold")
    sizes = _median_sizes(median_filter_frames, n_classes)
    ratios = _hysteresis(hysteresis, n_classes)
    dtype = np.result_type(post.dtype, np.float32)

    chunk = max(1, _CHUNK_ELEMENTS // max(n_frames, 1))
    parts: list[tuple[np.ndarray, ...]] = []
    for c0 in range(0, n_classes, chunk):
        c1 = min(c0 + chunk, n_classes)
        # Class-major (classes, T + 1) copy: time becomes the contiguous axis for the
        # running sums and np.diff, and the spare last column keeps every run's end a
        # valid reduceat index.
        values = np.zeros((c1 - c0, n_frames + 1), dtype=dtype)
        values[:, :n_frames] = post[:, c0:c1].T
        # Activity with one inactive frame on either side, so every run has both edges.
        active = np.zeros((c1 - c0, n_frames + 2), dtype=np.int8)
        np.greater(values[:, :n_frames], thresholds[c0:c1, None], out=active[:, 1:-1])
        _filtered(active, sizes[c0:c1])
        if np.any(ratios[c0:c1] < 1):
            # Hysteresis: an event begins where the posterior passes the threshold and goes on
            # while it stays above the lower one (threshold × ratio), each median filtered alike.
            low = np.zeros_like(active)
            np.greater(values[:, :n_frames], (thresholds * ratios)[c0:c1, None], out=low[:, 1:-1])
            _filtered(low, sizes[c0:c1])
            # ``low`` holds ``active`` (a lower threshold, and the majority filter is monotone),
            # so its runs that reach an active frame are the events.
            bounds = _runs_reaching(_edges(low), active)
        else:
            bounds = _edges(active)
        parts.append(_runs(values, *bounds, c0, hop_s, min_event_s, min_gap_s))

    return _merged(parts)


def _merged(parts: list[tuple[np.ndarray, ...]]) -> EventArrays:
    """Per-group (start, stop, class, confidence, peak) arrays as one EventArrays, in time
    order (class order within a frame)."""
    if not parts:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        return EventArrays(empty_i, empty_i, empty_i, empty_f, empty_f)
    start, stop, cls, conf, peak = (np.concatenate(p) for p in zip(*parts))
    order = np.lexsort((cls, start))
    return EventArrays(start[order], stop[order], cls[order], conf[order], peak[order])


def _runs(
    values: np.ndarray,
    flat_start: np.ndarray,
    flat_stop: np.ndarray,
    c0: int,
    hop_s: float,
    min_event_s: float,
    min_gap_s: float,
) -> tuple[np.ndarray, ...]:
    """Runs given by flat bounds (:func:`_edges`) -> (start, stop, class, mean, max)."""
    width = values.shape[1]  # T + 1
    cls = flat_start // width
    start = flat_start - cls * width
    stop = flat_stop - cls * width

    if min_gap_s > 0 and start.size > 1:
        gap = start[1:] - stop[:-1]
        fill = (cls[1:] == cls[:-1]) & (gap * hop_s < min_gap_s - _TIME_TOL)
        keep_start = np.concatenate(([True], ~fill))
        keep_stop = np.concatenate((~fill, [True]))
        cls, start, stop = cls[keep_start], start[keep_start], stop[keep_stop]

    if min_event_s > 0 and start.size:
        long_enough = (stop - start) * hop_s >= min_event_s - _TIME_TOL
        cls, start, stop = cls[long_enough], start[long_enough], stop[long_enough]

    if start.size == 0:
        return (start, stop, cls + c0, np.zeros(0), np.zeros(0))

    # Mean and max over [start, stop) of each run: reduceat over alternating start/stop
    # bounds of the flattened values, keeping every other result. Sums accumulate in float64.
    flat = values.ravel()
    bounds = np.empty(2 * start.size, dtype=np.int64)
    bounds[0::2] = cls * width + start
    bounds[1::2] = cls * width + stop
    sums = np.add.reduceat(flat, bounds, dtype=np.float64)[0::2]
    peaks = np.maximum.reduceat(flat, bounds)[0::2].astype(np.float64)
    mean = sums / (stop - start)
    return (start.astype(np.int64), stop.astype(np.int64), cls + c0, mean, peaks)


def posteriors_to_events(
    posteriors: np.ndarray,
    classes: Sequence[str],
    hop_s: float,
    *,
    threshold: float | Sequence[float] = 0.5,
    median_filter_frames: int | Sequence[int] = 1,
    min_event_s: float = 0.0,
    min_gap_s: float = 0.0,
    frame_offset_s: float = 0.0,
    hysteresis: float | Sequence[float] = 1.0,
) -> list[DetectedEvent]:
    """Turn (frames, classes) posteriors into events, sorted by onset then class order.

    A frame is active for a class when its posterior is strictly greater than the class's
    threshold; activity is median filtered over ``median_filter_frames`` (odd; per class
    allowed; scipy.ndimage 'reflect' boundary). With ``hysteresis`` below 1 (per class
    allowed) an event goes on, before and after, while the posterior stays above the lower
    threshold ``threshold × hysteresis`` (filtered alike): a sound that fades out keeps its
    detection to its end, and one that only nears the threshold starts none. Gaps between
    events of one class shorter than ``min_gap_s`` are filled, then events shorter than ``min_event_s`` are dropped. Frame
    ``i`` covers ``[i * hop_s, (i + 1) * hop_s) + frame_offset_s``. ``confidence`` is the mean
    and ``peak`` the max posterior of the class over the event's frames (filled gaps included).
    """
    names = list(classes)
    post = np.asarray(posteriors)
    if post.ndim != 2 or post.shape[1] != len(names):
        raise ValueError("posteriors must be (frames, classes) with one column per class")
    arrays = posteriors_to_event_arrays(
        post,
        hop_s,
        threshold=threshold,
        median_filter_frames=median_filter_frames,
        min_event_s=min_event_s,
        min_gap_s=min_gap_s,
        hysteresis=hysteresis,
    )
    onsets = (arrays.start * hop_s + frame_offset_s).tolist()
    offsets = (arrays.stop * hop_s + frame_offset_s).tolist()
    return [
        DetectedEvent(on, off, names[c], conf, pk)
        for on, off, c, conf, pk in zip(
            onsets,
            offsets,
            arrays.class_index.tolist(),
            arrays.confidence.tolist(),
            arrays.peak.tolist(),
        )
    ]


# --- single-label decisions ----------------------------------------------------------------
#
# A single-label model decides one class per frame. Its output is kept as "decisions", a
# float32 (frames, 2) array: the decided class id (0: background, k + 1: class k of the run's
# list; exact in float32 up to 16 million classes) and that class's probability. It stands for
# the "winner" posteriors, (frames, classes) zeros but for the decided class's probability on
# each frame (:func:`winner_posteriors`); post-processing decisions gives exactly the events of
# post-processing those posteriors, threshold, median filter and all, without ever making the
# (frames, classes) array: only the classes that win a frame are looked at.


def decisions_array(ids: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The (frames, 2) float32 decisions of per-frame class ids and their probabilities."""
    ids, probs = np.asarray(ids), np.asarray(probs)
    if ids.shape != probs.shape or ids.ndim != 1:
        raise ValueError("ids and probs must be (frames,) arrays of the same length")
    out = np.empty((len(ids), 2), dtype=np.float32)
    out[:, 0] = ids
    out[:, 1] = probs
    return out


def _decisions(decisions: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    dec = np.asarray(decisions)
    if dec.ndim != 2 or dec.shape[1] != 2:
        raise ValueError("decisions must be a (frames, 2) array of class ids and probabilities")
    ids = dec[:, 0].astype(np.int64)
    if len(ids) and (ids.min() < 0 or ids.max() > n_classes):
        raise ValueError(f"decided class ids must be in [0, {n_classes}]")
    return ids, dec[:, 1]


def winner_posteriors(decisions: np.ndarray, n_classes: int) -> np.ndarray:
    """The (frames, n_classes) posteriors decisions stand for: each frame's decided class has
    its probability, every other class (and every class on a background frame) 0."""
    ids, probs = _decisions(decisions, n_classes)
    post = np.zeros((len(ids), n_classes), dtype=np.float32)
    rows = np.flatnonzero(ids > 0)
    post[rows, ids[rows] - 1] = probs[rows]
    return post


def decisions_to_event_arrays(
    decisions: np.ndarray,
    n_classes: int,
    hop_s: float,
    *,
    threshold: float | Sequence[float] = 0.0,
    median_filter_frames: int | Sequence[int] = 1,
    min_event_s: float = 0.0,
    min_gap_s: float = 0.0,
) -> EventArrays:
    """:func:`posteriors_to_event_arrays` of ``winner_posteriors(decisions, n_classes)``: the
    runs of each decided class (not the background) whose probability is above the class's
    threshold, median filtered, gaps filled, short ones dropped."""
    ids, probs = _decisions(decisions, n_classes)
    n_frames = len(ids)
    thresholds = _per_class(threshold, n_classes, "threshold")
    sizes = _median_sizes(median_filter_frames, n_classes)
    winners = np.unique(ids[ids > 0]) - 1  # class indices that win a frame
    chunk = max(1, _CHUNK_ELEMENTS // max(n_frames, 1))
    parts: list[tuple[np.ndarray, ...]] = []
    for c0 in range(0, len(winners), chunk):
        group = winners[c0 : c0 + chunk]
        dense = np.where(ids[:, None] == group[None, :] + 1, probs[:, None], 0).astype(np.float32)
        arrays = posteriors_to_event_arrays(
            dense,
            hop_s,
            threshold=thresholds[group].tolist(),
            median_filter_frames=sizes[group].tolist(),
            min_event_s=min_event_s,
            min_gap_s=min_gap_s,
        )
        parts.append(
            (arrays.start, arrays.stop, group[arrays.class_index], arrays.confidence, arrays.peak)
        )
    return _merged(parts)


def decisions_to_events(
    decisions: np.ndarray,
    classes: Sequence[str],
    hop_s: float,
    *,
    threshold: float | Sequence[float] = 0.0,
    median_filter_frames: int | Sequence[int] = 1,
    min_event_s: float = 0.0,
    min_gap_s: float = 0.0,
) -> list[DetectedEvent]:
    """:func:`posteriors_to_events` of the winner posteriors of single-label decisions."""
    names = list(classes)
    arrays = decisions_to_event_arrays(
        decisions,
        len(names),
        hop_s,
        threshold=threshold,
        median_filter_frames=median_filter_frames,
        min_event_s=min_event_s,
        min_gap_s=min_gap_s,
    )
    return [
        DetectedEvent(start * hop_s, stop * hop_s, names[c], conf, pk)
        for start, stop, c, conf, pk in zip(
            arrays.start.tolist(),
            arrays.stop.tolist(),
            arrays.class_index.tolist(),
            arrays.confidence.tolist(),
            arrays.peak.tolist(),
        )
    ]


def repeats(
    onsets: np.ndarray,
    offsets: np.ndarray,
    classes: np.ndarray,
    reviewed: Sequence[tuple[float, float, object]],
    overlap: float = REPEAT_OVERLAP,
) -> np.ndarray:
    """Bool mask of the detections (parallel arrays) that repeat a reviewed one: the same
    class, overlapping by more than ``overlap`` of the shorter. A decision once made (accept
    or reject) is not asked again when detections are made anew."""
    onsets, offsets = np.asarray(onsets, dtype=np.float64), np.asarray(offsets, dtype=np.float64)
    classes = np.asarray(classes)
    hit = np.zeros(len(onsets), dtype=bool)
    for onset, offset, cls in reviewed:
        same = classes == cls
        shared = np.minimum(offsets, offset) - np.maximum(onsets, onset)
        shorter = np.minimum(offsets - onsets, offset - onset)
        hit |= same & (shared > overlap * np.maximum(shorter, 1e-9))
    return hit
