"""What an edit in the app means for labels and detections.

A label is ground truth: a human event, or a detection someone accepted (the store's
``LABEL_SQL``). Every other model event is a detection still open to review: pending or
rejected. Adjusting an open detection is a decision about it, so it becomes a label; deleting
one rejects it, keeping the "no" the model should learn from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tfstudio.store import Event


def is_label(event: Event) -> bool:
    """A human event, or a detection that was accepted."""
    return event.source == "human" or event.review == "accepted"


def is_open_detection(event: Event) -> bool:
    """A model event not accepted (pending or rejected): drawn and reviewed as a detection."""
    return event.source == "model" and event.review != "accepted"


def is_unchanged(event: Event, changes: Mapping[str, Any]) -> bool:
    """True when ``changes`` leave ``event`` as it is (a click on a region moves nothing, and
    deserves no undo step); seconds and hertz compare to within 1e-9."""
    return all(same_value(getattr(event, name), value) for name, value in changes.items())


def edit_accepts(event: Event, changes: Mapping[str, Any]) -> bool:
    """Adjusting an open detection (an edge, its class) accepts it in the same step; setting
    only its review state is a review, not an adjustment."""
    return is_open_detection(event) and "review" not in changes


def delete_rejects(event: Event) -> bool:
    """Deleting an open detection rejects it instead of removing it."""
    return is_open_detection(event)


def same_value(a: Any, b: Any) -> bool:
    """Equal, numbers to within 1e-9 (absolute or relative): an edge dragged nowhere, or a
    value a spin box shows rounded, is no change."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)
