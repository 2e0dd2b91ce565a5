"""tfstudio bench store, run as a real command at a tiny size (numbers are not asserted)."""

from __future__ import annotations

import json

from tests.store.helpers import tfstudio
from tfstudio.bench.store import browser_load, browser_rows
from tfstudio.store import Project

KEYS = {
    "recordings",
    "events",
    "classes",
    "label_files",
    "labels_added",
    "history_rows",
    "undo_steps",
    "generate_s",
    "audio_import_s",
    "label_import_s",
    "open_s",
    "open_load_s",
    "q_recordings_s",
    "q_label_counts_s",
    "q_label_totals_s",
    "q_browser_load_s",
    "q_browser_filter_s",
    "q_recording_labels_s",
    "q_summary_s",
    "edit_s",
    "undo_import_s",
    "redo_import_s",
    "export_s",
    "label_import_peak_rss_mb",
    "end_peak_rss_mb",
}


def test_bench_store_prints_one_json_object_with_every_number(tmp_path):
    result = tfstudio(
        "bench", "store", "--recordings", 6, "--events", 50, "--classes", 3,
        "--events-per-file", 20, "--folder", tmp_path / "b", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    numbers = json.loads(line)
    assert set(numbers) >= KEYS, KEYS - set(numbers)
    assert numbers["recordings"] == 6 and numbers["labels_added"] == 50
    assert numbers["label_files"] == 3
    assert all(numbers[k] >= 0 for k in KEYS)
    # The project is kept in --folder, with every label back after undo and redo of the import.
    with Project.open(tmp_path / "b" / "project") as project:
        assert len(project.recordings()) == 6 and len(project.labels()) == 50
        # What the bench times as the browser's rows is what the labels say.
        labels = {r.name: len(project.labels(r.id)) for r in project.recordings()}
        loaded = browser_load(project)
        assert dict(loaded) == labels
        expected = sorted(((n, k) for n, k in labels.items()), key=lambda r: (-r[1], r[0]))
        assert browser_rows(loaded, "", "all") == expected
        assert browser_rows(loaded, "", "unlabelled") == [r for r in expected if r[1] == 0]
        first = expected[0][0]
        assert browser_rows(loaded, first.lower(), "labelled") == [expected[0]]


def test_bench_store_refuses_bad_sizes_in_one_line(tmp_path):
    result = tfstudio("bench", "store", "--recordings", "0", "--folder", tmp_path / "b")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --recordings must be at least 1"
    result = tfstudio("bench", "store", "--events", "many")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    result = tfstudio("bench", "store", "--folder", tmp_path / "full")
    assert result.returncode == 2 and "new or empty folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_is_a_group_that_names_its_subjects():
    result = tfstudio("bench")
    assert result.returncode == 2 and "store" in result.stderr
