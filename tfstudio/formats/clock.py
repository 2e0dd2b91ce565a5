"""Clock times as audio editors write them (``1:02:03.456``, ``0:01.5``), samples and SMPTE
frames, read exactly: as :class:`~fractions.Fraction` seconds, so that a start plus a duration
is the very float the writer had, and written exactly (the shortest decimal of the float, at
least to the millisecond as the editors show them). Shared by the Adobe Audition and REAPER
marker lists, which read their times as :data:`Ratio` pairs of whole numbers: the same exact
values, the usual forms read straight from their digits."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

_CLOCK = re.compile(r"(?:(\d+):)?(?:(\d+):)?(\d+(?:[.,]\d*)?|[.,]\d+)")
_SECONDS = re.compile(r"\d+(?:\.\d*)?|\.\d+")
# Frame rates written as their rounded names, and the exact rates they stand for.
_NTSC = {
    Fraction("23.976"): Fraction(24000, 1001),
    Fraction("29.97"): Fraction(30000, 1001),
    Fraction("59.94"): Fraction(60000, 1001),
}


def exact(seconds: float) -> Fraction:
    """A float as the decimal it prints as (``0.1`` is one tenth, not its binary neighbour)."""
    return Fraction(Decimal(repr(float(seconds))))


def parse_clock(text: str) -> Fraction:
    """``[h:]m:ss.fff`` or plain seconds (``12.5``) as exact seconds; minutes may run past 59
    (REAPER counts minutes on), seconds may have one digit (some tools write ``2:1.540``) and
    a decimal comma. ValueError with a readable reason otherwise."""
    stripped = text.strip()
    match = _CLOCK.fullmatch(stripped)
    if not match:
        raise ValueError(f"{stripped!r} is not a time (expected m:ss.fff or h:mm:ss.fff)")
    first, second, secs = match.groups()
    hours, minutes = (first, second) if second is not None else (None, first)
    seconds = Fraction(Decimal(secs.replace(",", ".")))
    if minutes is not None and seconds >= 60:
        raise ValueError(f"{stripped!r}: the seconds are 60 or more")
    if hours is not None and int(minutes or 0) >= 60:
        raise ValueError(f"{stripped!r}: the minutes are 60 or more")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds


def parse_seconds(text: str) -> Fraction:
    """A plain decimal number of seconds, exactly; ValueError otherwise."""
    stripped = text.strip()
    if not _SECONDS.fullmatch(stripped):
        raise ValueError(f"{stripped!r} is not a number of seconds")
    return Fraction(Decimal(stripped))


def parse_samples(text: str, sample_rate: float) -> Fraction:
    """A whole number of samples at ``sample_rate`` as exact seconds; ValueError otherwise."""
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit():
        raise ValueError(f"{stripped!r} is not a whole number of samples")
    return Fraction(int(stripped)) / Fraction(Decimal(repr(float(sample_rate))))


# An exact time as whole numbers: a numerator and a positive denominator, not in lowest terms.
# The marker readers read, add and compare times as these: a Fraction's construction, addition
# and comparison were most of the time of reading 100 000 markers (three times a DCASE file's).
Ratio = tuple[int, int]


def clock_ratio(text: str) -> Ratio:
    """:func:`parse_clock`'s exact time as a :data:`Ratio`; ValueError as it raises."""
    found = plain_time(text.strip())
    return found if found is not None else parse_clock(text).as_integer_ratio()


def seconds_ratio(text: str) -> Ratio:
    """:func:`parse_seconds`'s exact time as a :data:`Ratio`; ValueError as it raises."""
    stripped = text.strip()
    found = plain_time(stripped) if ":" not in stripped else None
    return found if found is not None else parse_seconds(text).as_integer_ratio()


def samples_reader(sample_rate: float) -> Callable[[str], Ratio]:
    """:func:`parse_samples` at ``sample_rate`` as a :data:`Ratio`, the rate's exact value
    worked out once; ValueError as it raises."""
    try:
        per_sample = (1 / Fraction(Decimal(repr(float(sample_rate))))).as_integer_ratio()
    except (ArithmeticError, ValueError):  # no rate to divide by: each time says so
        return lambda text: parse_samples(text, sample_rate).as_integer_ratio()
    numerator, denominator = per_sample

    def read(text: str) -> Ratio:
        stripped = text.strip()
        if not stripped.isascii() or not stripped.isdigit():
            raise ValueError(f"{stripped!r} is not a whole number of samples")
        return int(stripped) * numerator, denominator

    return read


def ratio_sum(a: Ratio, b: Ratio) -> Ratio:
    """``a + b`` exactly."""
    if a[1] == b[1]:
        return a[0] + b[0], a[1]
    return a[0] * b[1] + b[0] * a[1], a[1] * b[1]


def ratio_less(a: Ratio, b: Ratio) -> bool:
    """``a < b`` exactly."""
    return a[0] * b[1] < b[0] * a[1]


