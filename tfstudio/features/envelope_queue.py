"""Computes waveform envelopes on a worker thread, never on the caller's thread.

One thread serves one recording at a time: the envelope of the latest requested window first
(a request replaces any older one not started yet), and between requests it fills that
recording's :class:`~tfstudio.features.envelope.EnvelopeSummary` a chunk at a time, from the
window shown on, so a zoom or a pan is answered within one chunk's read however long the file. A window that needed
summary blocks not read yet is answered with NaN there, and answered again as the summary
grows (at most every ``REFRESH_S``) until it is complete. Summaries of the last few recordings
stay in memory, so going back to one is instant.

Results are handed to callbacks *on the worker thread*, like :mod:`.tile_queue`'s; the Qt
strip wraps them in queued signals.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tfstudio.audio import AudioReader
from tfstudio.features.envelope import Envelope, EnvelopeSummary, window_envelope

__all__ = ["EnvelopeQueue", "EnvelopeRequest"]

REFRESH_S = 0.2
KEEP_SUMMARIES = 4


@dataclass(frozen=True)
class EnvelopeRequest:
    """The window of a recording a strip shows, in samples, and its width in pixels."""

    path: str
    start: int
    stop: int
    columns: int


OnEnvelope = Callable[[EnvelopeRequest, Envelope], None]
OnFailed = Callable[[str], None]


def _ignore(*_args: Any) -> None:
    pass


class EnvelopeQueue:
    """See the module docstring. ``on_envelope(request, envelope)`` and ``on_failed(message)``
    run on the worker thread; a request for another recording than the latest is dropped."""

    def __init__(
        self,
        *,
        on_envelope: OnEnvelope = _ignore,
        on_failed: OnFailed = _ignore,
        keep: int = KEEP_SUMMARIES,
    ):
        self.on_envelope = on_envelope
        self.on_failed = on_failed
        self.keep = keep
        self._summaries: OrderedDict[str, EnvelopeSummary] = OrderedDict()
        self._cond = threading.Condition()
        self._path: str | None = None
        self._pending: EnvelopeRequest | None = None
        self._incomplete: EnvelopeRequest | None = None  # answered with NaN: answer again
        self._busy = False
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="envelopes", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ caller side
    def request(self, request: EnvelopeRequest) -> None:
        """Compute this window's envelope next (and the recording's summary in between)."""
        with self._cond:
            # A newer window supersedes one waiting to be answered again.
            self._path = request.path
            self._incomplete = None
            self._pending = request
            self._cond.notify_all()

    def reset(self) -> None:
        """Drop the pending request and stop filling (no recording shown)."""
        with self._cond:
            self._path = None
            self._pending = self._incomplete = None

    def summary(self, path: str) -> EnvelopeSummary | None:
        with self._cond:
            return self._summaries.get(path)

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until nothing is left to do for the current recording (tests, benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._idle_locked(), timeout=timeout)

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._path = None
            self._pending = self._incomplete = None
            self._cond.notify_all()
        self._thread.join(timeout=3.0)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ------------------------------------------------------------ worker side
    def _idle_locked(self) -> bool:
        if self._busy or self._pending is not None or self._incomplete is not None:
            return False
        summary = self._summaries.get(self._path) if self._path else None
        return self._path is None or (summary is not None and summary.complete)

    def _work(self) -> None:
        reader: AudioReader | None = None
        reader_path: str | None = None
        filling: tuple[EnvelopeSummary, Iterator[int]] | None = None
        last_refresh = 0.0
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping or not self._idle_locked())
                    if self._stopping:
                        return
                    path = self._path
                    request, self._pending = self._pending, None
                    self._busy = True
                try:
                    if path is None:
                        continue
                    if reader is None or reader_path != path:
                        if reader is not None:
                            reader.close()
                        reader, reader_path, filling = None, None, None
                        reader, reader_path = AudioReader(path), path
                    summary = self._summary_for(path, reader.frames)
                    if request is not None:
                        self._answer(reader, request, summary)
                        continue
                    if not summary.complete:
                        if filling is None or filling[0] is not summary:
                            filling = (summary, summary.fill(reader))
                        next(filling[1], None)
                    again = self._incomplete
                    now = time.perf_counter()
                    if again is not None and (summary.complete or now - last_refresh > REFRESH_S):
                        last_refresh = now
                        with self._cond:
                            if self._incomplete is again:
                                self._incomplete = None
                        self._answer(reader, again, summary)
                except Exception as exc:  # a worker must never take the app down
                    with self._cond:
                        if self._path == path:
                            self._path = None
                            self._pending = self._incomplete = None
                    reader_path = None  # reopened next time
                    filling = None
                    with contextlib.suppress(Exception):
                        self.on_failed(f"{path}: {exc}")
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            if reader is not None:
                reader.close()

    def _summary_for(self, path: str, frames: int) -> EnvelopeSummary:
        with self._cond:
            summary = self._summaries.get(path)
            if summary is None or summary.frames != frames:
                summary = self._summaries[path] = EnvelopeSummary(frames)
            self._summaries.move_to_end(path)
            while len(self._summaries) > max(1, self.keep):
                self._summaries.popitem(last=False)
            return summary

    def _answer(
        self, reader: AudioReader, request: EnvelopeRequest, summary: EnvelopeSummary
    ) -> None:
        envelope = window_envelope(reader, request.start, request.stop, request.columns, summary)
        if not envelope.complete:
            # Read the shown part next: a jump to the end of a long recording is drawn after
            # a few chunks, not after the whole file.
            summary.focus_on(request.start)
        with self._cond:
            if request.path != self._path:
                return
            if not envelope.complete:
                self._incomplete = request
            elif self._incomplete == request:
                self._incomplete = None
        self.on_envelope(request, envelope)
