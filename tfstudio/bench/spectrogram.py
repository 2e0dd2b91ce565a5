"""``tfstudio bench spectrogram``: how soon a long recording shows, and in how much memory.

Opens a recording as the spectrogram view does, without the view: the Qt-free tile queue
(:class:`tfstudio.features.tile_queue.TileQueue`, one worker thread as in the window) is asked
for the overview first and then for the tiles of the opening view (the first
``INITIAL_VIEW_S`` seconds across ``width_px`` pixels), and each result's arrival is timed
from the moment of asking. The first of them is the first picture the window can draw. Then
single tiles are timed cold (fresh reader, nothing cached) at the zoom levels of a few view
widths, and the peak resident memory of all that is compared with the recording's decoded
size (tiles read the file a block at a time, so memory must not grow with the length).

The recording is a generated mono WAV of ``hours`` (noise with tones and sweeps, written a
block at a time), or any audio file. What needs the window itself (the first painted frame,
pan and zoom frame times with many labels) is measured by ``python -m tfstudio.qt.bench``.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tfstudio.audio import AudioReader
from tfstudio.bench.common import PeakRss, rss_mb, write_long_wav
from tfstudio.features.tile_queue import TileQueue
from tfstudio.features.tiles import SpectrogramParams, TileKey, compute_tile, tiles_in_window

__all__ = ["SpectrogramBench", "bench_spectrogram", "measure_recording"]

# As the window opens a recording (tfstudio.qt.spectrogram.view.INITIAL_VIEW_S; no Qt here).
INITIAL_VIEW_S = 60.0
ZOOMS = (("10s", 10.0), ("60s", 60.0), ("10min", 600.0), ("1h", 3600.0))
TILES_PER_ZOOM = 3
TIMEOUT_S = 900.0

Say = Callable[[str], None]


@dataclass
class SpectrogramBench:
    """One ``bench spectrogram`` result (seconds from asking, MiB of memory)."""

    audio: str
    seconds: float
    sample_rate: int
    file_mb: float
    decoded_mb: float
    width_px: int
    view_s: float
    level: int
    tiles_in_view: int
    first_image: str
    first_image_s: float
    draft_overview_s: float
    overview_s: float
    first_tile_s: float
    view_ready_s: float
    zooms: list[dict[str, Any]] = field(default_factory=list)
    write_s: float | None = None
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0
    peak_scoped: bool = True
    tile_cache_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Arrivals:
    """Times at which the queue's results arrive (called on its worker thread)."""

    def __init__(self, visible: set[TileKey], started: float):
        self.started = started
        self.visible = set(visible)
        self.first: tuple[str, float] | None = None
        self.draft: float | None = None
        self.overview: float | None = None
        self.tiles: dict[TileKey, float] = {}
        self.failed: list[str] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def _note(self, what: str) -> float:
        now = time.perf_counter() - self.started
        if self.first is None:
            self.first = (what, now)
        return now

    def on_overview(self, _path: str, _params: SpectrogramParams, _image: Any, final: bool) -> None:
        with self._lock:
            now = self._note("overview")
            if self.draft is None:
                self.draft = now
            if final:
                self.overview = now
            self._check()

    def on_tile(self, key: TileKey, _image: Any) -> None:
        with self._lock:
            now = self._note("tile")
            if key in self.visible:
                self.tiles.setdefault(key, now)
            self._check()

    def on_failed(self, message: str) -> None:
        with self._lock:
            self.failed.append(message)
            self.done.set()

    def _check(self) -> None:
        if self.overview is not None and self.visible <= set(self.tiles):
            self.done.set()


