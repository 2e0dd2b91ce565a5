"""tfstudio relink PROJECT OLD NEW: recordings found again after their folder moved, checked by
content, labels kept; run as a real command on real files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import soundfile as sf

from tests.store.helpers import tfstudio
from tfstudio.relink import relink
from tfstudio.store import Project


def _project(tmp_path, names=("a.wav", "b.wav", "c.wav")):
    audio = tmp_path / "field" / "day1"
    audio.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        sf.write(audio / name, 0.1 * rng.standard_normal(8000).astype("float32"), 8000)
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, audio, "-q").returncode == 0
    with Project.open(root) as project:
        bird = project.ensure_class("bird").id
        for rec in project.recordings():
            project.add_event(rec.id, bird, 0.1, 0.5)
    return root, audio


def test_a_moved_folder_is_relinked_with_labels_kept(tmp_path):
    root, audio = _project(tmp_path)
    moved = tmp_path / "disk2" / "day1"
    moved.parent.mkdir()
    shutil.move(audio, moved)
    assert tfstudio("check", root).returncode == 1  # missing audio

    result = tfstudio("relink", root, tmp_path / "field", tmp_path / "disk2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(r["recording"] for r in report["relinked"]) == ["a.wav", "b.wav", "c.wav"]
    with Project.open(root) as project:
        for rec in project.recordings():
            assert project.absolute_path(rec).parent == moved
            assert rec.status == "ok"
            assert len(project.labels(rec.id)) == 1
    assert tfstudio("check", root).returncode == 0


def test_another_file_with_the_same_name_is_refused_and_missing_ones_are_said(tmp_path):
    root, audio = _project(tmp_path)
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(audio / "a.wav", new / "a.wav")  # the same file
    sf.write(new / "b.wav", np.zeros(8000, dtype="float32"), 8000)  # another take, same name
    shutil.rmtree(audio)  # c.wav is gone for good
    result = tfstudio("relink", root, audio, new)
    assert result.returncode == 3
    assert "relinked 1 recording(s), 2 not relinked" in result.stdout
    assert "b.wav" in result.stderr and "other content" in result.stderr
    assert "c.wav: not found at" in result.stderr
    with Project.open(root) as project:
        paths = {r.name: project.absolute_path(r) for r in project.recordings()}
    assert paths["a.wav"] == new / "a.wav"
    assert paths["b.wav"] == audio / "b.wav"  # untouched: its labels belong to the old take


def test_one_renamed_file_and_only_missing_ones(tmp_path):
    root, audio = _project(tmp_path)
    renamed = tmp_path / "renamed.wav"
    shutil.move(audio / "a.wav", renamed)
    with Project.open(root) as project:
        report = relink(project, audio / "a.wav", renamed)
        assert [r.name for r, _ in report.relinked] == ["a.wav"]
        (rec,) = [r for r in project.recordings() if project.absolute_path(r) == renamed]
        assert rec.name == "renamed.wav" and rec.stem == "renamed"
        # Only missing: b and c are where they were, so nothing is done for them.
        copy = tmp_path / "copy"
        shutil.copytree(audio, copy)
        report = relink(project, audio, copy, only_missing=True)
        assert report.matched == 0


def test_nothing_under_old_is_a_usage_error(tmp_path):
    root, _ = _project(tmp_path)
    result = tfstudio("relink", root, tmp_path / "elsewhere", tmp_path / "new")
    assert result.returncode == 2
    assert "no recording of" in result.stderr


def test_a_read_only_project_is_said_once_not_per_recording(tmp_path):
    root, audio = _project(tmp_path)
    moved = tmp_path / "moved"
    shutil.copytree(audio, moved / "day1")
    for path in (root / "project.sqlite", root):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        result = tfstudio("relink", root, audio, moved / "day1", unprivileged=True)
    finally:
        root.chmod(0o755)
        (root / "project.sqlite").chmod(0o644)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("read-only") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
