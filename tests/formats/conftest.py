"""Shared event sets for the format tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tfstudio.formats import LabelEvent

# Floats whose shortest decimal is long or unusual: a round trip through text must keep them.
TRICKY_TIMES = [0.0, 0.1 + 0.2, 1 / 3, 2 / 3, 1e-7, 123456.789012345, 7.000000000000001]
LABELS = ["dog", "Turdus merula", "rödhake", "鳥のさえずり", "car horn (far)", 'say "hi"', "a/b"]


def make_events(
    seed: int,
    count: int,
    *,
    recording: str = "",
    with_band: bool = False,
    zero_length: bool = True,
) -> list[LabelEvent]:
    """Random events with arbitrary float times, overlaps, and (optionally) frequency ranges."""
    rng = np.random.default_rng(seed)
    events = []
    for k in range(count):
        onset = float(rng.uniform(0, 60))
        length = 0.0 if zero_length and k % 7 == 3 else float(rng.uniform(1e-6, 5))
        if k < len(TRICKY_TIMES):
            onset, length = TRICKY_TIMES[k], TRICKY_TIMES[-1 - k] or 0.1 + 0.2
        low = high = None
        if with_band:
            low, high = sorted(float(x) for x in rng.uniform(0, 22050, 2))
            # Cover each combination of known and unknown sides.
            if k % 5 == 1:
                low = None
            elif k % 5 == 2:
                high = None
            elif k % 5 == 3:
                low = high = None
        label = LABELS[k % len(LABELS)]
        events.append(LabelEvent(recording, onset, onset + length, label, low, high))
    return events


def by_time(events: list[LabelEvent]) -> list[LabelEvent]:
    return sorted(events, key=lambda e: (e.onset, e.offset, e.label))


@pytest.fixture
def random_events() -> Callable[..., list[LabelEvent]]:
    return make_events


@pytest.fixture
def sort_events() -> Callable[[list[LabelEvent]], list[LabelEvent]]:
    return by_time
