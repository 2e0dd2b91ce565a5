"""The events of one recording as arrays: culling, hit tests, navigation, coalescing."""

from __future__ import annotations

import numpy as np

from tfstudio.session.labels import LabelIndex, coalesce
from tfstudio.store import Event


def _event(i, onset, offset, class_id=1, low=None, high=None):
    return Event(i, 1, class_id, onset, offset, low, high, "human", None, None, "none", 0.0, 0.0)


def test_label_index_queries():
    index = LabelIndex(
        [_event(1, 0.0, 10.0), _event(2, 2.0, 3.0, 2), _event(3, 2.5, 2.8, 2, 100.0, 500.0)]
    )
    assert list(index.ids[index.visible(2.9, 4.0)]) == [1, 2]
    assert index.at(2.6, 300.0) == [3, 2, 1]  # the box under the pointer, then shortest span
    assert index.at(2.6, 5000.0) == [2, 1]
    assert index.neighbour(2, 1) == 3 and index.neighbour(1, -1) is None
    assert index.neighbour(None, 1, t=2.2) == 3
    index.patch([_event(2, 5.0, 6.0, 2)], removed=[3])
    assert list(index.ids) == [1, 2] and index.get(2).onset == 5.0


def test_coalesce_merges_what_is_closer_than_a_pixel():
    on, off = coalesce(np.array([0.0, 0.5, 0.52, 3.0]), np.array([0.5, 0.51, 1.0, 4.0]), 0.05)
    assert list(on) == [0.0, 3.0] and list(off) == [1.0, 4.0]
