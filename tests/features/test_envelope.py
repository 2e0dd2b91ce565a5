"""Waveform envelopes: every column is exactly the min and max of the samples between its
edges (read directly or reduced from the summary), the summary reads a long file in bounded
chunks, and the worker answers the latest window, again as its summary fills."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import AudioReader
from tfstudio.features import envelope_queue
from tfstudio.features.envelope import (
    MAX_DIRECT_SAMPLES,
    SUMMARY_BLOCK,
    SUMMARY_CHUNK,
    EnvelopeSummary,
    column_edges,
    read_envelope,
    window_envelope,
)
from tfstudio.features.envelope_queue import EnvelopeQueue, EnvelopeRequest


def write(path, samples: np.ndarray, rate: int = 8000, subtype: str = "FLOAT") -> np.ndarray:
    """Write ``samples`` and return them as the reader will give them back (mono)."""
    sf.write(str(path), samples, rate, subtype=subtype)
    back, _ = sf.read(str(path), dtype="float32")
    return back if back.ndim == 1 else back.mean(axis=1, dtype=np.float32)


def assert_exact(envelope, samples: np.ndarray) -> None:
    assert len(envelope) > 0 and np.all(np.diff(envelope.edges) > 0)
    for i in range(len(envelope)):
        column = samples[envelope.edges[i] : envelope.edges[i + 1]]
        assert envelope.mins[i] == column.min(), i
        assert envelope.maxs[i] == column.max(), i


@pytest.fixture
def noise(tmp_path):
    rng = np.random.default_rng(3)
    x = (0.2 * rng.standard_normal(300_007)).clip(-0.9, 0.9).astype(np.float32)
    x[123_456] = 0.99  # a click one sample long must show
    path = tmp_path / "noise.wav"
    return path, write(path, x)


@pytest.mark.parametrize("columns", [1, 7, 800, 5000])
def test_read_envelope_is_numpys_min_and_max_per_column(noise, columns):
    path, samples = noise
    with AudioReader(path) as reader:
        envelope = read_envelope(reader, 1_000, 250_000, columns)
    assert len(envelope) == columns
    assert (envelope.edges[0], envelope.edges[-1]) == (1_000, 250_000)
    assert_exact(envelope, samples)
    assert envelope.maxs.max() == pytest.approx(0.99, abs=1e-6)


def test_zoomed_in_past_one_sample_a_pixel_each_column_is_one_sample(noise):
    path, samples = noise
    with AudioReader(path) as reader:
        envelope = read_envelope(reader, 5_000, 5_050, 800)
    assert len(envelope) == 50
    assert np.array_equal(envelope.mins, samples[5_000:5_050])
    _x, y = envelope.outline(8000)
    assert np.array_equal(y, np.repeat(samples[5_000:5_050], 2))  # a plain line through them


def test_a_stereo_file_is_drawn_as_its_mono_mix(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.4 * rng.standard_normal((20_000, 2))).clip(-1, 1).astype(np.float32)
    mono = write(tmp_path / "stereo.wav", stereo)
    with AudioReader(tmp_path / "stereo.wav") as reader:
        envelope = read_envelope(reader, 0, 20_000, 300)
    assert_exact(envelope, mono)


def test_the_summary_reduces_exactly_on_block_edges(noise):
    path, samples = noise
    with AudioReader(path) as reader:
        summary = EnvelopeSummary(reader.frames)
        steps = list(summary.fill(reader, chunk=50_000))
    assert summary.complete and steps[-1] == len(samples)
    assert summary.nbytes == (2 * 4 + 1) * int(np.ceil(len(samples) / SUMMARY_BLOCK))
    for start, stop, columns in ((0, len(samples), 600), (77_777, 299_999, 333), (0, 300, 5)):
        envelope = summary.envelope(start, stop, columns)
        assert envelope.edges[0] <= start and envelope.edges[-1] >= stop
        assert np.all(envelope.edges[:-1] % SUMMARY_BLOCK == 0)
        assert_exact(envelope, samples)
    assert len(summary.envelope(0, len(samples), 600)) == 600


def test_a_summary_still_filling_is_exact_where_it_got_and_nan_beyond(noise):
    path, samples = noise
    with AudioReader(path) as reader:
        summary = EnvelopeSummary(reader.frames)
        filling = summary.fill(reader, chunk=64_000)
        done = next(filling)
    envelope = summary.envelope(0, len(samples), 100)
    known = envelope.edges[1:] <= done
    assert known.any() and not known.all() and not envelope.complete
    assert np.isnan(envelope.mins[~known]).all()
    for i in np.flatnonzero(known):
        column = samples[envelope.edges[i] : envelope.edges[i + 1]]
        assert (envelope.mins[i], envelope.maxs[i]) == (column.min(), column.max())


def test_a_focused_summary_fills_from_its_focus_then_wraps_around(noise):
    path, samples = noise
    with AudioReader(path) as reader:
        summary = EnvelopeSummary(reader.frames)
        summary.focus_on(3 * len(samples) // 4)
        filling = summary.fill(reader, chunk=64_000)
        next(filling)
        focus_block = 3 * len(samples) // 4 // SUMMARY_BLOCK
        assert summary.known[focus_block] and not summary.known[0]
        # The end of the file is drawn whole while its start is still unread.
        end = summary.envelope(3 * len(samples) // 4, len(samples), 50)
        while not end.complete:
            next(filling)
            end = summary.envelope(3 * len(samples) // 4, len(samples), 50)
        assert not summary.complete
        assert_exact(end, samples)
        # Moved back to the start, it goes on there, then reads what is left.
        summary.focus_on(0)
        next(filling)
        assert summary.known[0]
        steps = list(filling)
    assert summary.complete and steps[-1] == len(samples) == summary.done_samples
    assert_exact(summary.envelope(0, len(samples), 300), samples)


class CountingReader(AudioReader):
    """A real reader that remembers the largest read asked of it."""

    largest = 0

    def read_frames(self, start, stop, *, mono=True, pad=False):
        self.largest = max(self.largest, int(stop) - int(start))
        return super().read_frames(start, stop, mono=mono, pad=pad)


@pytest.fixture
def long_file(tmp_path):
    """More samples than a window is read directly (about 10 min at 8 kHz)."""
    rate, total = 8000, MAX_DIRECT_SAMPLES + 600_001
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        for start in range(0, total, 1 << 20):
            n = min(1 << 20, total - start)
            f.write((0.1 * rng.standard_normal(n)).astype(np.float32))
    return path


def test_wide_windows_come_from_the_summary_read_in_bounded_chunks(long_file):
    samples, _ = sf.read(str(long_file), dtype="float32")
    with CountingReader(long_file) as reader:
        summary = EnvelopeSummary(reader.frames)
        for _ in summary.fill(reader):
            pass
        assert reader.largest <= SUMMARY_CHUNK
        reader.largest = 0
        whole = window_envelope(reader, 0, reader.frames, 1500, summary)
        assert reader.largest == 0  # reduced from the summary: nothing read
        assert len(whole) == 1500
        assert_exact(whole, samples)
        # A short window is read directly, edges where the pixels fall, not on blocks.
        short = window_envelope(reader, 1_000_001, 1_080_001, 1000, summary)
        assert reader.largest == 80_000 and short.edges[0] == 1_000_001
        assert_exact(short, samples)


def test_column_edges_split_evenly_and_never_leave_a_column_empty():
    edges = column_edges(10, 1_010, 3)
    assert list(edges) == [10, 343, 676, 1010]
    assert len(column_edges(0, 5, 100)) == 6


def test_the_queue_answers_the_latest_window_and_again_as_the_summary_fills(long_file):
    samples, _ = sf.read(str(long_file), dtype="float32")
    answers: list = []
    queue = EnvelopeQueue(on_envelope=lambda request, envelope: answers.append((request, envelope)))
    try:
        whole = EnvelopeRequest(str(long_file), 0, len(samples), 1200)
        queue.request(whole)
        assert queue.wait(30.0)
        assert answers and all(request == whole for request, _ in answers)
        last = answers[-1][1]
        assert last.complete and len(last) == 1200
        assert_exact(last, samples)
        assert queue.summary(str(long_file)).complete
        # The first answer came before the whole file was read: columns not reached yet
        # read NaN, and the window was answered again until none did.
        if len(answers) > 1:
            assert not answers[0][1].complete
        # A zoom step: answered from the summary.
        answers.clear()
        zoomed = EnvelopeRequest(str(long_file), 1_000_000, 3_000_000 + MAX_DIRECT_SAMPLES, 1200)
        queue.request(zoomed)
        assert queue.wait(10.0)
        ((request, envelope),) = answers
        assert request == zoomed and envelope.complete
        assert_exact(envelope, samples)
    finally:
        queue.shutdown()
    assert not queue.alive


def test_the_queue_reads_the_window_shown_first(long_file, monkeypatch):
    """A jump to the end of a long recording: its envelope is whole before the summary is
    (it used to wait for every sample before it)."""
    monkeypatch.setattr(envelope_queue, "REFRESH_S", 0.0)  # answer again after every chunk
    samples, _ = sf.read(str(long_file), dtype="float32")
    answers: list = []
    summaries: list = []

    def on_envelope(request, envelope):
        summary = queue.summary(str(long_file))
        summaries.append(summary.complete if summary is not None else None)
        answers.append(envelope)

    queue = EnvelopeQueue(on_envelope=on_envelope)
    try:
        end = EnvelopeRequest(
            str(long_file), len(samples) - MAX_DIRECT_SAMPLES - 1, len(samples), 400
        )
        queue.request(end)
        assert queue.wait(30.0)
        first_whole = next(i for i, envelope in enumerate(answers) if envelope.complete)
        assert summaries[first_whole] is False  # drawn before the file was read through
        assert_exact(answers[first_whole], samples)
    finally:
        queue.shutdown()


def test_an_unreadable_file_is_reported_and_the_worker_lives_on(tmp_path, noise):
    failures: list[str] = []
    answers: list = []
    queue = EnvelopeQueue(
        on_envelope=lambda request, envelope: answers.append(envelope), on_failed=failures.append
    )
    try:
        queue.request(EnvelopeRequest(str(tmp_path / "gone.wav"), 0, 1000, 10))
        assert queue.wait(5.0)
        assert failures and "gone.wav" in failures[0] and not answers
        path, samples = noise
        queue.request(EnvelopeRequest(str(path), 0, 2000, 10))
        assert queue.wait(5.0)
        assert len(answers) == 1
        assert_exact(answers[0], samples)
    finally:
        queue.shutdown()
