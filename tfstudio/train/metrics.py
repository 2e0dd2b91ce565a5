"""Sound event detection metrics with exactly the definitions of sed_eval 0.2.1.

Segment-based (1 s segments) and event-based (onset collar 0.2 s, offset collar
max(0.2 s, 20 % of the reference length)) F1, precision, recall and error rate, overall
(micro-average over all files) and class-wise, computed with numpy alone. The arithmetic
mirrors ``sed_eval.sound_event.SegmentBasedMetrics`` / ``EventBasedMetrics`` step by step
(``tests/train/test_metrics.py`` compares against sed_eval itself), including its corner
cases:

- precision is NaN when nothing was estimated, recall is NaN when there is no reference,
  F1 is 0 when both are 0 and NaN when either is NaN (``sed_eval.metric``);
- rates divide by ``Nref + eps`` (eps = ``numpy.spacing(1)``), so a rate is 0 when there is no
  reference and nothing was inserted, and ``I / eps`` (about 4.5e15 per insertion) when
  there is no reference but something was inserted;
- a class absent from both reference and estimate has F1/precision/recall NaN and ER 0.

Every recording that occurs in the reference or in the estimate is evaluated as a file:
a recording with no estimate has all its reference events missed, one with no reference
has all its estimated events inserted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# sed_eval.metric uses numpy.spacing(1) as the eps added to Nref in every rate.
_EPS = float(np.spacing(1))

__all__ = ["ClassScores", "Event", "Scores", "event_based", "segment_based"]


@dataclass(frozen=True)
class Event:
    """One labelled time span in one recording (seconds)."""

    recording: str
    onset: float
    offset: float
    label: str


@dataclass
class ClassScores:
    """Class-wise scores; n_ref/n_sys count segments (segment-based) or events (event-based)."""

    f1: float
    precision: float
    recall: float
    error_rate: float
    deletion_rate: float
    insertion_rate: float
    n_ref: int
    n_sys: int


@dataclass
class Scores:
    """Overall (micro-averaged) scores plus class-wise ones."""

    f1: float
    precision: float
    recall: float
    error_rate: float
    substitution_rate: float
    deletion_rate: float
    insertion_rate: float
    per_class: dict[str, ClassScores] = field(default_factory=dict)
    n_ref: int = 0
    n_sys: int = 0

    def class_wise_average(self) -> dict[str, float]:
        """Macro averages over classes, NaN-ignoring, as sed_eval's
        ``results_class_wise_average_metrics`` (NaN when every class is NaN)."""
        keys = ("f1", "precision", "recall", "error_rate", "deletion_rate", "insertion_rate")
        out: dict[str, float] = {}
        for key in keys:
            values = [getattr(c, key) for c in self.per_class.values()]
            if not values or all(math.isnan(v) for v in values):
                out[key] = math.nan
            else:
                out[key] = float(np.nanmean(values))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; NaN becomes None."""
        d = asdict(self)
        d["class_wise_average"] = self.class_wise_average()
        return _nan_to_none(d)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


# --- sed_eval.metric ------------------------------------------------------------------


def _precision(ntp: float, nsys: float) -> float:
    return math.nan if nsys == 0 else float(ntp / float(nsys))


def _recall(ntp: float, nref: float) -> float:
    return math.nan if nref == 0 else float(ntp / float(nref))


def _f_measure(precision: float, recall: float) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    # Same operation order as sed_eval.metric.f_measure with beta = 1.
    return float(2.0 * precision * recall / (1.0 * precision + recall))


def _rate(count: float, nref: float) -> float:
    return float(count / (nref + _EPS))


def _class_scores(ntp: int, nfp: int, nfn: int, nref: int, nsys: int) -> ClassScores:
    # sed_eval {Segment,Event}BasedMetrics.class_wise_f_measure / class_wise_error_rate
    precision = _precision(float(ntp), float(nsys))
    recall = _recall(float(ntp), float(nref))
    deletion = _rate(float(nfn), float(nref))
    insertion = _rate(float(nfp), float(nref))
    return ClassScores(
        f1=_f_measure(precision, recall),
        precision=precision,
        recall=recall,
        error_rate=float(0.0 + deletion + insertion),
        deletion_rate=deletion,
        insertion_rate=insertion,
        n_ref=int(nref),
        n_sys=int(nsys),
    )


def _overall_scores(
    ntp: int, nref: int, nsys: int, subs: int, dels: int, ins: int, per_class: dict
) -> Scores:
    # sed_eval {Segment,Event}BasedMetrics.overall_f_measure / overall_error_rate
    precision = _precision(float(ntp), float(nsys))
    recall = _recall(float(ntp), float(nref))
    s = _rate(float(subs), float(nref))
    d = _rate(float(dels), float(nref))
    i = _rate(float(ins), float(nref))
    return Scores(
        f1=_f_measure(precision, recall),
        precision=precision,
        recall=recall,
        error_rate=float(s + d + i),
        substitution_rate=s,
        deletion_rate=d,
        insertion_rate=i,
        per_class=per_class,
        n_ref=int(nref),
        n_sys=int(nsys),
    )


