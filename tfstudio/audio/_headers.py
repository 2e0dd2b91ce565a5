"""What an uncompressed container's header says about its audio data.

libsndfile silently clamps the frame count of a truncated WAV/AIFF/AU/W64 file to the bytes that
are present, so a recording cut short by a crash or an interrupted copy opens without complaint.
The header still records how many bytes of audio were written; comparing that with the file size
is how the probe notices. Only the chunk headers are read, never the audio.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

# Sizes writers put in the header when they stream and cannot know the length yet.
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF})
# A misbehaving writer is not worth a rejection; that much can be lost without the user caring.
TRUNCATION_TOLERANCE_BYTES = 512
_MAX_CHUNKS = 10_000

# AU encodings → bytes per sample.
_AU_SAMPLE_BYTES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}


@dataclass(frozen=True)
class DataSpan:
    """Where the audio data starts and how long the header says it is."""

    offset: int
    declared_bytes: int
    bytes_per_frame: int | None
    sample_rate: int | None = None
    channels: int | None = None

    def missing_bytes(self, file_size: int) -> int:
        return max(0, self.offset + self.declared_bytes - file_size)


def read_data_span(f: BinaryIO, file_size: int) -> DataSpan | None:
    """The data span of a RIFF/RIFX/RF64/BW64, W64, AIFF/AIFC or AU header; None if unknown."""
    f.seek(0)
    head = f.read(16)
    try:
        if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
            return _riff(f, file_size, ">" if head[:4] == b"RIFX" else "<")
        if head[:4] == b"riff" and len(head) == 16:
            return _w64(f, file_size)
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            return _aiff(f, file_size, compressed=head[8:12] == b"AIFC")
        if head[:4] in (b".snd", b"dns."):
            return _au(f, ">" if head[:4] == b".snd" else "<")
    except struct.error:
        return None  # a header cut inside a chunk header: libsndfile has its own opinion on that
    return None


def _riff_data(f: BinaryIO, file_size: int, e: str) -> tuple[DataSpan | None, bool]:
    """The 'data' chunk of a RIFF/RIFX/RF64 file as its header declares it (the ds64 size
    where the 32-bit one is 0xFFFFFFFF), with the format's frame size, rate and channels; or
    None and whether the walk ran into the end of the file (a header cut short) first."""
    data64: int | None = None
    align = sample_rate = channels = None
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > file_size:
            return None, True
        f.seek(pos)
        cid, size = struct.unpack(e + "4sI", f.read(8))
        if cid != b"data" and pos + 8 + size > file_size:
            return None, True  # cut inside the header
        if cid == b"ds64":
            _riff_size, data64 = struct.unpack("<QQ", f.read(16))
        elif cid == b"fmt ":
            _tag, channels, sample_rate, _rate, align, _bits = struct.unpack(
                e + "HHIIHH", f.read(16)
            )
        elif cid == b"data":
            declared = data64 if size == 0xFFFFFFFF and data64 is not None else size
            return DataSpan(pos + 8, declared, align or None, sample_rate, channels), False
        pos += 8 + size + (size & 1)
    return None, False


def _riff(f: BinaryIO, file_size: int, e: str) -> DataSpan | None:
    f.seek(4)
    (riff_size,) = struct.unpack(e + "I", f.read(4))
    span, cut = _riff_data(f, file_size, e)
    if span is None:
        return _whole_form(riff_size, file_size) if cut else None
    return None if span.declared_bytes in _UNKNOWN_SIZES else span


def unfinished_riff_data(f: BinaryIO, file_size: int) -> DataSpan | None:
    """The bytes after a RIFF/RF64 'data' chunk whose header declares none, if any follow.

    A writer puts 0 there when it starts and fills in the size when it closes the file, so a
    recording whose program crashed or lost power keeps its audio behind a header that says
    it has none; libsndfile then reports 0 frames (unless the outer size is 8 as well)."""
    f.seek(0)
    head = f.read(12)
    if head[:4] not in (b"RIFF", b"RIFX", b"RF64", b"BW64") or head[8:12] != b"WAVE":
        return None
    try:
        span, _cut = _riff_data(f, file_size, ">" if head[:4] == b"RIFX" else "<")
    except struct.error:
        return None
    if span is None or span.declared_bytes != 0 or file_size <= span.offset:
        return None
    present = file_size - span.offset
    return DataSpan(span.offset, present, span.bytes_per_frame, span.sample_rate, span.channels)


def _whole_form(size: int, file_size: int) -> DataSpan | None:
    """No audio chunk before the end: the outer chunk's size tells if the header was cut."""
    if size in _UNKNOWN_SIZES or 8 + size <= file_size:
        return None
    return DataSpan(8, size, None)


