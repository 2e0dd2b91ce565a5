"""Waveform envelopes: the lowest and highest sample under each pixel column of a waveform
strip (``tfstudio.qt`` draws them; this module needs no Qt).

A window of up to ``MAX_DIRECT_SAMPLES`` samples is read and reduced directly. Wider windows
(zoomed out on a long recording) are reduced from an :class:`EnvelopeSummary`: the min and max
of every ``SUMMARY_BLOCK`` samples, filled by one pass over the file in chunks of
``SUMMARY_CHUNK`` samples, from the part the view shows (:meth:`EnvelopeSummary.focus_on`)
onwards, then the rest. The audio is never wholly in memory: the summary of a
2-hour recording at 48 kHz is 12.2 MB (the decoded audio 1.4 GB), and a zoom step only reduces
it again (about 2 ms for the whole recording in 1 600 columns).

Column edges are whole samples (``Envelope.edges``); reduced from the summary they fall on
block boundaries, so every value is exactly the min or max of the samples between its edges.
Columns of a summary still filling read NaN until their blocks are done.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tfstudio.features.tiles import FrameReader

__all__ = [
    "MAX_DIRECT_SAMPLES",
    "SUMMARY_BLOCK",
    "SUMMARY_CHUNK",
    "Envelope",
    "EnvelopeSummary",
    "read_envelope",
    "window_envelope",
]

SUMMARY_BLOCK = 256
SUMMARY_CHUNK = 1 << 20  # samples per read of the summary pass (4 MB of float32)
MAX_DIRECT_SAMPLES = 1 << 22  # about 90 s at 48 kHz: read directly, whatever the summary


@dataclass(frozen=True)
class Envelope:
    """Min and max of the (mono) samples ``edges[i]`` … ``edges[i + 1] - 1`` per column."""

    edges: np.ndarray  # int64, n_columns + 1 sample indices, strictly increasing
    mins: np.ndarray  # float32, NaN where not known yet
    maxs: np.ndarray

    def __len__(self) -> int:
        return len(self.mins)

    @property
    def complete(self) -> bool:
        return not (np.isnan(self.mins).any() or np.isnan(self.maxs).any())

    def start_times(self, sample_rate: float) -> np.ndarray:
        """Seconds at which each column starts."""
        return self.edges[:-1] / float(sample_rate)

    def outline(self, sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
        """(x seconds, y) of one polyline through every column's min and max, going
        min→max in one column and max→min in the next so its segments follow the envelope's
        edges; a column of one sample is a point, and samples then join as a plain line."""
        n = len(self)
        x = np.repeat(self.start_times(sample_rate), 2)
        y = np.empty(2 * n, dtype=np.float32)
        even = np.arange(n) % 2 == 0
        y[0::2] = np.where(even, self.mins, self.maxs)
        y[1::2] = np.where(even, self.maxs, self.mins)
        return x, y


def column_edges(start: int, stop: int, n_columns: int) -> np.ndarray:
    """``n + 1`` sample edges splitting ``start``–``stop`` evenly, ``n`` at most one column per
    sample (so every column holds at least one)."""
    span = max(0, int(stop) - int(start))
    n = max(1, min(int(n_columns), span))
    return int(start) + (np.arange(n + 1, dtype=np.int64) * span) // n


def read_envelope(reader: FrameReader, start: int, stop: int, n_columns: int) -> Envelope:
    """The envelope of ``start``–``stop`` from the samples themselves (one read: keep the
    window to a few million samples, see :func:`window_envelope`)."""
    start, stop = max(0, int(start)), min(reader.frames, int(stop))
    if stop <= start:
        empty = np.zeros(0, np.float32)
        return Envelope(np.array([start], np.int64), empty, empty)
    edges = column_edges(start, stop, n_columns)
    data = reader.read_frames(start, stop, mono=True, pad=True)
    at = edges[:-1] - start
    return Envelope(
        edges,
        np.minimum.reduceat(data, at).astype(np.float32),
        np.maximum.reduceat(data, at).astype(np.float32),
    )


class EnvelopeSummary:
    """Min and max of every ``block`` samples of a recording, filled by :meth:`fill` from its
    focus (:meth:`focus_on`; the start unless moved) to the end, then from the start; reduced
    to any window's columns by :meth:`envelope`."""

    def __init__(self, frames: int, block: int = SUMMARY_BLOCK):
        self.frames = int(frames)
        self.block = int(block)
        n = max(1, math.ceil(self.frames / self.block))
        self.mins = np.full(n, np.nan, dtype=np.float32)
        self.maxs = np.full(n, np.nan, dtype=np.float32)
        self.known = np.zeros(n, dtype=bool)  # which blocks are filled
        self.done = 0  # blocks filled
        self.focus = 0  # the block the next read starts from (or the first unread after it)

    @property
    def n_blocks(self) -> int:
        return len(self.mins)

    @property
    def complete(self) -> bool:
        return self.done >= self.n_blocks

    @property
    def done_samples(self) -> int:
        """Samples summarised so far (wherever they are)."""
        if self.complete:
            return self.frames
        # Every filled block is whole but the file's last, which may be shorter.
        last_short = self.n_blocks * self.block - self.frames if self.known[-1] else 0
        return self.done * self.block - last_short

    @property
    def nbytes(self) -> int:
        return self.mins.nbytes + self.maxs.nbytes + self.known.nbytes

    def focus_on(self, sample: int) -> None:
        """Read from ``sample`` next: a view that jumps to the end of a long recording gets
        its envelope after a few chunks, not after the whole file."""
        self.focus = min(self.n_blocks - 1, max(0, int(sample) // self.block))

    def _next_unread(self) -> int:
        """The first block not filled at or after the focus, else from the start."""
        after = self.known[self.focus :]
        if not after.all():
            return self.focus + int(np.argmin(after))
        return int(np.argmin(self.known))

    def fill(self, reader: FrameReader, chunk: int = SUMMARY_CHUNK) -> Iterator[int]:
        """Read the rest of the file, ``chunk`` samples at a time; yields the samples done so
        far after each chunk (stop iterating to pause; iterate again to go on). Each read
        starts at the first block not read at or after the focus, which may move between
        reads."""
        per_read = max(1, chunk // self.block)
        while not self.complete:
            first = self._next_unread()
            last = min(self.n_blocks, first + per_read)
            filled = np.flatnonzero(self.known[first:last])
            if filled.size:  # stop at the next part already read
                last = first + int(filled[0])
            start, stop = first * self.block, min(self.frames, last * self.block)
            data = reader.read_frames(start, stop, mono=True, pad=True)
            at = np.arange(0, len(data), self.block)
            self.mins[first:last] = np.minimum.reduceat(data, at)
            self.maxs[first:last] = np.maximum.reduceat(data, at)
            self.known[first:last] = True
            self.done += last - first
            self.focus = last if last < self.n_blocks else self.focus
            yield self.done_samples

    def envelope(self, start: int, stop: int, n_columns: int) -> Envelope:
        """The envelope of ``start``–``stop`` with edges on block boundaries (about
        ``n_columns`` columns; fewer where a column would be narrower than a block)."""
        start, stop = max(0, int(start)), min(self.frames, int(stop))
        if stop <= start:
            empty = np.zeros(0, np.float32)
            return Envelope(np.array([start], np.int64), empty, empty)
        wanted = column_edges(start, stop, n_columns)
        first = start // self.block
        last = math.ceil(stop / self.block)
        blocks = np.unique(np.clip(np.rint(wanted / self.block).astype(np.int64), first, last))
        blocks[0], blocks[-1] = first, last
        blocks = np.unique(blocks)
        if len(blocks) < 2:
            blocks = np.array([first, last], np.int64)
        at = blocks[:-1] - first
        edges = np.minimum(blocks * self.block, self.frames)
        return Envelope(
            edges,
            np.minimum.reduceat(self.mins[first:last], at),
            np.maximum.reduceat(self.maxs[first:last], at),
        )


def window_envelope(
    reader: FrameReader,
    start: int,
    stop: int,
    n_columns: int,
    summary: EnvelopeSummary | None,
) -> Envelope:
    """The envelope of a window: read directly when it is short (exact at any zoom), else
    reduced from ``summary`` (NaN in the columns it has not reached yet)."""
    if summary is None or int(stop) - int(start) <= MAX_DIRECT_SAMPLES:
        return read_envelope(reader, start, stop, n_columns)
    return summary.envelope(start, stop, n_columns)
