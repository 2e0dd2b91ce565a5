"""Every format writes times with a decimal point (issue 14): readers that infer a column's
type from its values (pandas, crowsetta) read ``3`` as an integer column."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tfstudio.formats import FORMATS, LabelEvent, format_time, get_format


@pytest.mark.parametrize("value", [0.0, 3.0, 120.0, 1e20, 0.5, 1 / 3, 1e-7])
def test_format_time_always_has_a_decimal_point_and_reads_back_exactly(value):
    text = format_time(value)
    assert "." in text and "e" not in text.lower()
    assert float(text) == value


def test_format_time_writes_numpys_shortest_positional_digits():
    # format_time takes repr's digits where repr has no exponent (faster); the files must stay
    # what numpy's positional shortest writes, across magnitudes and arbitrary bit patterns.
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**63, 20_000, dtype=np.uint64).view(np.float64)
    values = [
        *bits[np.isfinite(bits)].tolist(),
        *(10.0 ** rng.uniform(-7, 18, 20_000)).tolist(),
        *(round(float(v), d % 8) for d, v in enumerate(rng.uniform(0, 3600, 20_000))),
        *(k / 1000 for k in range(-100, 100_000, 7)),
        *(0.0, -0.0, 1e-4, 9.999999999999999e-5, 1e16, 9999999999999998.0, 5e-324, 1e308),
    ]
    for value in values:
        assert format_time(value) == np.format_float_positional(value, trim="0"), value


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_whole_seconds_are_written_with_a_decimal_point(tmp_path, name):
    module = get_format(name)
    recording = "" if module.PER_RECORDING else "a.wav"
    events = [
        LabelEvent(recording, 0.0, 3.0, "dog", 100.0, 8000.0),
        LabelEvent(recording, 3.0, 5.0, "cat"),
    ]
    path = tmp_path / f"a{module.SUFFIX}"
    module.write(events, path, **({"recordings": ["a.wav", "b.wav"]} if name == "dcase" else {}))
    text = path.read_text(encoding="utf-8")
    if name in ("audition", "reaper"):
        # Clock times (m:ss.fff), to the millisecond at least, as the editors write them.
        numbers = re.findall(r"(?<![\w.:])(\d[\d:.]*)(?![\w.:])", _times_only(name, text))
        assert all(re.fullmatch(r"\d+:\d\d\.\d{3,}", n) for n in numbers), numbers
    elif name in ("json", "soundevent", "labelstudio"):
        numbers = re.findall(
            r'"(?:onset|offset|low_hz|high_hz|start_time|end_time|duration|start|end)": '
            r"([0-9.e+-]+)",
            text,
        )
        numbers += [str(n) for n in _coordinates(json.loads(text))]
    elif name == "sonicvisualiser":
        # Sonic Visualiser reads whole frames only; the seconds are tfstudio's attributes.
        numbers = re.findall(r'tfstudio:\w+="([^"]*)"', text)
        frames = re.findall(r' (?:frame|duration)="([^"]*)"', text)
        assert frames and all(frame.isdigit() for frame in frames), frames
    else:
        numbers = re.findall(r"(?<![\w.\"])(\d+(?:\.\d+)?)(?![\w.\"])", _times_only(name, text))
    assert numbers
    assert all("." in number for number in numbers), numbers


def _times_only(name: str, text: str) -> str:
    """The text without the fields that are counts, not times (TextGrid sizes, Raven's
    selection numbers and channel, Kaleidoscope's CHANNEL)."""
    if name == "textgrid":
        return "\n".join(
            line for line in text.splitlines() if "size" not in line and "[" not in line
        )
    if name == "raven":
        return "\n".join("\t".join(line.split("\t")[3:]) for line in text.splitlines()[1:])
    if name == "kaleidoscope":  # from OFFSET on (CHANNEL is a channel number)
        return "\n".join(",".join(line.split(",")[4:]) for line in text.splitlines()[1:])
    if name == "reaper":  # the region and marker numbers (R1, M1)
        return "\n".join(line.split(",", 1)[1] for line in text.splitlines()[1:])
    return text


def _coordinates(document: object) -> list[float]:
    found: list[float] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "coordinates":
                found.extend(value)
            else:
                found.extend(_coordinates(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(_coordinates(item))
    return found
