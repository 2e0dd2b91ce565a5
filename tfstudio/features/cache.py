"""Per-recording feature files on disk: computed once, read back memory-mapped.

A recording's log-mel lives in ``<cache>/features/<content hash>-<config key>.npy``
(float32, (frames, n_mels)). The content hash follows the file through moves and renames;
the config key changes with any feature parameter. Files are written under a temporary name
and renamed, so a killed process or two processes computing the same file never leave a
truncated cache entry behind.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tfstudio.audio import AudioError, AudioReader, content_hash, resample
from tfstudio.features.config import FeatureConfig, n_frames, resampled_length
from tfstudio.features.melspec import stream_logmel

__all__ = [
    "FeatureCache",
    "compute_features",
    "feature_file",
    "resampled_blocks",
]

DEFAULT_BLOCK_S = 60.0
# Samples (all channels) read at once at most: 60 s of 16 channels at 96 kHz is 370 MB as
# float32, for a mono block of 5 MB. Fewer frames per block leave the features as they are.
MAX_BLOCK_SAMPLES = 1 << 23


def feature_file(cache_dir: Path, content_hash: str, config: FeatureConfig) -> Path:
    """Where the features of a recording with ``content_hash`` are cached."""
    return Path(cache_dir) / "features" / f"{content_hash}-{config.key()}.npy"


def resampled_blocks(
    reader: AudioReader, target_sr: int, *, block_s: float = DEFAULT_BLOCK_S
) -> tuple[Iterator[np.ndarray], int]:
    """Mono blocks of the file at ``target_sr`` and their total length in samples.

    Resampling is done chunk by chunk with a margin either side; chunks start on multiples of
    ``orig / gcd(orig, target)`` source samples so every chunk's output samples fall on the
    same time grid as those of one resampling of the whole file. A block of a file with many
    channels is shorter, so that it holds at most ``MAX_BLOCK_SAMPLES`` samples.
    """
    orig = reader.sample_rate
    block_s = min(block_s, MAX_BLOCK_SAMPLES / (orig * reader.channels))
    total = resampled_length(reader.frames, orig, target_sr)
    if orig == target_sr:
        block = max(1, round(block_s * orig))
        return (data for _, data in reader.blocks(block / orig, mono=True)), total

    step_src = orig // math.gcd(orig, target_sr)
    step_dst = target_sr // math.gcd(orig, target_sr)
    # The sinc kernel spans a few tens of source samples; keep far more than that.
    margin = step_src * math.ceil((64 + 16 * orig / target_sr) / step_src)
    chunk = step_src * max(1, round(block_s * orig / step_src))

    def generate() -> Iterator[np.ndarray]:
        emitted = 0
        for start in range(0, reader.frames, chunk):
            stop = min(start + chunk, reader.frames)
            lead = min(margin, start)
            data = reader.read_frames(start - lead, min(stop + margin, reader.frames), mono=True)
            out = resample(data, orig, target_sr)
            skip = lead // step_src * step_dst
            keep = (
                (stop - start) // step_src * step_dst if stop < reader.frames else total - emitted
            )
            piece = out[skip : skip + keep]
            emitted += len(piece)
            yield piece

    return generate(), total


def _finite(blocks: Iterator[np.ndarray], path: Path | str, rate: int) -> Iterator[np.ndarray]:
    """The blocks, checked: a sample that is NaN or infinite (a float WAV some tool wrote
    badly) would make every feature of its window NaN, and training then fail with "the loss
    became NaN" and advice about the learning rate. AudioError naming the file and the time."""
    at = 0
    for block in blocks:
        if not np.isfinite(block).all():
            first = at + int(np.flatnonzero(~np.isfinite(block))[0])
            raise AudioError(
                path,
                f"holds samples that are not numbers (NaN or infinite) from {first / rate:.2f} s "
                "on; repair or re-export the file",
                "not_numbers",
            )
        at += len(block)
        yield block


