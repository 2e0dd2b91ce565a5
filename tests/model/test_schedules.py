"""Teacher-forcing schedules: formulas against hand arithmetic, limits, the unit option."""

import itertools
import math

import pytest

from tfstudio.model.schedules import (
    SCHEDULE_NAMES,
    ClippedSchedule,
    ConstantSchedule,
    DrossosSchedule,
    ExponentialSchedule,
    InverseSigmoidSchedule,
    LinearSchedule,
    NoTeacherForcing,
    StepUnitSchedule,
    make_schedule,
)

# --- Drossos -------------------------------------------------------------------------------
# γ = 0.125, N_b = 10, so β = −0.125·i/10 = −i/80.


@pytest.mark.parametrize(
    ("iteration", "expected"),
    [
        # β = 0: 2/(1+1) − 1 = 0 → min(0.9, 1 − 0) = 0.9 (p_max, not 1).
        (0, 0.9),
        # β = −0.1: 2/(1+e^−0.1) − 1 = 2/1.904837418 − 1 = 0.049958375 → 1 − 0.04996 > 0.9.
        (8, 0.9),
        # β = −0.3: 2/(1+0.740818221) − 1 = 0.148885034 → 1 − 0.148885034.
        (24, 0.851114966),
        # β = −1: 2/(1+0.367879441) − 1 = 0.46211715726 → 1 − 0.46211715726.
        (80, 0.53788284274),
        # β = −2: 2/(1+0.135335283) − 1 = 0.761594156 → 1 − 0.761594156.
        (160, 0.238405844),
        # β = −5: 2/(1+0.006737947) − 1 = 0.986614298 → min(0.95, ·) = 0.95 → 0.05 (p_min).
        (400, 0.05),
        # β → −∞: the decay term → 1, capped at 1 − p_min.
        (10**9, 0.05),
    ],
)
def test_drossos_matches_hand_arithmetic(iteration, expected):
    schedule = DrossosSchedule(0.125, batches_per_epoch=10)
    assert schedule.probability(iteration) == pytest.approx(expected, abs=1e-9)


def test_drossos_gamma_is_per_epoch():
    # Same epoch count, different batches per epoch → same probability.
    a = DrossosSchedule(0.5, batches_per_epoch=10)
    b = DrossosSchedule(0.5, batches_per_epoch=100)
    for epochs in (0, 1, 3, 7):
        assert a.probability(10 * epochs) == pytest.approx(b.probability(100 * epochs))


def test_drossos_faster_with_larger_gamma():
    slow = DrossosSchedule(0.1, batches_per_epoch=10)
    fast = DrossosSchedule(1.0, batches_per_epoch=10)
    assert fast.probability(50) < slow.probability(50)


# --- Bengio et al. 2015 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iteration", "expected"),
    [
        (0, 1.0),  # k − 0
        (10, 0.9),  # 1 − 0.01·10
        (50, 0.5),  # 1 − 0.01·50
        (90, 0.1),  # 1 − 0.9 = 0.1 = ε
        (200, 0.1),  # 1 − 2 < ε → ε
    ],
)
def test_linear(iteration, expected):
    schedule = LinearSchedule(1.0, c=0.01, epsilon=0.1)
    assert schedule.probability(iteration) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("iteration", "expected"),
    [(0, 1.0), (1, 0.9), (2, 0.81), (10, 0.3486784401)],  # 0.9^i
)
def test_exponential(iteration, expected):
    assert ExponentialSchedule(0.9).probability(iteration) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("iteration", "expected"),
    [
        (0, 10 / 11),  # 10 / (10 + e^0)
        (10, 0.78626972848),  # 10 / (10 + e^1) = 10 / 12.718281828
        (100, 4.5379327580e-4),  # 10 / (10 + e^10) = 10 / 22036.4658
        (10**7, 0.0),  # e^(10^6) would overflow a float; the value is 0
    ],
)
def test_inverse_sigmoid(iteration, expected):
    assert InverseSigmoidSchedule(10).probability(iteration) == pytest.approx(expected, rel=1e-9)


def test_inverse_sigmoid_half_way_at_k_ln_k():
    # k / (k + e^(i/k)) = 1/2 ⇔ e^(i/k) = k ⇔ i = k·ln k.
    k = 20.0
    schedule = InverseSigmoidSchedule(k)
    i = k * math.log(k)  # 59.9
    assert schedule.probability(math.floor(i)) > 0.5 > schedule.probability(math.ceil(i))


def test_constant_and_none():
    assert ConstantSchedule(0.3).probability(0) == 0.3
    assert ConstantSchedule(0.3).probability(10**6) == 0.3
    assert NoTeacherForcing().probability(0) == 0.0
    assert NoTeacherForcing().probability(12345) == 0.0


def test_clipped():
    clipped = ClippedSchedule(ExponentialSchedule(0.5), low=0.1, high=0.8)
    assert clipped.probability(0) == 0.8  # 1 → 0.8
    assert clipped.probability(1) == 0.5
    assert clipped.probability(10) == 0.1  # 0.5^10 ≈ 0.001 → 0.1


# --- shared properties ---------------------------------------------------------------------

DECAYING = [
    DrossosSchedule(0.125, batches_per_epoch=7),
    LinearSchedule(0.9, c=0.003, epsilon=0.05),
    ExponentialSchedule(0.99),
    InverseSigmoidSchedule(30),
]


