"""tfstudio check PROJECT [--repair] [--json], run as a real command on real files."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import soundfile as sf

from tests.store.helpers import tfstudio
from tests.store.test_run_safety import _kill, _start_trainer
from tfstudio.store import DB_NAME, Project

UNKNOWN = "0123456789abcdef0123456789abcdef"  # a content hash no recording has


def _project(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(audio / name, np.zeros(8000, dtype="float32"), 8000)
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    result = tfstudio("import", root, audio, "-q")
    assert result.returncode == 0, result.stderr
    return root


def _ended_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_sound_project_has_no_problems(tmp_path):
    root = _project(tmp_path)
    result = tfstudio("check", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stdout
    report = json.loads(tfstudio("check", root, "--json").stdout)
    assert report["ok"] is True and report["findings"] == []


def test_check_finds_and_repairs_what_is_safe(tmp_path):
    root = _project(tmp_path)
    proc, run_id = _start_trainer(root)
    _kill(proc)  # a run left 'running' by a killed trainer
    with Project.open(root, mark_dead=False) as project:
        hashes = [r.content_hash for r in project.recordings()]
        done = project.create_run({})
        project.update_run(done.id, status="done", best_checkpoint=f"runs/run-{done.id}/best.pt")
    (tmp_path / "audio" / "b.wav").unlink()
    features = root / "cache" / "features"
    features.mkdir(parents=True)
    kept_cache = features / f"{hashes[0]}-00aa11bb22cc33dd.npy"
    orphan_cache = features / f"{UNKNOWN}-00aa11bb22cc33dd.npy"
    stale_tmp = features / f"{hashes[0]}-00aa11bb22cc33dd.{_ended_pid()}.tmp.npy"
    posteriors = root / "runs" / f"run-{done.id}" / "posteriors"
    posteriors.mkdir(parents=True)
    orphan_post = posteriors / f"{UNKNOWN}.npy"
    kept_post = posteriors / f"{hashes[0]}.npy"
    stale_ckpt = root / "runs" / f"run-{done.id}" / "last.pt.tmp"
    stray_run = root / "runs" / "run-99"
    stray_run.mkdir()
    (stray_run / "best.pt").write_bytes(b"model")
    for path in (kept_cache, orphan_cache, stale_tmp, orphan_post, kept_post, stale_ckpt):
        path.write_bytes(b"x")

    found = tfstudio("check", root)
    assert found.returncode == 1 and "Traceback" not in found.stderr
    for text in (
        f"run {run_id} (run {run_id}) is marked running",
        "b.wav is missing",
        str(orphan_cache),
        str(stale_tmp),
        str(orphan_post),
        str(stale_ckpt),
        str(stray_run),
        f"the best checkpoint of run {done.id} is missing",
        "--repair' fixes 5",
    ):
        assert text in found.stdout, (text, found.stdout)
    assert orphan_cache.exists() and stale_tmp.exists()  # check alone changes nothing
    with Project.open(root, mark_dead=False) as project:
        assert project.run(run_id).status == "running"

    repaired = tfstudio("check", root, "--repair", "--json")
    assert repaired.returncode == 1  # missing audio, a stray run folder, a missing checkpoint
    report = json.loads(repaired.stdout)
    by_kind = {}
    for finding in report["findings"]:
        by_kind.setdefault(finding["kind"], []).append(finding)
    assert {k: len(v) for k, v in by_kind.items()} == {
        "dead_run": 1,
        "missing_audio": 1,
        "orphaned_cache": 1,
        "temporary_file": 2,
        "orphaned_posteriors": 1,
        "orphaned_run_folder": 1,
        "missing_checkpoint": 1,
    }
    assert all(f["repaired"] == f["repairable"] for f in report["findings"])
    assert not orphan_cache.exists() and not stale_tmp.exists() and not orphan_post.exists()
    assert not stale_ckpt.exists()
    assert kept_cache.exists() and kept_post.exists() and (stray_run / "best.pt").exists()
    with Project.open(root) as project:
        run = project.run(run_id)
        assert (run.status, run.message) == ("stopped", "process ended unexpectedly")
        assert [r.status for r in project.recordings()] == ["ok", "missing"]

    again = tfstudio("check", root)
    assert again.returncode == 1
    assert "3 problem(s) left" in again.stdout and "--repair" not in again.stdout


def test_a_damaged_database_is_reported_not_a_traceback(tmp_path):
    root = _project(tmp_path)
    with Project.open(root) as project:
        rec = project.recordings()[0].id
        cls = project.add_class("bird").id
        project.add_events(
            [dict(recording_id=rec, class_id=cls, onset=i, offset=i + 0.5) for i in range(3000)]
        )
        pages = project.conn.execute("PRAGMA page_count").fetchone()[0]
        size = project.conn.execute("PRAGMA page_size").fetchone()[0]
    db = root / DB_NAME
    data = bytearray(db.read_bytes())
    assert len(data) == pages * size
    for page in range(pages // 2, pages - 1, 3):  # scribble over a third of the later pages
        data[page * size + 8 : page * size + 200] = b"\xa5" * 192
    db.write_bytes(bytes(data))

    result = tfstudio("check", root)
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    text = result.stdout + result.stderr
    assert str(db) in text and ("damaged" in text or "malformed" in text or "backup" in text)
    if result.returncode == 1:
        report = json.loads(tfstudio("check", root, "--json").stdout)
        assert any(f["kind"] == "integrity" for f in report["findings"])


def test_drifted_label_counts_are_found_and_recounted(tmp_path):
    root = _project(tmp_path)
    with Project.open(root) as project:
        rec = project.recordings()[0]
        bird = project.ensure_class("bird").id
        for onset in (0.0, 0.2, 0.4):
            project.add_event(rec.id, bird, onset, onset + 0.1)
        assert project.label_counts() == {rec.id: {bird: 3}}
        # Another tool edits the database without our triggers.
        project.conn.execute("DROP TRIGGER label_counts_delete")
        project.conn.execute("DELETE FROM events WHERE onset > 0.1")
        assert project.label_counts() == {rec.id: {bird: 3}}
    result = tfstudio("check", root, "--json")
    assert result.returncode != 0
    trigger, counts = json.loads(result.stdout)["findings"]
    assert trigger["kind"] == counts["kind"] == "label_counts"
    assert trigger["repairable"] and counts["repairable"]
    assert (
        "trigger label_counts_delete that keeps the label counts is missing" in (trigger["message"])
    )
    assert "'bird': 3 stored, 1 labelled" in counts["message"]
    repaired = json.loads(tfstudio("check", root, "--repair", "--json").stdout)
    assert [f["repaired"] for f in repaired["findings"]] == [True, True]
    with Project.open(root) as project:
        assert project.label_counts() == {rec.id: {bird: 1}}
        assert project.label_count_drift() == []
        assert project.label_counts_damage() == []
        # the trigger is back: a deletion is counted again
        project.delete_events([e.id for e in project.labels()])
        assert project.label_counts() == {}
    assert tfstudio("check", root).returncode == 0


def _labelled(tmp_path):
    """A project with two labels on a.wav and one on b.wav; its database file."""
    root = _project(tmp_path)
    with Project.open(root) as project:
        a, b = (rec.id for rec in project.recordings())
        bird = project.ensure_class("bird").id
        frog = project.ensure_class("frog").id
        project.add_events(
            [
                dict(recording_id=a, class_id=bird, onset=0.0, offset=0.1),
                dict(recording_id=a, class_id=frog, onset=0.2, offset=0.3),
                dict(recording_id=b, class_id=bird, onset=0.0, offset=0.1),
            ]
        )
        counts = project.label_counts()
    return root, counts


def _damage(root, *statements):
    """Edit the project's file as another tool would (plain sqlite3, no tfstudio)."""
    import sqlite3

    db = sqlite3.connect(root / DB_NAME)
    with db:
        for sql in statements:
            db.execute(sql)
    db.close()


