"""Features of audio that is damaged inside: an error naming the file, never shifted frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import AudioError, probe
from tfstudio.features import FeatureCache, FeatureConfig

SR = 44100


def _damaged(tmp_path: Path, suffix: str) -> Path:
    """Four seconds of noise with 2000 random bytes written over its middle third."""
    noise = (np.random.default_rng(1).standard_normal((4 * SR, 1)) * 0.3).astype(np.float32)
    path = tmp_path / f"damaged{suffix}"
    sf.write(path, noise, SR)
    data = bytearray(path.read_bytes())
    at = len(data) // 3
    data[at : at + 2000] = np.random.default_rng(1).integers(0, 256, 2000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    probe(path)  # header and tail are sound: the import takes it
    return path


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
@pytest.mark.parametrize("rate", [SR, 22050], ids=["same-rate", "resampled"])
def test_damaged_audio_is_an_error_and_nothing_is_cached(tmp_path, suffix, rate):
    # FLAC fails to decode (a soundfile error came through as a traceback); Vorbis skips the
    # damaged pages, and the features after them were cached early by that much.
    path = _damaged(tmp_path, suffix)
    cache = FeatureCache(tmp_path / "cache", FeatureConfig(sample_rate=rate))
    with pytest.raises(AudioError) as caught:
        cache.load("0123", path, verify=False)
    assert caught.value.path == path
    assert "damaged audio" in caught.value.reason
    assert not cache.has("0123")
    assert not list((tmp_path / "cache").rglob("*.npy"))
