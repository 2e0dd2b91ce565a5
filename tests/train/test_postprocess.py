"""tfstudio.train.postprocess: frame posteriors -> events."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import median_filter

from tfstudio.train.postprocess import (
    DetectedEvent,
    posteriors_to_event_arrays,
    posteriors_to_events,
)

HOP = 0.1


def _post(n_frames: int, active: dict[int, list[int]], n_classes: int = 2) -> np.ndarray:
    p = np.zeros((n_frames, n_classes), dtype=np.float32)
    for c, frames in active.items():
        p[frames, c] = 0.9
    return p


def _spans(events: list[DetectedEvent]) -> list[tuple[float, float, str]]:
    return [(round(e.onset, 9), round(e.offset, 9), e.label) for e in events]


def test_exact_boundaries() -> None:
    p = _post(10, {0: [2, 3, 4], 1: [7]})
    events = posteriors_to_events(p, ["a", "b"], HOP)
    assert _spans(events) == [(0.2, 0.5, "a"), (0.7, 0.8, "b")]


def test_frame_offset_and_hop() -> None:
    p = _post(10, {0: [2, 3, 4]})
    (ev,) = posteriors_to_events(p, ["a", "b"], 0.02, frame_offset_s=1.0)
    assert ev.onset == pytest.approx(1.04) and ev.offset == pytest.approx(1.10)


def test_threshold_is_strict_and_per_class() -> None:
    p = np.array([[0.5, 0.5], [0.6, 0.6], [0.7, 0.7], [0.2, 0.2]])
    assert _spans(posteriors_to_events(p, ["a", "b"], HOP)) == [(0.1, 0.3, "a"), (0.1, 0.3, "b")]
    events = posteriors_to_events(p, ["a", "b"], HOP, threshold=[0.4, 0.65])
    assert _spans(events) == [(0.0, 0.3, "a"), (0.2, 0.3, "b")]


def test_median_filter_removes_blip_and_fills_hole() -> None:
    p = _post(12, {0: [5], 1: [1, 2, 3, 5, 6, 7]})
    events = posteriors_to_events(p, ["a", "b"], HOP, median_filter_frames=3)
    assert _spans(events) == [(0.1, 0.8, "b")]
    # Per class: no filtering for "a" keeps its blip.
    events = posteriors_to_events(p, ["a", "b"], HOP, median_filter_frames=[1, 3])
    assert _spans(events) == [(0.1, 0.8, "b"), (0.5, 0.6, "a")]


@pytest.mark.parametrize("n_frames", [1, 2, 4, 7, 50])
def test_median_filter_equals_scipy_then_threshold(n_frames: int) -> None:
    rng = np.random.default_rng(n_frames)
    p = rng.random((n_frames, 6))
    sizes = [1, 3, 5, 7, 9, 3]
    thr = [0.5, 0.3, 0.6, 0.5, 0.45, 0.7]
    got = posteriors_to_event_arrays(p, HOP, threshold=thr, median_filter_frames=sizes)
    mask = np.zeros_like(p, dtype=bool)
    for s, e, c in zip(got.start, got.stop, got.class_index):
        mask[s:e, c] = True
    for c, (k, t) in enumerate(zip(sizes, thr)):
        expected = median_filter(p[:, c], size=k, mode="reflect") > t
        np.testing.assert_array_equal(mask[:, c], expected)


def test_gap_filling_before_min_duration() -> None:
    p = _post(20, {0: [2, 4], 1: [10, 11, 14, 15]})
    # Gaps are 1 frame (0.1 s) for "a" and 2 frames (0.2 s) for "b".
    assert len(posteriors_to_events(p, ["a", "b"], HOP, min_gap_s=0.1)) == 4  # not shorter
    events = posteriors_to_events(p, ["a", "b"], HOP, min_gap_s=0.15)
    assert _spans(events) == [(0.2, 0.5, "a"), (1.0, 1.2, "b"), (1.4, 1.6, "b")]
    events = posteriors_to_events(p, ["a", "b"], HOP, min_gap_s=0.25)
    assert _spans(events) == [(0.2, 0.5, "a"), (1.0, 1.6, "b")]
    # Two 1-frame events merge into 0.3 s first, so they survive a 0.3 s minimum.
    events = posteriors_to_events(p, ["a", "b"], HOP, min_gap_s=0.15, min_event_s=0.3)
    assert _spans(events) == [(0.2, 0.5, "a")]


def test_gaps_never_join_different_classes() -> None:
    p = _post(10, {0: [1, 2], 1: [4, 5]})
    events = posteriors_to_events(p, ["a", "b"], HOP, min_gap_s=1.0)
    assert _spans(events) == [(0.1, 0.3, "a"), (0.4, 0.6, "b")]


def test_min_duration() -> None:
    p = _post(20, {0: [1, 2], 1: [5, 6, 7]})
    events = posteriors_to_events(p, ["a", "b"], HOP, min_event_s=0.3)
    assert _spans(events) == [(0.5, 0.8, "b")]  # exactly 0.3 s is kept
    assert posteriors_to_events(p, ["a", "b"], HOP, min_event_s=0.31) == []


def test_confidence_mean_and_peak() -> None:
    p = np.zeros((8, 1))
    p[2:6, 0] = [0.6, 0.8, 0.2, 1.0]  # frame 4 is a 1-frame gap
    (a, b) = posteriors_to_events(p, ["a"], HOP)
    assert a.confidence == pytest.approx(0.7) and a.peak == pytest.approx(0.8)
    assert b.confidence == pytest.approx(1.0) and b.peak == pytest.approx(1.0)
    # A filled gap's frames count towards the event's confidence.
    (ev,) = posteriors_to_events(p, ["a"], HOP, min_gap_s=0.15)
    assert ev.confidence == pytest.approx(0.65) and ev.peak == pytest.approx(1.0)
    assert (ev.onset, ev.offset) == pytest.approx((0.2, 0.6))


def test_events_touching_start_and_end() -> None:
    p = _post(6, {0: [0, 1], 1: [3, 4, 5]})
    events = posteriors_to_events(p, ["a", "b"], HOP, median_filter_frames=3)
    assert _spans(events) == [(0.0, 0.2, "a"), (0.3, 0.6, "b")]
    p = np.full((5, 2), 0.9)
    events = posteriors_to_events(p, ["a", "b"], HOP)
    assert _spans(events) == [(0.0, 0.5, "a"), (0.0, 0.5, "b")]
    assert events[0].confidence == pytest.approx(0.9)


def test_empty_results() -> None:
    assert posteriors_to_events(np.zeros((100, 3)), ["a", "b", "c"], HOP) == []
    assert posteriors_to_events(np.zeros((0, 3)), ["a", "b", "c"], HOP) == []
    assert posteriors_to_events(np.zeros((0, 0)), [], HOP) == []
    for frames in (0, 5):
        held = posteriors_to_events(np.zeros((frames, 3)), ["a", "b", "c"], HOP, hysteresis=0.5)
        assert held == []


def test_bad_arguments() -> None:
    p = np.zeros((10, 2))
    with pytest.raises(ValueError):
        posteriors_to_events(p, ["a"], HOP)
    with pytest.raises(ValueError):
        posteriors_to_events(p, ["a", "b"], HOP, median_filter_frames=2)
    with pytest.raises(ValueError):
        posteriors_to_events(p, ["a", "b"], HOP, threshold=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError):
        posteriors_to_events(p, ["a", "b"], 0.0)
    for ratio in (0.0, -0.5, 1.5, [0.5, 2.0]):
        with pytest.raises(ValueError, match="hysteresis"):
            posteriors_to_events(p, ["a", "b"], HOP, hysteresis=ratio)


def _naive(p, hop, thr, size, min_event_s, min_gap_s):
    """Frame-by-frame reference implementation."""
    out = []
    for c in range(p.shape[1]):
        act = median_filter(p[:, c], size=size, mode="reflect") > thr
        runs, start = [], None
        for t, a in enumerate([*act.tolist(), False]):
            if a and start is None:
                start = t
            elif not a and start is not None:
                runs.append([start, t])
                start = None
        merged = []
        for r in runs:
            if merged and (r[0] - merged[-1][1]) * hop < min_gap_s - 1e-9:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        for s, e in merged:
            if (e - s) * hop >= min_event_s - 1e-9:
                seg = p[s:e, c]
                out.append((s, c, e, seg.mean(), seg.max()))
    return sorted(out)


def test_hysteresis_keeps_a_fading_sound_to_its_end() -> None:
    # A sound that passes the threshold, then fades below it well before it ends.
    fade = np.array([0.1, 0.1, 0.8, 0.9, 0.7, 0.45, 0.35, 0.3, 0.1, 0.1])
    p = np.stack([fade, fade], axis=1)
    plain, held = posteriors_to_events(p, ["a", "b"], HOP, threshold=0.5, hysteresis=[1.0, 0.5])
    assert _spans([plain]) == [(0.2, 0.5, "a")]
    assert _spans([held]) == [(0.2, 0.8, "b")]  # on while above 0.25
    assert held.confidence == pytest.approx(fade[2:8].mean())
    # It reaches back before the onset too: the run above the lower threshold is the event.
    rise = fade[::-1].copy()
    (event,) = posteriors_to_events(rise[:, None], ["a"], HOP, threshold=0.5, hysteresis=0.5)
    assert _spans([event]) == [(0.2, 0.8, "a")]


def test_hysteresis_starts_nothing_below_the_threshold() -> None:
    # A bump that reaches only the lower threshold is no event; one that passes the
    # threshold takes the stretch above the lower one around it, not the bump beside it.
    p = np.array([0.1, 0.4, 0.4, 0.1, 0.3, 0.6, 0.3, 0.1, 0.4, 0.4, 0.1])[:, None]
    (event,) = posteriors_to_events(p, ["a"], HOP, threshold=0.5, hysteresis=0.5)
    assert _spans([event]) == [(0.4, 0.7, "a")]
    assert posteriors_to_events(p, ["a"], HOP, threshold=0.7, hysteresis=0.5) == []


def test_hysteresis_of_one_is_one_threshold() -> None:
    rng = np.random.default_rng(3)
    p = np.cumsum(rng.normal(0, 0.15, (400, 3)), axis=0) % 1.0
    plain = posteriors_to_event_arrays(p, HOP, threshold=0.5, median_filter_frames=3)
    same = posteriors_to_event_arrays(p, HOP, threshold=0.5, median_filter_frames=3, hysteresis=1)
    for a, b in zip(plain.__dict__.values(), same.__dict__.values()):
        np.testing.assert_array_equal(a, b)


def _naive_hysteresis(p, hop, thr, ratio, size):
    """Frame-by-frame reference: runs of the filtered posterior above thr × ratio that hold
    a frame of the filtered posterior above thr."""
    out = []
    for c in range(p.shape[1]):
        smooth = median_filter(p[:, c], size=size[c], mode="reflect")
        high, low = smooth > thr[c], (smooth > thr[c] * ratio[c]) | (smooth > thr[c])
        t = 0
        while t < len(low):
            if not low[t]:
                t += 1
                continue
            end = t
            while end < len(low) and low[end]:
                end += 1
            if high[t:end].any():
                out.append((t, c, end))
            t = end
    return sorted(out)


@pytest.mark.parametrize("seed", range(6))
def test_hysteresis_random_against_naive(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_frames, n_classes = int(rng.integers(1, 300)), int(rng.integers(1, 6))
    p = np.cumsum(rng.normal(0, 0.15, (n_frames, n_classes)), axis=0) % 1.0
    thr = rng.uniform(0.3, 0.8, n_classes)
    ratio = rng.choice([1.0, 0.8, 0.5, 0.25], n_classes)
    size = rng.choice([1, 3, 5, 9], n_classes)
    got = posteriors_to_event_arrays(
        p, 0.02, threshold=thr, median_filter_frames=size, hysteresis=ratio
    )
    rows = sorted(zip(got.start.tolist(), got.class_index.tolist(), got.stop.tolist()))
    assert rows == _naive_hysteresis(p, 0.02, thr, ratio, size)


@pytest.mark.parametrize("seed", range(8))
def test_random_against_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_frames, n_classes = int(rng.integers(1, 300)), int(rng.integers(1, 6))
    # Smoothed noise gives runs of varied lengths.
    p = np.cumsum(rng.normal(0, 0.15, (n_frames, n_classes)), axis=0) % 1.0
    size, thr = int(rng.choice([1, 3, 5])), float(rng.uniform(0.3, 0.7))
    min_event_s, min_gap_s = float(rng.choice([0, 0.05, 0.2])), float(rng.choice([0, 0.1, 0.3]))
    got = posteriors_to_event_arrays(
        p,
        0.02,
        threshold=thr,
        median_filter_frames=size,
        min_event_s=min_event_s,
        min_gap_s=min_gap_s,
    )
    expected = _naive(p, 0.02, thr, size, min_event_s, min_gap_s)
    rows = sorted(zip(got.start, got.class_index, got.stop, got.confidence, got.peak))
    assert [r[:3] for r in rows] == [r[:3] for r in expected]
    np.testing.assert_allclose([r[3:] for r in rows], [r[3:] for r in expected], rtol=1e-12)


def test_one_hour_twenty_classes_runs() -> None:
    # 1 h at 50 frames/s: must be fast; nothing is asserted on time.
    rng = np.random.default_rng(0)
    blocks = rng.random((3600, 20), dtype=np.float32)
    p = np.repeat(blocks, 50, axis=0) + rng.normal(0, 0.1, (180_000, 20)).astype(np.float32)
    events = posteriors_to_events(
        p,
        [f"c{k}" for k in range(20)],
        0.02,
        threshold=0.5,
        median_filter_frames=5,
        min_event_s=0.1,
        min_gap_s=0.1,
    )
    assert events
    assert all(e.offset > e.onset for e in events[:100])
    onsets = [e.onset for e in events]
    assert onsets == sorted(onsets)
