"""When a recording started, as its file says: GUANO metadata, an AudioMoth's comment, a
broadcast-wave ``bext`` header, or else its file name (`tfstudio.store.recorded` says how the
start is stored and shown).

- GUANO (bat detectors: Wildlife Acoustics Song Meters, Kaleidoscope, Pettersson, Titley,
  SonoBat…): a ``guan`` chunk of ``Key: value`` lines whose ``Timestamp`` is ISO 8601, with its
  UTC offset where the recorder knew it (``Z`` is UTC).
- AudioMoth: "Recorded at 05:00:00 01/05/2024 (UTC+2) by AudioMoth …" in the ``LIST``/``INFO``
  ``ICMT`` comment (day before month; the offset is the one the AudioMoth was configured with).
- Broadcast wave (Zoom, Sound Devices, Tascam, Marantz…): the ``bext`` chunk's
  OriginationDate and OriginationTime, the recorder's clock (no zone).
- The file name: ``20240501_050000`` and its kin, no zone.

Only RIFF-family files (WAV, BWF, RF64) carry the chunks; other formats get the name's time.
A chunk that says nothing usable is passed over: a wrong or missing start never costs the
import of the audio.
"""

from __future__ import annotations

import contextlib
import re
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from tfstudio.store.recorded import SOURCES, datetime_of, from_file_name

_MAX_CHUNKS = 10_000
_MAX_TEXT_BYTES = 1 << 16  # a metadata chunk larger than this is not one we read
_BEXT_DATE_AT = 256 + 32 + 32  # Description, Originator, OriginatorReference

_AUDIOMOTH = re.compile(
    r"Recorded at (?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))? "
    r"(?P<d>\d{2})/(?P<mo>\d{2})/(?P<y>\d{4}) "
    r"\(UTC(?:(?P<sign>[+-])(?P<oh>\d{1,2})(?::(?P<om>\d{2}))?)?\)"
)
_BEXT = re.compile(
    r"(?P<y>\d{4})[-:/.](?P<mo>\d{2})[-:/.](?P<d>\d{2})(?P<h>\d{2})[-:/.](?P<mi>\d{2})[-:/.](?P<s>\d{2})"
)


def read_recorded_at(f: BinaryIO, file_size: int, name: str) -> tuple[datetime, str] | None:
    """The start of the recording in ``f`` (open, binary, ``file_size`` bytes, named ``name``)
    and where it was read (one of `SOURCES`), the best source first; None if nothing says."""
    found: dict[str, datetime] = {}
    # A damaged header is the probe's to judge; here it only says nothing.
    with contextlib.suppress(struct.error, ValueError, OverflowError):
        found.update(_riff_starts(f, file_size))
    from_name = from_file_name(name)
    if from_name is not None:
        found["name"] = from_name
    for source in SOURCES:
        if source in found:
            return found[source], source
    return None


def _riff_starts(f: BinaryIO, file_size: int) -> dict[str, datetime]:
    f.seek(0)
    head = f.read(12)
    if head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
        return {}
    found: dict[str, datetime] = {}
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > file_size:
            break
        f.seek(pos)
        cid, size = struct.unpack("<4sI", f.read(8))
        if size == 0xFFFFFFFF:
            break  # an RF64 data chunk sized in ds64; metadata after it is rare: stop here
        if cid in (b"guan", b"bext", b"LIST") and size <= _MAX_TEXT_BYTES:
            body = f.read(size)
            if cid == b"guan":
                _put(found, "guano", guano_timestamp(body))
            elif cid == b"bext":
                _put(found, "bext", bext_origination(body))
            elif body[:4] == b"INFO":
                _put(found, "audiomoth", audiomoth_start(_info_comment(body[4:])))
        pos += 8 + size + (size & 1)
    return found


def _put(found: dict[str, datetime], source: str, start: datetime | None) -> None:
    if start is not None and source not in found:
        found[source] = start


def _text(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def guano_timestamp(body: bytes) -> datetime | None:
    """The ``Timestamp`` of a GUANO chunk's text, else None."""
    for line in _text(body).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "timestamp":
            value = value.strip()
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
    return None


def audiomoth_start(comment: str) -> datetime | None:
    """The start an AudioMoth's "Recorded at …" comment gives, with its UTC offset."""
    match = _AUDIOMOTH.search(comment)
    if match is None:
        return None
    zone = UTC
    if match["sign"]:
        offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"] or 0))
        zone = timezone(-offset if match["sign"] == "-" else offset)
    return datetime_of(match, zone)


def _info_comment(items: bytes) -> str:
    """The ``ICMT`` text among a LIST/INFO chunk's items, else ``""``."""
    pos = 0
    while pos + 8 <= len(items):
        cid, size = struct.unpack("<4sI", items[pos : pos + 8])
        if cid == b"ICMT":
            return _text(items[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)
    return ""


def bext_origination(body: bytes) -> datetime | None:
    """The OriginationDate and OriginationTime of a ``bext`` chunk (no zone), else None."""
    fields = body[_BEXT_DATE_AT : _BEXT_DATE_AT + 18].decode("ascii", "replace")
    match = _BEXT.fullmatch(fields)
    return None if match is None else datetime_of(match)