def compute_features(
    audio_path: Path | str,
    config: FeatureConfig,
    out_path: Path | str | None = None,
    *,
    block_s: float = DEFAULT_BLOCK_S,
) -> np.ndarray:
    """Log-mel of a file, computed blockwise; written to ``out_path`` (.npy) when given.

    With ``out_path`` the result is a read-only memory map of the file, so neither the audio
    nor the features of an hours-long recording are ever wholly in memory.
    """
    # Strict: a stream that decodes short would put every frame after its damage early.
    with AudioReader(audio_path, strict=True) as reader:
        blocks, n_samples = resampled_blocks(reader, config.sample_rate, block_s=block_s)
        blocks = _finite(blocks, audio_path, config.sample_rate)
        shape = (n_frames(n_samples, config.hop_length), config.n_mels)
        frames_per_block = max(1, round(block_s / config.hop_s))
        pieces = stream_logmel(blocks, n_samples, config, frames_per_block=frames_per_block)
        if out_path is None:
            return np.concatenate(list(pieces)) if shape[0] else np.zeros(shape, np.float32)
        out_path = Path(out_path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(f"{out_path.stem}.{os.getpid()}.tmp.npy")
        try:
            target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
            try:
                _reserve(tmp)
            except OSError:
                del target  # unmapped now, not when the traceback goes
                raise
            at = 0
            for piece in pieces:
                target[at : at + len(piece)] = piece
                at += len(piece)
            target.flush()
            del target
            os.replace(tmp, out_path)
        finally:
            tmp.unlink(missing_ok=True)
    return np.load(out_path, mmap_mode="r")


def _reserve(path: Path) -> None:
    """Give the memory-mapped file its disk blocks now: open_memmap makes a sparse file, and
    writing into a page the full disk has no block for kills the process with SIGBUS (no
    message, no clean-up). Reserved first, a full disk is an OSError naming the file."""
    if not hasattr(os, "posix_fallocate"):
        return  # macOS, Windows: no such call; their mappings fail as they do
    with open(path, "r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                return  # a file system that cannot reserve (some network ones): as before
            raise OSError(exc.errno, f"{exc.strerror} (caching features)", str(path)) from None


class FeatureCache:
    """Features of a project's recordings for one :class:`FeatureConfig`, cached on disk."""

    def __init__(
        self, cache_dir: Path | str, config: FeatureConfig, *, block_s: float = DEFAULT_BLOCK_S
    ):
        self.cache_dir = Path(cache_dir)
        self.config = config
        self.block_s = block_s

    def path(self, content_hash: str) -> Path:
        return feature_file(self.cache_dir, content_hash, self.config)

    def has(self, content_hash: str) -> bool:
        return self.path(content_hash).exists()

    def load(
        self,
        content_hash: str,
        audio_path: Path | str,
        *,
        on_compute: Callable[[Path], None] | None = None,
        verify: bool = True,
    ) -> np.ndarray:
        """The (frames, n_mels) features, memory-mapped; computed first on a cache miss.

        Before computing, the file's bytes are checked against ``content_hash`` (with
        ``verify``; the hash costs a fraction of the decoding): a file replaced since it was
        imported raises `AudioError` (kind ``changed``) instead of having its features cached
        under the old content's name, where every recording of that content would find them.
        """
        path = self.path(content_hash)
        if path.exists():
            try:
                return np.load(path, mmap_mode="r")
            except (ValueError, OSError):
                path.unlink(missing_ok=True)  # unreadable: recompute below
        if on_compute is not None:
            on_compute(Path(audio_path))
        if verify:
            _check_content(Path(audio_path), content_hash)
        try:
            return compute_features(audio_path, self.config, path, block_s=self.block_s)
        except PermissionError:
            # A read-only project (or cache folder) can still be evaluated and detected on:
            # the features are computed in memory instead of cached.
            return compute_features(audio_path, self.config, None, block_s=self.block_s)


def _check_content(audio_path: Path, expected: str) -> None:
    try:
        actual = content_hash(audio_path)
    except OSError:
        return  # the reader says what is wrong with the file, in its own words
    if actual != expected:
        raise AudioError(
            audio_path,
            "changed since it was imported (its content is not what the project holds); "
            "import it again to update it",
            "changed",
        )
