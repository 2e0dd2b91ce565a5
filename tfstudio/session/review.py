"""The review list: which of a run's detections it shows, in which order, and how many are in
each review state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tfstudio.store import Event


@dataclass(frozen=True)
class ReviewRow:
    """A detection in the list, with its recording's name."""

    event: Event
    recording: str


def review_rows(
    events: Iterable[Event],
    recording_names: Mapping[int, str],
    *,
    show: str,
    sort_by: str,
    uncertainty: Callable[[Event], float],
) -> tuple[list[ReviewRow], dict[str, int]]:
    """The rows of the list and the count of every review state among all ``events``.

    ``show`` is ``pending`` (not yet reviewed) or ``all``; ``sort_by`` is ``confidence`` (most
    confident first), ``uncertainty`` (closest to its class's threshold first: ``uncertainty``
    says how close) or ``time`` (by recording, then onset).
    """
    events = list(events)
    counts = {"none": 0, "accepted": 0, "rejected": 0}
    for e in events:
        counts[e.review] = counts.get(e.review, 0) + 1
    if show == "pending":
        events = [e for e in events if e.review == "none"]
    if sort_by == "confidence":
        events.sort(key=lambda e: (-(e.confidence or 0.0), e.recording_id, e.onset))
    elif sort_by == "uncertainty":
        events.sort(key=lambda e: (uncertainty(e), e.recording_id, e.onset))
    else:
        events.sort(key=lambda e: (recording_names.get(e.recording_id, ""), e.onset, e.id))
    rows = [ReviewRow(e, recording_names.get(e.recording_id, "?")) for e in events]
    return rows, counts
