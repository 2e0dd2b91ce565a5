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
    tiles_in_window,
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


def test_tiles_in_window_cover_it_and_prefetch_one_either_side():
    params = SpectrogramParams(n_fft=1024, hop=256)
    seconds = params.tile_seconds(16000, 0)  # 4.096 s
    frames = 16000 * 60
    visible, prefetch = tiles_in_window("a", params, 16000, frames, 0, 5.0, 13.0)
    assert [k.index for k in visible] == [1, 2, 3]
    assert [k.index for k in prefetch] == [0, 4]
    assert all(k.level == 0 and k.path == "a" and k.params == params for k in visible + prefetch)
    assert visible[0].time_span(16000)[0] <= 5.0 and visible[-1].time_span(16000)[1] >= 13.0
    # Clamped to the recording: nothing before the first tile or after the last.
    last = params.tiles(frames, 0) - 1
    visible, prefetch = tiles_in_window("a", params, 16000, frames, 0, 0.0, 61.0)
    assert [k.index for k in visible] == list(range(last + 1))
    assert prefetch == []
    visible, prefetch = tiles_in_window("a", params, 16000, frames, 0, 0.0, seconds / 2)
    assert [k.index for k in visible] == [0] and [k.index for k in prefetch] == [1]


def test_tile_cache_nearest_falls_back_to_a_cached_ancestor():
    cache = TileCache()
    params = SpectrogramParams()
    key = TileKey("a", params, 0, 13)
    assert cache.nearest(key) is None
    grandparent = key.parent().parent()
    cache.put(grandparent, np.ones((4, 4), dtype=np.uint8))
    found = cache.nearest(key)
    assert found is not None and found[0] == grandparent
    assert cache.nearest(key, coarser=1) is None  # too far up
    cache.put(key, np.zeros((4, 4), dtype=np.uint8))
    found = cache.nearest(key)
    assert found is not None and found[0] == key and not found[1].any()


def test_tile_cache_is_bounded_by_bytes():
    cache = TileCache(max_bytes=10 * 4096)
    params = SpectrogramParams()
    for i in range(50):
        cache.put(TileKey("a", params, 0, i), np.zeros(1024, dtype=np.float32))
    assert cache.nbytes <= 10 * 4096
    assert TileKey("a", params, 0, 49) in cache
    assert TileKey("a", params, 0, 0) not in cache


def test_the_window_is_scipys_periodic_hann():
    import scipy.signal

    from tfstudio.features.tiles import _Window

    for n_fft in (256, 1024, 2048):
        window, _ = _Window.get(n_fft)
        np.testing.assert_allclose(
            window, scipy.signal.get_window("hann", n_fft).astype(np.float32), atol=1e-7
        )


def test_level_at_reads_the_bin_and_frame_under_a_point(tmp_path, wav_writer):
    from tfstudio.features.tiles import level_at

    path = wav_writer(tmp_path / "tone.wav", 4.0)  # 1 kHz during the first second
    params = SpectrogramParams(n_fft=512, hop=128)
    with AudioReader(path) as reader:
        key = TileKey(str(path), params, 0, 0)
        image = compute_tile(reader, key)
    tone_bin = round(1000 * 512 / 16000)
    at = level_at(image, params, 16000, 0.0, params.level_hop(0), 0.5, 1000.0)
    assert at == pytest.approx(float(codes_to_db(image[tone_bin, round(0.5 * 16000 / 128)])))
    assert at > level_at(image, params, 16000, 0.0, 128, 0.5, 5000.0) + 20
    assert level_at(image, params, 16000, 0.0, 128, -0.1, 1000.0) is None
    assert level_at(image, params, 16000, 0.0, 128, 0.5, 9000.0) is None  # over Nyquist


@pytest.mark.parametrize("kind", ["hann", "hamming", "blackman", "blackman-harris"])
def test_windows_match_scipys_periodic_windows(kind):
    import scipy.signal

    from tfstudio.features.tiles import _Window

    window, _ = _Window.get(512, kind)
    expected = scipy.signal.get_window(kind.replace("-", ""), 512, fftbins=True)
    np.testing.assert_allclose(window, expected, atol=1e-6)


def test_the_window_changes_the_picture_and_keeps_the_level(tmp_path, wav_writer):
    path = wav_writer(tmp_path / "tone.wav", 4.0)  # 1 kHz during the first second
    tone_bin = 1000 * 500 / 16000  # 31.25: between bins, so every window leaks
    images = {}
    with AudioReader(path) as reader:
        for kind in ("rectangular", "hann", "blackman-harris"):
            params = SpectrogramParams(n_fft=500, hop=125, window=kind)
            images[kind] = codes_to_db(compute_tile(reader, TileKey(str(path), params, 0, 0)))
    # The tone reads about the same level whatever the window (each is scaled for it)…
    peaks = {k: float(img[30:34, 20].max()) for k, img in images.items()}
    assert max(peaks.values()) - min(peaks.values()) < 4.0
    # …while a few bins away the rectangular window smears it far over the noise.
    near = {k: float(img[round(tone_bin) + 5, 20]) for k, img in images.items()}
    assert near["rectangular"] > near["hann"] + 10
    assert near["hann"] >= near["blackman-harris"] - 1.0
    with pytest.raises(ValueError, match="window must be one of"):
        SpectrogramParams(window="kaiser")


def test_the_top_level_keeps_a_sparse_loud_sound_in_view():
    """A 1 s tone in 30 s of steady noise fills far less than 0.1 % of the picture: the top
    level went just over the noise (the 99.9th percentile) and the whole picture washed
    pale. It stays within 10 dB of the loudest point now; a picture whose loud tail is its
    peak keeps the tail's level."""
    from tfstudio.features.tiles import db_to_codes

    rng = np.random.default_rng(0)
    noise = rng.uniform(-62.0, -46.0, size=(256, 1500))
    sparse = noise.copy()
    sparse[20:22, 0:50] = -14.0  # 100 of 384 000 pixels: 0.03 %
    assert auto_top_db(db_to_codes(noise)) == -45.0  # just over the noise, as before
    assert auto_top_db(db_to_codes(sparse)) == -20.0  # the tone 6 dB under the top
