"""Axis items and time formatting shared by the plots and the status bar."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from tfstudio.features.freq_scale import FrequencyScale, format_tick_hz
from tfstudio.store.recorded import zone_text


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


class AxisPin:
    """One width for the left axes of plots stacked on one time axis, kept through hiding
    and showing the plots, and changed for all of them at once (:meth:`set_width`).

    Plots stacked on one time axis line up only while their left axes are equally wide.
    pyqtgraph re-measures an axis to 0 px whenever it is touched while not visible (its plot
    hidden, then resized or relabelled) and measures it again only on the axis's own
    ``show()``, never when its plot is shown: the plot would come back with its data area
    ``width`` px left of its neighbours'.
    """

    def __init__(self, plots: tuple[pg.PlotItem, ...], width: int):
        self.plots = plots
        self.width = width
        for plot in plots:
            plot.visibleChanged.connect(lambda plot=plot: self._remeasure(plot))
            plot.getAxis("left").setWidth(width)

    def set_width(self, width: int) -> bool:
        """Give every plot's left axis ``width`` px; True when that changed it."""
        if width == self.width:
            return False
        self.width = width
        for plot in self.plots:
            plot.getAxis("left").setWidth(width)
        return True

    def _remeasure(self, plot: pg.PlotItem) -> None:
        if plot.isVisible():
            plot.getAxis("left").setWidth(self.width)


def pin_left_axis(plot: pg.PlotItem, width: int) -> AxisPin:
    """Give a plot's left axis a fixed width that survives hiding and showing the plot."""
    return AxisPin((plot,), width)


def format_hz(hz: float) -> str:
    return f"{hz / 1000:.2f} kHz" if hz >= 1000 else f"{hz:.0f} Hz"


# Steps a clock reads well (seconds, minutes, hours), each with its minor step: pyqtgraph's
# decimal steps put ticks at 8:20, 16:40, 25:00 (500 s) on a long recording.
CLOCK_STEPS = (
    (1, 0.5),
    (2, 1),
    (5, 1),
    (10, 5),
    (15, 5),
    (30, 10),
    (60, 30),
    (120, 60),
    (300, 60),
    (600, 300),
    (900, 300),
    (1800, 600),
    (3600, 1800),
    (7200, 3600),
    (10800, 3600),
    (21600, 7200),
    (43200, 21600),
    (86400, 43200),
)


def clock_step(max_step: float) -> tuple[float, float] | None:
    """The largest round clock step (and its minor step) at most ``max_step`` seconds; None
    below a second, where decimal steps are the round ones."""
    if max_step < 1:
        return None
    days = max_step // 86400
    if days >= 2:
        return days * 86400, days * 43200
    return next(pair for pair in reversed(CLOCK_STEPS) if pair[0] <= max_step)


def _time_of_day(seconds: float, decimals: int) -> str:
    """``05:12:30`` (``05:12:30.5`` with decimals) for seconds since a midnight; past the
    next midnight the clock goes on from 00:00:00."""
    scale = 10**decimals
    whole, frac = divmod(round(seconds * scale), scale)
    minutes, secs = divmod(whole % 86400, 60)
    tail = f".{frac:0{decimals}d}" if decimals > 0 else ""
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{secs:02d}{tail}"


def _with_minutes(text: str) -> str:
    """Seconds under a minute as ``format_time`` writes them, in m:ss form."""
    sign = "-" if text.startswith("-") else ""
    whole, dot, frac = text.lstrip("-").partition(".")
    return f"{sign}0:{int(whole):02d}{dot}{frac}"


def clock_axis_label(start: datetime) -> str:
    """The time axis title when its ticks are times of day: the recorder's zone if known."""
    zone = zone_text(start)
    return f"Time of day ({zone})" if zone else "Time of day"


