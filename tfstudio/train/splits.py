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

Grouped (``group_by``), the recordings of one group go to one split together: every recording
of a site's folder (``folder``), or of one day (``day``, by when they started:
`tfstudio.store.recorded`), so val and test score the detector on sites or days it never
trained on — what a deployment asks of it — rather than on the next hour of a site it learnt
(the same background, the same individuals). A group is placed as one recording holding all
its labels; a group one of whose recordings already has a split goes to that split whole.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from tfstudio.store import Project, Recording

__all__ = ["DEFAULT_VAL", "GROUPINGS", "SplitPlan", "assign_splits", "group_key", "plan_splits"]

# val's share of the labels unless told otherwise (train takes the rest; no test).
DEFAULT_VAL = 0.2

# The order in which splits are named, and the one that gives a recording up when another
# split would be empty.
ORDER = ("train", "val", "test")
# What recordings may be kept together by (see group_key).
GROUPINGS = ("folder", "day")


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


def group_key(recording: Recording, group_by: str) -> str:
    """The group a recording belongs to: its folder as the project stores its path
    (``site1``; ``""`` for the project's own folder), or the day it started
    (``2024-05-01``, on the recorder's clock; a recording whose start is unknown is a group
    of its own)."""
    if group_by == "folder":
        return recording.path.replace("\\", "/").rpartition("/")[0]
    if group_by == "day":
        if recording.recorded_at:
            return recording.recorded_at[:10]
        return f"#{recording.id}"
    raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}, not {group_by!r}")


def plan_splits(
    recordings: Sequence[Recording],
    counts: Mapping[int, Mapping[str, int]],
    *,
    val: float = DEFAULT_VAL,
    test: float = 0.0,
    seed: int = 0,
    group_by: str | None = None,
    group_test_only: bool = False,
) -> SplitPlan:
    """Splits for the recordings with labels (``counts``: labels per class name per recording
    id) and no split; see the module. ``val`` and ``test`` are shares of the labels (and of
    the audio, for ties), train takes the rest; ``group_by`` (one of `GROUPINGS`) keeps each
    group's recordings in one split — the test split's alone with ``group_test_only`` (whole
    groups to test first, then train and val stratified over the rest's recordings)."""
    if group_by is None:
        return _plan(recordings, counts, val=val, test=test, seed=seed)
    labelled = [r for r in recordings if counts.get(r.id)]
    if not group_test_only:
        assigned, final = _grouped(labelled, counts, val, test, seed, group_by)
        return _summary(assigned, final, labelled, counts)
    if test <= 0:
        raise ValueError("grouping the test split alone needs a test share")
    # Whole groups to test, the other splits' recordings as train for now ...
    as_train = [replace(r, split="train") if r.split in ("train", "val") else r for r in labelled]
    first, _ = _grouped(as_train, counts, 0.0, test, seed, group_by)
    tested = {i for i, s in first.items() if s == "test"} | {
        r.id for r in labelled if r.split == "test"
    }
    # ... then train and val among the rest, recording by recording, val its share of them.
    rest = [r for r in labelled if r.id not in tested]
    second = _plan(rest, counts, val=min(val / (1.0 - test), 0.95), test=0.0, seed=seed)
    assigned = {i: "test" for i in first if i in tested} | second.assigned
    final = {r.id: str(r.split) for r in labelled if r.split in ORDER} | assigned
    return _summary(assigned, final, labelled, counts)


def _grouped(
    labelled: Sequence[Recording],
    counts: Mapping[int, Mapping[str, int]],
    val: float,
    test: float,
    seed: int,
    group_by: str,
) -> tuple[dict[int, str], dict[int, str]]:
    """Each group placed as one recording (:func:`_plan`): what is assigned, and every
    recording's split as it will be."""
    groups: dict[str, list[Recording]] = {}
    for rec in labelled:
        groups.setdefault(group_key(rec, group_by), []).append(rec)
    # Each group as one recording: its first's id, its audio and labels summed, and the split
    # its recordings already have (the most common), which the rest then join.
    units: list[Recording] = []
    unit_counts: dict[int, dict[str, int]] = {}
    members: dict[int, list[Recording]] = {}
    for group in groups.values():
        first = min(group, key=lambda r: r.id)
        chosen = Counter(r.split for r in group if r.split in ORDER)
        split = chosen.most_common(1)[0][0] if chosen else None
        units.append(replace(first, duration=sum(r.duration for r in group), split=split))
        total: Counter[str] = Counter()
        for rec in group:
            total.update(counts[rec.id])
        unit_counts[first.id] = dict(total)
        members[first.id] = group
    plan = _plan(units, unit_counts, val=val, test=test, seed=seed)
    final = {r.id: str(r.split) for r in labelled if r.split in ORDER}
    assigned: dict[int, str] = {}
    for unit in units:
        split = plan.assigned.get(unit.id, unit.split)
        if split is None:
            continue
        for rec in members[unit.id]:
            if rec.split is None:
                assigned[rec.id] = final[rec.id] = split
    return assigned, final