def ratio_float(time: Ratio) -> float:
    """The float nearest to an exact time (correctly rounded, as ``float(Fraction)`` is: a
    quotient of Python integers is); ValueError for one past any float."""
    try:
        return time[0] / time[1]
    except OverflowError:
        raise ValueError(
            "a time of more than 10^308 seconds is not a time in a recording"
        ) from None


def plain_time(stripped: str) -> Ratio | None:
    """The common forms of :func:`parse_clock` read from their digits: ASCII ``[h:][m:]s[.f]``
    with minutes and seconds in range where they are not the first field; None for any other
    text (a decimal comma, digits of another script, a mistake), which the Fraction parsers
    read or refuse with their own message."""
    if not stripped.isascii():
        return None
    head, _, decimals = stripped.partition(".")
    if decimals and not decimals.isdigit():
        return None
    fields = head.split(":")
    seconds = fields[-1]
    if seconds:
        if not seconds.isdigit():
            return None
        whole = int(seconds)
    elif decimals:
        whole = 0  # ".5", "1:.5"
    else:
        return None
    if len(fields) > 1:
        minutes = fields[-2]
        if whole >= 60 or not minutes.isdigit():
            return None
        whole += int(minutes) * 60
        if len(fields) == 3:
            hours = fields[0]
            if int(minutes) >= 60 or not hours.isdigit():
                return None
            whole += int(hours) * 3600
        elif len(fields) > 3:
            return None
    if not decimals:
        return whole, 1
    scale = 10 ** len(decimals)
    return whole * scale + int(decimals), scale


def frame_rate(rate: str) -> Fraction:
    """The exact frames per second a rate's name stands for (``29.97`` is 30000/1001)."""
    value = Fraction(Decimal(rate))
    return _NTSC.get(value, value)


def parse_frames(text: str, rate: Fraction, *, drop: bool = False) -> Fraction:
    """SMPTE ``hh:mm:ss:ff`` (``;`` before the frames of drop-frame timecode) or a CD's
    ``mm:ss:ff`` at ``rate`` frames per second, as exact seconds; ValueError otherwise."""
    stripped = text.strip()
    parts = re.split(r"[:;]", stripped)
    if len(parts) not in (3, 4) or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{stripped!r} is not a frame time (expected hh:mm:ss:ff)")
    numbers = [int(p) for p in parts]
    hours, minutes, seconds, frames = numbers if len(numbers) == 4 else [0, *numbers]
    nominal = round(rate)
    if frames >= nominal:
        raise ValueError(f"{stripped!r}: frame {frames} is past the {nominal} of a second")
    if seconds >= 60 or (len(numbers) == 4 and minutes >= 60):
        raise ValueError(f"{stripped!r}: the minutes or seconds are 60 or more")
    count = ((hours * 60 + minutes) * 60 + seconds) * nominal + frames
    if drop:
        # Drop-frame timecode skips the first 2 (4 at 59.94) frame numbers of every minute
        # but each tenth: those numbers name no frame.
        skipped = 2 * nominal // 30
        total_minutes = hours * 60 + minutes
        count -= skipped * (total_minutes - total_minutes // 10)
    return count / rate


def format_clock(seconds: Fraction, *, hours: bool = False) -> str:
    """``m:ss.fff`` (``h:mm:ss.fff`` from an hour on, or always with ``hours``), exact: as many
    decimals as the time has, at least three."""
    if seconds < 0:
        raise ValueError("a negative time has no clock form")
    # In whole numbers: by Fraction and Decimal arithmetic an export of 100 000 markers took
    # ten times as long as a DCASE one.
    whole, remainder = divmod(seconds.numerator, seconds.denominator)
    whole_hours, rest = divmod(whole, 3600)
    whole_minutes, whole_seconds = divmod(rest, 60)
    places = _decimal_places(seconds.denominator)
    digits = remainder * 10**places // seconds.denominator if places is not None else 0
    # A decimal of more than 28 digits (Decimal's precision, which this was written with).
    if places is None or len(str(whole_seconds * 10**places + digits)) > 28:
        raise ValueError(f"{float(seconds)!r} has no exact decimal form")  # not from a float
    fraction = f"{digits:0{places}d}" if places else ""
    second_text = f"{whole_seconds:02d}.{fraction:0<3}"
    if whole_hours or hours:
        return f"{whole_hours}:{whole_minutes:02d}:{second_text}"
    return f"{whole_minutes}:{second_text}"


def _decimal_places(denominator: int) -> int | None:
    """How many decimals a fraction of this (lowest terms) denominator has; None when its
    decimal does not end (the denominator has a prime factor other than 2 and 5)."""
    twos = (denominator & -denominator).bit_length() - 1
    rest, fives = denominator >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    return max(twos, fives) if rest == 1 else None
