"""Frequency axes: Hz ↔ axis round trips, round ticks, and warped images that keep every tone
at its frequency."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tfstudio.features.freq_scale import FrequencyScale, format_tick_hz

BIN_HZ = 16000 / 1024  # 15.625 Hz: n_fft 1024 at 16 kHz
N_BINS = 513


@pytest.mark.parametrize("kind", ["linear", "log", "mel"])
def test_axis_and_hz_are_inverse(kind):
    scale = FrequencyScale(kind)
    hz = np.array([20.0, 100.0, 440.0, 1000.0, 7999.0])
    np.testing.assert_allclose(scale.to_hz(scale.to_axis(hz)), hz, rtol=1e-9)
    assert scale.to_hz(scale.to_axis(1000.0)) == pytest.approx(1000.0)
    # Monotonic: higher frequencies are higher on the axis.
    assert np.all(np.diff(scale.to_axis(hz)) > 0)


def test_known_values_and_the_log_floor():
    assert FrequencyScale("mel").to_axis(1000.0) == pytest.approx(999.99, abs=0.01)  # HTK
    log = FrequencyScale("log")
    assert log.to_axis(1000.0) == pytest.approx(3.0)
    assert log.to_axis(0.0) == log.to_axis(20.0)  # 0 Hz sits on the floor
    with pytest.raises(ValueError, match="linear, log, mel"):
        FrequencyScale("bark")


def test_ticks_are_round_inside_and_few():
    ticks = FrequencyScale("log").ticks(0.0, 8000.0)
    assert ticks[0] >= 20.0 and ticks[-1] <= 8000.0
    assert 3 <= len(ticks) <= 8
    assert all(float(f"{t:.0e}") == t for t in ticks)  # 1, 2, 5 × 10^k
    assert 1000.0 in ticks
    mel = FrequencyScale("mel").ticks(0.0, 8000.0, max_ticks=10)
    assert len(mel) <= 10 and 8000.0 >= mel[-1] >= 5000.0
    assert [format_tick_hz(t) for t in (50.0, 500.0, 1000.0, 2500.0, 10000.0)] == [
        "50",
        "500",
        "1k",
        "2.5k",
        "10k",
    ]


@pytest.mark.parametrize("kind", ["log", "mel"])
def test_a_warped_image_shows_each_tone_at_its_frequency(kind):
    scale = FrequencyScale(kind)
    image = np.zeros((N_BINS, 4), dtype=np.uint8)
    tones = {100.0: 200, 1000.0: 220, 6000.0: 240}  # Hz → code
    for hz, code in tones.items():
        image[round(hz / BIN_HZ), :] = code
    warped = scale.warp(image, BIN_HZ)
    assert warped.shape == image.shape and warped.dtype == np.uint8
    bottom, top = scale.axis_extent(BIN_HZ, N_BINS)
    for hz, code in tones.items():
        # Every tone survives, even where one row covers many bins (max, not a sample)…
        assert (warped == code).any(axis=1).sum() >= 1
        # …and it sits in the rows where its frequency falls on the axis.
        row = int((scale.to_axis(hz) - bottom) / (top - bottom) * N_BINS)
        assert code in warped[max(0, row - 1) : row + 2, 0]
    # Low frequencies get more rows on a log or mel axis than on a linear one.
    rows_100 = int((warped == 200).any(axis=1).sum())
    assert rows_100 > 1


def test_linear_warp_is_the_image_itself():
    image = np.arange(N_BINS * 2, dtype=np.uint8).reshape(N_BINS, 2)
    assert FrequencyScale("linear").warp(image, BIN_HZ) is image
    assert FrequencyScale("linear").axis_extent(BIN_HZ, N_BINS) == (
        -0.5 * BIN_HZ,
        (N_BINS - 0.5) * BIN_HZ,
    )


@pytest.mark.parametrize("kind", ["log", "mel"])
def test_ticks_never_crowd_each_other(kind):
    scale = FrequencyScale(kind)
    for count in (5, 12, 22):
        ticks = scale.ticks(0.0, 11025.0, max_ticks=count)
        ys = [scale.to_axis(t) for t in ticks]
        span = scale.to_axis(11025.0) - scale.to_axis(20.0)
        assert all(b - a >= span / count - 1e-9 for a, b in itertools.pairwise(ys))
        assert ticks[0] >= 20.0 and 1000.0 in ticks
