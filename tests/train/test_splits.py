"""Splits for labelled recordings without one (tfstudio.train.splits), on real projects."""

from __future__ import annotations

import pytest

from tfstudio.store import Project, Recording
from tfstudio.train.splits import assign_splits, plan_splits


def _recording(rec_id: int, duration: float = 10.0, split: str | None = None) -> Recording:
    return Recording(
        id=rec_id, path=f"r{rec_id}.wav", name=f"r{rec_id}.wav", stem=f"r{rec_id}", size=1,
        mtime=0.0, content_hash="", sample_rate=16000, channels=1, frames=int(16000 * duration),
        duration=duration, split=split, status="ok", added_at=0.0,
    )  # fmt: skip


def test_every_class_reaches_val_where_its_recordings_allow():
    # 20 recordings of a common class, 3 of a rare one, 2 of a rarer one: chance alone puts
    # the rare ones in val one time in three; stratification always does, at every seed.
    counts: dict[int, dict[str, int]] = {i: {"common": 3} for i in range(20)}
    for i in (20, 21, 22):
        counts[i] = {"rare": 1}
    for i in (23, 24):
        counts[i] = {"rarer": 2, "common": 1}
    recordings = [_recording(i) for i in counts]
    for seed in range(10):
        plan = plan_splits(recordings, counts, val=0.2, seed=seed)
        assert set(plan.assigned) == set(counts)
        assert all(plan.labels["val"][c] >= 1 for c in ("common", "rare", "rarer"))
        assert all(plan.labels["train"][c] >= 1 for c in ("common", "rare", "rarer"))
        # val's share of the common class's labels is near a fifth (62 labels: 12 ± 3)
        assert 9 <= plan.labels["val"]["common"] <= 15
        assert plan.recordings["test"] == 0
    assert plan_splits(recordings, counts, seed=3) == plan_splits(recordings, counts, seed=3)


def test_kept_splits_count_and_unlabelled_recordings_stay_out():
    counts = {i: {"a": 1} for i in range(10)}
    recordings = [_recording(i, split="val" if i < 2 else None) for i in range(10)]
    recordings.append(_recording(10))  # no labels: stays without a split
    plan = plan_splits(recordings, counts, val=0.2)
    assert 10 not in plan.assigned and 0 not in plan.assigned and 1 not in plan.assigned
    # The two kept val recordings already give val its fifth: the rest go to train.
    assert set(plan.assigned.values()) == {"train"}
    assert plan.recordings == {"train": 8, "val": 2, "test": 0}


def test_each_wanted_split_gets_a_recording_when_there_are_enough():
    counts = {0: {"a": 5}, 1: {"a": 5}, 2: {"a": 5}}
    plan = plan_splits([_recording(i) for i in counts], counts, val=0.1, test=0.1)
    assert sorted(plan.assigned.values()) == ["test", "train", "val"]
    one = plan_splits([_recording(0)], {0: {"a": 5}}, val=0.2)
    assert one.assigned == {0: "train"}  # one recording: train, val stays empty


@pytest.mark.parametrize(("val", "test", "message"), [
    (1.0, 0.0, "val share"), (-0.1, 0.0, "val share"), (0.5, 0.5, "nothing to train on"),
])  # fmt: skip
def test_shares_are_checked(val, test, message):
    with pytest.raises(ValueError, match=message):
        plan_splits([], {}, val=val, test=test)


def test_assign_splits_writes_the_plan_to_the_project(tmp_path):
    from tfstudio.importer import create_demo

    project = create_demo(tmp_path / "demo", recordings=6, seconds=3.0, seed=2)
    try:
        recordings = project.recordings()
        project.set_split([r.id for r in recordings], None)
        dry = assign_splits(project, val=0.34, apply=False)
        assert {r.split for r in project.recordings()} == {None}
        plan = assign_splits(project, val=0.34)
        assert plan == dry
        stored = {r.id: r.split for r in project.recordings()}
        assert stored == plan.assigned
        assert plan.recordings["val"] == 2 and plan.recordings["train"] == 4
        classes = {c.name for c in project.classes()}
        assert set(plan.labels["val"]) == classes
    finally:
        project.close()


def test_recordings_still_have_their_splits_after_reopening(tmp_path):
    from tfstudio.importer import create_demo

    root = tmp_path / "demo"
    create_demo(root, recordings=5, seconds=3.0, seed=4).close()
    with Project.open(root) as project:
        project.set_split([r.id for r in project.recordings()], None)
        plan = assign_splits(project)
    with Project.open(root) as project:
        assert {r.id: r.split for r in project.recordings()} == plan.assigned


