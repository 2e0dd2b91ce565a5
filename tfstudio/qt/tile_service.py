"""The spectrogram view's tile queue as queued Qt signals.

The queue, its priorities, generations and worker threads are Qt-free
(:class:`tfstudio.features.tile_queue.TileQueue`); this adapter only turns its worker-thread
callbacks into signals, which Qt delivers on the GUI thread (a cross-thread emit is queued).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from tfstudio.features.tile_queue import TileQueue


class TileService(QObject):
    """Signals for :class:`TileQueue`'s results; the queue itself is :attr:`queue`."""

    tileReady = Signal(object, object)  # TileKey, np.ndarray
    overviewReady = Signal(str, object, object, bool)  # path, params, image, final
    failed = Signal(str)

    def __init__(
        self, cache_bytes: int = 128 << 20, workers: int = 1, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.queue = TileQueue(
            on_tile=self.tileReady.emit,
            on_overview=self.overviewReady.emit,
            on_failed=self.failed.emit,
            cache_bytes=cache_bytes,
            workers=workers,
        )
        self.cache = self.queue.cache
        self.reset = self.queue.reset
        self.request = self.queue.request
        self.request_overview = self.queue.request_overview
        self.wait = self.queue.wait
        self.shutdown = self.queue.shutdown
