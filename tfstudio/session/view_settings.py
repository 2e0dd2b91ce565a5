"""How spectrograms are drawn: the user's view settings, checked, without Qt.

:mod:`tfstudio.qt.settings` remembers them between sessions (QSettings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from tfstudio.features.freq_scale import SCALES
from tfstudio.features.tiles import WINDOWS

# Name shown to the user → pyqtgraph colormap name (and whether it is reversed).
COLORMAPS: dict[str, tuple[str, bool]] = {
    "Magma": ("magma", False),
    "Inferno": ("inferno", False),
    "Viridis": ("viridis", False),
    "Cividis": ("cividis", False),
    "Grey (dark is quiet)": ("CET-L1", False),
    "Grey (paper, dark is loud)": ("CET-L1", True),
}
FFT_SIZES = (256, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class ViewSettings:
    """How spectrograms are drawn; every field is remembered between sessions."""

    colormap: str = "Magma"
    range_db: float = 60.0  # dynamic range shown: top − range … top
    auto_top: bool = True  # top level from the recording's loud tail
    top_db: float = -20.0  # used when auto_top is off
    n_fft: int = 1024
    hop: int = 256  # samples between columns at full zoom
    window: str = "hann"  # the FFT's analysis window (tfstudio.features.tiles.WINDOWS)
    min_hz: float = 0.0
    max_hz: float = 0.0  # 0: up to the Nyquist frequency
    label_overlay: bool = True  # draw time-only labels over the spectrogram too
    cache_mb: int = 128
    freq_scale: str = "linear"  # linear, log or mel frequency axis (boxes stay in Hz)
    brightness: float = 0.0  # −100 … 100: moves the colour levels (0: as top and range say)
    contrast: float = 0.0  # −100 … 100: narrows (+) or widens (−) the dynamic range shown
    waveform: bool = False  # the waveform strip above the spectrogram
    clock_time: bool = False  # times of day on the time axis where the recording's start is known

    def colour_levels(self, top_db: float) -> tuple[float, float]:
        """The dB drawn as the bottom and top colours when the loudest colour would be
        ``top_db``: ``range_db`` below it, then contrast scales that span around its middle
        (up to four times narrower at +100, wider at −100) and brightness moves it down
        (+, everything brighter) or up by up to half the range."""
        span = self.range_db * 4.0 ** (-self.contrast / 100.0)
        middle = top_db - self.range_db / 2 - self.brightness / 100.0 * self.range_db / 2
        return (middle - span / 2, middle + span / 2)

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> ViewSettings:
        """Settings from remembered values by field name, typed or as text (an INI file gives
        text back); a missing value or one that does not read as its field's kind keeps the
        default, and the result is :meth:`validated`."""
        values: dict[str, Any] = {}
        defaults = cls()
        for f in fields(cls):
            raw = stored.get(f.name)
            if raw is None:
                continue
            default = getattr(defaults, f.name)
            try:
                if isinstance(default, bool):
                    values[f.name] = raw if isinstance(raw, bool) else str(raw).lower() == "true"
                else:
                    values[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                continue
        return cls(**values).validated()

    def with_changes(self, **changes: Any) -> ViewSettings:
        return replace(self, **changes)

    def validated(self) -> ViewSettings:
        """Clamp values a hand-edited or old settings file might hold."""
        n_fft = self.n_fft if self.n_fft in FFT_SIZES else 1024
        hop = int(min(max(16, self.hop), n_fft))
        colormap = self.colormap if self.colormap in COLORMAPS else "Magma"
        return replace(
            self,
            colormap=colormap,
            freq_scale=self.freq_scale if self.freq_scale in SCALES else "linear",
            window=self.window if self.window in WINDOWS else "hann",
            n_fft=n_fft,
            hop=hop,
            range_db=float(min(max(10.0, self.range_db), 200.0)),
            min_hz=max(0.0, float(self.min_hz)),
            max_hz=max(0.0, float(self.max_hz)),
            cache_mb=int(min(max(16, self.cache_mb), 4096)),
            brightness=float(min(max(-100.0, self.brightness), 100.0)),
            contrast=float(min(max(-100.0, self.contrast), 100.0)),
        )
