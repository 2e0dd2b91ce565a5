"""Frequency axes for display: linear, logarithmic or mel, and the spectrogram rows they show.

Events, boxes and the cursor readout stay in Hz; only the picture's vertical coordinate is
warped. :class:`FrequencyScale` maps Hz to that coordinate and back (numpy-aware), picks tick
positions at round frequencies, and resamples an image of linear FFT bins into rows evenly
spaced on the warped axis (:meth:`FrequencyScale.warp`): a row that spans many bins (the top of
a log axis) shows their loudest, so a narrow tone never vanishes between rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SCALES", "FrequencyScale", "format_tick_hz"]

SCALES = ("linear", "log", "mel")
# The lowest frequency a log axis shows (0 Hz is at minus infinity on it).
LOG_FLOOR_HZ = 20.0
_ROUND_HZ = (1.0, 2.0, 5.0)


def format_tick_hz(hz: float) -> str:
    """500, 1k, 2.5k, 10k: tick labels on a warped axis (the axis title says Hz)."""
    if hz >= 1000:
        k = hz / 1000
        return f"{k:g}k"
    return f"{hz:g}"


@dataclass(frozen=True)
class FrequencyScale:
    """One of :data:`SCALES`; ``to_axis`` and ``to_hz`` are inverse on [floor, ∞)."""

    kind: str = "linear"

    def __post_init__(self) -> None:
        if self.kind not in SCALES:
            raise ValueError(
                f"frequency scale must be one of {', '.join(SCALES)}, not {self.kind!r}"
            )

    @property
    def linear(self) -> bool:
        return self.kind == "linear"

    @property
    def floor_hz(self) -> float:
        """The lowest frequency the axis can show (20 Hz on a log axis, else 0)."""
        return LOG_FLOOR_HZ if self.kind == "log" else 0.0

    def to_axis(self, hz: Any) -> Any:
        """Hz → the axis coordinate (floats stay floats, arrays stay arrays)."""
        if self.kind == "linear":
            return hz
        x = np.asarray(hz, dtype=np.float64)
        if self.kind == "mel":  # HTK's mel scale
            y = 2595.0 * np.log10(1.0 + np.maximum(x, 0.0) / 700.0)
        else:
            y = np.log10(np.maximum(x, LOG_FLOOR_HZ))
        return float(y) if np.ndim(y) == 0 else y

    def to_hz(self, y: Any) -> Any:
        """The axis coordinate → Hz."""
        if self.kind == "linear":
            return y
        v = np.asarray(y, dtype=np.float64)
        hz = 700.0 * (10.0 ** (v / 2595.0) - 1.0) if self.kind == "mel" else 10.0**v
        return float(hz) if np.ndim(hz) == 0 else hz

    def ticks(self, low_hz: float, high_hz: float, max_ticks: int = 8) -> list[float]:
        """Round frequencies between ``low_hz`` and ``high_hz``, at least 1/``max_ticks`` of
        the axis apart: powers of ten first, then 2 and 5 × 10^k, then (mel) whole kHz, each
        kept only where it does not crowd one already kept."""
        low = max(low_hz, LOG_FLOOR_HZ)  # nothing below 20 Hz is worth a label
        if high_hz <= low:
            return []
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high_hz)) + 1)
        by_priority = [[m * 10.0**e for e in decades] for m in _ROUND_HZ]  # 1×, then 2×, then 5×
        if self.kind == "mel":  # the mel axis is nearly linear above 1 kHz
            by_priority.append([k * 1000.0 for k in range(1, int(high_hz // 1000) + 1)])
        y0, y1 = self.to_axis(low), self.to_axis(high_hz)
        gap = (y1 - y0) / max(1, max_ticks)
        kept: list[float] = []
        for group in by_priority:
            for hz in group:
                if not low <= hz <= high_hz or hz in kept:
                    continue
                y = self.to_axis(hz)
                if all(abs(y - self.to_axis(k)) >= gap for k in kept):
                    kept.append(hz)
        return sorted(kept)

    def axis_extent(self, bin_hz: float, n_bins: int) -> tuple[float, float]:
        """(bottom, top) on the axis of an image of ``n_bins`` FFT bins ``bin_hz`` apart (bin
        k centred on k · bin_hz)."""
        if self.linear:
            return -0.5 * bin_hz, (n_bins - 0.5) * bin_hz
        return self.to_axis(self.floor_hz), self.to_axis((n_bins - 0.5) * bin_hz)

    def warp_rows(self, bin_hz: float, n_bins: int, n_rows: int | None = None) -> np.ndarray:
        """For each output row, evenly spaced on the axis from bottom to top, the first FFT
        bin it covers (non-decreasing; ``np.maximum.reduceat`` then takes each row's loudest)."""
        n_rows = n_rows or n_bins
        bottom, top = self.axis_extent(bin_hz, n_bins)
        edges = np.linspace(bottom, top, n_rows + 1)[:-1]
        first = np.floor(np.asarray(self.to_hz(edges)) / bin_hz + 0.5).astype(np.int64)
        return np.clip(first, 0, n_bins - 1)

    def warp(self, image: np.ndarray, bin_hz: float, rows: np.ndarray | None = None) -> np.ndarray:
        """An image of linear FFT bins (rows) resampled onto this axis (the same image on a
        linear one)."""
        if self.linear:
            return image
        if rows is None:
            rows = self.warp_rows(bin_hz, image.shape[0])
        return np.ascontiguousarray(np.maximum.reduceat(image, rows, axis=0))