# --- shared input handling ----------------------------------------------------------


def _check_classes(classes: Sequence[str]) -> list[str]:
    names = list(classes)
    if len(set(names)) != len(names):
        raise ValueError("classes must be unique")
    return names


def _by_recording(
    reference: Sequence[Event], estimated: Sequence[Event]
) -> dict[str, tuple[list[Event], list[Event]]]:
    """Group by recording, keeping each side's input order (it matters for event matching,
    as the order of the per-file lists does in sed_eval)."""
    files: dict[str, tuple[list[Event], list[Event]]] = {}
    for ev in reference:
        files.setdefault(ev.recording, ([], []))[0].append(ev)
    for ev in estimated:
        files.setdefault(ev.recording, ([], []))[1].append(ev)
    return files


def _arrays(events: list[Event]) -> tuple[np.ndarray, np.ndarray]:
    on = np.fromiter((e.onset for e in events), dtype=np.float64, count=len(events))
    off = np.fromiter((e.offset for e in events), dtype=np.float64, count=len(events))
    return on, off


# --- segment-based ------------------------------------------------------------------


def _event_roll(
    events: list[Event], index: dict[str, int], n_classes: int, res: float, n_seg: int
) -> np.ndarray:
    """Binary (segments, classes) activity; sed_eval.util.event_roll.event_list_to_event_roll
    padded to the evaluated length by match_event_roll_lengths."""
    roll = np.zeros((n_seg + 1, n_classes), dtype=np.int32)
    if events:
        try:
            cls = np.array([index[e.label] for e in events], dtype=np.intp)
        except KeyError as exc:
            # sed_eval fails here too (event_label_list.index raises).
            raise ValueError(f"event label {exc.args[0]!r} is not in classes") from None
        on, off = _arrays(events)
        # sed_eval computes floor(onset * 1 / res) and ceil(offset * 1 / res) in float; the
        # division is kept as is (not rounded to the nearest segment) so that float quirks
        # such as 0.3 / 0.1 = 2.9999999999999996 give the same segment indices.
        start = np.floor(on * 1 / res).astype(np.int64)
        stop = np.ceil(off * 1 / res).astype(np.int64)
        # sed_eval slices roll[start:stop]; an empty slice (stop <= start) marks nothing.
        # Negative onsets are clipped to 0 (sed_eval's negative slice index would wrap around,
        # an artefact rather than a definition).
        start = np.maximum(start, 0)
        keep = start < stop
        np.add.at(roll, (start[keep], cls[keep]), 1)
        np.add.at(roll, (stop[keep], cls[keep]), -1)
    return np.cumsum(roll[:-1], axis=0) > 0


def segment_based(
    reference: Sequence[Event],
    estimated: Sequence[Event],
    classes: Sequence[str],
    time_resolution: float = 1.0,
) -> Scores:
    """Segment-based metrics as ``sed_eval.sound_event.SegmentBasedMetrics(classes,
    time_resolution)`` evaluated file by file over every recording in either list.

    Each file is cut into ``ceil(max offset over reference and estimate / time_resolution)``
    segments; a segment is active for a class when any event of that class overlaps it.
    Labels not in ``classes`` raise ValueError (sed_eval fails on them as well).
    """
    names = _check_classes(classes)
    res = float(time_resolution)
    if not res > 0.0:
        raise ValueError("time_resolution must be > 0")
    index = {name: k for k, name in enumerate(names)}
    n_classes = len(names)

    ntp = nref = nsys = subs = dels = ins = 0
    c_tp = np.zeros(n_classes, dtype=np.int64)
    c_fp = np.zeros(n_classes, dtype=np.int64)
    c_fn = np.zeros(n_classes, dtype=np.int64)
    c_ref = np.zeros(n_classes, dtype=np.int64)
    c_sys = np.zeros(n_classes, dtype=np.int64)

    for ref, est in _by_recording(reference, estimated).values():
        # SegmentBasedMetrics.evaluate: evaluated length = max(reference.max_offset,
        # estimated.max_offset), where MetaDataContainer.max_offset starts from 0.
        max_offset = max([0.0, *(e.offset for e in ref), *(e.offset for e in est)])
        n_seg = math.ceil(max_offset * 1 / res)
        r = _event_roll(ref, index, n_classes, res, n_seg)
        s = _event_roll(est, index, n_classes, res, n_seg)

        # Overall: per segment S = min(Nref, Nsys) - Ntp, D = max(0, Nref - Nsys),
        # I = max(0, Nsys - Nref), summed over segments and files.
        tp = r & s
        seg_ref = r.sum(axis=1)
        seg_sys = s.sum(axis=1)
        seg_tp = tp.sum(axis=1)
        ntp += int(seg_tp.sum())
        nref += int(seg_ref.sum())
        nsys += int(seg_sys.sum())
        subs += int((np.minimum(seg_ref, seg_sys) - seg_tp).sum())
        dels += int(np.maximum(0, seg_ref - seg_sys).sum())
        ins += int(np.maximum(0, seg_sys - seg_ref).sum())

        # Class-wise: plain counts over the segment axis.
        c_tp += tp.sum(axis=0)
        c_fp += (s & ~r).sum(axis=0)
        c_fn += (r & ~s).sum(axis=0)
        c_ref += r.sum(axis=0)
        c_sys += s.sum(axis=0)

    per_class = {
        name: _class_scores(c_tp[k], c_fp[k], c_fn[k], c_ref[k], c_sys[k])
        for k, name in enumerate(names)
    }
    return _overall_scores(ntp, nref, nsys, subs, dels, ins, per_class)


