"""A project this process may not write opens read-only: it can be viewed and exported, and a
change is one line saying why (issue 10, case 6). An unreadable database is one line too
(case 2). The commands run in a process that file permissions apply to (as root: without the
capabilities that let root ignore them)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import fake_recording
from tests.store.helpers import one_line_error, tfstudio
from tfstudio.store import DB_NAME, Project


def _project(root):
    with Project.create(root) as project:
        rec = fake_recording(project, "rec1.wav")
        cls = project.add_class("bird")
        project.add_event(rec, cls.id, 1.0, 2.5)
    (root.parent / "more.tsv").write_text("rec1.wav\t3.0\t4.0\tbird\n")
    return root


@pytest.mark.parametrize("read_only", ["folder", "file"])
def test_a_read_only_project_opens_for_viewing_and_export(read_only, tmp_path):
    root = _project(tmp_path / "p")
    (tmp_path / "out").mkdir()
    (root / DB_NAME).chmod(0o444)
    if read_only == "folder":
        root.chmod(0o555)  # no -wal or -shm can be made beside the database either

    info = tfstudio("info", root, unprivileged=True)
    assert info.returncode == 0, info.stderr
    assert "labels      1" in info.stdout
    assert "read-only here" in info.stderr and "Traceback" not in info.stderr

    out = tmp_path / "out" / "labels.tsv"
    exported = tfstudio("export", root, "--format", "dcase", "-o", out, unprivileged=True)
    assert exported.returncode == 0, exported.stderr
    assert "rec1.wav" in out.read_text()

    imported = tfstudio("import", root, "--labels", tmp_path / "more.tsv", unprivileged=True)
    assert imported.returncode != 0 and "Traceback" not in imported.stderr
    (line,) = [line for line in imported.stderr.splitlines() if "read-only" in line]
    assert str(root / DB_NAME) in line and "writable" in line
    # Audio as well: once, exit 1 (it was one line per file, exit 3).
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("x.wav", "y.wav", "z.wav"):
        sf.write(audio / name, np.zeros(800, dtype="float32"), 8000)
    imported = tfstudio("import", root, audio, unprivileged=True)
    assert imported.returncode == 1, imported.stderr
    assert imported.stderr.count("read-only") == 1 and "Traceback" not in imported.stderr

    # The recording row has no audio file: check reports it, and repairs nothing here.
    check = tfstudio("check", root, "--repair", unprivileged=True)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "rec1.wav is missing" in check.stdout and "nothing was repaired" in check.stderr

    root.chmod(0o755)
    (root / DB_NAME).chmod(0o644)
    with Project.open(root) as project:  # nothing was changed
        assert [(e.onset, e.offset) for e in project.events()] == [(1.0, 2.5)]


def test_an_unreadable_database_is_one_line(tmp_path):
    root = _project(tmp_path / "p")
    (root / DB_NAME).chmod(0o000)
    result = tfstudio("info", root, unprivileged=True)
    assert result.returncode == 2
    line = one_line_error(result)
    assert str(root / DB_NAME) in line and "cannot read" in line and "permission" in line
    (root / DB_NAME).chmod(0o644)
    with Project.open(root) as project:  # and nothing was made in its place
        assert len(project.events()) == 1
