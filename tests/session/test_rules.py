"""What counts as a label, and what adjusting or deleting an event means."""

from __future__ import annotations

import pytest

from tfstudio.session.rules import (
    delete_rejects,
    edit_accepts,
    is_label,
    is_open_detection,
    is_unchanged,
    same_value,
)
from tfstudio.store import Event


def _event(source: str = "human", review: str = "none") -> Event:
    run = 1 if source == "model" else None
    confidence = 0.8 if source == "model" else None
    return Event(7, 1, 2, 1.0, 2.0, None, None, source, confidence, run, review, 0.0, 0.0)


@pytest.mark.parametrize(
    ("source", "review", "label", "open_detection"),
    [
        ("human", "none", True, False),
        ("model", "accepted", True, False),
        ("model", "none", False, True),
        ("model", "rejected", False, True),
    ],
)
def test_an_event_is_a_label_or_an_open_detection(source, review, label, open_detection):
    event = _event(source, review)
    assert is_label(event) is label
    assert is_open_detection(event) is open_detection
    assert delete_rejects(event) is open_detection  # deleting a detection keeps its "no"


def test_adjusting_a_detection_accepts_it_but_reviewing_it_does_not():
    pending = _event("model")
    assert edit_accepts(pending, {"onset": 1.5})
    assert edit_accepts(pending, {"class_id": 3})
    assert not edit_accepts(pending, {"review": "rejected"})
    assert not edit_accepts(pending, {"review": "none", "onset": 1.5})
    assert not edit_accepts(_event("model", "accepted"), {"onset": 1.5})  # already a label
    assert not edit_accepts(_event("human"), {"onset": 1.5})


def test_a_click_that_moves_nothing_is_no_change():
    event = _event()
    assert is_unchanged(event, {})
    assert is_unchanged(event, {"onset": 1.0 + 1e-12, "offset": 2.0, "class_id": 2})
    assert not is_unchanged(event, {"onset": 1.001})
    assert not is_unchanged(event, {"class_id": 3})
    assert not is_unchanged(event, {"low_hz": 100.0})


def test_same_value_forgives_rounding_in_numbers_only():
    """One rule for an edit that moves nothing and a recipe value a spin box shows rounded."""
    assert same_value(0.1 + 0.2, 0.3) and same_value(0, 0.0) and same_value(1e6, 1e6 + 1e-4)
    assert not same_value(0.5, 0.501) and not same_value(0, 1e-6)
    assert same_value(False, 0.0) and not same_value(True, 0.0)
    assert same_value("drossos", "drossos") and not same_value("0", 0)
    assert same_value(None, None) and not same_value(None, 0.0)
