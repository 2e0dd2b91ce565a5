"""The review list: what it shows, in which order, and the counts per review state."""

from __future__ import annotations

from tfstudio.session.review import ReviewRow, review_rows
from tfstudio.store import Event


def _detection(event_id: int, recording: int, onset: float, confidence: float, review="none"):
    return Event(
        event_id,
        recording,
        1,
        onset,
        onset + 1.0,
        None,
        None,
        "model",
        confidence,
        1,
        review,
        0.0,
        0.0,
    )


EVENTS = [
    _detection(1, 2, 5.0, 0.9),
    _detection(2, 1, 3.0, 0.55),
    _detection(3, 1, 1.0, 0.7, "accepted"),
    _detection(4, 2, 0.5, 0.2, "rejected"),
    _detection(5, 1, 2.0, 0.9),
]
NAMES = {1: "b.wav", 2: "a.wav"}


def ids(rows: list[ReviewRow]) -> list[int]:
    return [r.event.id for r in rows]


def uncertainty(event: Event) -> float:
    return abs((event.confidence or 0.0) - 0.5)


def test_pending_only_most_confident_first_and_counts_of_all():
    rows, counts = review_rows(
        EVENTS, NAMES, show="pending", sort_by="confidence", uncertainty=uncertainty
    )
    assert ids(rows) == [5, 1, 2]  # equal confidence: by recording id, then onset
    assert counts == {"none": 3, "accepted": 1, "rejected": 1}
    assert rows[0].recording == "b.wav" and rows[1].recording == "a.wav"


def test_all_most_uncertain_first_or_in_time_order_by_recording_name():
    rows, _ = review_rows(EVENTS, NAMES, show="all", sort_by="uncertainty", uncertainty=uncertainty)
    assert ids(rows) == [2, 3, 4, 5, 1]
    rows, _ = review_rows(EVENTS, NAMES, show="all", sort_by="time", uncertainty=uncertainty)
    assert ids(rows) == [4, 1, 3, 5, 2]  # a.wav first (recording 2), then b.wav


def test_a_recording_without_a_name_is_a_question_mark():
    rows, _ = review_rows(EVENTS[:1], {}, show="all", sort_by="time", uncertainty=uncertainty)
    assert rows[0].recording == "?"