# --- event-based --------------------------------------------------------------------


def _bipartite_match(graph: dict[int, list[int]]) -> dict[int, int]:
    """Maximum cardinality matching, a faithful port of sed_eval.util.bipartite_match
    (mir_eval's Hopcroft-Karp after D. Eppstein). Returns right vertex -> left vertex.

    Kept verbatim, iteration order included: the matching's size is unique, but *which*
    events end up unmatched decides the substitution count computed afterwards.
    """
    matching: dict[int, int] = {}
    for u in graph:
        for v in graph[u]:
            if v not in matching:
                matching[v] = u
                break

    while True:
        preds: dict[int, list[int]] = {}
        unmatched: list[int] = []
        pred: dict[int, Any] = {u: unmatched for u in graph}
        for v in matching:
            del pred[matching[v]]
        layer = list(pred)

        while layer and not unmatched:
            new_layer: dict[int, list[int]] = {}
            for u in layer:
                for v in graph[u]:
                    if v not in preds:
                        new_layer.setdefault(v, []).append(u)
            layer = []
            for v in new_layer:
                preds[v] = new_layer[v]
                if v in matching:
                    layer.append(matching[v])
                    pred[matching[v]] = v
                else:
                    unmatched.append(v)

        if not unmatched:
            return matching

        for v in unmatched:
            _augment(v, preds, pred, unmatched, matching)


def _augment(
    v: int,
    preds: dict[int, list[int]],
    pred: dict[int, Any],
    unmatched: list[int],
    matching: dict[int, int],
) -> bool:
    """The inner ``recurse`` of sed_eval.util.bipartite_match: search backwards through the
    layers for an alternating path ending at ``v`` and flip it."""
    if v in preds:
        candidates = preds[v]
        del preds[v]
        for u in candidates:
            if u in pred:
                pu = pred[u]
                del pred[u]
                if pu is unmatched or _augment(pu, preds, pred, unmatched, matching):
                    matching[v] = u
                    return True
    return False