@pytest.mark.parametrize("schedule", DECAYING, ids=repr)
def test_monotone_non_increasing_and_in_unit_interval(schedule):
    values = [schedule.probability(i) for i in range(0, 3000, 7)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(b <= a for a, b in itertools.pairwise(values))
    assert values[-1] < values[0]


@pytest.mark.parametrize("schedule", DECAYING, ids=repr)
def test_negative_iteration_rejected(schedule):
    with pytest.raises(ValueError, match="iteration"):
        schedule.probability(-1)


def test_repr_names_parameters():
    text = repr(DrossosSchedule(0.125, batches_per_epoch=10))
    assert text == "DrossosSchedule(gamma=0.125, p_min=0.05, p_max=0.9, batches_per_epoch=10)"
    assert repr(NoTeacherForcing()) == "NoTeacherForcing()"
    assert "c=0.01" in repr(LinearSchedule(c=0.01))


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: DrossosSchedule(0.0, batches_per_epoch=1), "gamma"),
        (lambda: DrossosSchedule(0.1, batches_per_epoch=0), "batches_per_epoch"),
        (lambda: DrossosSchedule(0.1, p_min=0.5, p_max=0.4, batches_per_epoch=1), "p_min"),
        (lambda: DrossosSchedule(0.1, p_max=1.5, batches_per_epoch=1), "p_max"),
        (lambda: LinearSchedule(c=-1.0), "c"),
        (lambda: ExponentialSchedule(1.0), "k"),
        (lambda: ExponentialSchedule(0.0), "k"),
        (lambda: InverseSigmoidSchedule(0.5), "k"),
        (lambda: ConstantSchedule(1.2), "p"),
        (lambda: StepUnitSchedule(NoTeacherForcing(), 0), "steps_per_batch"),
    ],
)
def test_invalid_parameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


# --- make_schedule -------------------------------------------------------------------------


def test_make_drossos_defaults_to_gamma_0125_and_batch_unit():
    schedule = make_schedule("drossos", batches_per_epoch=10)
    assert schedule == DrossosSchedule(0.125, 0.05, 0.9, batches_per_epoch=10)
    assert schedule.probability(80) == pytest.approx(0.53788284274)


def test_make_drossos_gamma():
    schedule = make_schedule("drossos", batches_per_epoch=10, gamma=10 / 120)
    assert schedule == DrossosSchedule(10 / 120, batches_per_epoch=10)


def test_step_unit_multiplies_the_counter():
    # Batch 10 of 8-step sequences = step 80 of the per-step counter (β = −1 above).
    per_step = make_schedule("drossos", batches_per_epoch=10, unit="step", steps_per_batch=8)
    assert isinstance(per_step, StepUnitSchedule)
    assert per_step.probability(10) == pytest.approx(0.53788284274)
    per_batch = make_schedule("drossos", batches_per_epoch=10)
    assert per_batch.probability(10) == pytest.approx(0.9)
    # The collapse the per-step counter causes: 1024-frame sequences, 100 batches per epoch.
    collapsing = make_schedule("drossos", batches_per_epoch=100, unit="step", steps_per_batch=1024)
    assert collapsing.probability(50) == pytest.approx(0.05)  # half-way through epoch 1


def test_make_linear_runs_from_p_max_to_p_min_over_decay_epochs():
    schedule = make_schedule("linear", batches_per_epoch=20, p_min=0.1, p_max=0.8)
    assert schedule.probability(0) == pytest.approx(0.8)
    assert schedule.probability(25 * 20) == pytest.approx(0.45)  # half-way
    assert schedule.probability(50 * 20) == pytest.approx(0.1)
    assert schedule.probability(500 * 20) == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["exponential", "inverse-sigmoid"])
def test_make_decaying_defaults_reach_p_min_at_decay_epochs(name):
    schedule = make_schedule(name, batches_per_epoch=10, decay_epochs=30)
    assert schedule.probability(0) == pytest.approx(0.9)  # clipped at p_max
    assert schedule.probability(15 * 10) > 0.05
    assert schedule.probability(30 * 10) == pytest.approx(0.05, abs=1e-6)
    assert schedule.probability(1000 * 10) == pytest.approx(0.05)


def test_make_constant_and_none():
    assert make_schedule("constant", batches_per_epoch=5).probability(99) == 0.9
    assert make_schedule("constant", batches_per_epoch=5, p=0.4).probability(99) == 0.4
    assert make_schedule("none", batches_per_epoch=5) == NoTeacherForcing()


def test_make_overrides():
    schedule = make_schedule("linear", batches_per_epoch=5, k=1.0, c=0.1, epsilon=0.0)
    assert schedule == LinearSchedule(1.0, c=0.1, epsilon=0.0)
    assert make_schedule("exponential", batches_per_epoch=5, k=0.5).probability(1) == 0.5


def test_every_name_builds():
    for name in SCHEDULE_NAMES:
        schedule = make_schedule(name, batches_per_epoch=3)
        assert 0.0 <= schedule.probability(10) <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(name="cosine"), "unknown teacher-forcing schedule 'cosine'"),
        (dict(name="drossos", unit="epoch"), "unit"),
        (dict(name="drossos", batches_per_epoch=0), "batches_per_epoch"),
        (dict(name="drossos", steps_per_batch=0), "steps_per_batch"),
        (dict(name="linear", gamma=0.1), "gamma applies only"),
        (dict(name="constant", k=0.5), "takes no parameter"),
        (dict(name="drossos", p_min=0.95, p_max=0.9), "p_min"),
        (dict(name="exponential", p_min=0.0), "p_min > 0"),
        (dict(name="linear", decay_epochs=0), "decay_epochs"),
    ],
)
def test_make_schedule_errors(kwargs, match):
    kwargs = {"batches_per_epoch": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_schedule(kwargs.pop("name"), **kwargs)
