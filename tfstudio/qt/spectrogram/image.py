"""The spectrogram image: tiles from :class:`TileService` at the level the zoom needs (coarse
ancestors, or the whole-recording overview stretched, while it computes), the overview strip,
and the colour levels and map they are painted with."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

from tfstudio.features.freq_scale import FrequencyScale
from tfstudio.features.tiles import (
    TILE_COLUMNS,
    SpectrogramParams,
    TileKey,
    auto_top_db,
    db_to_code_level,
    level_at,
    tiles_in_window,
)
from tfstudio.qt.spectrogram.viewbox import EditViewBox
from tfstudio.qt.tile_service import TileService
from tfstudio.session.view_settings import ViewSettings


class FastImageItem(pg.ImageItem):
    """An ImageItem whose rendered QImage is RGB32 rather than ARGB32.

    pyqtgraph renders to non-premultiplied ARGB32, which Qt's raster engine converts on every
    draw; the spectrogram is opaque, so the same bytes reinterpreted as RGB32 take the fast
    blit path (about 3x cheaper per tile per frame).
    """

    def __init__(self, **kwargs):
        # Per item, not pg.setConfigOptions: other plots in the app keep their own defaults.
        super().__init__(axisOrder="row-major", **kwargs)

    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        if self.qimage is not None and self.qimage.format() == QImage.Format.Format_ARGB32:
            self.qimage.reinterpretAsFormat(QImage.Format.Format_RGB32)


# The view's state shared by its layers (which file is shown, its extent), made from the
# store's Recording when one opens: view plumbing, not a core record.
@dataclass(frozen=True)
class AudioInfo:
    """The shown recording's audio: where it is and how long."""

    path: str
    sample_rate: int
    frames: int
    duration: float

    @property
    def nyquist(self) -> float:
        return self.sample_rate / 2


