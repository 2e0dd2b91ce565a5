"""When a recording started, on the recorder's clock: how it is stored, read from a file name,
and written for people.

Field recorders name and stamp their files with the time they started: an AudioMoth writes
``20240501_050000.WAV`` and "Recorded at 05:00:00 01/05/2024 (UTC)" in the file's comment, a
Song Meter ``SM4A01234_20240501_050000.wav`` and a GUANO ``Timestamp``, a Zoom or Sound Devices
recorder a broadcast-wave ``bext`` origination date and time. The project keeps that start as
ISO 8601 text in ``recordings.recorded_at`` (``2024-05-01T05:00:00``, with ``+02:00`` where the
recorder said its UTC offset; without one it is the recorder's clock, zone unknown) and where it
was read in ``recordings.recorded_at_source`` (one of `SOURCES`). Reading the headers is
`tfstudio.audio.recorded_at`'s; the file-name rule is here because opening an older project
(schema migration) fills the start from the names it already has.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

# Where a start was read, best first: an import keeps the first of these that a file has.
SOURCES = ("guano", "audiomoth", "bext", "name")
SOURCE_WORDS = {
    "guano": "the file's GUANO metadata",
    "audiomoth": "the AudioMoth's comment in the file",
    "bext": "the file's broadcast-wave (bext) header",
    "name": "the file name",
}
# The same, short, for counts ("2 by file name").
SOURCE_NAMES = {
    "guano": "GUANO",
    "audiomoth": "AudioMoth comment",
    "bext": "bext header",
    "name": "file name",
}

# A date and a time of day in a file name: 20240501_050000, 20240501T050000, 20240501-050000,
# 20240501050000, 2024-05-01_05-00-00, 2024-05-01 05.00.00, 2024-05-01T05:00:00 (any prefix or
# suffix: SM4A01234_20240501_050000_000.wav). Digits right before or after are not a time
# (a serial number that happens to hold 14 digits is left alone unless separated).
_NAME_TIME = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})(?P<ds>-?)(?P<mo>[0-9]{2})(?P=ds)(?P<d>[0-9]{2})"
    r"[_T\- ]?"
    r"(?P<h>[0-9]{2})(?P<ts>[-:.]?)(?P<mi>[0-9]{2})(?P=ts)(?P<s>[0-9]{2})(?![0-9])"
)


def from_file_name(name: str) -> datetime | None:
    """The start a file name gives (the first date-and-time in it that is a real one), else
    None. The result is naive: names do not say their zone."""
    for match in _NAME_TIME.finditer(name):
        start = datetime_of(match)
        if start is not None:
            return start
    return None


def datetime_of(match: re.Match[str], zone: tzinfo | None = None) -> datetime | None:
    """The date and time a match's groups ``y mo d h mi s`` (and ``f``, a fraction of a
    second, if it has one) give, in ``zone``; None where they are digits but no time
    (20241399_250000)."""
    fraction = match.groupdict().get("f") or "0"
    year, month, day, hour, minute, second = (
        int(match[key]) for key in ("y", "mo", "d", "h", "mi", "s")
    )
    try:
        return datetime(
            year, month, day, hour, minute, second, int(fraction.ljust(6, "0")[:6]), tzinfo=zone
        )
    except ValueError:
        return None


def stored_text(start: datetime) -> str:
    """How a start is stored: ISO 8601, seconds always, fractions only where there are some."""
    return start.isoformat(timespec="microseconds" if start.microsecond else "seconds")


def parse_stored(text: str | None) -> datetime | None:
    """A stored start back as a datetime; None for none (or for text that is not one)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def shown_start(text: str | None) -> str:
    """A stored start as a list shows it, ``2024-05-01 05:00:00`` (no zone; ``""`` for none):
    what ``clock_text(parse_stored(text), zone=False)`` gives, read off the text where it holds
    whole seconds (a list of 10 000 recordings makes this for each: 2 µs, not 20)."""
    if not text:
        return ""
    if len(text) >= 19 and text[10] == "T" and text[19:20] in ("", "+", "-"):
        return f"{text[:10]} {text[11:19]}"
    start = parse_stored(text)
    return "" if start is None else clock_text(start, zone=False)


def zone_text(start: datetime) -> str:
    """``UTC``, ``UTC+02:00``, ``UTC-05:30`` for a start that knows its offset, else ``""``."""
    offset = start.utcoffset()
    if offset is None:
        return ""
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def clock_at(start: datetime, seconds: float, decimals: int = 0) -> datetime:
    """The time ``seconds`` into a recording that started at ``start``, rounded to
    ``decimals`` digits of a second (so 05:00:12.96 shows as 05:00:13.0, never 05:00:12.10)."""
    unit = 10 ** (6 - decimals)  # microseconds per digit shown
    at = start + timedelta(seconds=seconds, microseconds=unit // 2)
    return at.replace(microsecond=at.microsecond - at.microsecond % unit)


def clock_text(
    start: datetime,
    seconds: float = 0.0,
    *,
    date: bool = True,
    decimals: int = 0,
    zone: bool = True,
) -> str:
    """The clock time ``seconds`` into a recording that started at ``start``: ``2024-05-01
    05:00:12`` (``date=False``: ``05:00:12``; ``decimals``: ``05:00:12.3``), its zone after it
    where the start knows one (unless ``zone=False``)."""
    at = clock_at(start, seconds, decimals)
    clock = f"{at:%H:%M:%S}" + (f".{at.microsecond:06d}"[: decimals + 1] if decimals > 0 else "")
    text = f"{at:%Y-%m-%d} {clock}" if date else clock
    where = zone_text(start) if zone else ""
    return f"{text} {where}" if where else text


# A time of day as a user types it: 5:00:12, 05:00:12.345.
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2}):(\d{2}(?:\.\d*)?)")


def seconds_into(start: datetime, text: str) -> float:
    """A typed time of day (``05:00:12``, ``5:00:12.345``, on the recorder's clock) as seconds
    into a recording that started at ``start``; a time before the start is the next day's
    (a recording running past midnight). ValueError for text that is no time of day."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r}")
    hours, minutes, seconds = int(match[1]), int(match[2]), float(match[3])
    if hours > 23 or minutes > 59 or seconds >= 60:
        raise ValueError(f"not a time of day: {text!r}")
    of_day = hours * 3600 + minutes * 60 + seconds
    since = of_day - (start.hour * 3600 + start.minute * 60 + start.second)
    since -= start.microsecond / 1e6
    return since + 86400 if since < 0 else since
