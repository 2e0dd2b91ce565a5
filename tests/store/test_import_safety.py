"""Label imports and other writers (issue 10, cases 3 and 4): two imports of the same file at
once add it once; a large import holds the write lock only briefly, so edits and 'info' go
on meanwhile; each file is still all or nothing and one undoable step."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.conftest import fake_recording
from tests.store.helpers import ENV
from tfstudio.store import Project, ProjectError


def _project_with_recordings(root, n=5):
    with Project.create(root) as project:
        for k in range(n):
            fake_recording(project, f"rec{k}.wav", duration=5000.0)
    return root


def _label_file(path, n):
    lines = ["filename\tonset\toffset\tevent_label"]
    lines += [
        f"rec{i % 5}.wav\t{i * 0.25:.2f}\t{i * 0.25 + 0.2:.2f}\t{'abc'[i % 3]}" for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(root, labels) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tfstudio", "import", str(root), "--labels", str(labels), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def test_imports_of_one_file_at_once_add_it_once(tmp_path):
    root = _project_with_recordings(tmp_path / "p")
    with Project.open(root) as project:
        # Earlier labels: reading them is what gave a second import time to slip in.
        other = project.add_class("earlier").id
        with project.write():
            project.conn.executemany(
                "INSERT INTO events (recording_id, class_id, onset, offset, created_at,"
                " updated_at) VALUES (1, ?, ?, ?, 0, 0)",
                [(other, i * 0.1, i * 0.1 + 0.05) for i in range(30_000)],
            )
    labels = _label_file(tmp_path / "labels.tsv", 450)
    imports = [_import(root, labels) for _ in range(3)]
    outputs = [proc.communicate(timeout=300) for proc in imports]
    for proc, (_out, err) in zip(imports, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    with Project.open(root) as project:
        assert len(project.events()) == 30_000 + 450
        assert sorted(c.name for c in project.classes()) == ["a", "b", "c", "earlier"]
    added = sorted(int(out.split("labels: ")[1].split()[0]) for out, _ in outputs)
    assert sum(added) == 450  # one import added them, the others found them there


def test_edits_go_on_while_a_large_file_is_imported(tmp_path):
    root = _project_with_recordings(tmp_path / "p")
    labels = _label_file(tmp_path / "big.tsv", 20_000)
    with Project.open(root) as project:
        rec = project.recordings()[0].id
        cls = project.add_class("edit").id
        # A GUI edit may wait a little for the lock, not for the whole import.
        project.conn.execute("PRAGMA busy_timeout = 8000")
        importer = _import(root, labels)
        edits, during = 0, 0
        while importer.poll() is None:
            project.add_event(rec, cls, 4000.0 + edits, 4000.5 + edits)
            edits += 1
            during += importer.poll() is None
            time.sleep(0.05)
        out, err = importer.communicate(timeout=10)
        assert importer.returncode == 0, err
        assert "labels: 20000 added" in out
        assert during >= 3  # the edits really went on while the import ran
        assert len(project.events(class_id=cls)) == edits
        assert len(project.events()) == 20_000 + edits


def test_a_file_is_all_or_nothing_and_one_undo_step(project):
    rec = fake_recording(project)
    bird = project.add_class("bird").id
    good = [
        dict(recording_id=rec, class_id=bird, onset=i / 3, offset=i / 3 + 0.1) for i in range(50)
    ]
    with pytest.raises(ProjectError):
        project.add_new_events([*good, dict(recording_id=rec, class_id=bird, onset=5, offset=4)])
    with pytest.raises(ProjectError, match="FOREIGN KEY"):
        project.add_new_events([*good, dict(recording_id=rec, class_id=999, onset=1, offset=2)])
    assert project.events() == []

    added = project.add_new_events(good, description="import a.tsv")
    assert len(added.ids) == 50 and added.existing == 0
    before = [e.to_dict() for e in project.events()]
    assert project.undo() == "import a.tsv"
    assert project.events() == []
    assert project.redo() == "import a.tsv"
    assert [e.to_dict() for e in project.events()] == before  # exactly, to the last bit


def test_existing_events_are_counted_with_their_repeats(project):
    rec = fake_recording(project)
    bird = project.add_class("bird").id
    row = dict(recording_id=rec, class_id=bird, onset=1.0, offset=2.0)
    band = dict(row, low_hz=500.0, high_hz=900.0)
    assert len(project.add_new_events([row, row, band]).ids) == 3  # a repeat in a file is kept
    again = project.add_new_events([row, row, row, band, dict(band, high_hz=None)])
    # The three plain rows are the project's three events read back without their bands (as
    # DCASE writes the box); half a band is new.
    assert (len(again.ids), again.existing) == (1, 4)
    again = project.add_new_events([row] * 5)
    assert (len(again.ids), again.existing) == (1, 4)  # a fifth copy is one more
    assert len(project.events()) == 5


def test_inside_a_callers_transaction_it_commits_nothing_early(project):
    rec = fake_recording(project)
    bird = project.add_class("bird").id
    with pytest.raises(RuntimeError), project.undo_group("import two files"):
        project.add_new_events([dict(recording_id=rec, class_id=bird, onset=1.0, offset=2.0)])
        raise RuntimeError("the second file failed")
    assert project.events() == []
