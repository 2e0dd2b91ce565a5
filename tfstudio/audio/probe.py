"""Find audio files and describe them without decoding them."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from typing import BinaryIO

import soundfile as sf

from tfstudio.audio._headers import (
    TRUNCATION_TOLERANCE_BYTES,
    ogg_ends_cleanly,
    read_data_span,
    unfinished_riff_data,
)
from tfstudio.audio.recorded_at import read_recorded_at
from tfstudio.store.recorded import stored_text

__all__ = ["AUDIO_SUFFIXES", "AudioError", "AudioInfo", "probe", "scan"]

# Suffixes per libsndfile format. MAT4/MAT5 (.mat) and HTK (.htk) are left out: files with those
# names are nearly always data or features, and a folder import would reject every one of them.
_FORMAT_SUFFIXES = {
    "WAV": (".wav", ".wave", ".bwf"),
    "WAVEX": (".wav",),
    "RF64": (".rf64",),
    "W64": (".w64",),
    "FLAC": (".flac",),
    "OGG": (".ogg", ".oga", ".opus"),
    "MP3": (".mp3",),
    "AIFF": (".aif", ".aiff", ".aifc"),
    "AU": (".au", ".snd"),
    "CAF": (".caf",),
    "AVR": (".avr",),
    "SVX": (".8svx", ".svx", ".iff"),
    "IRCAM": (".sf", ".ircam"),
    "NIST": (".nist", ".sph"),
    "VOC": (".voc",),
    "PAF": (".paf",),
    "PVF": (".pvf",),
    "SD2": (".sd2",),
    "SDS": (".sds",),
    "WVE": (".wve",),
    "XI": (".xi",),
    "MPC2K": (".mpc2k",),
}
# Always offered, so that a libsndfile built without MP3 or Opus rejects such files with a
# reason instead of a folder import skipping them without a word.
_ALWAYS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3")

AUDIO_SUFFIXES: frozenset[str] = frozenset(
    _ALWAYS
    + tuple(
        suffix for fmt in sf.available_formats() for suffix in _FORMAT_SUFFIXES.get(fmt.upper(), ())
    )
)
"""Lower-case file suffixes that `scan` picks up when it walks a folder."""

_HASH_DIGEST_BYTES = 16  # 32 hex characters: plenty for telling recordings apart
_TAIL_FRAMES = 16


@dataclass(frozen=True)
class AudioInfo:
    """What the project needs to know about a recording, read from its header.

    ``content_hash`` (blake2b of the file's bytes, 32 hex characters) is the recording's identity:
    it finds a file again after it was moved or renamed and keys the feature caches.
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration: float
    size: int
    mtime: float
    content_hash: str
    format: str
    subtype: str
    # When it started, as ISO 8601 text, and where that was read (tfstudio.store.recorded).
    recorded_at: str | None = None
    recorded_at_source: str | None = None


class AudioError(Exception):
    """A file that cannot be used as a recording, and why, in words a user understands.

    ``kind`` is a stable short code for programs: ``missing``, ``not_a_file``, ``empty``,
    ``unreadable``, ``not_audio``, ``malformed``, ``truncated``, ``no_frames``,
    ``bad_sample_rate``, ``changed`` (not the content the project imported) or
    ``not_numbers`` (samples that are NaN or infinite).
    """

    def __init__(self, path: os.PathLike[str] | str, reason: str, kind: str = "malformed"):
        self.path = Path(path)
        self.reason = reason
        self.kind = kind
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keeps the attributes through pickling (worker processes)
        return (type(self), (self.path, self.reason, self.kind))


def _digest(f: BufferedReader) -> str:
    return hashlib.file_digest(
        f, lambda: hashlib.blake2b(digest_size=_HASH_DIGEST_BYTES)
    ).hexdigest()


def content_hash(path: os.PathLike[str] | str) -> str:
    """The content hash ``probe`` stores for a file (its bytes, not its name or time); the
    store compares it when a file's time changed but not its size (``check_files``)."""
    with open(path, "rb") as f:
        return _digest(f)


def probe(path: os.PathLike[str] | str) -> AudioInfo:
    """Describe one audio file from its header; raise `AudioError` if it cannot be used.

    Only the header, a few frames at the end (to catch truncation) and, for the content hash,
    the raw bytes are read; the audio is never decoded as a whole.
    """
    path = Path(path)
    st = _stat(path)
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "a special file"
        raise AudioError(path, f"not a file (it is {what})", "not_a_file")
    if st.st_size == 0:
        raise AudioError(path, "empty file (0 bytes)", "empty")
    try:
        f = open(path, "rb")  # noqa: SIM115 -- closed below, shared by all the checks
    except OSError as err:
        raise _os_error(path, err) from err
    with f:
        try:
            return _probe_open(path, f, st)
        except OSError as err:  # an I/O error halfway, e.g. a disk or network share going away
            raise _os_error(path, err) from err


def _probe_open(path: Path, f: BufferedReader, st: os.stat_result) -> AudioInfo:
    """The checks of `probe` on a file that exists, is regular, non-empty and open."""
    try:
        info = sf.info(native_path(path))
    except (sf.LibsndfileError, RuntimeError) as err:
        # A header cut short is a truncation, whatever libsndfile calls it.
        raise (_truncation(path, f, st.st_size, 0) or soundfile_reason(path, err)) from err
    if info.samplerate <= 0:
        raise AudioError(path, f"invalid sample rate ({info.samplerate} Hz)", "bad_sample_rate")
    if info.channels <= 0:
        raise AudioError(path, f"invalid channel count ({info.channels})", "malformed")
    truncated = _truncation(path, f, st.st_size, info.samplerate)
    if truncated is not None:
        raise truncated
    if info.frames <= 0:
        raise _unfinished(path, f, st.st_size) or AudioError(
            path, "contains no audio (0 frames)", "no_frames"
        )
    _check_tail(path, info)
    f.seek(0)
    digest = _digest(f)
    start = read_recorded_at(f, st.st_size, path.name)
    return AudioInfo(
        path=path,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration=info.frames / info.samplerate,
        size=st.st_size,
        mtime=st.st_mtime,
        content_hash=digest,
        format=info.format,
        subtype=info.subtype,
        recorded_at=None if start is None else stored_text(start[0]),
        recorded_at_source=None if start is None else start[1],
    )


def scan(
    paths: Iterable[os.PathLike[str] | str],
    *,
    on_error: Callable[[Path, OSError], None] | None = None,
) -> Iterator[Path]:
    """Expand files and folders into the files to probe, each once, in a stable order.

    Paths given explicitly are yielded as they are, even missing ones or ones with an odd suffix,
    so that `probe` can say what is wrong with them. Folders are walked recursively in sorted
    order, yielding files with a suffix in `AUDIO_SUFFIXES` (any case) and skipping hidden files
    and folders. ``on_error`` hears about folders that could not be listed.
    """
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            walked = _walk(path, on_error, visited=set())
        else:
            walked = iter((path,))
        for found in walked:
            key = os.path.realpath(found)
            if key not in seen:
                seen.add(key)
                yield found


def _walk(
    folder: Path,
    on_error: Callable[[Path, OSError], None] | None,
    visited: set[tuple[int, int]],
) -> Iterator[Path]:
    try:
        st = folder.stat()
        # Symlinked folders are followed, but a loop of them is walked once.
        if (st.st_dev, st.st_ino) in visited:
            return
        visited.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as err:
        if on_error is not None:
            on_error(folder, err)
        return
    for entry in entries:
        if _is_hidden(entry):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(Path(entry.path), on_error, visited)
        elif os.path.splitext(entry.name)[1].lower() in AUDIO_SUFFIXES:
            yield Path(entry.path)


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith("."):
        return True
    if sys.platform == "win32":
        try:
            attributes = entry.stat(follow_symlinks=False).st_file_attributes
        except OSError:
            return False
        return bool(attributes & stat.FILE_ATTRIBUTE_HIDDEN)
    return False


def native_path(path: Path) -> str | bytes:
    """The path as libsndfile wants it: bytes on POSIX, so any file name survives."""
    # soundfile encodes str paths strictly as UTF-8, which fails on undecodable names.
    return str(path) if sys.platform == "win32" else os.fsencode(path)


def soundfile_reason(path: Path, err: Exception) -> AudioError:
    """Turn an error from soundfile into an `AudioError` a user can act on."""
    if isinstance(err, OSError) and not isinstance(err, sf.LibsndfileError):
        return _os_error(path, err)
    message = str(getattr(err, "error_string", None) or err).strip().rstrip(".")
    lowered = message.lower()
    if "format not recognised" in lowered or "unknown format" in lowered:
        return AudioError(path, "not an audio file, or a format soundfile cannot read", "not_audio")
    if "sf_info struct incomplete" in lowered:
        return AudioError(
            path,
            "damaged header: the sample rate, channel count or sample format is missing or zero",
            "malformed",
        )
    if "system error" in lowered:
        if not os.path.exists(path):
            return AudioError(path, "no such file", "missing")
        if not os.access(path, os.R_OK):
            return AudioError(path, "permission denied (the file cannot be read)", "unreadable")
    return AudioError(path, f"damaged or unsupported audio file ({message})", "malformed")


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as err:
        raise _os_error(path, err) from err


def _os_error(path: Path, err: OSError) -> AudioError:
    if isinstance(err, FileNotFoundError) or err.errno == errno.ENOENT:
        return AudioError(path, "no such file", "missing")
    if isinstance(err, PermissionError) or err.errno in (errno.EACCES, errno.EPERM):
        return AudioError(path, "permission denied (the file cannot be read)", "unreadable")
    if isinstance(err, IsADirectoryError):
        return AudioError(path, "not a file (it is a folder)", "not_a_file")
    return AudioError(path, f"cannot read the file ({err.strerror or err})", "unreadable")


def _truncation(path: Path, f: BinaryIO, file_size: int, sample_rate: int) -> AudioError | None:
    """The container's own evidence that the file was cut short, if any.

    Works from the raw bytes, so it also explains files that libsndfile refuses to open.
    """
    f.seek(0)
    if f.read(4) == b"OggS":
        if ogg_ends_cleanly(f, file_size) is False:
            return AudioError(
                path, "truncated file: the Ogg stream stops without its final page", "truncated"
            )
        return None
    span = read_data_span(f, file_size)
    if span is None:
        return None
    missing = span.missing_bytes(file_size)
    if missing <= TRUNCATION_TOLERANCE_BYTES:
        return None
    present = max(0, file_size - span.offset)
    rate = (span.bytes_per_frame or 0) * (sample_rate or span.sample_rate or 0)
    if rate > 0:
        detail = (
            f"its header promises {seconds_text(span.declared_bytes / rate)} of audio "
            f"but only {seconds_text(present / rate)} is in the file"
        )
    else:
        detail = f"{missing} of the {span.declared_bytes} bytes its header declares are missing"
    return AudioError(path, f"truncated file: {detail}", "truncated")


def _unfinished(path: Path, f: BinaryIO, file_size: int) -> AudioError | None:
    """A WAV whose header says it holds no audio although audio follows it."""
    span = unfinished_riff_data(f, file_size)
    if span is None:
        return None
    rate = (span.bytes_per_frame or 0) * (span.sample_rate or 0)
    amount = f"{span.declared_bytes} bytes"
    if rate > 0:
        amount += f" (about {seconds_text(span.declared_bytes / rate)})"
    return AudioError(
        path,
        f"unfinished file: its header says it holds no audio, but {amount} follow it: the "
        "program writing it stopped before completing the header (a crash or a power loss "
        "while recording); repair the header, e.g. with 'sox --ignore-length'",
        "malformed",
    )


def _check_tail(path: Path, info: sf._SoundFileInfo) -> None:
    """Read the last frames: compressed streams cut short fail there, and it costs one seek."""
    wanted = min(_TAIL_FRAMES, info.frames)
    try:
        with sf.SoundFile(native_path(path)) as snd:
            snd.seek(info.frames - wanted)
            got = len(snd.read(wanted, dtype="float32", always_2d=True))
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(
            path,
            f"truncated or damaged file: the audio ends before the {seconds_text(info.duration)} "
            "its header promises",
            "truncated",
        ) from err
    if got < wanted:
        # libsndfile estimates an MP3's length from its first frame when there is no
        # Xing/Info/VBRI tag, so for MP3 the header itself may be what is wrong.
        hint = " (or a VBR MP3 without a length tag)" if info.format == "MP3" else ""
        raise AudioError(
            path,
            f"truncated file: the audio ends before the {seconds_text(info.duration)} "
            f"its header promises{hint}",
            "truncated",
        )


def seconds_text(value: float) -> str:
    """A duration as messages show it: ``1.25 s`` or ``3 min 07.5 s``."""
    return f"{value:.2f} s" if value < 60 else f"{int(value // 60)} min {value % 60:04.1f} s"