class SpectrogramImage(QObject):
    """The tiles under the spectrogram plot and the image of the overview plot."""

    firstImage = Signal(float)  # seconds from opening a recording to its first image

    def __init__(
        self,
        tiles: TileService,
        settings: ViewSettings,
        spec: pg.PlotItem,
        overview: pg.PlotItem,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.tiles = tiles
        self.settings = settings
        self.audio: AudioInfo | None = None
        self.params = SpectrogramParams(settings.n_fft, settings.hop, settings.window)
        self.overview: np.ndarray | None = None
        self.overview_final = False
        self._auto_top: float | None = None
        self._lut: np.ndarray | None = None
        self._tile_items: dict[TileKey, pg.ImageItem] = {}
        # The tiles' own images (linear FFT bins) beside the warped ones the items show.
        self._tile_sources: dict[TileKey, np.ndarray] = {}
        self._rows: tuple[tuple, np.ndarray] | None = None  # warp rows for (scale, bins…)
        self._spare_items: list[pg.ImageItem] = []
        self._opened_at = 0.0
        self._waiting_first_image = False
        self._spec = spec
        self._spec_vb: EditViewBox = spec.getViewBox()

        self.spec_fallback = FastImageItem()  # the overview stretched under missing tiles
        self.spec_fallback.setZValue(-100)
        spec.addItem(self.spec_fallback, ignoreBounds=True)
        self.ov_image = FastImageItem()
        # The strip only changes when the recording or its labels do: paint it from a cache.
        self.ov_image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        overview.addItem(self.ov_image, ignoreBounds=True)

        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.update)
        tiles.tileReady.connect(self._on_tile_ready)
        tiles.overviewReady.connect(self._on_overview_ready)

    # -------------------------------------------------------------- recording
    @property
    def scale(self) -> FrequencyScale:
        return FrequencyScale(self.settings.freq_scale)

    def _warped(self, image: np.ndarray) -> np.ndarray:
        """``image`` (linear bins) on the settings' frequency axis."""
        scale = self.scale
        if scale.linear or self.audio is None:
            return image
        bin_hz = self.audio.sample_rate / self.params.n_fft
        key = (scale.kind, bin_hz, image.shape[0])
        if self._rows is None or self._rows[0] != key:
            self._rows = (key, scale.warp_rows(bin_hz, image.shape[0]))
        return scale.warp(image, bin_hz, self._rows[1])

    def _frequency_rect(self) -> tuple[float, float]:
        """(bottom, height) of the images on the frequency axis."""
        assert self.audio is not None
        bottom, top = self.scale.axis_extent(
            self.audio.sample_rate / self.params.n_fft, self.params.n_bins
        )
        return bottom, top - bottom

    def redraw(self) -> None:
        """Draw everything again (another frequency scale): tiles placed afresh, the
        overview re-warped."""
        for key in list(self._tile_items):
            self._release_item(key)
        if self.overview is not None and self.audio is not None:
            self._show_overview(self.overview)
        self.schedule()

    def clear(self) -> None:
        """Forget the recording: nothing shown, nothing computing."""
        self.tiles.reset()
        for key in list(self._tile_items):
            self._release_item(key)
        self.overview = None
        self.overview_final = False
        self._auto_top = None
        self.spec_fallback.clear()
        self.ov_image.clear()
        self.audio = None

    def open(self, audio: AudioInfo, params: SpectrogramParams) -> None:
        self.audio = audio
        self.params = params

    def request_overview(self) -> None:
        """Start computing: the overview first (the first image), tiles as the view asks."""
        assert self.audio is not None
        self._opened_at = time.perf_counter()
        self._waiting_first_image = True
        self.tiles.request_overview(self.audio.path, self.params)

    def level_db(self, seconds: float, hz: float) -> float | None:
        """The level the picture shows at (``seconds``, ``hz``): from the finest tile on
        screen there, else the overview; None where nothing is drawn yet."""
        audio = self.audio
        if audio is None:
            return None
        rate = audio.sample_rate
        for key in sorted(self._tile_sources, key=lambda k: k.level):
            hop = self.params.level_hop(key.level)
            start = key.index * TILE_COLUMNS * hop / rate
            value = level_at(self._tile_sources[key], self.params, rate, start, hop, seconds, hz)
            if value is not None:
                return value
        if self.overview is not None and self.overview.shape[1]:
            hop_samples = audio.frames / self.overview.shape[1]
            return level_at(self.overview, self.params, rate, 0.0, hop_samples, seconds, hz)
        return None

    def has_image(self) -> bool:
        return self.overview is not None or any(i.isVisible() for i in self._tile_items.values())

    # ------------------------------------------------------------------- tiles
    def schedule(self) -> None:
        self._timer.start()

    def update(self) -> None:
        """Show the tiles of the visible window at the level its zoom needs; ask for the rest."""
        audio = self.audio
        if audio is None:
            return
        t0, t1 = self._spec_vb.time_range()
        t0, t1 = max(0.0, t0), min(audio.duration, t1)
        if t1 <= t0:
            return
        params = self.params
        samples_per_px = (t1 - t0) * audio.sample_rate / self._spec_vb.pixel_width()
        level = params.level_for(samples_per_px, audio.frames)
        visible: list[TileKey] = []
        wanted: list[TileKey] = []
        shown: dict[TileKey, np.ndarray] = {}
        overview_hop = audio.frames / self.overview.shape[1] if self.overview is not None else 0
        # The finished overview is already as sharp as this level: no tiles needed.
        if not (self.overview_final and params.level_hop(level) >= overview_hop):
            visible, prefetch = tiles_in_window(
                audio.path, params, audio.sample_rate, audio.frames, level, t0, t1
            )
            wanted = visible + prefetch
            for key in visible:
                found = self.tiles.cache.nearest(key)
                if found is not None:
                    shown[found[0]] = found[1]
        # The stretched overview only shows through gaps: skip drawing it when tiles cover all.
        complete = bool(wanted) and all(k in shown for k in visible)
        self.spec_fallback.setVisible(not complete)
        for key in list(self._tile_items):
            if key not in shown:
                self._release_item(key)
        for key, image in shown.items():
            if key not in self._tile_items:
                self._place_tile(key, image)
        self.tiles.request(wanted)
        if shown:
            self._note_first_image()

    def _place_tile(self, key: TileKey, image: np.ndarray) -> None:
        audio = self.audio
        assert audio is not None
        item = self._spare_items.pop() if self._spare_items else FastImageItem()
        if item.scene() is None:
            self._spec.addItem(item, ignoreBounds=True)
        item.setLookupTable(self._lut)
        item.setImage(self._warped(image), autoLevels=False, levels=self._levels())
        hop = self.params.level_hop(key.level)
        start = key.index * TILE_COLUMNS * hop / audio.sample_rate
        width = image.shape[1] * hop / audio.sample_rate
        bottom, height = self._frequency_rect()
        item.setRect(QRectF(start, bottom, width, height))
        self._tile_sources[key] = image
        item.setZValue(-10 - key.level)
        item.setVisible(True)
        self._tile_items[key] = item

    def _release_item(self, key: TileKey) -> None:
        item = self._tile_items.pop(key)
        self._tile_sources.pop(key, None)
        item.setVisible(False)
        self._spare_items.append(item)

    def _on_tile_ready(self, key: TileKey, image: np.ndarray) -> None:
        if self.audio is None or key.path != self.audio.path or key.params != self.params:
            return
        if self._auto_top is None:
            self._auto_top = auto_top_db(image)
            self.apply_levels()
        self.schedule()

    def _on_overview_ready(self, path: str, params, image: np.ndarray, final: bool) -> None:
        audio = self.audio
        if audio is None or path != audio.path or params != self.params:
            return
        self.overview = image
        self.overview_final = final
        self._auto_top = auto_top_db(image)
        self._show_overview(image)
        self.apply_levels()
        self._note_first_image()
        self.schedule()

    def _show_overview(self, image: np.ndarray) -> None:
        assert self.audio is not None
        bottom, height = self._frequency_rect()
        rect = QRectF(0.0, bottom, self.audio.duration, height)
        warped = self._warped(image)
        for item in (self.spec_fallback, self.ov_image):
            item.setLookupTable(self._lut)
            item.setImage(warped, autoLevels=False, levels=self._levels())
            item.setRect(rect)

    def _note_first_image(self) -> None:
        if self._waiting_first_image:
            self._waiting_first_image = False
            self.firstImage.emit(time.perf_counter() - self._opened_at)

    # ------------------------------------------------------------------ colours
    def levels_db(self) -> tuple[float, float]:
        """The dB shown as the bottom and top colours."""
        s = self.settings
        top = self._auto_top if s.auto_top and self._auto_top is not None else s.top_db
        return s.colour_levels(top)

    def _levels(self) -> tuple[float, float]:
        low, high = self.levels_db()
        return (db_to_code_level(low), db_to_code_level(high))

    def apply_levels(self) -> None:
        levels = self._levels()
        for item in (*self._tile_items.values(), self.spec_fallback, self.ov_image):
            if item.image is not None:
                item.setLevels(levels)

    def set_lookup_table(self, lut: np.ndarray) -> None:
        self._lut = lut
        for item in (
            *self._tile_items.values(),
            *self._spare_items,
            self.spec_fallback,
            self.ov_image,
        ):
            item.setLookupTable(lut)
