"""Display spectrogram tiles: the right bins, one column per pixel at most, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from tfstudio.audio import AudioReader
from tfstudio.features.tiles import (
    TILE_COLUMNS,
    SpectrogramParams,
    TileCache,
    TileKey,
    auto_top_db,
    codes_to_db,
    compute_overview,
    compute_tile,
)


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
