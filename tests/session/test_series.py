"""Growing buffers for live curves."""

from __future__ import annotations

import math

from tfstudio.session.series import Series


def test_series_grows_and_keeps_gaps():
    series = Series(capacity=2)
    for i in range(5):
        series.append(i, None if i == 2 else i * 1.5)
    assert len(series) == 5
    assert series.x.tolist() == [0, 1, 2, 3, 4]
    assert math.isnan(series.y[2])
    assert series.last_x() == 4
