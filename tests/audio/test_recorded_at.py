"""A recording's start as its file says it: GUANO, an AudioMoth's comment, a bext header, the
file name; read by `probe` into what the project stores."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.audio import probe

AUDIOMOTH = (
    "Recorded at 05:00:00 01/05/2024 (UTC+2) by AudioMoth 24F31901603FB0EF at medium gain "
    "while battery was 4.1V and temperature was 12.3C."
)


def wav(path: Path, comment: str | None = None, fmt: str = "WAV") -> Path:
    """A short real recording, written by libsndfile (its comment in LIST/INFO/ICMT)."""
    subtype = "VORBIS" if fmt == "OGG" else "PCM_16"
    with sf.SoundFile(path, "w", 16000, 1, subtype, format=fmt) as f:
        if comment is not None:
            f.comment = comment
        f.write(np.full(1600, 0.1, dtype=np.float32))
    return path


def with_chunks(path: Path, before_data: dict[bytes, bytes] = {}, after: dict[bytes, bytes] = {}):  # noqa: B006
    """The WAV at ``path`` with these chunks put before its data chunk and after it, as
    recorders write them (bext before the audio, GUANO often after it)."""
    data = path.read_bytes()
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack("<4sI", data[pos : pos + 8])
        chunks.append((cid, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)

    def chunk(cid: bytes, body: bytes) -> bytes:
        return struct.pack("<4sI", cid, len(body)) + body + (b"\0" if len(body) & 1 else b"")

    body = b"WAVE"
    for cid, content in chunks:
        if cid == b"data":
            body += b"".join(chunk(c, b) for c, b in before_data.items())
        body += chunk(cid, content)
    body += b"".join(chunk(c, b) for c, b in after.items())
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def guano(*lines: str) -> bytes:
    return "\n".join(["GUANO|Version: 1.0", *lines]).encode()


def bext(date: str, time: str) -> bytes:
    fields = b"field recording".ljust(256, b"\0") + b"ZOOM F3".ljust(32, b"\0") + b"\0" * 32
    return fields + date.encode() + time.encode() + b"\0" * 8 + b"\0" * 254


def started(path: Path) -> tuple[str | None, str | None]:
    info = probe(path)
    assert sf.info(str(path)).frames == info.frames  # still a good recording for libsndfile
    return info.recorded_at, info.recorded_at_source


def test_guano_timestamp_with_its_offset_is_the_start(tmp_path):
    path = with_chunks(
        wav(tmp_path / "20240501_050000.wav"),
        after={b"guan": guano("Make: Wildlife Acoustics", "Timestamp: 2024-05-01T21:17:09-05:00")},
    )
    # GUANO is preferred over the name (it has the zone, and the name may be a copy's).
    assert started(path) == ("2024-05-01T21:17:09-05:00", "guano")


@pytest.mark.parametrize(
    ("stamp", "stored"),
    [
        ("2024-05-01T21:17:09Z", "2024-05-01T21:17:09+00:00"),
        ("2024-05-01 21:17:09", "2024-05-01T21:17:09"),  # local time, as GUANO allows
        ("2024-05-01T21:17:09.250+02:00", "2024-05-01T21:17:09.250000+02:00"),
    ],
)
def test_guano_timestamps_as_recorders_write_them(tmp_path, stamp, stored):
    path = with_chunks(wav(tmp_path / "a.wav"), after={b"guan": guano(f"Timestamp: {stamp}")})
    assert started(path) == (stored, "guano")


def test_an_audiomoths_comment_gives_the_start_with_its_utc_offset(tmp_path):
    assert started(wav(tmp_path / "a.wav", AUDIOMOTH)) == ("2024-05-01T05:00:00+02:00", "audiomoth")
    utc = AUDIOMOTH.replace("(UTC+2)", "(UTC)")
    assert started(wav(tmp_path / "b.wav", utc)) == ("2024-05-01T05:00:00+00:00", "audiomoth")
    india = AUDIOMOTH.replace("(UTC+2)", "(UTC+5:30)")
    assert started(wav(tmp_path / "c.wav", india))[0] == "2024-05-01T05:00:00+05:30"
    west = AUDIOMOTH.replace("(UTC+2)", "(UTC-3)")
    assert started(wav(tmp_path / "d.wav", west))[0] == "2024-05-01T05:00:00-03:00"


def test_a_broadcast_wave_origination_is_the_recorders_clock(tmp_path):
    path = with_chunks(
        wav(tmp_path / "ZOOM0001.WAV"), before_data={b"bext": bext("2024-05-01", "05-30-15")}
    )
    assert started(path) == ("2024-05-01T05:30:15", "bext")
    colons = with_chunks(
        wav(tmp_path / "b.wav"), before_data={b"bext": bext("2024:05:01", "05:30:15")}
    )
    assert started(colons) == ("2024-05-01T05:30:15", "bext")


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("20240501_050000.WAV", "2024-05-01T05:00:00"),  # AudioMoth
        ("SM4A01234_20240501_050000.wav", "2024-05-01T05:00:00"),  # Song Meter
        ("S4U09876_20240501_050000_000.wav", "2024-05-01T05:00:00"),
        ("20240501T050000.wav", "2024-05-01T05:00:00"),
        ("site 2024-05-01_05-00-00.flac", "2024-05-01T05:00:00"),
        ("2024-05-01 05.00.00.ogg", "2024-05-01T05:00:00"),
    ],
)
def test_a_file_name_with_a_date_and_time_gives_the_start(tmp_path, name, stored):
    fmt = {"flac": "FLAC", "ogg": "OGG"}.get(name.rsplit(".", 1)[1].lower(), "WAV")
    assert started(wav(tmp_path / name, fmt=fmt)) == (stored, "name")


@pytest.mark.parametrize(
    "name",
    [
        "rec1.wav",
        "20240501.wav",  # a day, no time of day
        "20241399_250000.wav",  # digits, not a date
        "120240501050000.wav",  # 15 digits: a serial number
        "take_0500.wav",
    ],
)
def test_nothing_says_when_nothing_is_stored(tmp_path, name):
    assert started(wav(tmp_path / name)) == (None, None)


def test_a_damaged_or_foreign_chunk_costs_only_the_start(tmp_path):
    bad_guano = with_chunks(wav(tmp_path / "a.wav"), after={b"guan": guano("Timestamp: yesterday")})
    assert started(bad_guano) == (None, None)
    named = with_chunks(
        wav(tmp_path / "20240501_050000.wav", "Recorded at 25:00:00 45/13/2024 (UTC)"),
        before_data={b"bext": b"too short"},
    )
    assert started(named) == ("2024-05-01T05:00:00", "name")
    other_comment = wav(tmp_path / "c.wav", "field notes: two owls")
    assert started(other_comment) == (None, None)
