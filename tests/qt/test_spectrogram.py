"""Spectrogram tiles and long recordings: bounded memory, first image fast, nothing on the GUI
thread that grows with the recording."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from tfstudio.audio import AudioReader
from tfstudio.qt.labels import LabelIndex, coalesce
from tfstudio.qt.tiles import (
    TILE_COLUMNS,
    SpectrogramParams,
    TileCache,
    TileKey,
    auto_top_db,
    codes_to_db,
    compute_overview,
    compute_tile,
)
from tfstudio.store import Event


def test_tile_shows_a_tone_in_the_right_bin(tmp_path, wav_writer):
    path = wav_writer(tmp_path / "tone.wav", 4.0)  # 1 kHz tone during the first second of 4
    params = SpectrogramParams(n_fft=512, hop=128)
    with AudioReader(path) as reader:
        image = compute_tile(reader, TileKey(str(path), params, 0, 0))
        assert image.shape == (257, TILE_COLUMNS)
        assert image.dtype == np.uint8 and image.flags.c_contiguous
        tone_bin = round(1000 * 512 / 16000)
        assert int(np.argmax(image[:, 10])) == tone_bin
        # A coarse level covers the whole file in fewer columns, with the same loudness.
        coarse = compute_tile(reader, TileKey(str(path), params, 4, 0))
        assert coarse.shape[1] == params.columns(reader.frames, 4)
        assert codes_to_db(coarse[tone_bin, 0]) == pytest.approx(
            codes_to_db(image[tone_bin, 10]), abs=3.0
        )
        overview = compute_overview(reader, params, 1)
        assert overview.shape == (257, min(2048, params.columns(reader.frames, 0)))
        assert -30 < auto_top_db(overview) <= 5


def test_level_gives_at_least_one_column_per_pixel():
    params = SpectrogramParams(n_fft=1024, hop=256)
    frames = 2 * 3600 * 48000
    for samples_per_pixel in (10, 256, 300, 5000, 1e6):
        level = params.level_for(samples_per_pixel, frames)
        assert params.level_hop(level) <= max(samples_per_pixel, params.hop)
        assert params.level_hop(level) * 2 > samples_per_pixel or level == 0


def test_tile_cache_is_bounded_by_bytes():
    cache = TileCache(max_bytes=10 * 4096)
    params = SpectrogramParams()
    for i in range(50):
        cache.put(TileKey("a", params, 0, i), np.zeros(1024, dtype=np.float32))
    assert cache.nbytes <= 10 * 4096
    assert TileKey("a", params, 0, 49) in cache
    assert TileKey("a", params, 0, 0) not in cache


def _event(i, onset, offset, class_id=1, low=None, high=None):
    return Event(i, 1, class_id, onset, offset, low, high, "human", None, None, "none", 0.0, 0.0)


def test_label_index_queries():
    index = LabelIndex(
        [_event(1, 0.0, 10.0), _event(2, 2.0, 3.0, 2), _event(3, 2.5, 2.8, 2, 100.0, 500.0)]
    )
    assert list(index.ids[index.visible(2.9, 4.0)]) == [1, 2]
    assert index.at(2.6, 300.0) == [3, 2, 1]  # the box under the pointer, then shortest span
    assert index.at(2.6, 5000.0) == [2, 1]
    assert index.neighbour(2, 1) == 3 and index.neighbour(1, -1) is None
    assert index.neighbour(None, 1, t=2.2) == 3
    index.patch([_event(2, 5.0, 6.0, 2)], removed=[3])
    assert list(index.ids) == [1, 2] and index.get(2).onset == 5.0


def test_coalesce_merges_what_is_closer_than_a_pixel():
    on, off = coalesce(np.array([0.0, 0.5, 0.52, 3.0]), np.array([0.5, 0.51, 1.0, 4.0]), 0.05)
    assert list(on) == [0.0, 3.0] and list(off) == [1.0, 4.0]


def test_void_calls_do_not_kill_none():
    """PySide6 6.12.0 on Python 3.11 took a reference off None on every void call and off
    True/False on every emit, aborting the app after a few thousand paints; pinned to 6.11.3."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(int)

    obj = Emitter()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(20_000):
        obj.setObjectName("x")
        obj.fired.emit(1)
    # other threads may hold a few references for a moment; the bug loses 20 000
    assert abs(sys.getrefcount(None) - before[0]) < 1000
    assert abs(sys.getrefcount(True) - before[1]) < 1000


@pytest.mark.slow
def test_long_recording_opens_fast_with_bounded_memory(qtbot, tmp_path, wav_writer):
    """25 minutes at 16 kHz: 96 MB decoded. Opening, zooming out and in must neither read it
    all into memory nor make the GUI wait for it (measured: ~10 MB peak, first image ~0.3 s)."""
    from tfstudio.importer import import_audio
    from tfstudio.qt.settings import ViewSettings
    from tfstudio.qt.spectrogram import SpectrogramView
    from tfstudio.qt.workspace import Workspace
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    wav_writer(audio / "long.wav", 25 * 60, sample_rate=16000)
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
    decoded_bytes = 25 * 60 * 16000 * 4

    workspace = Workspace()
    view = SpectrogramView(workspace, ViewSettings())
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    qtbot.waitExposed(view)
    first: list[float] = []
    view.firstImage.connect(first.append)

    tracemalloc.start()
    try:
        started = time.perf_counter()
        workspace.open_project(tmp_path / "proj")
        qtbot.waitUntil(lambda: bool(first), timeout=5000)
        opened_in = time.perf_counter() - started
        view.graphics.grab()  # a real paint of what is there
        view.show_all()
        qtbot.waitUntil(lambda: view._overview_final, timeout=20000)
        view.show_range(600.0, 630.0)
        qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.has_image(), timeout=10000)
        view.graphics.grab()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        view.shutdown()
        workspace.close_project()
    assert opened_in < 3.0
    assert first[0] < 2.0
    assert peak < decoded_bytes / 6, f"peak {peak / 1e6:.0f} MB"
