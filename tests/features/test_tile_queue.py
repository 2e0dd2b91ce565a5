"""The tile queue on real WAVs and real worker threads, without Qt: what it delivers, what it
drops when the view moves on, and how it reports a file it cannot read."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tfstudio.audio import AudioReader
from tfstudio.features.tile_queue import TileQueue
from tfstudio.features.tiles import SpectrogramParams, TileKey, compute_tile

PARAMS = SpectrogramParams(n_fft=512, hop=128)


class Collector:
    def __init__(self) -> None:
        self.tiles: dict[TileKey, np.ndarray] = {}
        self.overviews: list[tuple[str, bool]] = []
        self.failures: list[str] = []
        self.threads: set[str] = set()

    def tile(self, key: TileKey, image: np.ndarray) -> None:
        self.threads.add(threading.current_thread().name)
        self.tiles[key] = image

    def overview(
        self, path: str, params: SpectrogramParams, image: np.ndarray, final: bool
    ) -> None:
        self.overviews.append((path, final))

    def failed(self, message: str) -> None:
        self.failures.append(message)


@pytest.fixture
def collector():
    return Collector()


@pytest.fixture
def make_queue(collector):
    queues: list[TileQueue] = []

    def make(**options) -> TileQueue:
        q = TileQueue(
            on_tile=collector.tile,
            on_overview=collector.overview,
            on_failed=collector.failed,
            **options,
        )
        queues.append(q)
        return q

    yield make
    for q in queues:
        q.shutdown()


def test_tiles_arrive_on_a_worker_thread_equal_to_computing_them_directly(
    tmp_path, wav_writer, collector, make_queue
):
    path = str(wav_writer(tmp_path / "a.wav", 20.0))
    q = make_queue()
    keys = [TileKey(path, PARAMS, 0, i) for i in range(3)]
    q.request_overview(path, PARAMS)
    q.request(keys)
    assert q.wait(20.0)
    assert set(collector.tiles) == set(keys)
    assert collector.threads == {"tiles-0"}
    with AudioReader(path) as reader:
        for key in keys:
            np.testing.assert_array_equal(collector.tiles[key], compute_tile(reader, key))
    # The overview came as a draft and then final (or final at once for a short file).
    assert collector.overviews and collector.overviews[-1] == (path, True)
    assert all(key in q.cache for key in keys)
    # Cached tiles are not computed again.
    collector.tiles.clear()
    q.request(keys)
    assert q.wait(5.0)
    assert collector.tiles == {}


def test_reset_drops_queued_work_of_the_old_generation(tmp_path, wav_writer, collector, make_queue):
    path = str(wav_writer(tmp_path / "a.wav", 60.0))
    q = make_queue()
    gate = threading.Event()
    # Hold the worker on a first job so the next ones stay queued while the view moves on.
    q._put(-5, 0, gate.wait)
    q.request([TileKey(path, PARAMS, 0, i) for i in range(5)])
    q.reset()
    gate.set()
    assert q.wait(20.0)
    assert collector.tiles == {}
    # After the reset, a new request is served.
    q.request([TileKey(path, PARAMS, 0, 7)])
    assert q.wait(20.0)
    assert list(collector.tiles) == [TileKey(path, PARAMS, 0, 7)]


def test_a_key_no_longer_wanted_is_skipped(tmp_path, wav_writer, collector, make_queue):
    path = str(wav_writer(tmp_path / "a.wav", 60.0))
    q = make_queue()
    gate = threading.Event()
    q._put(-5, 0, gate.wait)
    q.request([TileKey(path, PARAMS, 0, i) for i in range(4)])
    q.request([TileKey(path, PARAMS, 0, 3)])  # scrolled on before the worker got there
    gate.set()
    assert q.wait(20.0)
    assert list(collector.tiles) == [TileKey(path, PARAMS, 0, 3)]


def test_an_unreadable_file_is_reported_and_the_worker_lives_on(
    tmp_path, wav_writer, collector, make_queue
):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav")
    good = str(wav_writer(tmp_path / "good.wav", 5.0))
    q = make_queue()
    q.request([TileKey(str(broken), PARAMS, 0, 0)])
    assert q.wait(10.0)
    assert len(collector.failures) == 1 and "broken.wav" in collector.failures[0]
    q.request([TileKey(good, PARAMS, 0, 0)])
    assert q.wait(10.0)
    assert list(collector.tiles) == [TileKey(good, PARAMS, 0, 0)]


def test_a_callback_that_raises_is_reported_not_fatal(tmp_path, wav_writer, collector):
    path = str(wav_writer(tmp_path / "a.wav", 5.0))

    def explode(key, image):
        raise RuntimeError("the view is gone")

    q = TileQueue(on_tile=explode, on_failed=collector.failed)
    try:
        q.request([TileKey(path, PARAMS, 0, 0)])
        assert q.wait(10.0)
        assert collector.failures == [f"{path}: the view is gone"]
        assert q.alive
    finally:
        q.shutdown()
    assert not q.alive


def test_a_held_queue_starts_nothing_until_released_then_runs_the_best_first(
    tmp_path, wav_writer, collector, make_queue
):
    """A window holds its tiles until it has painted; what queued meanwhile then runs in
    priority order, and nothing is lost."""
    path = str(wav_writer(tmp_path / "held.wav", 20.0))
    q = make_queue()
    q.hold()
    keys = [TileKey(path, PARAMS, 0, i) for i in range(3)]
    q.request(keys)
    q.request_overview(path, PARAMS)
    assert not q.wait(0.3)  # held work is not idle
    assert collector.tiles == {} and collector.overviews == []
    q.release()
    assert q.wait(10)
    assert set(collector.tiles) == set(keys)
    assert collector.overviews and collector.overviews[-1] == (path, True)