def _plan(
    recordings: Sequence[Recording],
    counts: Mapping[int, Mapping[str, int]],
    *,
    val: float,
    test: float,
    seed: int,
) -> SplitPlan:
    shares = _shares(val, test)
    wanted = [s for s in ORDER if shares[s] > 0]
    labelled = [r for r in recordings if counts.get(r.id)]
    kept = [r for r in labelled if r.split in ORDER]
    pool = [r for r in labelled if r.split is None]
    classes = sorted({c for r in labelled for c in counts[r.id]})
    # What each split still lacks: its share of every class's labels and of the audio, less
    # what the kept recordings already give it.
    totals = dict.fromkeys(classes, 0)
    for r in labelled:
        for c, n in counts[r.id].items():
            totals[c] += n
    lack = {s: {c: shares[s] * totals[c] for c in classes} for s in ORDER}
    lack_seconds = {s: shares[s] * sum(r.duration for r in labelled) for s in ORDER}
    for r in kept:
        for c, n in counts[r.id].items():
            lack[str(r.split)][c] -= n
        lack_seconds[str(r.split)] -= r.duration
    rng = random.Random(seed)
    order = sorted(pool, key=lambda r: r.id)
    rng.shuffle(order)
    # Indexes, so that a project of 10 000 recordings and 1 000 classes plans in seconds: the
    # pool's recordings of each class (in the shuffled order), the labels of each class not
    # yet placed, and how many recordings of each split hold each class.
    by_class: dict[str, list[Recording]] = {c: [] for c in classes}
    for rec in order:
        for c in counts[rec.id]:
            by_class[c].append(rec)
    remaining = {c: sum(counts[r.id][c] for r in by_class[c]) for c in classes}
    holding = {s: dict.fromkeys(classes, 0) for s in ORDER}
    sizes = dict.fromkeys(ORDER, 0)
    final: dict[int, str] = {}
    assigned: dict[int, str] = {}

    def place(rec: Recording, split: str) -> None:
        before = final.get(rec.id)
        if before is not None:
            sizes[before] -= 1
            for c in counts[rec.id]:
                holding[before][c] -= 1
        final[rec.id] = split
        sizes[split] += 1
        for c in counts[rec.id]:
            holding[split][c] += 1

    for rec in kept:
        place(rec, str(rec.split))
    for _ in classes:
        # The class with the fewest labels among the recordings still to place.
        rare = min(
            (c for c in classes if remaining[c] > 0), key=lambda c: (remaining[c], c), default=None
        )
        if rare is None:
            break
        for rec in by_class[rare]:
            if rec.id in assigned:
                continue
            ties = {s: rng.random() for s in wanted}
            split = max(wanted, key=lambda s: (lack[s][rare], lack_seconds[s], ties[s]))
            assigned[rec.id] = split
            place(rec, split)
            for c, n in counts[rec.id].items():
                lack[split][c] -= n
                remaining[c] -= n
            lack_seconds[split] -= rec.duration

    def fewest_labels(movable: list[Recording]) -> Recording:
        return min(movable, key=lambda r: (sum(counts[r.id].values()), r.duration, r.id))

    # Each wanted split gets a recording where another can spare one: the one with the fewest
    # labels of those placed here in a split of two or more.
    for split in wanted:
        if sizes[split]:
            continue
        movable = [r for r in pool if sizes[final[r.id]] >= 2]
        if movable:
            rec = fewest_labels(movable)
            assigned[rec.id] = split
            place(rec, split)

    # Each class in every wanted split where it has a recording to spare: proportions alone
    # leave a class of two recordings wholly in train (its thresholds then tuned on nothing).
    # Rarest first, a recording placed here moves from train when each of its classes keeps
    # a recording in train: the one with the fewest labels.
    for split in (s for s in wanted if s != "train"):
        for c in sorted(classes, key=lambda c: (totals[c], c)):
            if holding[split][c]:
                continue
            movable = [
                r
                for r in by_class[c]
                if final[r.id] == "train" and all(holding["train"][o] >= 2 for o in counts[r.id])
            ]
            if movable:
                rec = fewest_labels(movable)
                assigned[rec.id] = split
                place(rec, split)

    return _summary(assigned, final, labelled, counts)


def _summary(
    assigned: dict[int, str],
    final: Mapping[int, str],
    labelled: Sequence[Recording],
    counts: Mapping[int, Mapping[str, int]],
) -> SplitPlan:
    """The plan: what is assigned, and the splits as they will be (``final``: every
    labelled recording's split, the kept ones' too)."""
    classes = sorted({c for r in labelled for c in counts[r.id]})
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
    group_by: str | None = None,
    group_test_only: bool = False,
) -> SplitPlan:
    """:func:`plan_splits` over the project's recordings and labels, applied unless ``apply``
    is False (one undoable step)."""
    names = {c.id: c.name for c in project.classes()}
    counts = {
        rec_id: {names[c]: n for c, n in per_class.items() if c in names}
        for rec_id, per_class in project.label_counts().items()
    }
    plan = plan_splits(
        project.recordings(),
        counts,
        val=val,
        test=test,
        seed=seed,
        group_by=group_by,
        group_test_only=group_test_only,
    )
    if apply and plan.assigned:
        with project.undo_group("split labelled recordings"):
            for split in ORDER:
                ids = [i for i, s in plan.assigned.items() if s == split]
                if ids:
                    project.set_split(ids, split)
    return plan
