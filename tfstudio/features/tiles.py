"""Display spectrogram tiles: the numbers behind the spectrogram view (``tfstudio.qt`` computes
them on worker threads and draws them).

A recording is shown as a pyramid of tiles. Level ``L`` has one column every ``hop * 2**L``
samples; each tile holds ``TILE_COLUMNS`` columns. The view picks the coarsest level whose
columns are still at least one per pixel, so no more columns are computed than can be seen.
A column whose span is longer than the FFT window averages the power of up to
``MAX_SUBFRAMES`` windows spread over the span: enough to keep short sounds visible when zoomed
out, and a bounded cost per column whatever the zoom.

Values are dB of the mean power per bin relative to full scale, the same units at every level,
so coarse tiles and refined ones share the same colour levels (no flash while refining). Tiles
are stored as one byte per value ("dB codes", 0.63 dB steps from -150 to +10 dB): a quarter of
the memory of float32, finer than any colour map can show, and pyqtgraph maps bytes through the
lookup table without a float pass.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# scipy.fft is imported where a tile is first computed, not here (scipy.signal not at all):
# they cost seconds on a small machine and the window must paint before any tile exists.

TILE_COLUMNS = 256
MAX_SUBFRAMES = 8
# A block read costs one seek; beyond this many samples, reading only the windows is cheaper.
MAX_BLOCK_SAMPLES = 1 << 18
# FFT batch: short enough that the worker never holds the interpreter for long.
FFT_BATCH = 256
# Windows analysed per step of a tile: bounds the working memory (~1 MB at n_fft 1024).
CHUNK_WINDOWS = 256
OVERVIEW_COLUMNS = 2048
# While a tile computes, the view shows its nearest cached ancestor up to this many levels up.
MAX_ANCESTOR_LEVELS = 8
FLOOR_DB = -160.0
CODE_MIN_DB = -150.0
CODE_MAX_DB = 10.0
CODE_STEP_DB = (CODE_MAX_DB - CODE_MIN_DB) / 255.0


class FrameReader(Protocol):
    """What tiles need from an audio reader (``tfstudio.audio.AudioReader`` fits)."""

    sample_rate: int
    frames: int

    def read_frames(
        self, start: int, stop: int, *, mono: bool = True, pad: bool = False
    ) -> np.ndarray: ...


# The analysis windows a display spectrogram offers, as cosine-sum coefficients of their
# periodic forms (w[n] = Σ_k (−1)^k a_k cos(2πkn/N)); Hann is the default.
WINDOWS: dict[str, tuple[float, ...]] = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.5, 0.08),
    "blackman-harris": (0.35875, 0.48829, 0.14128, 0.01168),
    "rectangular": (1.0,),
}


@dataclass(frozen=True)
class SpectrogramParams:
    """FFT size, base hop (samples) and window of a display spectrogram."""

    n_fft: int = 1024
    hop: int = 256
    window: str = "hann"

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, not {self.window!r}")

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def level_hop(self, level: int) -> int:
        return self.hop << level

    def columns(self, frames: int, level: int) -> int:
        """Number of columns of the whole recording at ``level``."""
        return max(1, math.ceil(frames / self.level_hop(level)))

    def tiles(self, frames: int, level: int) -> int:
        return math.ceil(self.columns(frames, level) / TILE_COLUMNS)

    def tile_seconds(self, sample_rate: int, level: int) -> float:
        return TILE_COLUMNS * self.level_hop(level) / sample_rate

    def level_for(self, samples_per_pixel: float, frames: int) -> int:
        """The coarsest level with at least one column per pixel."""
        if samples_per_pixel <= self.hop:
            return 0
        level = math.floor(math.log2(samples_per_pixel / self.hop))
        # No point going coarser than the level where one tile holds the whole recording.
        top = max(0, math.ceil(math.log2(max(1.0, frames / (self.hop * TILE_COLUMNS)))))
        return max(0, min(level, top))

    def frequency_rect(self, sample_rate: int) -> tuple[float, float]:
        """(bottom, height) in Hz so that bin ``k`` is centred on ``k * sr / n_fft``."""
        bin_hz = sample_rate / self.n_fft
        return -0.5 * bin_hz, self.n_bins * bin_hz


@dataclass(frozen=True)
class TileKey:
    """Identifies one tile: recording file, parameters, level and index along time."""

    path: str
    params: SpectrogramParams
    level: int
    index: int

    def parent(self) -> TileKey:
        return TileKey(self.path, self.params, self.level + 1, self.index // 2)

    def time_span(self, sample_rate: int) -> tuple[float, float]:
        seconds = self.params.tile_seconds(sample_rate, self.level)
        return self.index * seconds, (self.index + 1) * seconds


def tiles_in_window(
    path: str,
    params: SpectrogramParams,
    sample_rate: int,
    frames: int,
    level: int,
    t0: float,
    t1: float,
) -> tuple[list[TileKey], list[TileKey]]:
    """The tiles at ``level`` that cover ``t0``–``t1`` seconds, and the one either side (to
    prefetch, so that a short pan finds them ready)."""
    seconds = params.tile_seconds(sample_rate, level)
    last = params.tiles(frames, level) - 1
    first_i = max(0, int(t0 // seconds))
    last_i = min(last, int(t1 // seconds))
    visible = [TileKey(path, params, level, i) for i in range(first_i, last_i + 1)]
    prefetch = [
        TileKey(path, params, level, i) for i in (first_i - 1, last_i + 1) if 0 <= i <= last
    ]
    return visible, prefetch


class _Window:
    _cache: dict[tuple[int, str], tuple[np.ndarray, float]] = {}  # noqa: RUF012 - read-mostly
    _lock = threading.Lock()

    @classmethod
    def get(cls, n_fft: int, kind: str = "hann") -> tuple[np.ndarray, float]:
        with cls._lock:
            if (n_fft, kind) not in cls._cache:
                # Periodic cosine-sum windows (scipy.signal.get_window(kind, n) to 1e-16):
                # importing scipy.signal would cost seconds before the first tile.
                phase = 2 * np.pi * np.arange(n_fft) / n_fft
                window = np.zeros(n_fft)
                for k, a in enumerate(WINDOWS[kind]):
                    window += (-1) ** k * a * np.cos(k * phase)
                window = window.astype(np.float32)
                # Scaled so that a full-scale sine reads about 0 dB.
                scale = float(2.0 / (window.sum() ** 2))
                cls._cache[n_fft, kind] = (window, scale)
            return cls._cache[n_fft, kind]


def window_starts(
    column_start: float, column_width: float, n_columns: int, n_fft: int, subframes: int
) -> np.ndarray:
    """Start frames (n_columns, subframes) of FFT windows centred evenly inside each column."""
    cols = np.arange(n_columns, dtype=np.float64)[:, None]
    sub = (np.arange(subframes, dtype=np.float64)[None, :] + 0.5) / subframes
    centres = column_start + (cols + sub) * column_width
    return np.floor(centres).astype(np.int64) - n_fft // 2


def power_spectra(windows: np.ndarray, n_fft: int, kind: str = "hann") -> np.ndarray:
    """Scaled power spectra of windows (n, n_fft) → (n, n_bins), computed in small batches."""
    import scipy.fft

    window, scale = _Window.get(n_fft, kind)
    out = np.empty((len(windows), n_fft // 2 + 1), dtype=np.float32)
    for i in range(0, len(windows), FFT_BATCH):
        spectrum = scipy.fft.rfft(windows[i : i + FFT_BATCH] * window, axis=1)
        out[i : i + FFT_BATCH] = spectrum.real**2 + spectrum.imag**2
    out *= scale
    return out


def read_windows(reader: FrameReader, starts: np.ndarray, n_fft: int) -> np.ndarray:
    """Samples of every window (n, n_fft): one block read when they are close, else one read
    per window (zoomed far out, most samples between windows are never needed)."""
    flat = starts.reshape(-1)
    if not len(flat):
        return np.zeros((0, n_fft), dtype=np.float32)
    first, last = int(flat.min()), int(flat.max()) + n_fft
    if last - first <= max(MAX_BLOCK_SAMPLES, 4 * n_fft * len(flat)):
        block = reader.read_frames(first, last, mono=True, pad=True)
        index = (flat - first)[:, None] + np.arange(n_fft)[None, :]
        return block[index]
    out = np.empty((len(flat), n_fft), dtype=np.float32)
    for i, start in enumerate(flat):
        out[i] = reader.read_frames(int(start), int(start) + n_fft, mono=True, pad=True)
    return out


def columns_db(
    reader: FrameReader,
    n_fft: int,
    column_start: float,
    column_width: float,
    n_columns: int,
    subframes: int,
    window: str = "hann",
) -> np.ndarray:
    """Row-major (n_bins, n_columns) image of consecutive columns, in dB codes.

    Columns are processed a few at a time so the working memory stays around a megabyte,
    whatever the zoom level or the length of the recording.
    """
    out = np.empty((n_fft // 2 + 1, n_columns), dtype=np.uint8)
    step = max(1, CHUNK_WINDOWS // subframes)
    for c0 in range(0, n_columns, step):
        n = min(step, n_columns - c0)
        starts = window_starts(column_start + c0 * column_width, column_width, n, n_fft, subframes)
        power = power_spectra(read_windows(reader, starts, n_fft), n_fft, window)
        mean = power.reshape(n, subframes, -1).mean(axis=1)
        np.maximum(mean, 10.0 ** (FLOOR_DB / 10.0), out=mean)
        out[:, c0 : c0 + n] = db_to_codes(10.0 * np.log10(mean)).T
    return out


def subframes_for(column_width: float, n_fft: int, limit: int = MAX_SUBFRAMES) -> int:
    return int(min(limit, max(1, math.ceil(column_width / n_fft))))


def compute_tile(reader: FrameReader, key: TileKey) -> np.ndarray:
    """The (n_bins, ≤TILE_COLUMNS) image of one tile, in dB codes."""
    params = key.params
    hop = params.level_hop(key.level)
    first = key.index * TILE_COLUMNS
    n_columns = min(TILE_COLUMNS, params.columns(reader.frames, key.level) - first)
    if n_columns <= 0:
        return np.zeros((params.n_bins, 1), dtype=np.uint8)
    return columns_db(
        reader,
        params.n_fft,
        first * hop,
        hop,
        n_columns,
        subframes_for(hop, params.n_fft),
        params.window,
    )


def overview_columns(params: SpectrogramParams, frames: int) -> int:
    return int(min(OVERVIEW_COLUMNS, params.columns(frames, 0)))


def compute_overview(reader: FrameReader, params: SpectrogramParams, subframes: int) -> np.ndarray:
    """The whole recording in ``overview_columns`` columns; ``subframes=1`` is a fast draft."""
    n_columns = overview_columns(params, reader.frames)
    width = reader.frames / n_columns
    return columns_db(
        reader,
        params.n_fft,
        0.0,
        width,
        n_columns,
        subframes_for(width, params.n_fft, subframes),
        params.window,
    )


def level_at(
    image: np.ndarray,
    params: SpectrogramParams,
    sample_rate: int,
    start_s: float,
    hop_samples: float,
    seconds: float,
    hz: float,
) -> float | None:
    """The level in dB that a tile or overview ``image`` (codes; rows are frequency bins,
    columns frames ``hop_samples`` apart from ``start_s``) shows at (``seconds``, ``hz``);
    None outside it."""
    column = math.floor((seconds - start_s) * sample_rate / hop_samples)
    bottom, height = params.frequency_rect(sample_rate)
    row = math.floor((hz - bottom) / height * image.shape[0])
    if 0 <= column < image.shape[1] and 0 <= row < image.shape[0]:
        return float(codes_to_db(image[row, column]))
    return None


def db_to_codes(db: np.ndarray) -> np.ndarray:
    """dB → uint8 codes (clipped to the code range)."""
    codes = np.rint((np.asarray(db, dtype=np.float32) - CODE_MIN_DB) / CODE_STEP_DB)
    return np.clip(codes, 0, 255).astype(np.uint8)


def codes_to_db(codes: np.ndarray | float) -> np.ndarray | float:
    return CODE_MIN_DB + np.asarray(codes, dtype=np.float32) * CODE_STEP_DB


def db_to_code_level(db: float) -> float:
    """A colour level in dB expressed on the code scale (for ImageItem.setLevels)."""
    return (db - CODE_MIN_DB) / CODE_STEP_DB


# The top colour level is at most this far below the loudest point of the picture.
PEAK_HEADROOM_DB = 10.0


def auto_top_db(image: np.ndarray) -> float:
    """A top colour level that makes typical recordings readable: just above the loud tail
    (the 99.9th percentile), and no more than ``PEAK_HEADROOM_DB`` under the loudest point. A
    sound filling less than 0.1 % of the picture (a 1 s call in 30 s of steady noise, typical
    of field recordings) was above the top, and the noise floor, just under it, washed the
    whole picture pale."""
    finite = image[image > 0]
    if not finite.size:
        return -20.0
    tail = float(codes_to_db(np.percentile(finite, 99.9)))
    peak = float(codes_to_db(finite.max()))
    top = max(tail, peak - PEAK_HEADROOM_DB)
    return float(math.ceil(top / 5.0) * 5.0)


class TileCache:
    """Thread-safe LRU of tile images bounded by bytes."""

    def __init__(self, max_bytes: int = 128 << 20):
        self.max_bytes = max_bytes
        self._items: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: TileKey) -> np.ndarray | None:
        with self._lock:
            image = self._items.get(key)
            if image is not None:
                self._items.move_to_end(key)
            return image

    def nearest(
        self, key: TileKey, coarser: int = MAX_ANCESTOR_LEVELS
    ) -> tuple[TileKey, np.ndarray] | None:
        """The cached tile of ``key``, else of its nearest ancestor at most ``coarser`` levels
        up (a blurrier picture of the same time), else None."""
        for _ in range(coarser + 1):
            image = self.get(key)
            if image is not None:
                return key, image
            key = key.parent()
        return None

    def __contains__(self, key: TileKey) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: TileKey, image: np.ndarray) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = image
            self._bytes += image.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
