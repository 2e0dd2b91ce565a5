"""Computes spectrogram tiles and overviews on worker threads, never on the caller's thread.

Jobs wait in a priority queue (the overview first, then visible tiles left to right, then the
prefetched neighbours). Each job carries a generation number; when the view moves on (another
recording, other FFT settings) jobs of the old generation are dropped before they start, and a
tile that scrolled out of view before its turn is skipped. Each worker thread keeps its own
open reader (readers are not thread-safe, and reopening compressed files per tile is slow).

Results are handed to callbacks *on the worker thread*; a GUI wraps them (the Qt view emits
queued signals from them, :mod:`tfstudio.qt.tile_service`), so the queue itself is plain
Python and testable without a display.

Plain Python threads, not a Qt thread pool: the work is numpy/soundfile calls that release the
interpreter, and it keeps Python callables out of Qt's runnable ownership rules.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tfstudio.audio import AudioReader
from tfstudio.features.tiles import (
    MAX_SUBFRAMES,
    SpectrogramParams,
    TileCache,
    TileKey,
    compute_overview,
    compute_tile,
)

__all__ = ["OnFailed", "OnOverview", "OnTile", "TileQueue"]

OnTile = Callable[[TileKey, np.ndarray], None]
OnOverview = Callable[[str, SpectrogramParams, np.ndarray, bool], None]
OnFailed = Callable[[str], None]

_STOP = object()


def _ignore(*_args: Any) -> None:
    pass


class TileQueue:
    """Queue of tile and overview jobs; see the module docstring.

    ``on_tile(key, image)``, ``on_overview(path, params, image, final)`` and
    ``on_failed(message)`` run on a worker thread; results of a superseded generation are
    never delivered. A failing job (unreadable file, a callback that raises) is reported
    through ``on_failed`` and never ends the worker.
    """

    def __init__(
        self,
        *,
        on_tile: OnTile = _ignore,
        on_overview: OnOverview = _ignore,
        on_failed: OnFailed = _ignore,
        cache_bytes: int = 128 << 20,
        workers: int = 1,
    ):
        self.on_tile = on_tile
        self.on_overview = on_overview
        self.on_failed = on_failed
        self.cache = TileCache(cache_bytes)
        self._lock = threading.Lock()
        self._generation = 0
        self._queued: set[TileKey] = set()
        self._wanted: set[TileKey] = set()
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self._open = threading.Event()  # cleared by hold(): the workers wait before a job
        self._open.set()
        # One worker by default: a GUI thread needs the other core to stay smooth.
        self._threads = [
            threading.Thread(target=self._work, name=f"tiles-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------ caller side
    def reset(self) -> None:
        """Drop queued work (the view shows another recording or other settings)."""
        with self._lock:
            self._generation += 1
            self._queued.clear()
            self._wanted.clear()

    def hold(self) -> None:
        """Let jobs queue up without starting any until :meth:`release` (a window holds its
        tiles until it has painted: the first tile imports scipy.fft, which competes with the
        paint for the interpreter for a second or more)."""
        self._open.clear()

    def release(self) -> None:
        """Start the jobs held back by :meth:`hold`, first ones first."""
        self._open.set()

    def request(self, keys: Iterable[TileKey]) -> None:
        """Compute the keys that are not cached yet, first ones first; queued keys that are
        no longer wanted are skipped when their turn comes."""
        keys = list(keys)
        with self._lock:
            self._wanted = set(keys)
            generation = self._generation
            for rank, key in enumerate(keys):
                if key in self._queued or key in self.cache:
                    continue
                self._queued.add(key)
                self._put(10 + rank, generation, functools.partial(self._run_tile, key, generation))

    def request_overview(self, path: str, params: SpectrogramParams) -> None:
        with self._lock:
            generation = self._generation
            self._put(0, generation, lambda: self._run_overview(path, params, generation))

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until the queue is empty and no job runs (tests and benchmarks)."""
        with self._idle:
            return self._idle.wait_for(
                lambda: self._busy == 0 and self._jobs.empty(), timeout=timeout
            )

    def shutdown(self) -> None:
        """Drop queued work and end the workers (each closes its readers)."""
        self.reset()
        self._open.set()
        for _ in self._threads:
            self._jobs.put((-1, next(self._order), 0, _STOP))
        for thread in self._threads:
            thread.join(timeout=3.0)

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    # ------------------------------------------------------------ worker side
    def _put(self, priority: int, generation: int, job: Callable[[], None]) -> None:
        self._jobs.put((priority, next(self._order), generation, job))

    def _work(self) -> None:
        readers: dict[str, AudioReader] = {}
        _worker.readers = readers
        while True:
            _priority, _order, generation, job = self._jobs.get()
            if job is _STOP:
                break
            if not self._open.is_set():
                # Held: wait (busy meanwhile, so wait() does not call the queue idle), then put
                # the job back, so that the best of what queued since goes first.
                with self._lock:
                    self._busy += 1
                self._open.wait()
                with self._lock:
                    self._busy -= 1
                    self._jobs.put((_priority, _order, generation, job))
                continue
            with self._lock:
                if generation != self._generation:
                    self._finish_job()
                    continue
                self._busy += 1
            try:
                job()
            finally:
                with self._lock:
                    self._busy -= 1
                    self._finish_job()
        for reader in readers.values():
            reader.close()

    def _finish_job(self) -> None:
        """Called with the lock held after a job is done or dropped."""
        if self._busy == 0 and self._jobs.empty():
            self._idle.notify_all()

    def _current(self, generation: int, key: TileKey | None = None) -> bool:
        with self._lock:
            if generation != self._generation:
                return False
            return key is None or key in self._wanted

    def _fail(self, message: str) -> None:
        # A worker must never die, not even of its own reporter.
        with contextlib.suppress(Exception):
            self.on_failed(message)

    def _run_tile(self, key: TileKey, generation: int) -> None:
        try:
            if not self._current(generation, key):
                return
            image = compute_tile(_reader(key.path), key)
            self.cache.put(key, image)
            if self._current(generation):
                self.on_tile(key, image)
        except Exception as exc:  # a worker must never take the app down
            self._fail(f"{key.path}: {exc}")
        finally:
            with self._lock:
                self._queued.discard(key)

    def _run_overview(self, path: str, params: SpectrogramParams, generation: int) -> None:
        try:
            reader = _reader(path)
            # A draft first (one window per column: fast even for hours), then the average.
            for subframes in (1, MAX_SUBFRAMES):
                if not self._current(generation):
                    return
                image = compute_overview(reader, params, subframes)
                final = subframes == MAX_SUBFRAMES or reader.frames / image.shape[1] <= params.n_fft
                if self._current(generation):
                    self.on_overview(path, params, image, final)
                if final:
                    return
        except Exception as exc:
            self._fail(f"{path}: {exc}")


_worker = threading.local()


def _reader(path: str) -> AudioReader:
    """This worker's open reader for ``path`` (one file kept open per worker)."""
    readers: dict[str, AudioReader] = _worker.readers
    reader = readers.get(path)
    if reader is None or reader.closed:
        for old in readers.values():
            old.close()
        readers.clear()
        reader = readers[path] = AudioReader(path)
    return reader