def measure_recording(
    path: Path, *, width_px: int = 1600, params: SpectrogramParams | None = None
) -> SpectrogramBench:
    """Time the opening of ``path`` as the window does it, then single tiles per zoom."""
    params = params or SpectrogramParams()
    with AudioReader(path) as reader:
        rate, frames = reader.sample_rate, reader.frames
    duration = frames / rate
    file_path = str(path)
    view_s = min(duration, INITIAL_VIEW_S)
    level = params.level_for(view_s * rate / width_px, frames)
    visible, prefetch = tiles_in_window(file_path, params, rate, frames, level, 0.0, view_s)

    peak = PeakRss()
    before = rss_mb()
    started = time.perf_counter()
    arrivals = _Arrivals(set(visible), started)
    queue = TileQueue(
        on_tile=arrivals.on_tile, on_overview=arrivals.on_overview, on_failed=arrivals.on_failed
    )
    try:
        queue.request_overview(file_path, params)
        queue.request(visible + prefetch)
        finished = arrivals.done.wait(TIMEOUT_S)
        queue.wait(TIMEOUT_S)
        cache_mb = queue.cache.nbytes / 2**20
    finally:
        queue.shutdown()
    if arrivals.failed:
        raise RuntimeError(arrivals.failed[0])
    if not finished or arrivals.first is None or arrivals.overview is None:
        raise RuntimeError(f"{path}: the spectrogram was not ready after {TIMEOUT_S:.0f} s")
    assert arrivals.draft is not None

    result = SpectrogramBench(
        audio=file_path,
        seconds=round(duration, 3),
        sample_rate=rate,
        file_mb=round(path.stat().st_size / 2**20, 1),
        decoded_mb=round(frames * 4 / 2**20, 1),
        width_px=width_px,
        view_s=round(view_s, 3),
        level=level,
        tiles_in_view=len(visible),
        first_image=arrivals.first[0],
        first_image_s=round(arrivals.first[1], 4),
        draft_overview_s=round(arrivals.draft, 4),
        overview_s=round(arrivals.overview, 4),
        first_tile_s=round(min(arrivals.tiles.values()), 4),
        view_ready_s=round(max(arrivals.overview, *arrivals.tiles.values()), 4),
        tile_cache_mb=round(cache_mb, 1),
    )
    result.zooms = _zoom_tiles(path, params, rate, frames, width_px)
    result.rss_before_mb = round(before, 1)
    result.peak_rss_mb = round(peak.mb(), 1)
    result.peak_scoped = peak.scoped
    return result


def _zoom_tiles(
    path: Path, params: SpectrogramParams, rate: int, frames: int, width_px: int
) -> list[dict[str, Any]]:
    """Median milliseconds of one tile, computed cold, at the level of each view width."""
    duration = frames / rate
    zooms = [(name, width) for name, width in ZOOMS if width <= duration] or [("whole", duration)]
    out = []
    with AudioReader(path) as reader:
        for name, width in zooms:
            level = params.level_for(width * rate / width_px, frames)
            count = params.tiles(frames, level)
            # Tiles from the middle of the recording (the start may sit in the OS's file cache).
            middle = count // 2
            indices = sorted({min(count - 1, middle + i) for i in range(TILES_PER_ZOOM)})
            times = []
            for index in indices:
                start = time.perf_counter()
                compute_tile(reader, TileKey(str(path), params, level, index))
                times.append(time.perf_counter() - start)
            out.append(
                {
                    "view": name,
                    "view_s": width,
                    "level": level,
                    "tile_s": round(params.tile_seconds(rate, level), 3),
                    "tile_ms": round(1000 * statistics.median(times), 2),
                }
            )
    return out


def bench_spectrogram(
    hours: float | None = 2.0,
    *,
    audio: Path | None = None,
    sample_rate: int = 48_000,
    width_px: int = 1600,
    say: Say = print,
) -> SpectrogramBench:
    """Measure ``audio``, or a generated recording of ``hours`` at ``sample_rate`` written to
    a temporary folder (removed afterwards)."""
    if audio is not None:
        return measure_recording(audio, width_px=width_px)
    assert hours is not None
    with tempfile.TemporaryDirectory(prefix="tfstudio-bench-spectrogram-") as tmp:
        path = Path(tmp) / f"long-{hours:g}h-{sample_rate}.wav"
        say(f"writing {hours:g} h of generated audio at {sample_rate} Hz…")
        start = time.perf_counter()
        try:
            write_long_wav(path, hours * 3600, sample_rate)
        except OSError as exc:
            raise OSError(f"{path}: cannot write the generated recording ({exc})") from None
        written = time.perf_counter() - start
        say(f"  {written:.1f} s, {path.stat().st_size / 2**20:.0f} MiB")
        result = measure_recording(path, width_px=width_px)
        result.write_s = round(written, 2)
    return result
