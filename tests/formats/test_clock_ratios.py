"""The marker readers' fast exact times (whole-number ratios read from the digits) are the
Fraction parsers' times, and refuse what they refuse with the same message."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from tfstudio.formats import audition, reaper
from tfstudio.formats.clock import (
    clock_ratio,
    format_clock,
    parse_clock,
    parse_samples,
    parse_seconds,
    ratio_float,
    ratio_less,
    ratio_sum,
    samples_reader,
    seconds_ratio,
)

ODD_TIMES = [
    "0", "5", "59", "60", "61", "5.", ".5", ".", "", " 1.5 ", "0.000", "00.0100",
    "0:01.234", "2:1.540", "1:44:53.111", "75:00.5", "0:59.999999999", "0:60.000", "1:60:00.0",
    "1:59:59.999", "1:.5", "1:", ":5", "1::5", "1:2:3:4", "1:2:3:4.5", "00:00:01:05", "0;01.5",
    "1.1.00", "1.2.3", "1.5e3", "1e3", "+1.5", "-1.0", "1,5", "0:01,5", "1 .5", "1. 5", "0x10",
    "١٢.٥", "٣:٠٥.٥", "１.５", "²", "1_000.5", "123456789.123456789123456789",
    "1.12345678901234567890123456789", "99999:59.5", "3600:00:00.000001",
]  # fmt: skip


def outcome(parse, text):
    try:
        value = parse(text)
    except ValueError as exc:
        return "refused", str(exc)
    return "read", Fraction(*value) if isinstance(value, tuple) else value


def random_times(count: int) -> list[str]:
    rng = random.Random(7)
    times = []
    for _ in range(count):
        seconds = rng.random() * 10 ** rng.randint(-3, 6)
        exact = Fraction(repr(seconds))
        times += [
            repr(seconds),
            f"{seconds:.3f}",
            format_clock(exact),
            format_clock(exact, hours=True),
        ]
    return times


@pytest.mark.parametrize("text", ODD_TIMES)
def test_fast_times_are_the_fraction_parsers_times(text):
    assert outcome(clock_ratio, text) == outcome(parse_clock, text)
    assert outcome(seconds_ratio, text) == outcome(parse_seconds, text)


def test_times_as_the_editors_write_them_read_the_same_fast():
    for text in random_times(500):
        assert outcome(clock_ratio, text) == outcome(parse_clock, text), text
        assert outcome(seconds_ratio, text) == outcome(parse_seconds, text), text


@pytest.mark.parametrize("rate", [44100.0, 48000, 29.97, 1e-3, -8000.0, 0.0, float("nan")])
def test_fast_samples_are_the_fraction_parsers_samples(rate):
    read = samples_reader(rate)
    for text in ("0", "1", "44100", " 12345678901234567890 ", "1.5", "-3", "", "١٢"):
        try:
            expected = outcome(lambda t: parse_samples(t, rate), text)
        except ArithmeticError as exc:  # a rate of 0 (or none) has no samples to read
            with pytest.raises(type(exc)):
                read(text)
            continue
        assert outcome(read, text) == expected


def test_sums_comparisons_and_floats_are_exact():
    rng = random.Random(3)
    for _ in range(2000):
        a, b = (Fraction(rng.randint(0, 10**12), 10 ** rng.randint(0, 12)) for _ in "ab")
        ra, rb = (a.numerator * 7, a.denominator * 7), b.as_integer_ratio()  # not lowest terms
        assert Fraction(*ratio_sum(ra, rb)) == a + b
        assert ratio_less(ra, rb) == (a < b)
        assert ratio_float(ratio_sum(ra, rb)) == float(a + b)


def test_a_time_past_any_float_is_an_issue_not_a_crash(tmp_path):
    huge = "9" * 400 + ".5"
    path = tmp_path / "markers.csv"
    path.write_text(
        "Name\tStart\tDuration\tTime Format\tType\tDescription\n"
        f"x\t{huge}\t0:00.000\tdecimal\tCue\t\ny\t0:01.000\t0:00.500\tdecimal\tCue\t\n"
    )
    result = audition.read(path)
    assert [(e.label, e.onset) for e in result.events] == [("y", 1.0)]
    assert [(i.line, i.reason) for i in result.issues] == [
        (2, "a time of more than 10^308 seconds is not a time in a recording")
    ]
    path.write_text(f"#,Name,Start,End,Length,Color\nR1,x,{huge},{huge},,\nM2,y,1.5,,,\n")
    result = reaper.read(path)
    assert [(e.label, e.onset) for e in result.events] == [("y", 1.5)]
    assert [i.line for i in result.issues] == [2]
