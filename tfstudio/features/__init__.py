"""Log-mel features (torchlibrosa), computed blockwise and cached per recording on disk."""

from tfstudio.features.cache import FeatureCache, compute_features, feature_file, resampled_blocks
from tfstudio.features.logmel import (
    FEATURE_PRESETS,
    FEATURE_VERSION,
    FeatureConfig,
    LogMel,
    feature_preset,
    logmel,
    n_frames,
    stream_logmel,
)

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
    "stream_logmel",
]
