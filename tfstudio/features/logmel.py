"""Log-mel features: torchlibrosa Spectrogram + LogmelFilterBank, computed block by block.

Frame ``k`` is centred on sample ``k * hop_length`` of the (resampled) signal, which is
reflect-padded by ``n_fft // 2`` at both ends, as ``center=True`` STFTs do; a signal of ``n``
samples gives ``1 + n // hop_length`` frames. The padding is done here rather than inside
torchlibrosa so that a long file can be processed in overlapping blocks whose frames are the
same as those of one computation over the whole file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torchlibrosa.stft import LogmelFilterBank, Spectrogram

__all__ = [
    "FEATURE_PRESETS",
    "FEATURE_VERSION",
    "FeatureConfig",
    "LogMel",
    "feature_preset",
    "logmel",
    "n_frames",
    "stream_logmel",
]

# Bump when the computation changes in a way that alters cached values.
FEATURE_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel parameters (samples at ``sample_rate``); recordings at other rates are resampled.

    The default suits the 22.05 kHz demo: 40 ms window, 20 ms hop, 40 bands. The ``paper``
    preset is the DCASE 2017 recipe of Drossos et al.: 44.1 kHz, n_fft 2048, 40 ms window,
    20 ms hop, 40 bands.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 882
    hop_length: int = 441
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None  # None: sample_rate / 2

    def __post_init__(self) -> None:
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
        text = json.dumps({"version": FEATURE_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


FEATURE_PRESETS: dict[str, FeatureConfig] = {
    "paper": FeatureConfig(sample_rate=44100, n_fft=2048, win_length=1764, hop_length=882),
    "fast": FeatureConfig(),
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


class LogMel(nn.Module):
    """(batch, samples) already padded by n_fft // 2 → (batch, frames, n_mels) log-mel in dB.

    ``top_db`` is off: torchlibrosa clamps relative to the maximum of its input, which would
    make a frame depend on which block it was computed in. The ``amin`` floor (−100 dB) stays.
    """

    def __init__(self, config: FeatureConfig):
        super().__init__()
        self.config = config
        self.spectrogram = Spectrogram(
            n_fft=config.n_fft,
            hop_length=config.hop_length,
            win_length=config.win_length,
            window="hann",
            center=False,
            power=2.0,
        )
        self.mel = LogmelFilterBank(
            sr=config.sample_rate,
            n_fft=config.n_fft,
            n_mels=config.n_mels,
            fmin=config.fmin,
            fmax=config.fmax,
            is_log=True,
            top_db=None,
        )

    def forward(self, padded: Tensor) -> Tensor:
        return self.mel(self.spectrogram(padded)).squeeze(1)


_MODULES: dict[FeatureConfig, LogMel] = {}


def _module(config: FeatureConfig) -> LogMel:
    # Building the STFT kernels and the mel matrix costs more than a short file's features.
    module = _MODULES.get(config)
    if module is None:
        module = _MODULES[config] = LogMel(config).eval()
    return module


def _frames_of(padded: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Log-mel of a padded stretch holding whole frames: (frames, n_mels) float32."""
    with torch.inference_mode():
        out = _module(config)(torch.from_numpy(np.ascontiguousarray(padded, np.float32))[None])
    return out[0].numpy()


def logmel(signal: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Log-mel of a whole mono signal at ``config.sample_rate``: (frames, n_mels) float32."""
    signal = np.asarray(signal, dtype=np.float32)
    pad = config.n_fft // 2
    # numpy's reflect (unlike torch's) also handles signals shorter than the padding.
    mode = "reflect" if len(signal) > 1 else "constant"
    padded = np.pad(signal, pad, mode=mode)
    out = _frames_of(padded, config)
    assert len(out) == n_frames(len(signal), config.hop_length)
    return out


def stream_logmel(
    blocks: Iterable[np.ndarray],
    n_samples: int,
    config: FeatureConfig,
    *,
    frames_per_block: int = 4096,
) -> Iterator[np.ndarray]:
    """Log-mel of a mono signal given as consecutive sample blocks, in pieces of frames.

    ``n_samples`` is the signal's total length: the blocks are trimmed or zero-padded to it.
    Yields (frames, n_mels) float32 arrays whose concatenation equals :func:`logmel` of the
    whole signal; memory stays bounded by a block plus ``frames_per_block`` frames.
    """
    hop, pad, n_fft = config.hop_length, config.n_fft // 2, config.n_fft
    total_frames = n_frames(n_samples, hop)
    frames_per_block = max(1, frames_per_block)
    if n_samples <= 2 * max(n_fft, frames_per_block * hop):
        # Short: one computation, and no reflection edge cases at both ends at once.
        yield logmel(_take(blocks, n_samples), config)
        return
    # buffer holds the padded signal from padded index ``offset`` on.
    buffer = np.zeros(0, dtype=np.float32)
    offset = 0
    seen = 0  # signal samples consumed
    done = 0  # frames yielded
    tail = np.zeros(0, dtype=np.float32)  # the last pad + 1 signal samples, for the end reflection
    head: list[np.ndarray] | None = []  # blocks held back until the start reflection can be made
    for block in _exact(blocks, n_samples):
        seen += len(block)
        tail = np.concatenate([tail, block])[-(pad + 1) :]
        if head is not None:
            head.append(block)
            if sum(len(b) for b in head) < pad + 1:
                continue
            block = np.concatenate(head)
            block = np.concatenate([block[1 : pad + 1][::-1], block])
            head = None
        buffer = np.concatenate([buffer, block]) if len(buffer) else block
        if seen == n_samples:
            buffer = np.concatenate([buffer, tail[:-1][::-1]])
        # Frames whose window lies wholly inside what the buffer holds.
        available = (offset + len(buffer) - n_fft) // hop + 1 if len(buffer) >= n_fft else 0
        available = min(available, total_frames)
        while available - done >= (frames_per_block if seen < n_samples else 1):
            stop = min(available, done + frames_per_block)
            start_sample = done * hop - offset
            end_sample = (stop - 1) * hop + n_fft - offset
            yield _frames_of(buffer[start_sample:end_sample], config)
            done = stop
        drop = done * hop - offset
        if drop > 0:
            buffer = buffer[drop:]
            offset += drop
    if done != total_frames:  # pragma: no cover - guarded by _exact
        raise RuntimeError(f"computed {done} of {total_frames} frames")


def _exact(blocks: Iterable[np.ndarray], n_samples: int) -> Iterator[np.ndarray]:
    """The blocks as float32 mono, cut or zero-padded to exactly ``n_samples`` in all."""
    seen = 0
    for block in blocks:
        if seen >= n_samples:
            break
        block = np.asarray(block, dtype=np.float32)[: n_samples - seen]
        if len(block):
            seen += len(block)
            yield block
    if seen < n_samples:
        yield np.zeros(n_samples - seen, dtype=np.float32)


def _take(blocks: Iterable[np.ndarray], n_samples: int) -> np.ndarray:
    parts = list(_exact(blocks, n_samples))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def resampled_length(n_samples: int, orig_sr: int, target_sr: int) -> int:
    """Samples after resampling (torchaudio's rule: ceil(n · target / orig))."""
    return math.ceil(n_samples * target_sr / orig_sr) if orig_sr != target_sr else n_samples