def _w64(f: BinaryIO, file_size: int) -> DataSpan | None:
    align = sample_rate = channels = None
    pos = 40  # riff GUID, 64-bit size, wave GUID
    for _ in range(_MAX_CHUNKS):
        if pos + 24 > file_size:
            return None
        f.seek(pos)
        guid, size = struct.unpack("<16sQ", f.read(24))
        if guid[:4] == b"fmt ":
            _tag, channels, sample_rate, _rate, align, _bits = struct.unpack("<HHIIHH", f.read(16))
        elif guid[:4] == b"data":
            if size in _UNKNOWN_SIZES or size < 24:
                return None
            return DataSpan(pos + 24, size - 24, align or None, sample_rate, channels)
        if size < 24:
            return None
        pos += (size + 7) & ~7
    return None


def _aiff(f: BinaryIO, file_size: int, *, compressed: bool) -> DataSpan | None:
    bytes_per_frame = channels = None
    f.seek(4)
    (form_size,) = struct.unpack(">I", f.read(4))
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > file_size:
            return _whole_form(form_size, file_size)
        f.seek(pos)
        cid, size = struct.unpack(">4sI", f.read(8))
        if cid != b"SSND" and pos + 8 + size > file_size:
            return _whole_form(form_size, file_size)  # cut inside the header
        if cid == b"COMM":
            channels, _frames, bits = struct.unpack(">hIh", f.read(8))
            # AIFC's sample size describes the decoded samples, not the stored bytes.
            bytes_per_frame = None if compressed else channels * ((bits + 7) // 8) or None
        elif cid == b"SSND":
            offset, _block = struct.unpack(">II", f.read(8))
            if size in _UNKNOWN_SIZES or size < 8 + offset:
                return None
            return DataSpan(pos + 16 + offset, size - 8 - offset, bytes_per_frame, None, channels)
        pos += 8 + size + (size & 1)
    return None


def _au(f: BinaryIO, e: str) -> DataSpan | None:
    f.seek(4)
    offset, size, encoding, sample_rate, channels = struct.unpack(e + "5I", f.read(20))
    if size in _UNKNOWN_SIZES:
        return None
    sample_bytes = _AU_SAMPLE_BYTES.get(encoding)
    return DataSpan(
        offset, size, sample_bytes * channels if sample_bytes else None, sample_rate, channels
    )


_OGG_MAX_PAGE = 27 + 255 + 255 * 255
_OGG_EOS = 0x04


def ogg_ends_cleanly(f: BinaryIO, file_size: int) -> bool | None:
    """Whether an Ogg file ends with a whole end-of-stream page; None if that cannot be told.

    Ogg headers declare no total length: a stream cut short by a crash or a partial copy is
    only recognisable by its last page, which is either incomplete or lacks the EOS flag.
    """
    start = max(0, file_size - _OGG_MAX_PAGE - 1)
    f.seek(start)
    tail = f.read(file_size - start)
    at = tail.rfind(b"OggS")
    while at >= 0:
        header_end = at + 27
        if header_end <= len(tail) and tail[at + 4] == 0:  # stream structure version 0
            segments = tail[at + 26]
            if header_end + segments > len(tail):
                return False  # cut inside the page header
            page_end = header_end + segments + sum(tail[header_end : header_end + segments])
            if page_end > len(tail):
                return False  # cut inside the page
            if page_end == len(tail):
                return bool(tail[at + 5] & _OGG_EOS)
            return None  # bytes after the last page: not ours to judge
        at = tail.rfind(b"OggS", 0, at)
    return None
