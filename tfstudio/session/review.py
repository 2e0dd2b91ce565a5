"""The review list: which of a run's detections it shows, in which order, and how many are in
each review state."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfstudio.store import Event

SortKey = Callable[[Event], tuple[Any, ...]]


@dataclass(frozen=True)
class ReviewRow:
    """A detection in the list, with its recording's name."""

    event: Event
    recording: str


def chosen_events(
    events: Iterable[Event], *, classes: Collection[int] | None = None, state: str = "any"
) -> list[Event]:
    """The ``events`` of one of ``classes`` (every class when None) in review ``state``
    (``none``, ``accepted``, ``rejected``, or ``any``), in their order: the review list's and
    ``tfstudio review``'s class and state filters."""
    return [
        e
        for e in events
        if (classes is None or e.class_id in classes) and (state == "any" or e.review == state)
    ]


def sort_key(
    sort_by: str, recording_names: Mapping[int, str], uncertainty: Callable[[Event], float]
) -> SortKey:
    """The key :func:`review_rows` sorts by (see there for ``sort_by``)."""
    if sort_by == "confidence":
        return lambda e: (-(e.confidence or 0.0), e.recording_id, e.onset)
    if sort_by == "uncertainty":
        return lambda e: (uncertainty(e), e.recording_id, e.onset)
    return lambda e: (recording_names.get(e.recording_id, ""), e.onset, e.id)


def review_rows(
    events: Iterable[Event],
    recording_names: Mapping[int, str],
    *,
    show: str,
    sort_by: str,
    uncertainty: Callable[[Event], float],
    classes: Collection[int] | None = None,
) -> tuple[list[ReviewRow], dict[str, int]]:
    """The rows of the list and the count of every review state among the ``events`` of
    ``classes`` (every class when None).

    ``show`` is ``pending`` (not yet reviewed) or ``all``; ``sort_by`` is ``confidence`` (most
    confident first), ``uncertainty`` (closest to its class's threshold first: ``uncertainty``
    says how close) or ``time`` (by recording, then onset).
    """
    events = chosen_events(events, classes=classes)
    counts = {"none": 0, "accepted": 0, "rejected": 0}
    for e in events:
        counts[e.review] = counts.get(e.review, 0) + 1
    events = chosen_events(events, state="none" if show == "pending" else "any")
    events.sort(key=sort_key(sort_by, recording_names, uncertainty))
    rows = [ReviewRow(e, recording_names.get(e.recording_id, "?")) for e in events]
    return rows, counts


def row_after(rows: Sequence[ReviewRow], event: Event, step: int, key: SortKey) -> int | None:
    """The row next to where ``event`` stands (``step`` 1: the first after it, -1: the last
    before it) when it is not in the list itself (accepted again by a redo, of a class the
    list leaves out); None when there is none that way. In the list, its neighbour."""
    for i, row in enumerate(rows):
        if row.event.id == event.id:
            j = i + step
            return j if 0 <= j < len(rows) else None
    where = key(event)  # a row of an equal key counts as after it
    if step > 0:
        return next((i for i, r in enumerate(rows) if key(r.event) >= where), None)
    return next((i for i in reversed(range(len(rows))) if key(rows[i].event) < where), None)
