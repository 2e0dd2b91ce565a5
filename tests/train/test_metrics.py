"""tfstudio.train.metrics against sed_eval 0.2.1 itself (the reference, test-only)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from tfstudio.train.metrics import Event, Scores, event_based, segment_based

with warnings.catch_warnings():
    # dcase_util has invalid escape sequences in docstrings.
    warnings.simplefilter("ignore")
    sed_eval = pytest.importorskip("sed_eval")

TOL = 1e-6


def _sed_eval_results(ref, est, classes, kind, **kwargs) -> dict:
    """Run sed_eval file by file over every recording in either list, feeding plain dicts
    (sed_eval wraps them in dcase_util MetaDataContainers itself)."""
    if kind == "segment":
        metric = sed_eval.sound_event.SegmentBasedMetrics(
            list(classes), time_resolution=float(kwargs.get("time_resolution", 1.0))
        )
    else:
        metric = sed_eval.sound_event.EventBasedMetrics(
            list(classes),
            t_collar=float(kwargs.get("t_collar", 0.2)),
            percentage_of_length=float(kwargs.get("percentage_of_length", 0.2)),
        )
    files = list(dict.fromkeys([e.recording for e in ref] + [e.recording for e in est]))

    def dicts(events, name):
        return [
            {"filename": name, "event_label": e.label, "onset": e.onset, "offset": e.offset}
            for e in events
            if e.recording == name
        ]

    for name in files:
        metric.evaluate(dicts(ref, name), dicts(est, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN
        return metric.results()


def _ours(ref, est, classes, kind, **kwargs) -> Scores:
    fn = segment_based if kind == "segment" else event_based
    return fn(ref, est, classes, **kwargs)


def _deviation(a: float, b: float) -> float:
    """0 when equal (NaN == NaN); relative above 1 so that sed_eval's huge I/eps rates
    compare sensibly."""
    if math.isnan(a) or math.isnan(b):
        return 0.0 if (math.isnan(a) and math.isnan(b)) else math.inf
    return abs(a - b) / max(1.0, abs(b))


def _pairs(ours: Scores, theirs: dict) -> list[tuple[str, float, float]]:
    o, t = theirs["overall"], ours
    out = [
        ("f1", t.f1, o["f_measure"]["f_measure"]),
        ("precision", t.precision, o["f_measure"]["precision"]),
        ("recall", t.recall, o["f_measure"]["recall"]),
        ("er", t.error_rate, o["error_rate"]["error_rate"]),
        ("sr", t.substitution_rate, o["error_rate"]["substitution_rate"]),
        ("dr", t.deletion_rate, o["error_rate"]["deletion_rate"]),
        ("ir", t.insertion_rate, o["error_rate"]["insertion_rate"]),
    ]
    for name, cs in ours.per_class.items():
        c = theirs["class_wise"][name]
        out += [
            (f"{name}.f1", cs.f1, c["f_measure"]["f_measure"]),
            (f"{name}.precision", cs.precision, c["f_measure"]["precision"]),
            (f"{name}.recall", cs.recall, c["f_measure"]["recall"]),
            (f"{name}.er", cs.error_rate, c["error_rate"]["error_rate"]),
            (f"{name}.dr", cs.deletion_rate, c["error_rate"]["deletion_rate"]),
            (f"{name}.ir", cs.insertion_rate, c["error_rate"]["insertion_rate"]),
            (f"{name}.nref", cs.n_ref, c["count"]["Nref"]),
            (f"{name}.nsys", cs.n_sys, c["count"]["Nsys"]),
        ]
    avg = ours.class_wise_average()
    a = theirs["class_wise_average"]
    out += [
        ("avg.f1", avg["f1"], a["f_measure"]["f_measure"]),
        ("avg.precision", avg["precision"], a["f_measure"]["precision"]),
        ("avg.recall", avg["recall"], a["f_measure"]["recall"]),
        ("avg.er", avg["error_rate"], a["error_rate"]["error_rate"]),
        ("avg.dr", avg["deletion_rate"], a["error_rate"]["deletion_rate"]),
        ("avg.ir", avg["insertion_rate"], a["error_rate"]["insertion_rate"]),
    ]
    return [(k, float(x), float(y)) for k, x, y in out]


def assert_matches_sed_eval(ref, est, classes, kind, **kwargs) -> Scores:
    ours = _ours(ref, est, classes, kind, **kwargs)
    theirs = _sed_eval_results(ref, est, classes, kind, **kwargs)
    bad = [(k, x, y) for k, x, y in _pairs(ours, theirs) if not _deviation(x, y) <= TOL]
    assert not bad, f"{kind}: differs from sed_eval: {bad}"
    return ours


def both(ref, est, classes, **kwargs) -> tuple[Scores, Scores]:
    return (
        assert_matches_sed_eval(ref, est, classes, "segment"),
        assert_matches_sed_eval(ref, est, classes, "event", **kwargs),
    )


E = Event
CLASSES = ["dog", "cat", "car"]


# --- hand-built cases ---------------------------------------------------------------


def test_exact_match() -> None:
    ref = [E("a", 0.5, 2.3, "dog"), E("a", 1.0, 4.0, "cat"), E("b", 3.2, 3.9, "car")]
    seg, ev = both(ref, list(ref), CLASSES)
    for s in (seg, ev):
        assert s.f1 == 1.0 and s.precision == 1.0 and s.recall == 1.0
        assert s.error_rate == 0.0
        assert all(c.f1 == 1.0 and c.error_rate == 0.0 for c in s.per_class.values())


def test_empty_estimate() -> None:
    ref = [E("a", 0.5, 2.3, "dog"), E("a", 1.0, 4.0, "cat")]
    seg, ev = both(ref, [], CLASSES)
    for s in (seg, ev):
        # sed_eval: precision NaN (nothing estimated), recall 0, so F1 is NaN, not 0.
        assert math.isnan(s.precision) and s.recall == 0.0 and math.isnan(s.f1)
        assert s.deletion_rate == pytest.approx(1.0) and s.insertion_rate == 0.0
        # A class absent from both: everything NaN except ER 0.
        car = s.per_class["car"]
        assert math.isnan(car.f1) and math.isnan(car.recall) and car.error_rate == 0.0


def test_empty_reference() -> None:
    est = [E("a", 0.5, 2.3, "dog")]
    seg, ev = both([], est, CLASSES)
    for s in (seg, ev):
        assert s.precision == 0.0 and math.isnan(s.recall) and math.isnan(s.f1)
        # Rates divide by Nref + eps: with no reference an insertion costs 1/eps.
        assert s.insertion_rate > 1e15
        assert s.per_class["dog"].error_rate > 1e15


def test_both_empty() -> None:
    seg, ev = both([], [], CLASSES)
    for s in (seg, ev):
        assert math.isnan(s.f1) and s.error_rate == 0.0


def test_one_substitution() -> None:
    seg, ev = both([E("a", 1.0, 3.0, "dog")], [E("a", 1.0, 3.0, "cat")], CLASSES)
    assert ev.substitution_rate == pytest.approx(1.0)
    assert ev.deletion_rate == 0.0 and ev.insertion_rate == 0.0
    assert seg.substitution_rate == pytest.approx(1.0)
    assert seg.error_rate == pytest.approx(1.0)
    # Class-wise ER has no substitutions: a deletion for dog, an insertion for cat.
    assert ev.per_class["dog"].deletion_rate == pytest.approx(1.0)
    assert ev.per_class["cat"].insertion_rate > 1e15


@pytest.mark.parametrize(
    ("ref_onset", "est_onset", "hit"),
    [
        (0.0, 0.2, True),  # |0.2 - 0| == 0.2 exactly
        (1.0, 1.2, True),  # 1.2 - 1.0 == 0.19999999999999996
        (1.0, 0.8, True),  # 1.0 - 0.8 == 0.19999999999999996
        (2.0, 2.2, False),  # 2.2 - 2.0 == 0.20000000000000018: float says outside
        (3.0, 3.21, False),
    ],
)
def test_onset_collar_edges(ref_onset: float, est_onset: float, hit: bool) -> None:
    ref = [E("a", ref_onset, ref_onset + 0.5, "dog")]
    est = [E("a", est_onset, ref_onset + 0.5, "dog")]
    ev = assert_matches_sed_eval(ref, est, CLASSES, "event")
    assert ev.f1 == (1.0 if hit else 0.0)


@pytest.mark.parametrize(
    ("ref", "est_offset", "hit"),
    [
        ((0.0, 10.0), 11.9, True),  # long event: 20 % of 10 s = 2 s offset collar
        ((0.0, 10.0), 8.1, True),
        ((0.0, 10.0), 12.1, False),
        ((0.0, 0.5), 0.7, True),  # short event: max(0.2, 0.1) = 0.2 s
        ((0.0, 0.5), 0.75, False),
        ((5.0, 6.0), 6.2, False),  # 6.2 - 6.0 == 0.20000000000000018
        ((5.0, 6.5), 6.8, True),  # 20 % of 1.5 s = 0.3 s
    ],
)
def test_offset_collar_and_length_rule(
    ref: tuple[float, float], est_offset: float, hit: bool
) -> None:
    r = [E("a", ref[0], ref[1], "dog")]
    est = [E("a", ref[0], est_offset, "dog")]
    ev = assert_matches_sed_eval(r, est, CLASSES, "event")
    assert ev.f1 == (1.0 if hit else 0.0)


def test_overlapping_events_same_and_different_classes() -> None:
    ref = [
        E("a", 0.0, 3.0, "dog"),
        E("a", 1.5, 4.5, "dog"),
        E("a", 2.0, 2.5, "cat"),
        E("a", 2.1, 6.0, "car"),
    ]
    est = [
        E("a", 0.1, 4.4, "dog"),
        E("a", 0.0, 2.9, "dog"),
        E("a", 2.05, 2.5, "car"),
        E("a", 2.0, 6.1, "cat"),
    ]
    both(ref, est, CLASSES)


def test_optimal_matching_beats_greedy() -> None:
    # ref0 could match est0 or est1, ref1 only est0: greedy (first fit) would match ref0-est0
    # and leave ref1 unmatched; sed_eval's default bipartite matching finds both.
    ref = [E("a", 1.0, 2.0, "dog"), E("a", 1.25, 2.25, "dog")]
    est = [E("a", 1.1, 2.1, "dog"), E("a", 0.85, 1.85, "dog")]
    ev = assert_matches_sed_eval(ref, est, CLASSES, "event")
    assert ev.f1 == 1.0


def test_multiple_files_and_one_sided_recordings() -> None:
    ref = [
        E("a", 0.0, 1.0, "dog"),
        E("b", 2.0, 3.5, "cat"),
        E("only_ref", 0.3, 0.9, "car"),
        E("a", 4.0, 5.0, "car"),
    ]
    est = [
        E("b", 2.1, 3.4, "cat"),
        E("a", 0.0, 1.2, "dog"),
        E("only_est", 1.0, 2.0, "dog"),
        E("a", 4.5, 7.0, "car"),
    ]
    both(ref, est, CLASSES)
    # Files are separate: the same times in another recording match nothing.
    moved = [E("z", e.onset, e.offset, e.label) for e in est]
    seg2, ev2 = both(ref, moved, CLASSES)
    assert seg2.f1 == 0.0 and ev2.f1 == 0.0


def test_segments_from_max_offset_of_both_lists() -> None:
    # Reference ends at 2.5 s, estimate at 7.01 s: 8 segments, the ceil of the max offset.
    ref = [E("a", 0.0, 2.5, "dog")]
    est = [E("a", 0.0, 2.5, "dog"), E("a", 6.0, 7.01, "cat")]
    seg = assert_matches_sed_eval(ref, est, CLASSES, "segment")
    assert seg.per_class["cat"].n_sys == 2
    assert seg.per_class["dog"].n_ref == 3


@pytest.mark.parametrize("res", [0.1, 0.25, 1.0, 2.0])
def test_time_resolution_float_quirks(res: float) -> None:
    # 0.3 / 0.1 == 2.9999999999999996 and 0.7 / 0.1 == 6.999999999999999: sed_eval floors
    # and ceils the raw quotient; so do we.
    ref = [E("a", 0.3, 0.7, "dog"), E("a", 0.6, 1.1, "cat"), E("a", 1.0, 1.3, "dog")]
    est = [E("a", 0.7, 0.9, "dog"), E("a", 0.2, 0.6, "cat"), E("a", 1.3, 1.31, "car")]
    assert_matches_sed_eval(ref, est, CLASSES, "segment", time_resolution=res)


def test_zero_length_and_reversed_events() -> None:
    ref = [E("a", 1.0, 1.0, "dog"), E("a", 2.5, 2.5, "cat"), E("a", 3.5, 3.2, "car")]
    est = [E("a", 1.0, 1.0, "dog"), E("a", 0.0, 0.5, "cat")]
    both(ref, est, CLASSES)


def test_unknown_labels() -> None:
    ref = [E("a", 0.0, 1.0, "dog"), E("a", 2.0, 3.0, "bird")]
    est = [E("a", 0.0, 1.0, "dog"), E("a", 2.0, 3.0, "bird"), E("a", 5.0, 6.0, "frog")]
    # Event-based: labels outside the class list count in the overall scores only.
    assert_matches_sed_eval(ref, est, CLASSES, "event")
    with pytest.raises(ValueError, match="bird"):
        segment_based(ref, est, CLASSES)


def test_parameter_checks() -> None:
    with pytest.raises(ValueError):
        segment_based([], [], CLASSES, time_resolution=0.0)
    with pytest.raises(ValueError):
        event_based([], [], CLASSES, t_collar=0.0)
    with pytest.raises(ValueError):
        event_based([], [], CLASSES, percentage_of_length=1.5)
    with pytest.raises(ValueError):
        event_based([], [], ["dog", "dog"])


def test_to_dict_is_json() -> None:
    seg = segment_based([E("a", 0.0, 1.0, "dog")], [], CLASSES)
    d = seg.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["precision"] is None and d["per_class"]["car"]["f1"] is None
    assert json.loads(text)["per_class"]["dog"]["n_ref"] == 1
    assert "class_wise_average" in d


# --- random cases -------------------------------------------------------------------


def _random_case(rng: np.random.Generator, dense: bool = False):
    n_classes = int(rng.integers(2, 6))
    classes = [f"c{k}" for k in range(n_classes)]
    ref: list[Event] = []
    est: list[Event] = []
    for f in range(int(rng.integers(1, 4))):
        name = f"rec{f}.wav"
        n = int(rng.integers(0, 16)) if not dense else int(rng.integers(20, 40))
        span = 20.0 if not dense else 4.0
        for _ in range(n):
            on = float(rng.uniform(0, span))
            dur = float(rng.choice([rng.uniform(0.05, 0.5), rng.uniform(0.5, 8.0)]))
            if rng.random() < 0.3:  # grid times hit collar and segment edges exactly
                on, dur = round(on, 1), max(0.1, round(dur, 1))
            label = classes[int(rng.integers(n_classes))]
            ref.append(Event(name, on, on + dur, label))
            if rng.random() < 0.15:
                continue  # missed
            jitter_on = float(rng.normal(0, 0.15))
            jitter_off = float(rng.normal(0, 0.3))
            if rng.random() < 0.3:
                jitter_on = float(rng.choice([-0.2, 0.2, -0.1, 0.1, 0.0]))
            e_on = max(0.0, on + jitter_on)
            e_off = max(e_on + 0.01, on + dur + jitter_off)
            e_label = label if rng.random() < 0.8 else classes[int(rng.integers(n_classes))]
            est.append(Event(name, e_on, e_off, e_label))
        for _ in range(int(rng.integers(0, 4))):  # false alarms
            on = float(rng.uniform(0, span))
            est.append(Event(name, on, on + float(rng.uniform(0.1, 3)), rng.choice(classes)))
    if rng.random() < 0.2:  # a recording only in the estimate
        est.append(Event("extra.wav", 1.0, 2.5, classes[0]))
    # Input order matters for substitutions (as in sed_eval): shuffle it.
    ref = [ref[k] for k in rng.permutation(len(ref))]
    est = [est[k] for k in rng.permutation(len(est))]
    return ref, est, classes


@pytest.mark.parametrize("seed", range(30))
def test_random_cases_match_sed_eval(seed: int) -> None:
    ref, est, classes = _random_case(np.random.default_rng(seed))
    both(ref, est, classes)


@pytest.mark.parametrize("seed", range(100, 110))
def test_dense_random_cases_match_sed_eval(seed: int) -> None:
    # Many overlapping events per file: stresses the bipartite matching and substitutions.
    ref, est, classes = _random_case(np.random.default_rng(seed), dense=True)
    both(ref, est, classes)


@pytest.mark.parametrize(
    ("seed", "res", "t_collar", "pct"),
    [(200, 0.1, 0.25, 0.5), (201, 0.02, 0.05, 0.0), (202, 2.0, 1.0, 1.0), (203, 0.5, 0.2, 0.2)],
)
def test_random_cases_other_parameters(seed: int, res: float, t_collar: float, pct: float) -> None:
    ref, est, classes = _random_case(np.random.default_rng(seed), dense=seed % 2 == 0)
    assert_matches_sed_eval(ref, est, classes, "segment", time_resolution=res)
    assert_matches_sed_eval(ref, est, classes, "event", t_collar=t_collar, percentage_of_length=pct)
