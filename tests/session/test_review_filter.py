"""The review list's class and state filter (shared with ``tfstudio review``) and where a
step goes from a detection the list leaves out."""

from __future__ import annotations

from dataclasses import replace

from tests.session.test_review import EVENTS, NAMES, _detection, ids, uncertainty
from tfstudio.session.review import chosen_events, review_rows, row_after, sort_key

# EVENTS with a second class: 1 and 4 are class 2.
TWO = [replace(e, class_id=2) if e.id in (1, 4) else e for e in EVENTS]


def test_chosen_events_by_class_and_state_keep_their_order():
    assert [e.id for e in chosen_events(TWO)] == [1, 2, 3, 4, 5]
    assert [e.id for e in chosen_events(TWO, classes={2})] == [1, 4]
    assert [e.id for e in chosen_events(TWO, classes={1, 2}, state="none")] == [1, 2, 5]
    assert [e.id for e in chosen_events(TWO, classes=set(), state="any")] == []
    assert [e.id for e in chosen_events(TWO, state="rejected")] == [4]


def test_review_rows_of_one_class_count_that_class_only():
    rows, counts = review_rows(
        TWO, NAMES, show="pending", sort_by="confidence", uncertainty=uncertainty, classes={1}
    )
    assert ids(rows) == [5, 2]
    assert counts == {"none": 2, "accepted": 1, "rejected": 0}
    rows, counts = review_rows(
        TWO, NAMES, show="all", sort_by="time", uncertainty=uncertainty, classes={2}
    )
    assert ids(rows) == [4, 1]
    assert counts == {"none": 1, "accepted": 0, "rejected": 1}


def test_a_step_from_a_detection_left_out_goes_on_from_where_it_would_stand():
    rows, _ = review_rows(
        EVENTS, NAMES, show="pending", sort_by="confidence", uncertainty=uncertainty
    )
    key = sort_key("confidence", NAMES, uncertainty)
    assert ids(rows) == [5, 1, 2]  # 0.9, 0.9, 0.55
    accepted = EVENTS[2]  # 0.7, accepted: not listed
    assert row_after(rows, accepted, 1, key) == 2  # 0.55
    assert row_after(rows, accepted, -1, key) == 1  # the 0.9 before it
    lowest = _detection(9, 1, 0.0, 0.1, "accepted")
    assert row_after(rows, lowest, 1, key) is None
    assert row_after(rows, lowest, -1, key) == 2
    # A listed one: its neighbours, none past either end.
    assert row_after(rows, rows[0].event, 1, key) == 1
    assert row_after(rows, rows[0].event, -1, key) is None
    assert row_after(rows, rows[2].event, 1, key) is None


def test_sort_key_is_the_order_review_rows_sorts_by():
    for sort_by in ("confidence", "uncertainty", "time"):
        rows, _ = review_rows(EVENTS, NAMES, show="all", sort_by=sort_by, uncertainty=uncertainty)
        key = sort_key(sort_by, NAMES, uncertainty)
        assert ids(rows) == [e.id for e in sorted(EVENTS, key=key)]