class TimeAxis(pg.AxisItem):
    """Seconds as 12.5 / 1:02.5 / 1:02:03 instead of SI prefixes (no "7.2 ks"), with ticks on
    round seconds, minutes and hours; or, with a start (`set_clock`), times of day
    (05:12:30) with ticks on round clock times."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="bottom", **kwargs)
        self.enableAutoSIPrefix(False)
        self._clock_offset: float | None = None  # the start's seconds since its midnight

    def set_clock(self, start: datetime | None) -> None:
        """Times of day from ``start`` on (None: seconds into the recording again)."""
        offset = None
        if start is not None:
            midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
            offset = (start - midnight).total_seconds()
        if offset != self._clock_offset:
            self._clock_offset = offset
            self.picture = None  # pyqtgraph redraws the ticks from scratch
            self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        offset = self._clock_offset
        if offset is None:
            return super().tickValues(minVal, maxVal, size)
        # Round times of day: the ticks of the clock's range, moved back onto the recording.
        levels = super().tickValues(minVal + offset, maxVal + offset, size)
        return [(spacing, [v - offset for v in values]) for spacing, values in levels]

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels = super().tickSpacing(minVal, maxVal, size)
        if self._tickSpacing is not None or not levels:
            return levels
        # pyqtgraph's own rule for the most room between two major ticks.
        intervals = max(2.25, 2.25 * self._tickDensity * math.sqrt(size / 300.0))
        step = clock_step(abs(maxVal - minVal) / intervals)
        if step is None:
            return levels
        return [(float(step[0]), 0.0), (float(step[1]), 0.0)]

    def tickStrings(self, values, scale, spacing):
        decimals = max(0, min(6, -math.floor(math.log10(spacing)))) if spacing > 0 else 0
        offset = self._clock_offset
        if offset is not None:
            return [_time_of_day(offset + v, decimals) for v in values]
        texts = [format_time(v, decimals) for v in values]
        if max((abs(v) for v in self.range), default=0.0) >= 60:
            # One form along an m:ss axis (its title says so, see time_axis_label): 0:00
            # and 0:30 beside 1:00, not 0 and 30, at every tick level.
            texts = [text if ":" in text else _with_minutes(text) for text in texts]
        return texts


class FittedTitleAxis(pg.AxisItem):
    """A left axis whose rotated title never runs past the plot's height into its
    neighbours' ("Frequency (kHz)" over "Posteriors" in a short view): the longest of the
    title and its ``shorter`` forms that fits, else none."""

    def __init__(self, *args: Any, shorter: Sequence[str] = (), **kwargs: Any) -> None:
        self.shorter = list(shorter)
        self._fitted_height = -1.0
        super().__init__(*args, **kwargs)

    def short_titles(self) -> list[str]:
        """Shorter forms of the title, longest first."""
        return self.shorter

    def labelString(self) -> str:
        full = super().labelString()
        room = self.size().height() - 6
        if getattr(self, "label", None) is None or room <= 0:
            return full
        metrics = QFontMetrics(self.label.font())
        style = ";".join(f"{k}: {v}" for k, v in self.labelStyle.items())
        plain = re.sub(r"<[^>]*>", "", full).strip()
        for text in (plain, *self.short_titles()):
            if metrics.horizontalAdvance(text) <= room:
                return full if text == plain else f"<span style='{style}'>{text}</span>"
        return ""

    def resizeEvent(self, ev=None) -> None:
        height = self.size().height()
        if getattr(self, "label", None) is not None and height != self._fitted_height:
            self._fitted_height = height
            self.label.setHtml(self.labelString())
        super().resizeEvent(ev)


class FrequencyAxis(FittedTitleAxis):
    """The spectrogram's left axis: pyqtgraph's own ticks (Hz with SI prefixes) on a linear
    scale; on a log or mel scale ticks at round frequencies, labelled in Hz."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("left", **kwargs)
        self.scale_ = FrequencyScale()

    def short_titles(self) -> list[str]:
        if self.scale_.linear:
            return [f"{self.labelUnitPrefix}{self.labelUnits}"]  # kHz
        return [f"Hz, {'log' if self.scale_.kind == 'log' else 'mel'}", "Hz"]

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


LANE_NAME_PADDING = 14  # the lane axis's room that is not the name's (tick offset, margin)


class LaneAxis(pg.AxisItem):
    """Class names at lane centres, elided in the middle to the axis width (the hotkey and
    the end of the name stay: "3  Comm…chiffchaff"); the full name is the tooltip."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="left", **kwargs)
        self._full: list[str] = []
        self._names: list[str] = []
        self.setAcceptHoverEvents(True)

    def text_font(self) -> QFont:
        return self.style.get("tickFont") or QFont()

    def name_room(self) -> int:
        """Pixels a name may take at the axis's width."""
        width = self.fixedWidth if self.fixedWidth is not None else self.width()
        return max(20, int(width) - LANE_NAME_PADDING)

    def set_names(self, names: list[str]) -> None:
        self._full = list(names)
        metrics = QFontMetrics(self.text_font())
        room = self.name_room()
        self._names = [metrics.elidedText(n, Qt.TextElideMode.ElideMiddle, room) for n in names]
        self.setTicks([[(i + 0.5, n) for i, n in enumerate(self._names)], []])

    def refresh(self) -> None:
        """Elide the names again (the axis's width changed)."""
        self.set_names(self._full)

    def name_at(self, y: float) -> str | None:
        """The full name of the lane at scene height ``y``."""
        view = self.linkedView()
        if view is None:
            return None
        row = math.floor(view.mapSceneToView(pg.Point(0.0, y)).y())
        return self._full[row] if 0 <= row < len(self._full) else None

    def hoverMoveEvent(self, event) -> None:
        name = self.name_at(event.scenePos().y())
        self.setToolTip(name or "")
        super().hoverMoveEvent(event)