def _collar_pairs(
    r_on: np.ndarray,
    r_off: np.ndarray,
    e_on: np.ndarray,
    e_off: np.ndarray,
    t_collar: float,
    percentage_of_length: float,
) -> tuple[np.ndarray, np.ndarray]:
    """All (ref j, est i) pairs meeting EventBasedMetrics.validate_onset and validate_offset,
    sorted by (j, i) like numpy.where over sed_eval's dense hit matrix.

    Candidates come from a sorted-onset window instead of a dense Nref x Nsys matrix so long
    recordings stay cheap; the window is padded so that rounding cannot drop a pair, and the
    exact sed_eval comparisons are then applied to the candidates.
    """
    order = np.argsort(e_on, kind="stable")
    sorted_on = e_on[order]
    pad = 1e-6 + 1e-9 * np.abs(r_on)
    lo = np.searchsorted(sorted_on, r_on - t_collar - pad, side="left")
    hi = np.searchsorted(sorted_on, r_on + t_collar + pad, side="right")
    counts = hi - lo
    j = np.repeat(np.arange(r_on.size), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    i = order[np.arange(j.size) - first + np.repeat(lo, counts)]

    # validate_onset: |ref_on - est_on| <= t_collar
    ok = np.abs(r_on[j] - e_on[i]) <= t_collar
    # validate_offset: |ref_off - est_off| <= max(t_collar, percentage * (ref_off - ref_on))
    length = r_off[j] - r_on[j]
    ok &= np.abs(r_off[j] - e_off[i]) <= np.maximum(t_collar, percentage_of_length * length)
    j, i = j[ok], i[ok]
    srt = np.lexsort((i, j))
    return j[srt], i[srt]


def event_based(
    reference: Sequence[Event],
    estimated: Sequence[Event],
    classes: Sequence[str],
    t_collar: float = 0.2,
    percentage_of_length: float = 0.2,
) -> Scores:
    """Event-based metrics as ``sed_eval.sound_event.EventBasedMetrics(classes,
    t_collar=t_collar, percentage_of_length=percentage_of_length)`` (onset and offset
    evaluated, default 'optimal' matching) evaluated file by file over every recording in
    either list.

    An estimate matches a reference of the same label when the onsets differ by at most
    ``t_collar`` and the offsets by at most ``max(t_collar, percentage_of_length * reference
    length)``; matches are a maximum bipartite matching. Unmatched references are then paired
    greedily, in input order and regardless of label, with unmatched estimates within the
    same collars: those pairs are substitutions (overall ER only). Events whose label is not
    in ``classes`` count in the overall scores only, as in sed_eval.
    """
    names = _check_classes(classes)
    t_collar = float(t_collar)
    percentage_of_length = float(percentage_of_length)
    if not t_collar > 0.0:
        raise ValueError("t_collar must be > 0")
    if not 0.0 <= percentage_of_length <= 1.0:
        raise ValueError("percentage_of_length must be in [0, 1]")
    n_classes = len(names)
    # Codes for labels outside `classes` come after the class indices.
    codes = {name: k for k, name in enumerate(names)}

    def label_codes(events: list[Event]) -> np.ndarray:
        return np.array(
            [codes.setdefault(e.label, len(codes)) for e in events], dtype=np.intp
        ).reshape(-1)

    ntp = nref = nsys = nsubs = nfp = nfn = 0
    c_tp = np.zeros(n_classes, dtype=np.int64)
    c_ref = np.zeros(n_classes, dtype=np.int64)
    c_sys = np.zeros(n_classes, dtype=np.int64)

    for ref, est in _by_recording(reference, estimated).values():
        r_on, r_off = _arrays(ref)
        e_on, e_off = _arrays(est)
        r_lab = label_codes(ref)
        e_lab = label_codes(est)
        f_ref, f_sys = len(ref), len(est)

        # EventBasedMetrics.evaluate, event_matching_type='optimal'.
        j, i = _collar_pairs(r_on, r_off, e_on, e_off, t_collar, percentage_of_length)
        same = r_lab[j] == e_lab[i]
        # Keys and lists in (ref, est) row-major order, as sed_eval builds G from numpy.where.
        graph: dict[int, list[int]] = {}
        for rj, ei in zip(j[same].tolist(), i[same].tolist()):
            graph.setdefault(ei, []).append(rj)
        matching = _bipartite_match(graph)  # ref -> est
        ref_correct = np.zeros(f_ref, dtype=bool)
        sys_free = np.ones(f_sys, dtype=bool)
        matched_refs = np.fromiter(matching.keys(), dtype=np.intp, count=len(matching))
        ref_correct[matched_refs] = True
        sys_free[np.fromiter(matching.values(), dtype=np.intp, count=len(matching))] = False
        f_tp = len(matching)

        # Substitutions: each unmatched reference, in order, takes the first still unused
        # unmatched estimate (in order) meeting the collars, whatever its label.
        f_subs = 0
        bounds = np.searchsorted(j, np.arange(f_ref + 1))
        i_list = i.tolist()
        for rj in np.flatnonzero(~ref_correct).tolist():
            for ei in i_list[bounds[rj] : bounds[rj + 1]]:
                if sys_free[ei]:
                    sys_free[ei] = False
                    f_subs += 1
                    break

        ntp += f_tp
        nsubs += f_subs
        nref += f_ref
        nsys += f_sys
        nfp += f_sys - f_tp - f_subs
        nfn += f_ref - f_tp - f_subs

        # Class-wise Ntp: sed_eval runs a separate matching per class, but hits only join
        # events of the same label, so the graph is a disjoint union of per-class graphs and
        # a maximum matching of the whole restricts to a maximum matching of each class.
        # Its size per class is therefore exactly sed_eval's class-wise Ntp.
        tp_lab = r_lab[matched_refs]
        c_tp += np.bincount(tp_lab[tp_lab < n_classes], minlength=n_classes)
        c_ref += np.bincount(r_lab[r_lab < n_classes], minlength=n_classes)
        c_sys += np.bincount(e_lab[e_lab < n_classes], minlength=n_classes)

    per_class = {
        name: _class_scores(c_tp[k], c_sys[k] - c_tp[k], c_ref[k] - c_tp[k], c_ref[k], c_sys[k])
        for k, name in enumerate(names)
    }
    return _overall_scores(ntp, nref, nsys, nsubs, nfn, nfp, per_class)
