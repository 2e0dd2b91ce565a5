"""Records shared by every label format: one event, one parse problem, one parse result."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LabelEvent:
    """One labelled (or detected) event as it crosses a format boundary.

    ``recording`` is the recording's file name as written in the label file (e.g. ``rec1.wav``)
    for formats with a file-name column, and ``""`` for per-recording formats, whose caller
    knows which recording the file belongs to. Times are seconds; frequencies Hz or None.
    """

    recording: str
    onset: float
    offset: float
    label: str
    low_hz: float | None = None
    high_hz: float | None = None
    source: str = "human"  # human | model
    confidence: float | None = None
    review: str = "none"  # none | accepted | rejected


@dataclass(frozen=True)
class ParseIssue:
    """A line (or field) of a label file that could not be used, and why."""

    path: Path
    line: int  # 1-based; 0 when the problem concerns the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


@dataclass
class ParseResult:
    """Events read from one label file plus the problems found on the way."""

    events: list[LabelEvent] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # Class metadata (name, color, hotkey) when the format carries it (JSON only).
    classes: list[dict] = field(default_factory=list)


class FormatError(Exception):
    """A label file that cannot be read at all (missing, not text, wrong format)."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def format_time(seconds: float) -> str:
    """Shortest positional decimal that reads back as exactly the same float."""
    return np.format_float_positional(float(seconds), trim="-")


def parse_time(text: str) -> float:
    """A finite float from a label file field; ValueError with a readable message otherwise."""
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text.strip()!r}")
    return value


def match_recording(label_file_name: str, stems: Iterable[str]) -> str | None:
    """The recording stem a per-recording label file belongs to.

    The longest stem ``S`` such that the label file's name starts with ``S.`` wins, so
    ``rec1.Table.1.selections.txt`` belongs to ``rec1`` and ``rec10.txt`` to ``rec10``.
    """
    best: str | None = None
    for stem in stems:
        if label_file_name.startswith(stem + ".") and (best is None or len(stem) > len(best)):
            best = stem
    return best
