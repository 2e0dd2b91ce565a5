"""A full disk while features are cached: an OSError naming the file, not a SIGBUS that
kills the process without a word (open_memmap makes a sparse file). A real full file system:
a small tmpfs, where this user may mount one (root on Linux); skipped elsewhere."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import small_disk
from tfstudio.features.cache import compute_features
from tfstudio.features.config import FeatureConfig


@pytest.fixture
def full_disk(tmp_path):
    with small_disk(tmp_path / "disk", 2) as disk:
        # Leave 64 KiB: the header fits, the features of ten minutes do not.
        (disk / "filler").write_bytes(b"\0" * (2 * 1024 * 1024 - 64 * 1024))
        yield disk


def test_a_full_disk_is_an_error_naming_the_file(full_disk, tmp_path):
    audio = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    sf.write(audio, (0.1 * rng.standard_normal(16_000 * 600)).astype("float32"), 16_000)
    with pytest.raises(OSError) as caught:
        compute_features(audio, FeatureConfig(), full_disk / "cache" / "features.npy")
    assert caught.value.errno == errno.ENOSPC
    assert str(full_disk / "cache") in str(caught.value.filename)
    assert "caching features" in str(caught.value)
    assert os.listdir(full_disk / "cache") == []  # no half-written file left behind