def _site_recording(rec_id: int, site: str, day: str, split: str | None = None) -> Recording:
    from dataclasses import replace

    return replace(
        _recording(rec_id, split=split),
        path=f"card/{site}/{day.replace('-', '')}_050000.WAV",
        name=f"{day.replace('-', '')}_050000.WAV",
        recorded_at=f"{day}T05:00:00",
        recorded_at_source="name",
    )


def _deployment(sites: int) -> tuple[list[Recording], dict[int, dict[str, int]]]:
    """``sites`` folders of four days' recordings, owls in each, frogs every other day."""
    recordings, counts = [], {}
    for site in range(sites):
        for hour in range(4):
            rec_id = site * 4 + hour
            recordings.append(_site_recording(rec_id, f"site{site}", f"2024-05-0{hour + 1}"))
            counts[rec_id] = {"owl": 2, "frog": 1} if hour % 2 else {"owl": 1}
    return recordings, counts


def test_grouped_by_folder_a_sites_recordings_share_one_split():
    # Six sites of four recordings; ungrouped, val takes a recording here and there, so it
    # scores the detector on sites it trained on. Grouped, whole sites go to val.
    recordings, counts = _deployment(6)
    for seed in range(5):
        ungrouped = plan_splits(recordings, counts, val=0.2, seed=seed)
        plan = plan_splits(recordings, counts, val=0.2, seed=seed, group_by="folder")
        assert set(plan.assigned) == set(counts)
        splits_of = {}
        for rec in recordings:
            splits_of.setdefault(rec.path.rsplit("/", 1)[0], set()).add(plan.assigned[rec.id])
        assert all(len(s) == 1 for s in splits_of.values())  # no site split in two
        val_sites = sum(s == {"val"} for s in splits_of.values())
        assert 1 <= val_sites <= 2 and plan.labels["val"]["frog"] >= 1
        mixed = {}
        for rec in recordings:
            mixed.setdefault(rec.path.rsplit("/", 1)[0], set()).add(ungrouped.assigned[rec.id])
        assert any(len(s) > 1 for s in mixed.values())  # what grouping prevents


def test_grouped_by_day_and_a_chosen_split_pulls_its_group_along():
    recordings = [
        _site_recording(1, "site1", "2024-05-01", split="val"),  # the user chose val for it
        _site_recording(2, "site2", "2024-05-01"),
        _site_recording(3, "site1", "2024-05-02"),
        _site_recording(4, "site2", "2024-05-02"),
        _site_recording(5, "site1", "2024-05-03"),
        _site_recording(6, "site2", "2024-05-03"),
        _recording(7),  # no start known: a group of its own
    ]
    counts = {r.id: {"owl": 1} for r in recordings}
    plan = plan_splits(recordings, counts, val=0.3, seed=0, group_by="day")
    assert plan.assigned[2] == "val"  # the 1st of May's other recording joins it
    assert plan.assigned[3] == plan.assigned[4] and plan.assigned[5] == plan.assigned[6]
    assert 1 not in plan.assigned  # kept, not assigned
    assert plan.recordings["val"] + plan.recordings["train"] == 7
    with pytest.raises(ValueError, match="group_by must be one of folder, day"):
        plan_splits(recordings, counts, group_by="site")


def test_grouping_the_test_split_alone_keeps_val_stratified_among_the_rest():
    # Whole sites to test (an honest score on unseen sites), while val takes recordings of
    # the training sites (on the real-sounds benchmark, validating on unheard sources stopped
    # training early and cost 0.07 segment F1).
    recordings, counts = _deployment(8)
    plan = plan_splits(
        recordings, counts, val=0.2, test=0.25, seed=1, group_by="folder", group_test_only=True
    )
    assert set(plan.assigned) == set(counts)
    by_site: dict[str, set[str]] = {}
    for rec in recordings:
        by_site.setdefault(rec.path.rsplit("/", 1)[0], set()).add(plan.assigned[rec.id])
    tested = [site for site, splits in by_site.items() if "test" in splits]
    assert tested and all(by_site[site] == {"test"} for site in tested)  # whole sites
    assert any({"train", "val"} <= splits for splits in by_site.values())  # val is mixed
    assert plan.labels["val"]["frog"] >= 1 and plan.labels["test"]["frog"] >= 1
    with pytest.raises(ValueError, match="needs a test share"):
        plan_splits(recordings, counts, group_by="folder", group_test_only=True)
