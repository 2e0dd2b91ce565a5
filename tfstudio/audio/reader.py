"""Read parts of audio files block by block, and resample."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from tfstudio.audio.probe import AudioError, native_path, seconds_text, soundfile_reason

__all__ = ["AudioReader", "read_mono", "resample"]


class AudioReader:
    """One open audio file, read in pieces so memory stays bounded by the piece.

    Times are in seconds and converted to frames with ``round(t * sample_rate)``. Ranges are
    clamped to the file; with ``pad=True`` the missing part is zeros, so a read returns exactly
    ``round((end_s - start_s) * sample_rate)`` frames aligned to the requested times. Not
    thread-safe: give each thread its own reader.

    Audio that cannot be decoded (a damaged FLAC frame) raises `AudioError` naming the file and
    the time. A compressed stream damaged in the middle may instead decode around the damage,
    leaving frames out so that those after it come early in a read; with ``strict`` such a read
    raises `AudioError` too, otherwise it is taken as it comes, which is fine for a look at the
    file but not for its features.
    """

    def __init__(self, path: os.PathLike[str] | str, *, strict: bool = False):
        self.path = Path(path)
        self.strict = strict
        try:
            self._file = sf.SoundFile(native_path(self.path))
        except (sf.LibsndfileError, RuntimeError, OSError) as err:
            raise soundfile_reason(self.path, err) from err
        self.sample_rate: int = int(self._file.samplerate)
        self.channels: int = int(self._file.channels)
        self.frames: int = int(self._file.frames)
        if self.sample_rate <= 0:
            self._file.close()
            raise AudioError(
                self.path, f"invalid sample rate ({self.sample_rate} Hz)", "bad_sample_rate"
            )
        # MP3 is read around soundfile's own read (see _MpegStream); its position is ours.
        self._mpeg = _MpegStream(self._file) if self._file.format == "MP3" else None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file; further reads fail."""
        self._file.close()

    @property
    def closed(self) -> bool:
        return bool(self._file.closed)

    def __repr__(self) -> str:
        return (
            f"AudioReader({str(self.path)!r}, sample_rate={self.sample_rate}, "
            f"channels={self.channels}, frames={self.frames})"
        )

    def to_frame(self, seconds: float) -> int:
        """The frame index of a time in seconds (not clamped)."""
        return round(seconds * self.sample_rate)

    def read(
        self, start_s: float, end_s: float, *, mono: bool = True, pad: bool = False
    ) -> np.ndarray:
        """float32 audio between two times: shape (n,) if mono, else (n, channels)."""
        start = self.to_frame(start_s)
        return self.read_frames(
            start, start + max(0, round((end_s - start_s) * self.sample_rate)), mono=mono, pad=pad
        )

    def read_frames(
        self, start: int, stop: int, *, mono: bool = True, pad: bool = False
    ) -> np.ndarray:
        """float32 frames ``[start, stop)``, clamped to the file unless ``pad`` fills with zeros."""
        start, stop = int(start), int(stop)
        first, last = max(0, start), min(self.frames, stop)
        data = self._read(first, max(0, last - first))
        if pad and stop > start and len(data) != stop - start:
            padded = np.zeros((stop - start, self.channels), dtype=np.float32)
            at = first - start
            if len(data):
                padded[at : at + len(data)] = data
            data = padded
        return _downmix(data) if mono else data

    def blocks(
        self,
        block_s: float,
        hop_s: float | None = None,
        start_s: float = 0.0,
        end_s: float | None = None,
        *,
        mono: bool = True,
        pad: bool = False,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Stream ``(block start in s, block)`` pairs of ``block_s`` seconds every ``hop_s``.

        The file is read sequentially (overlap is kept, not re-read), which is also the fast
        path for compressed formats where seeking is slow. The last block is shorter unless
        ``pad``. Block starts fall on whole frames: ``start + k * round(hop_s * sr)``.
        """
        block = round(block_s * self.sample_rate)
        hop = block if hop_s is None else round(hop_s * self.sample_rate)
        if block <= 0 or hop <= 0:
            raise ValueError("block_s and hop_s must be at least one frame long")
        first = max(0, self.to_frame(start_s))
        stop = self.frames if end_s is None else min(self.frames, self.to_frame(end_s))
        buffer = np.zeros((0, self.channels), dtype=np.float32)
        buffer_start = first  # frame index of buffer[0]
        position = first
        while position < stop:
            need_until = min(position + block, stop)
            missing = need_until - (buffer_start + len(buffer))
            if missing > 0:
                fresh = self._read(buffer_start + len(buffer), missing)
                buffer = np.concatenate([buffer, fresh]) if len(buffer) else fresh
                if len(fresh) < missing:  # the file is shorter than its header said
                    stop = buffer_start + len(buffer)
            offset = position - buffer_start
            chunk = buffer[offset : offset + block]
            if pad and len(chunk) < block:
                chunk = np.concatenate(
                    [chunk, np.zeros((block - len(chunk), self.channels), dtype=np.float32)]
                )
            if len(chunk):
                # A copy: the consumer may write to it, and the overlap is still needed here.
                yield position / self.sample_rate, (_downmix(chunk) if mono else chunk).copy()
            position += hop
            # Keep only what the next block still needs.
            drop = min(len(buffer), position - buffer_start)
            if drop > 0:
                buffer = buffer[drop:]
                buffer_start += drop
            if position > buffer_start + len(buffer):  # hop longer than the block: skip ahead
                buffer_start = position
                buffer = np.zeros((0, self.channels), dtype=np.float32)

    def _read(self, start: int, count: int) -> np.ndarray:
        if count <= 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        try:
            if self._mpeg is not None:
                data = self._mpeg.read(start, count)
            else:
                if self._file.tell() != start:
                    self._file.seek(start)
                data = self._file.read(count, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            first = seconds_text(start / self.sample_rate)
            last = seconds_text(min(start + count, self.frames) / self.sample_rate)
            raise AudioError(
                self.path,
                f"damaged audio: it cannot be decoded between {first} and {last} "
                f"({_libsndfile_message(err)})",
                "malformed",
            ) from err
        except OSError as err:  # a disk or a network share going away mid-read
            raise soundfile_reason(self.path, err) from err
        # A decoder that skips damaged data returns fewer frames, or moves its position past
        # frames it never returned (libvorbis does both).
        position = self._mpeg.position if self._mpeg is not None else self._file.tell()
        if self.strict and (len(data) < count or position != start + len(data)):
            first = seconds_text(start / self.sample_rate)
            last = seconds_text(min(start + count, self.frames) / self.sample_rate)
            raise AudioError(
                self.path,
                f"damaged audio: part of it between {first} and {last} cannot be decoded "
                "(damaged data in a compressed stream, or the file changed while being read)",
                "malformed",
            )
        return data


class _MpegStream:
    """An MP3 file's frames read exactly: libsndfile 1.2.2 decodes MP3 right only while it is
    read straight on. soundfile seeks after every read to keep its position (``sf_seek`` to
    where it already is), and libsndfile passes that to mpg123, whose next frames then decode
    without their bit reservoir: 4096-frame reads of a tone with silent gaps came out wrong by
    up to 0.36 in whole stretches, a click moved by 309 samples, and speech by up to 0.02 —
    against one read of the whole file. So reads here call ``sf_readf_float`` itself (no seek
    between reads), and a read elsewhere seeks :data:`PREROLL` frames before its start and
    decodes them first: the bit reservoir may reach back over many small (quiet) MP3 frames
    (random reads of speech after 2 s of silence at 22 kHz were exact from 16 × 1152 frames
    of preroll on, a tone with gaps from 4; 32 for margin, a few ms of decoding a seek)."""

    PREROLL = 32 * 1152

    def __init__(self, file: sf.SoundFile):
        from soundfile import _ffi, _snd  # soundfile's own cffi binding of libsndfile

        self._file, self._ffi, self._snd = file, _ffi, _snd
        self.channels = int(file.channels)
        self.position = 0

    def _readf(self, count: int) -> np.ndarray:
        out = np.empty((count, self.channels), dtype=np.float32)
        handle = self._file._file  # the SNDFILE*
        got = self._snd.sf_readf_float(handle, self._ffi.cast("float *", out.ctypes.data), count)
        code = self._snd.sf_error(handle)
        if code:
            raise sf.LibsndfileError(code, "Error while reading")
        self.position += max(0, got)
        return out[: max(0, got)]

    def read(self, start: int, count: int) -> np.ndarray:
        if start != self.position:
            from_frame = max(0, start - self.PREROLL)
            handle = self._file._file
            if self._snd.sf_seek(handle, from_frame, 0) < 0:  # SEEK_SET
                raise sf.LibsndfileError(self._snd.sf_error(handle), "Error while seeking")
            self.position = from_frame
            while self.position < start:
                if not len(self._readf(start - self.position)):
                    break
        return self._readf(count)


def read_mono(
    path: os.PathLike[str] | str, start_s: float = 0.0, end_s: float | None = None
) -> tuple[np.ndarray, int]:
    """Mono float32 audio of a file (or part of it) and its sample rate."""
    with AudioReader(path) as reader:
        end = reader.duration if end_s is None else end_s
        return reader.read(start_s, end, mono=True), reader.sample_rate


def resample(x: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample along time (axis 0: shape (n,) or (n, channels)) with torchaudio; float32.

    Returns ``x`` itself when the rates are equal.
    """
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} and {target_sr}")
    if orig_sr == target_sr:
        return x
    import torch  # only here: the rest of the audio package must not pay for torch
    import torchaudio.functional as F

    signal = torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float32).T))
    out = F.resample(signal, int(orig_sr), int(target_sr))
    return np.ascontiguousarray(out.numpy().T)


def _libsndfile_message(err: Exception) -> str:
    message = str(getattr(err, "error_string", None) or err).strip().rstrip(".")
    return message.removeprefix("Error : ").strip() or type(err).__name__


def _downmix(data: np.ndarray) -> np.ndarray:
    if data.shape[1] == 1:
        return data[:, 0]  # contiguous already; a copy would double a long read's memory
    return data.mean(axis=1, dtype=np.float32)
