"""The p_tf preview of the Train dialog: the schedule's curve in epochs, and its sentence."""

from __future__ import annotations

import numpy as np
import pytest

from tfstudio.session.schedule import describe_schedule_curve, schedule_curve


def test_counting_time_steps_collapses_p_tf_in_the_first_epoch():
    x, p = schedule_curve(
        "drossos",
        epochs=10,
        gamma=0.125,
        p_min=0.05,
        p_max=0.9,
        decay_epochs=20,
        unit="step",
        steps_per_batch=256,
    )
    assert p[np.searchsorted(x, 1.0)] == pytest.approx(0.05, abs=1e-6)


def test_the_curve_in_one_sentence():
    x, p = schedule_curve("linear", epochs=20, gamma=0.125, p_min=0.05, p_max=0.9, decay_epochs=10)
    assert x[-1] == pytest.approx(20) and p[0] == pytest.approx(0.9)
    text = describe_schedule_curve(x, p)
    assert text.startswith("p_tf 0.90 at the start → 0.05 after epoch 20; below 0.5 from epoch")
    assert text.endswith("; at 0.05 from epoch 10.")
    assert describe_schedule_curve(np.array([]), np.array([])) == ""
    flat = schedule_curve("none", epochs=5, gamma=0.125, p_min=0.05, p_max=0.9, decay_epochs=5)
    assert describe_schedule_curve(*flat) == "p_tf 0.00 at the start → 0.00 after epoch 5."