def test_a_missing_label_counts_table_is_found_and_made_again(tmp_path):
    root, counts = _labelled(tmp_path)
    _damage(root, "DROP TABLE label_counts")
    result = tfstudio("check", root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the label_counts table is missing (no new label can be stored)" in result.stdout
    assert "--repair' fixes 1" in result.stdout
    result = tfstudio("check", root, "--repair")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("repaired  ")
    with Project.open(root) as project:
        assert project.label_counts() == counts
        assert project.label_counts_damage() == [] and project.label_count_drift() == []
        # labels can be stored and are counted again
        a = project.recordings()[0].id
        project.add_event(a, project.ensure_class("bird").id, 1.0, 1.5)
        assert project.label_count_drift() == []
    assert tfstudio("check", root).returncode == 0


def test_a_label_counts_table_without_counts_is_made_again(tmp_path):
    root, counts = _labelled(tmp_path)
    _damage(root, "DROP TABLE label_counts", "CREATE TABLE label_counts (note TEXT)")
    result = tfstudio("check", root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the label_counts table is not the one tfstudio makes" in result.stdout
    assert tfstudio("check", root, "--repair").returncode == 0
    with Project.open(root) as project:
        assert project.label_counts() == counts


def test_an_altered_label_counts_table_and_trigger_are_made_again(tmp_path):
    root, counts = _labelled(tmp_path)
    # Another tool's idea of the table (no primary key, a stray column) and an insert
    # trigger that counts nothing.
    _damage(
        root,
        "DROP TABLE label_counts",
        "CREATE TABLE label_counts (recording_id INTEGER, class_id INTEGER, n INTEGER, x)",
        "INSERT INTO label_counts VALUES (1, 1, 99, NULL)",
        "DROP TRIGGER label_counts_insert",
        "CREATE TRIGGER label_counts_insert AFTER INSERT ON events BEGIN SELECT 1; END",
    )
    report = json.loads(tfstudio("check", root, "--json").stdout)
    messages = [f["message"] for f in report["findings"] if f["kind"] == "label_counts"]
    assert "the label_counts table is not the one tfstudio makes (and 1 more)" in messages[0]
    assert "99 stored" in messages[1]
    report = json.loads(tfstudio("check", root, "--repair", "--json").stdout)
    assert report["ok"] is True
    assert [f["repaired"] for f in report["findings"]] == [True, True]
    with Project.open(root) as project:
        assert project.label_counts() == counts
        assert project.label_counts_damage() == []
        schema = dict(
            project.conn.execute(
                "SELECT name, sql FROM sqlite_schema WHERE name LIKE 'label_counts%'"
            ).fetchall()
        )
    # the same table and triggers a new project has
    fresh = tmp_path / "fresh"
    assert tfstudio("init", fresh).returncode == 0
    with Project.open(fresh) as project:
        made = dict(
            project.conn.execute(
                "SELECT name, sql FROM sqlite_schema WHERE name LIKE 'label_counts%'"
            ).fetchall()
        )
    normal = {name: " ".join(sql.split()) for name, sql in made.items()}
    assert {name: " ".join(sql.split()) for name, sql in schema.items()} == normal


def test_a_damaged_checkpoint_is_found_without_torch_and_left_alone(tmp_path):
    """A checkpoint cut short (a full disk, a copy that stopped) or with damaged bytes made
    detect fail later; check names it now, by run, and never deletes it."""
    import torch

    root = _project(tmp_path)
    with Project.open(root) as project:
        run = project.create_run({"preset": "fast"})
        folder = project.run_dir(run.id)
        folder.mkdir(parents=True, exist_ok=True)
        best, last = folder / "best.pt", folder / "last.pt"
        project.update_run(
            run.id,
            status="done",
            best_checkpoint=str(best.relative_to(root)),
            last_checkpoint=str(last.relative_to(root)),
        )
    weights = {"model": {"w": torch.arange(4096, dtype=torch.float32)}, "classes": ["bird"]}
    torch.save(weights, best)
    torch.save(weights, last)
    assert tfstudio("check", root).returncode == 0  # whole files are fine

    data = best.read_bytes()
    best.write_bytes(data[: len(data) // 2])  # cut short
    spoiled = bytearray(last.read_bytes())
    at = spoiled.index(np.float32(1000.0).tobytes())  # inside the stored tensor
    spoiled[at : at + 4] = np.float32(-1.0).tobytes()
    last.write_bytes(bytes(spoiled))

    found = tfstudio("check", root, "--repair", "--json")
    assert found.returncode == 1 and "Traceback" not in found.stderr
    findings = json.loads(found.stdout)["findings"]
    assert [(f["kind"], f["subject"], f["repaired"]) for f in findings] == [
        ("damaged_checkpoint", str(best), False),
        ("damaged_checkpoint", str(last), False),
    ]
    assert f"best checkpoint of run {run.id} is damaged" in findings[0]["message"]
    assert "fails its checksum" in findings[1]["message"]
    assert best.exists() and last.exists()  # the only copy of a model is never deleted


def test_a_file_replaced_by_another_of_the_same_size_is_changed(tmp_path):
    """Same size, other sound: once taken as the recording it was (its cached features and
    scores those of the old audio). A copy of the same bytes with a new time is still it."""
    import os

    root = _project(tmp_path)
    a, b = tmp_path / "audio" / "a.wav", tmp_path / "audio" / "b.wav"
    sf.write(a, np.full(8000, 0.25, dtype="float32"), 8000)  # same frames, same size
    os.utime(a, (1_000_000.0, 1_000_000.0))
    b.write_bytes(b.read_bytes())  # the same bytes, written again: a new time only
    os.utime(b, (2_000_000.0, 2_000_000.0))
    result = tfstudio("check", root, "--json")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["subject"]) for f in findings] == [("changed_audio", str(a))]
    with Project.open(root) as project:
        assert project.find_recording("b.wav").mtime != 2_000_000.0  # check writes nothing
    assert tfstudio("check", root, "--repair").returncode != 0  # a's change is no repair's
    with Project.open(root) as project:
        # b was hashed again and found the same: its new time is stored, not hashed each time.
        assert project.find_recording("b.wav").mtime == 2_000_000.0
        assert project.find_recording("a.wav").status == "changed"


def _stale_index(root):
    """An index whose entries no longer match its table (as a crash on a file system that
    reorders writes leaves one): written while its definition said another column."""
    import sqlite3

    for sql, then in (
        ("CREATE INDEX events_class ON events (recording_id)", "UPDATE events SET onset = onset"),
        ("CREATE INDEX events_class ON events (class_id)", None),
    ):
        db = sqlite3.connect(root / DB_NAME)
        with db:
            db.execute("PRAGMA writable_schema = ON")
            db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'events_class'", (sql,))
        db.close()
        if then:
            db = sqlite3.connect(root / DB_NAME)
            with db:
                db.execute(
                    "INSERT INTO events (recording_id, class_id, onset, offset, created_at,"
                    " updated_at) SELECT recording_id, class_id, 0.1, 0.2, 0, 0 FROM events"
                )
            db.close()


def test_an_index_that_no_longer_matches_its_table_is_made_again(tmp_path):
    """Before, any index problem said 'restore the project from a backup'; the rows are sound
    and REINDEX makes the index again from them, losing nothing."""
    root, _counts = _labelled(tmp_path)
    _stale_index(root)
    with Project.open(root) as project:
        labels = sorted((e.recording_id, e.class_id, e.onset, e.offset) for e in project.labels())
        assert any("missing from index events_class" in p for p in project.integrity_problems())
    result = tfstudio("check", root, "--json")
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "integrity"]
    assert finding["repairable"] and not finding["repaired"]
    assert "index events_class no longer matches its table" in finding["message"]
    assert "backup" not in finding["message"]
    result = tfstudio("check", root, "--repair")
    assert result.returncode == 0, result.stdout + result.stderr
    with Project.open(root) as project:
        assert project.integrity_problems() == []
        assert labels == sorted(
            (e.recording_id, e.class_id, e.onset, e.offset) for e in project.labels()
        )
    assert tfstudio("check", root).returncode == 0
