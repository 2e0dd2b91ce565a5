"""Log-mel features (torchlibrosa), computed blockwise and cached per recording on disk; display
spectrogram tiles for the app (:mod:`.tiles`, numpy and scipy only).

:mod:`.config` (parameters and presets) needs no torch; the computation and the cache load it
on first use, so reading or validating a configuration stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from tfstudio.features.config import (
    FEATURE_PRESETS,
    FEATURE_VERSION,
    FeatureConfig,
    feature_preset,
    n_frames,
    resampled_length,
)

_LAZY = {
    "FeatureCache": "tfstudio.features.cache",
    "compute_features": "tfstudio.features.cache",
    "feature_file": "tfstudio.features.cache",
    "resampled_blocks": "tfstudio.features.cache",
    "LogMel": "tfstudio.features.melspec",
    "logmel": "tfstudio.features.melspec",
    "stream_logmel": "tfstudio.features.melspec",
}

__all__ = [
    "FEATURE_PRESETS",
    "FEATURE_VERSION",
    "FeatureCache",
    "FeatureConfig",
    "LogMel",
    "compute_features",
    "feature_file",
    "feature_preset",
    "logmel",
    "n_frames",
    "resampled_blocks",
    "resampled_length",
    "stream_logmel",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tfstudio.features' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
