"""The on-disk feature cache: keyed by content hash + parameters, computed blockwise."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import AudioError, content_hash, resample
from tfstudio.features import FeatureCache, FeatureConfig, compute_features, feature_file, logmel

ATOL = 1e-4


def _write(path, seconds, sr, seed=0):
    rng = np.random.default_rng(seed)
    x = (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32)
    sf.write(path, x, sr, subtype="FLOAT")
    return x


def test_blockwise_file_equals_full(tmp_path):
    cfg = FeatureConfig()
    x = _write(tmp_path / "a.wav", 10.0, 22050)
    got = compute_features(tmp_path / "a.wav", cfg, tmp_path / "a.npy", block_s=0.7)
    assert isinstance(got, np.memmap)
    np.testing.assert_allclose(got, logmel(x, cfg), atol=ATOL, rtol=0)


def test_blockwise_resampling_equals_full(tmp_path):
    cfg = FeatureConfig()
    x = _write(tmp_path / "b.wav", 10.0, 48000)
    got = compute_features(tmp_path / "b.wav", cfg, block_s=0.7)
    ref = logmel(resample(x, 48000, cfg.sample_rate), cfg)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-3, rtol=0)


def test_stereo_is_downmixed(tmp_path):
    cfg = FeatureConfig()
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal((22050 * 2, 2))).astype(np.float32)
    sf.write(tmp_path / "s.wav", x, 22050, subtype="FLOAT")
    got = compute_features(tmp_path / "s.wav", cfg)
    np.testing.assert_allclose(got, logmel(x.mean(axis=1), cfg), atol=ATOL, rtol=0)


def test_cache_miss_then_hit(tmp_path):
    cfg = FeatureConfig()
    _write(tmp_path / "a.wav", 3.0, 22050)
    hash1 = content_hash(tmp_path / "a.wav")
    cache = FeatureCache(tmp_path / "cache", cfg)
    computed = []
    first = cache.load(hash1, tmp_path / "a.wav", on_compute=computed.append)
    assert computed == [tmp_path / "a.wav"]
    assert cache.has(hash1)
    assert cache.path(hash1) == feature_file(tmp_path / "cache", hash1, cfg)
    assert cache.path(hash1).name == f"{hash1}-{cfg.key()}.npy"
    second = cache.load(hash1, tmp_path / "a.wav", on_compute=computed.append)
    assert computed == [tmp_path / "a.wav"]  # hit: not computed again
    assert isinstance(second, np.memmap) and second.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    # Other parameters, another entry; no temporary files left behind.
    other = FeatureCache(tmp_path / "cache", FeatureConfig(n_mels=20))
    assert not other.has(hash1)
    assert other.load(hash1, tmp_path / "a.wav").shape[1] == 20
    assert sorted(p.suffix for p in (tmp_path / "cache" / "features").iterdir()) == [".npy", ".npy"]


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    cfg = FeatureConfig()
    _write(tmp_path / "a.wav", 2.0, 22050)
    h = content_hash(tmp_path / "a.wav")
    cache = FeatureCache(tmp_path / "cache", cfg)
    cache.path(h).parent.mkdir(parents=True)
    cache.path(h).write_bytes(b"not a numpy file")
    assert cache.load(h, tmp_path / "a.wav").shape == (101, 40)


def test_a_file_replaced_since_its_hash_is_refused_not_cached_under_it(tmp_path):
    # Its features would be cached under the old content's hash, and every recording of that
    # content (the old file imported elsewhere, the file put back) would be given them.
    cfg = FeatureConfig()
    _write(tmp_path / "a.wav", 2.0, 22050, seed=0)
    old = content_hash(tmp_path / "a.wav")
    _write(tmp_path / "a.wav", 2.0, 22050, seed=1)  # the same size, other audio
    cache = FeatureCache(tmp_path / "cache", cfg)
    with pytest.raises(AudioError) as caught:
        cache.load(old, tmp_path / "a.wav")
    assert caught.value.kind == "changed"
    assert caught.value.path == tmp_path / "a.wav"
    assert "changed since it was imported" in caught.value.reason
    assert not cache.has(old)
    assert not list((tmp_path / "cache").rglob("*.npy"))
    # Its own hash works, and so does a caller that asks for no check.
    assert cache.load(content_hash(tmp_path / "a.wav"), tmp_path / "a.wav").shape == (101, 40)
    assert cache.load("any key", tmp_path / "a.wav", verify=False).shape == (101, 40)


def _peak_bytes(path, out, cfg, block_s=2.0):
    tracemalloc.start()
    try:
        result = compute_features(path, cfg, out, block_s=block_s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_long_file_in_bounded_memory(tmp_path):
    cfg = FeatureConfig()
    _write(tmp_path / "short.wav", 20.0, 22050)
    _write(tmp_path / "long.wav", 80.0, 22050)
    _, short_peak = _peak_bytes(tmp_path / "short.wav", tmp_path / "short.npy", cfg)
    out, long_peak = _peak_bytes(tmp_path / "long.wav", tmp_path / "long.npy", cfg)
    assert out.shape == (1 + 80 * 22050 // cfg.hop_length, cfg.n_mels)
    # Four times the audio, about the same memory: it depends on the block, not the file.
    assert long_peak < 1.5 * short_peak, (short_peak, long_peak)
    assert long_peak < 80 * 22050 * 4 / 2


def test_many_channels_in_the_memory_of_one(tmp_path):
    # A block was 60 s of every channel: 370 MB for 16 channels at 96 kHz, 64 times a mono
    # file's memory for 64 channels, though only their mean is ever used.
    cfg = FeatureConfig()
    sr, seconds, channels = 16000, 30, 64
    second = (0.1 * np.random.default_rng(0).standard_normal((sr, channels))).astype(np.float32)
    with sf.SoundFile(tmp_path / "many.wav", "w", sr, channels, "PCM_16") as f:
        for _ in range(seconds):
            f.write(second)
    sf.write(tmp_path / "warm.wav", second[:, 0], sr)
    compute_features(tmp_path / "warm.wav", cfg)  # the imports and kernels of a first call
    out, peak = _peak_bytes(tmp_path / "many.wav", None, cfg, block_s=60.0)
    assert out.shape == (1 + seconds * cfg.sample_rate // cfg.hop_length, cfg.n_mels)
    decoded = seconds * sr * channels * 4
    assert peak < decoded / 3, (peak, decoded)


def test_audio_with_nan_samples_is_an_error_naming_the_file_and_time(tmp_path):
    """A float WAV with NaN in it: every feature of its window would be NaN, and training then
    failed with "the loss became NaN" and advice about the learning rate."""
    import numpy as np
    import pytest
    import soundfile as sf

    from tfstudio.audio import AudioError
    from tfstudio.features.cache import compute_features
    from tfstudio.features.config import FeatureConfig

    samples = np.zeros(16_000 * 3, dtype="float32")
    samples[16_000 * 2 + 8_000] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, samples, 16_000, subtype="FLOAT")
    for rate in (16_000, 22_050):  # read as it is, and resampled
        with pytest.raises(AudioError, match=r"nan\.wav: holds samples that are not numbers"):
            compute_features(path, FeatureConfig(sample_rate=rate), tmp_path / f"f{rate}.npy")
        assert not list(tmp_path.glob("f*.npy"))


def test_a_cache_folder_that_cannot_be_written_computes_in_memory(tmp_path):
    """A read-only project can be evaluated: the features are not cached, not refused (in a
    child under which permission bits apply, as root ignores them)."""
    import subprocess
    import sys

    import numpy as np
    import soundfile as sf

    from tests.store.helpers import without_privileges

    audio = tmp_path / "a.wav"
    sf.write(audio, np.zeros(16_000, dtype="float32"), 16_000)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    cache_dir.chmod(0o555)
    code = (
        "import sys\n"
        "from tfstudio.features.cache import FeatureCache\n"
        "from tfstudio.features.config import FeatureConfig\n"
        "from tfstudio.audio import content_hash\n"
        "cache = FeatureCache(sys.argv[1], FeatureConfig())\n"
        "key = content_hash(sys.argv[2])\n"
        "features = cache.load(key, sys.argv[2])\n"
        "print(features.shape[1], cache.has(key))\n"
    )
    try:
        result = subprocess.run(
            [*without_privileges(), sys.executable, "-c", code, str(cache_dir), str(audio)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        cache_dir.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["40", "False"]  # the default 40 mel bands, not cached
