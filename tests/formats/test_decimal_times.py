"""Every format writes times with a decimal point (issue 14): readers that infer a column's
type from its values (pandas, crowsetta) read ``3`` as an integer column."""

from __future__ import annotations

import json
import re

import pytest

from tfstudio.formats import FORMATS, LabelEvent, format_time, get_format


@pytest.mark.parametrize("value", [0.0, 3.0, 120.0, 1e20, 0.5, 1 / 3, 1e-7])
def test_format_time_always_has_a_decimal_point_and_reads_back_exactly(value):
    text = format_time(value)
    assert "." in text and "e" not in text.lower()
    assert float(text) == value


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
    if name in ("json", "soundevent"):
        numbers = re.findall(
            r'"(?:onset|offset|low_hz|high_hz|start_time|end_time|duration)": '
            r"([0-9.e+-]+)",
            text,
        )
        numbers += [str(n) for n in _coordinates(json.loads(text))]
    else:
        numbers = re.findall(r"(?<![\w.\"])(\d+(?:\.\d+)?)(?![\w.\"])", _times_only(name, text))
    assert numbers
    assert all("." in number for number in numbers), numbers


def _times_only(name: str, text: str) -> str:
    """The text without the fields that are counts, not times (TextGrid sizes, Raven's
    selection numbers and channel)."""
    if name == "textgrid":
        return "\n".join(
            line for line in text.splitlines() if "size" not in line and "[" not in line
        )
    if name == "raven":
        return "\n".join("\t".join(line.split("\t")[3:]) for line in text.splitlines()[1:])
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
