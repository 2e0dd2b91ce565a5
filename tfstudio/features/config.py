"""Log-mel feature parameters: plain data, no torch, so the app and the command line can read
and validate them without loading a deep-learning framework."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FEATURE_PRESETS",
    "FEATURE_VERSION",
    "FeatureConfig",
    "feature_preset",
    "n_frames",
    "resampled_length",
]

# Bump when the computation changes in a way that alters cached values. 2: MP3 files are read
# exactly in pieces (tfstudio.audio.reader._MpegStream); their cached features were wrong
# near every piece's start, so caches made before are made again.
FEATURE_VERSION = 2

MEL_SCALES = ("slaney", "htk")


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel parameters (samples at ``sample_rate``); recordings at other rates are resampled.

    The default suits the 22.05 kHz demo: 40 ms window, 20 ms hop, 40 bands; the ``fast``
    preset uses 64 bands. The ``paper`` preset is the DCASE 2017 recipe of Drossos et al.:
    44.1 kHz, n_fft 2048, 40 ms window, 20 ms hop, 40 bands.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 882
    hop_length: int = 441
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None  # None: sample_rate / 2
    # Where the mel bands lie: "slaney" (librosa's default: linear below 1 kHz, logarithmic
    # above) or "htk" (2595 log10(1 + f / 700) throughout: narrower bands below 1 kHz).
    mel_scale: str = "slaney"

    def __post_init__(self) -> None:
        if self.mel_scale not in MEL_SCALES:
            raise ValueError(
                f"mel_scale must be one of {', '.join(MEL_SCALES)}, got {self.mel_scale!r}"
            )
        for name in ("sample_rate", "n_fft", "win_length", "hop_length", "n_mels"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_fft % 2:
            # An odd n_fft would make the frame count 1 + (n − 1) // hop, not 1 + n // hop.
            raise ValueError(f"n_fft must be even, got {self.n_fft}")
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length ({self.win_length}) must not exceed n_fft ({self.n_fft})")
        top = self.sample_rate / 2 if self.fmax is None else self.fmax
        if not 0 <= self.fmin < top <= self.sample_rate / 2:
            raise ValueError(
                f"need 0 <= fmin < fmax <= sample_rate / 2, got fmin={self.fmin}, fmax={top}"
            )

    @property
    def hop_s(self) -> float:
        """Seconds between frames."""
        return self.hop_length / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown feature parameter(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))

    def key(self) -> str:
        """A short stable hash of the parameters (and the feature code version) for cache names."""
        values = self.to_dict()
        if values["mel_scale"] == "slaney":
            # The default leaves the key as it was before the field existed: caches made
            # then stay valid.
            del values["mel_scale"]
        text = json.dumps({"version": FEATURE_VERSION, **values}, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


FEATURE_PRESETS: dict[str, FeatureConfig] = {
    "paper": FeatureConfig(sample_rate=44100, n_fft=2048, win_length=1764, hop_length=882),
    # 64 bands, not 40: on benchmarks/real_sounds.py (two training seeds) in-distribution
    # val F1 rose from 0.52 to 0.60 and never-heard test F1 from 0.495 to 0.509 (ER 0.92 →
    # 0.89), for ~5 % more time per epoch.
    "fast": FeatureConfig(n_mels=64),
}


def feature_preset(name: str, **overrides: Any) -> FeatureConfig:
    """A named feature configuration (``paper`` or ``fast``) with optional overrides."""
    if name not in FEATURE_PRESETS:
        raise ValueError(
            f"unknown feature preset {name!r}; choose one of {', '.join(FEATURE_PRESETS)}"
        )
    return dataclasses.replace(FEATURE_PRESETS[name], **overrides)


def n_frames(n_samples: int, hop_length: int) -> int:
    """Frames of a signal of ``n_samples`` samples (centred frames)."""
    return 1 + n_samples // hop_length


def resampled_length(n_samples: int, orig_sr: int, target_sr: int) -> int:
    """Samples after resampling (torchaudio's rule: ceil(n · target / orig))."""
    return math.ceil(n_samples * target_sr / orig_sr) if orig_sr != target_sr else n_samples
