"""Axis items and time formatting shared by the plots and the status bar."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from tfstudio.features.freq_scale import FrequencyScale, format_tick_hz


def format_time(seconds: float, decimals: int = 3) -> str:
    """``12.345`` below a minute, ``1:02.345`` below an hour, ``1:02:03.4`` above."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    scale = 10**decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{frac:0{decimals}d}" if decimals > 0 else ""
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}{tail}"
    if minutes:
        return f"{sign}{minutes}:{secs:02d}{tail}"
    return f"{sign}{secs}{tail}"


def parse_time(text: str) -> float:
    """What :func:`format_time` writes, back to seconds: ``12.5``, ``1:02.5``, ``1:02:03.25``
    (and ``-`` in front); raises ValueError for anything else."""
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    parts = text.lstrip("-").split(":")
    if not 1 <= len(parts) <= 3 or any(not p.strip() for p in parts):
        raise ValueError(f"not a time: {text!r}")
    *whole, seconds = parts
    value = float(seconds)
    for unit, part in zip((60.0, 3600.0), reversed(whole), strict=False):
        if not part.strip().isdigit():
            raise ValueError(f"not a time: {text!r}")
        value += unit * int(part)
    if whole and not 0 <= float(seconds) < 60:
        raise ValueError(f"seconds must be under 60 in {text!r}")
    return sign * value


def format_duration(seconds: float) -> str:
    """A recording's length with its unit: ``4.0 s`` below a minute, else ``m:ss``/``h:mm:ss``."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    return format_time(seconds, 0)


def time_axis_label(t_max: float) -> str:
    """The time axis title, naming the unit its tick labels use up to ``t_max`` seconds."""
    if t_max >= 3600:
        return "Time (h:mm:ss)"
    if t_max >= 60:
        return "Time (m:ss)"
    return "Time (s)"


def pin_left_axis(plot: pg.PlotItem, width: int) -> None:
    """Give a plot's left axis a fixed width that survives hiding and showing the plot.

    Plots stacked on one time axis line up only while their left axes are equally wide.
    pyqtgraph re-measures an axis to 0 px whenever it is touched while not visible (its plot
    hidden, then resized or relabelled) and measures it again only on the axis's own
    ``show()``, never when its plot is shown: the plot would come back with its data area
    ``width`` px left of its neighbours'.
    """
    axis = plot.getAxis("left")
    axis.setWidth(width)

    def remeasure() -> None:
        if plot.isVisible():
            axis.setWidth(width)

    plot.visibleChanged.connect(remeasure)


def format_hz(hz: float) -> str:
    return f"{hz / 1000:.2f} kHz" if hz >= 1000 else f"{hz:.0f} Hz"


class TimeAxis(pg.AxisItem):
    """Seconds as 12.5 / 1:02.5 / 1:02:03 instead of SI prefixes (no "7.2 ks")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="bottom", **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):
        decimals = max(0, min(6, -math.floor(math.log10(spacing)))) if spacing > 0 else 0
        return [format_time(v, decimals) for v in values]


class FrequencyAxis(pg.AxisItem):
    """The spectrogram's left axis: pyqtgraph's own ticks (Hz with SI prefixes) on a linear
    scale; on a log or mel scale ticks at round frequencies, labelled in Hz."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("left", **kwargs)
        self.scale_ = FrequencyScale()

    def set_scale(self, scale: FrequencyScale) -> None:
        self.scale_ = scale
        self.enableAutoSIPrefix(scale.linear)
        if scale.linear:
            self.setLabel("Frequency", units="Hz")
        else:
            self.setLabel(f"Frequency (Hz, {'log' if scale.kind == 'log' else 'mel'} scale)")
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        scale = self.scale_
        if scale.linear:
            return super().tickValues(minVal, maxVal, size)
        low, high = scale.to_hz(min(minVal, maxVal)), scale.to_hz(max(minVal, maxVal))
        count = max(2, int(size / 28))  # a label every ~28 px at most
        hz = scale.ticks(float(low), float(high), max_ticks=count)
        return [(1.0, [scale.to_axis(h) for h in hz])]

    def tickStrings(self, values, scale, spacing):
        if self.scale_.linear:
            return super().tickStrings(values, scale, spacing)
        return [format_tick_hz(float(self.scale_.to_hz(v))) for v in values]


class LaneAxis(pg.AxisItem):
    """Class names at lane centres; names are elided to the axis width."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="left", **kwargs)
        self._names: list[str] = []

    def set_names(self, names: list[str]) -> None:
        font = self.style.get("tickFont") or QFont()
        metrics = QFontMetrics(font)
        room = max(20, int(self.width()) - 14)
        self._names = [metrics.elidedText(n, Qt.TextElideMode.ElideRight, room) for n in names]
        self.setTicks([[(i + 0.5, n) for i, n in enumerate(self._names)], []])
