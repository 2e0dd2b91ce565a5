"""The recordings' starts in the project: stored on import, kept or replaced on a second one,
filled from the file names when an older project is opened, shown as clock times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlite_utils import Database

from tfstudio.store import Project
from tfstudio.store.project import DB_NAME
from tfstudio.store.recorded import clock_text, from_file_name, parse_stored
from tfstudio.store.schema import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def _add(project, name: str, **start):
    return project.add_recording(
        path=project.root / name,
        sample_rate=16000,
        channels=1,
        frames=16000,
        duration=1.0,
        size=32000,
        mtime=0.0,
        content_hash=f"hash-{name}",
        **start,
    )


def test_a_start_is_stored_replaced_by_a_better_one_and_kept_when_none_is_given(project):
    rec_id = _add(
        project, "a.wav", recorded_at="2024-05-01T05:00:00", recorded_at_source="name"
    ).recording_id
    assert (
        project.recording(rec_id).recorded_at,
        project.recording(rec_id).recorded_at_source,
    ) == (
        "2024-05-01T05:00:00",
        "name",
    )
    # Imported again after a tfstudio that reads headers: the header's start replaces it.
    assert (
        _add(
            project,
            "a.wav",
            recorded_at="2024-05-01T05:00:00+02:00",
            recorded_at_source="audiomoth",
        ).status
        == "exists"
    )
    assert project.recording(rec_id).recorded_at == "2024-05-01T05:00:00+02:00"
    # Something that says nothing leaves the start alone.
    _add(project, "a.wav")
    assert project.recording(rec_id).recorded_at_source == "audiomoth"
    assert _add(project, "b.wav").status == "added"
    assert project.recording(_add(project, "b.wav").recording_id).recorded_at is None


def test_the_summary_gives_the_first_and_last_start(project):
    assert project.summary()["recorded"] == {"dated": 0, "first": None, "last": None}
    _add(project, "a.wav", recorded_at="2024-05-02T05:00:00", recorded_at_source="name")
    _add(project, "b.wav", recorded_at="2024-05-01T23:00:00+02:00", recorded_at_source="guano")
    _add(project, "c.wav")
    assert project.summary()["recorded"] == {
        "dated": 2,
        "first": "2024-05-01T23:00:00+02:00",
        "last": "2024-05-02T05:00:00",
    }


def test_opening_an_older_project_fills_the_starts_its_file_names_give(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    db = Database(root / DB_NAME)
    db.execute("PRAGMA journal_mode = WAL")
    migrations.apply(db, stop_before="m008_recorded_at")
    db.execute("PRAGMA user_version = 7")
    for i, name in enumerate(
        ("20240501_050000.WAV", "SM4A01234_20240502_213000.wav", "rec.wav"), 1
    ):
        db.execute(
            "INSERT INTO recordings (id, path, name, stem, size, mtime, content_hash, sample_rate,"
            " channels, frames, duration, added_at) VALUES"
            " (?, ?, ?, 's', 10, 0, ?, 16000, 1, 16000, 1.0, 100)",
            (i, f"site1/{name}", name, f"h{i}"),
        )
    db.close()
    with Project.open(root) as project:
        assert project.schema_version() == (SCHEMA_VERSION, list(MIGRATION_NAMES))
        starts = {r.name: (r.recorded_at, r.recorded_at_source) for r in project.recordings()}
    assert starts == {
        "20240501_050000.WAV": ("2024-05-01T05:00:00", "name"),
        "SM4A01234_20240502_213000.wav": ("2024-05-02T21:30:00", "name"),
        "rec.wav": (None, None),
    }


def test_a_source_that_is_none_of_the_known_ones_is_refused(project):
    from tfstudio.store.errors import ProjectError

    with pytest.raises(ProjectError, match="nothing was written: CHECK constraint failed"):
        _add(project, "a.wav", recorded_at="2024-05-01T05:00:00", recorded_at_source="guess")


@pytest.mark.parametrize(
    ("seconds", "kwargs", "text"),
    [
        (0.0, {}, "2024-05-01 05:00:00"),
        (3599.6, {}, "2024-05-01 06:00:00"),  # rounded, not cut
        (12.96, {"decimals": 1}, "2024-05-01 05:00:13.0"),
        (12.34, {"decimals": 1, "date": False}, "05:00:12.3"),
        (19 * 3600.0, {"date": False}, "00:00:00"),  # past midnight: the next day's clock
        (19 * 3600.0, {}, "2024-05-02 00:00:00"),
    ],
)
def test_clock_times_into_a_recording(seconds, kwargs, text):
    assert clock_text(datetime(2024, 5, 1, 5), seconds, **kwargs) == text


def test_clock_times_name_the_zone_the_recorder_knew():
    start = parse_stored("2024-05-01T05:00:00-05:30")
    assert start == datetime(2024, 5, 1, 5, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    assert clock_text(start, 1.0) == "2024-05-01 05:00:01 UTC-05:30"
    assert (
        clock_text(parse_stored("2024-05-01T05:00:00+00:00"), zone=False) == "2024-05-01 05:00:00"
    )
    assert clock_text(parse_stored("2024-05-01T05:00:00Z")).endswith(" UTC")
    assert parse_stored("not a time") is None and parse_stored(None) is None


def test_the_first_real_date_and_time_in_a_name_is_its_start():
    assert from_file_name("20240501_050000_to_20240501_060000.wav") == datetime(2024, 5, 1, 5)
    assert from_file_name("x_20241399_250000_20240502_010203.wav") == datetime(2024, 5, 2, 1, 2, 3)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T05:00:00",
        "2024-05-01T05:00:00+02:00",
        "2024-05-01T05:00:00-05:30",
        "2024-05-01T05:00:00.600000+02:00",  # fractions: rounded, as clock_text rounds
        "2024-05-01T23:59:59.700000",
    ],
)
def test_a_lists_start_reads_as_clock_text_writes_it(text):
    from tfstudio.store.recorded import shown_start

    assert shown_start(text) == clock_text(parse_stored(text), zone=False)
    assert shown_start(None) == shown_start("") == ""
