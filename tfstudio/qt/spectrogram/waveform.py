"""The waveform strip above the spectrogram: the min/max envelope of the samples under each
pixel column, on the spectrogram's time axis (its plot is x-linked to the spectrogram's).

Envelopes come from :class:`~tfstudio.features.envelope_queue.EnvelopeQueue` (a worker
thread; long recordings are reduced from a summary, never read whole); this module asks for
the visible window and draws what comes back. Ctrl+wheel over the strip zooms the amplitude
around zero, so quiet recordings can be read too.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from tfstudio.features.envelope import Envelope
from tfstudio.features.envelope_queue import EnvelopeQueue, EnvelopeRequest
from tfstudio.qt.spectrogram.image import AudioInfo
from tfstudio.qt.spectrogram.viewbox import EditViewBox

WAVEFORM_PX = 84
MARGIN = 0.5  # of the visible width asked for either side, so a short pan finds it drawn
MIN_GAIN_RANGE = 1.0 / 1024  # the most the amplitude zooms in: ±0.001 of full scale
PADDING = 0.04  # of the amplitude range, above and below


class WaveformViewBox(EditViewBox):
    """Wheel zooms and scrolls time like the spectrogram's; Ctrl+wheel zooms the amplitude
    around zero; left drag does nothing (a click seeks)."""

    def __init__(self) -> None:
        super().__init__(zoom_y=False, editable=False)
        # Time follows the spectrogram (x-linked), never the data's extent.
        self.disableAutoRange()
        self.setYRange(-1.0, 1.0, padding=PADDING)

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier and not (
            ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            _, (y0, y1) = self.viewRange()
            half = max(abs(y0), abs(y1)) / (1 + 2 * PADDING)
            half *= 0.8 if ev.delta() > 0 else 1.25
            half = min(1.0, max(MIN_GAIN_RANGE, half))
            self.setYRange(-half, half, padding=PADDING)
            ev.accept()
            return
        super().wheelEvent(ev, axis)


class WaveformStrip(QObject):
    """Asks for the envelope of the visible window and draws it in ``plot``."""

    envelopeReady = Signal(object, object)  # EnvelopeRequest, Envelope (from the worker)
    failed = Signal(str)
    drawn = Signal(object, bool)  # the EnvelopeRequest drawn, whether it is complete

    def __init__(self, plot: pg.PlotItem, parent: QObject | None = None):
        super().__init__(parent)
        self.plot = plot
        self.vb: WaveformViewBox = plot.getViewBox()
        self.audio: AudioInfo | None = None
        self.queue = EnvelopeQueue(on_envelope=self.envelopeReady.emit, on_failed=self.failed.emit)
        self.envelope: Envelope | None = None
        self.shown_request: EnvelopeRequest | None = None
        self._asked: EnvelopeRequest | None = None
        self._opened_at = 0.0
        self.first_envelope_s: float | None = None  # from open() to the first complete one
        self.outline: tuple[np.ndarray, np.ndarray] | None = None  # the points drawn
        # One path per envelope: Qt keeps its bounds, where a PlotDataItem would compute them
        # from the data again at every zoom step.
        self.curve = QGraphicsPathItem()
        self.curve.setZValue(5)
        plot.addItem(self.curve, ignoreBounds=True)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.zero.setZValue(1)
        plot.addItem(self.zero, ignoreBounds=True)
        self.set_colour("#8fb7ff", "#3b3f48")
        self.envelopeReady.connect(self._on_envelope)

    # -------------------------------------------------------------- public API
    @property
    def active(self) -> bool:
        return self.plot.isVisible() and self.audio is not None

    def set_colour(self, line: str, zero: str) -> None:
        self.curve.setPen(pg.mkPen(line, width=1))  # cosmetic: one pixel at any zoom
        self.zero.setPen(pg.mkPen(zero, width=1))

    def open(self, audio: AudioInfo | None) -> None:
        """Show another recording (None: nothing)."""
        self.audio = audio
        self.envelope = self.shown_request = self._asked = None
        self.first_envelope_s = None
        self._opened_at = time.perf_counter()
        self.outline = None
        self.curve.setPath(QPainterPath())
        if audio is None:
            self.queue.reset()
        self.update()

    def update(self) -> None:
        """Ask for the visible window (with a margin) if it is not what was asked last."""
        audio = self.audio
        if audio is None or not self.plot.isVisible():
            return
        t0, t1 = self.vb.time_range()
        width = t1 - t0
        if width <= 0:
            return
        start = max(0, int(np.floor((t0 - MARGIN * width) * audio.sample_rate)))
        stop = min(audio.frames, int(np.ceil((t1 + MARGIN * width) * audio.sample_rate)))
        if stop <= start:
            return
        # One column per pixel, the margin included (less of it at the recording's ends).
        per_px = width * audio.sample_rate / self.vb.pixel_width()
        columns = max(1, round((stop - start) / per_px))
        request = EnvelopeRequest(audio.path, start, stop, columns)
        if self._covers(request):
            return
        self._asked = request
        self.queue.request(request)

    def wait(self, timeout: float = 5.0) -> bool:
        return self.queue.wait(timeout)

    def shutdown(self) -> None:
        self.queue.shutdown()

    # ------------------------------------------------------------------ drawing
    def _covers(self, request: EnvelopeRequest) -> bool:
        """True when what was asked last already holds this window at this zoom: a pan
        inside the margin needs nothing new."""
        asked = self._asked
        if asked is None or asked.path != request.path:
            return False
        per_column = (asked.stop - asked.start) / asked.columns
        wanted = (request.stop - request.start) / request.columns
        same_zoom = abs(per_column - wanted) <= 0.01 * wanted
        # The visible part (without its margin) must lie inside what was asked.
        margin = MARGIN * wanted * self.vb.pixel_width()
        inside = asked.start <= request.start + margin and request.stop - margin <= asked.stop
        return same_zoom and inside

    def _on_envelope(self, request: EnvelopeRequest, envelope: Envelope) -> None:
        audio = self.audio
        if audio is None or request.path != audio.path:
            return
        if self._asked is not None and request != self._asked:
            return  # an older window; the one asked for last is on its way
        self.envelope, self.shown_request = envelope, request
        x, y = envelope.outline(audio.sample_rate)
        self.outline = (x, y)
        self.curve.setPath(pg.arrayToQPath(x, y, connect="finite"))
        complete = envelope.complete
        if complete and self.first_envelope_s is None:
            self.first_envelope_s = time.perf_counter() - self._opened_at
        self.drawn.emit(request, complete)
