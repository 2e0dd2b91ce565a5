"""Splits for the labelled recordings that have none: train, val (and test) in the wanted
proportions, every class in each split where its labels allow.

A user who imports a folder and labels in the window has recordings in no split, and training
needs a train and a val split. :func:`plan_splits` chooses one for each labelled recording
without a split, by iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011, as in
the ``iterative-stratification`` package, which needs scikit-learn; the greedy core is twenty
lines): the rarest class first, each of its recordings goes to the split that still lacks
most of that class's labels (ties: the one lacking most audio, then the seed), so a class
with three labelled recordings lands in val too instead of wherever chance puts it. Splits
the user already chose are kept and count towards the proportions; recordings without labels
stay without a split (they may not be labelled yet). Each split with a share gets at least one
recording where there are enough, and each class a recording in val (and test) where it
has one to spare. :func:`assign_splits` applies a plan to a project.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tfstudio.store import Project, Recording

__all__ = ["DEFAULT_VAL", "SplitPlan", "assign_splits", "plan_splits"]

# val's share of the labels unless told otherwise (train takes the rest; no test).
DEFAULT_VAL = 0.2

# The order in which splits are named, and the one that gives a recording up when another
# split would be empty.
ORDER = ("train", "val", "test")


@dataclass(frozen=True)
class SplitPlan:
    """Which split each recording goes to (``{recording id: split}``), and the splits as they
    will be: recordings, seconds and labels per class name, the kept ones included."""

    assigned: dict[int, str]
    recordings: dict[str, int]
    seconds: dict[str, float]
    labels: dict[str, dict[str, int]]


def _shares(val: float, test: float) -> dict[str, float]:
    for name, value in (("val", val), ("test", test)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"the {name} share must be at least 0 and below 1, got {value:g}")
    if val + test >= 1.0:
        raise ValueError(f"val and test shares leave nothing to train on ({val:g} + {test:g})")
    return {"train": 1.0 - val - test, "val": val, "test": test}


def plan_splits(
    recordings: Sequence[Recording],
    counts: Mapping[int, Mapping[str, int]],
    *,
    val: float = DEFAULT_VAL,
    test: float = 0.0,
    seed: int = 0,
) -> SplitPlan:
    """Splits for the recordings with labels (``counts``: labels per class name per recording
    id) and no split; see the module. ``val`` and ``test`` are shares of the labels (and of
    the audio, for ties), train takes the rest."""
    shares = _shares(val, test)
    wanted = [s for s in ORDER if shares[s] > 0]
    labelled = [r for r in recordings if counts.get(r.id)]
    kept = [r for r in labelled if r.split in ORDER]
    pool = [r for r in labelled if r.split is None]
    classes = sorted({c for r in labelled for c in counts[r.id]})
    # What each split still lacks: its share of every class's labels and of the audio, less
    # what the kept recordings already give it.
    totals = {c: sum(counts[r.id].get(c, 0) for r in labelled) for c in classes}
    lack = {s: {c: shares[s] * totals[c] for c in classes} for s in ORDER}
    lack_seconds = {s: shares[s] * sum(r.duration for r in labelled) for s in ORDER}
    for r in kept:
        for c, n in counts[r.id].items():
            lack[str(r.split)][c] -= n
        lack_seconds[str(r.split)] -= r.duration
    rng = random.Random(seed)
    order = sorted(pool, key=lambda r: r.id)
    rng.shuffle(order)
    assigned: dict[int, str] = {}

    def put(rec: Recording, split: str) -> None:
        assigned[rec.id] = split
        for c, n in counts[rec.id].items():
            lack[split][c] -= n
        lack_seconds[split] -= rec.duration

    left = list(order)
    while left:
        # The class with the fewest labels among the recordings still to place.
        remaining = {c: sum(counts[r.id].get(c, 0) for r in left) for c in classes}
        rare = min((c for c in classes if remaining[c] > 0), key=lambda c: (remaining[c], c))
        for rec in [r for r in left if counts[r.id].get(rare)]:
            ties = {s: rng.random() for s in wanted}
            split = max(wanted, key=lambda s: (lack[s][rare], lack_seconds[s], ties[s]))
            put(rec, split)
        left = [r for r in left if r.id not in assigned]

    # Each wanted split gets a recording where another can spare one: from the split with the
    # most recordings placed here, the one with the fewest labels.
    final: dict[int, str] = {r.id: r.split for r in kept if r.split is not None} | assigned
    for split in wanted:
        if any(s == split for s in final.values()):
            continue
        donors = [s for s in wanted if sum(v == s for v in final.values()) >= 2]
        movable = [r for r in pool if assigned.get(r.id) in donors]
        if not movable:
            continue
        rec = min(movable, key=lambda r: (sum(counts[r.id].values()), r.duration, r.id))
        assigned[rec.id] = final[rec.id] = split

    # Each class in every wanted split where it has a recording to spare: proportions alone
    # leave a class of two recordings wholly in train (its thresholds then tuned on nothing).
    # Rarest first, a recording placed here moves from train when each of its classes keeps
    # a recording in train: the one with the fewest labels.
    def holders(split: str, c: str) -> list[int]:
        return [i for i, s in final.items() if s == split and counts[i].get(c)]

    for split in (s for s in wanted if s != "train"):
        for c in sorted(classes, key=lambda c: (totals[c], c)):
            if holders(split, c):
                continue
            movable = [
                r
                for r in pool
                if final.get(r.id) == "train"
                and counts[r.id].get(c)
                and all(len(holders("train", other)) >= 2 for other in counts[r.id])
            ]
            if movable:
                rec = min(movable, key=lambda r: (sum(counts[r.id].values()), r.duration, r.id))
                assigned[rec.id] = final[rec.id] = split

    by_id = {r.id: r for r in labelled}
    n_recordings = dict.fromkeys(ORDER, 0)
    seconds = dict.fromkeys(ORDER, 0.0)
    labels: dict[str, dict[str, int]] = {s: dict.fromkeys(classes, 0) for s in ORDER}
    for rec_id, split in final.items():
        n_recordings[split] += 1
        seconds[split] += by_id[rec_id].duration
        for c, n in counts[rec_id].items():
            labels[split][c] += n
    return SplitPlan(assigned, n_recordings, seconds, labels)


def assign_splits(
    project: Project,
    *,
    val: float = DEFAULT_VAL,
    test: float = 0.0,
    seed: int = 0,
    apply: bool = True,
) -> SplitPlan:
    """:func:`plan_splits` over the project's recordings and labels, applied unless ``apply``
    is False (one write per split)."""
    names = {c.id: c.name for c in project.classes()}
    counts = {
        rec_id: {names[c]: n for c, n in per_class.items() if c in names}
        for rec_id, per_class in project.label_counts().items()
    }
    plan = plan_splits(project.recordings(), counts, val=val, test=test, seed=seed)
    if apply:
        for split in ORDER:
            ids = [i for i, s in plan.assigned.items() if s == split]
            if ids:
                project.set_split(ids, split)
    return plan
