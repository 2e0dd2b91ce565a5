"""`tfstudio export` never loses a file (issue 10, cases 1 and 10).

It refuses to write over the project's own files (even with --force), refuses to replace an
existing output without --force, and writes through a temporary file or folder renamed into
place, so a refused or failed export leaves nothing half-written. Real projects made through
the command line, the real command in a child process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.formats import get_format, textgrid
from tfstudio.store import Project

FORMATS = ["dcase", "audacity", "raven", "textgrid", "json"]
PER_RECORDING = {"audacity", "raven", "textgrid"}


def tfstudio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", *map(str, args)], capture_output=True, text=True
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A project with two recordings, labels on both, a run folder and a cache file."""
    base = tmp_path_factory.mktemp("template")
    audio = base / "proj" / "audio"
    audio.mkdir(parents=True)
    for name in ("a.wav", "b.wav"):
        sf.write(audio / name, np.zeros(16000, dtype="float32"), 8000)
    labels = base / "labels.tsv"
    labels.write_text(
        "filename\tonset\toffset\tevent_label\n"
        "a.wav\t0.25\t0.5\tbird\n"
        "b.wav\t0.5\t1.0\tdog\n"
        "b.wav\t1.0\t1.5\tbird\n"
    )
    root = base / "proj"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, audio, "-q", "--labels", labels).returncode == 0
    (root / "runs" / "run-1").mkdir(parents=True, exist_ok=True)
    (root / "runs" / "run-1" / "best.pt").write_bytes(b"checkpoint")
    (root / "cache" / "x.npy").write_bytes(b"cache")
    return root


@pytest.fixture
def project(template, tmp_path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(template, root)
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    """Every file's digest, but the database's, which opening the project may checkpoint."""
    return {
        str(p.relative_to(folder)): digest(p) if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
        if not p.name.startswith("project.sqlite")
    }


def label_count(root: Path) -> int:
    with Project.open(root) as p:
        return len(p.labels())


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("project.sqlite", "is the project's database"),
        ("project.sqlite-wal", "is the project's database journal (-wal)"),
        ("project.sqlite-shm", "is the project's database journal (-shm)"),
        ("cache/x.npy", "is inside the project's cache folder"),
        ("runs/run-1/best.pt", "is inside the project's runs folder"),
        ("runs/new.json", "is inside the project's runs folder"),
        ("audio/a.wav", "is the recording a.wav"),
    ],
)
@pytest.mark.parametrize("force", [False, True])
def test_export_never_writes_over_the_project(project, target, reason, force):
    before = folder_state(project)
    result = tfstudio(
        "export", project, "--format", "json", "-o", project / target, *(["--force"] * force)
    )
    assert result.returncode == 2
    assert result.stderr == f"error: {project / target} {reason}; choose another output\n"
    assert folder_state(project) == before
    assert label_count(project) == 3


def test_export_through_a_link_to_the_database_is_refused(project, tmp_path):
    link = tmp_path / "innocent.json"
    link.symlink_to(project / "project.sqlite")
    before = digest(project / "project.sqlite")
    result = tfstudio("export", project, "--format", "json", "-o", link, "--force")
    assert result.returncode == 2 and "is the project's database" in result.stderr
    assert digest(project / "project.sqlite") == before and label_count(project) == 3


@pytest.mark.parametrize("target", [".", "cache", "runs"])
def test_per_recording_export_into_the_project_folders_is_refused(project, target):
    before = folder_state(project)
    result = tfstudio("export", project, "--format", "audacity", "-o", project / target)
    assert result.returncode == 2 and "choose another output" in result.stderr
    assert folder_state(project) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_existing_output_is_replaced_only_with_force(project, tmp_path, fmt):
    out = tmp_path / ("out" if fmt in PER_RECORDING else f"out.{fmt}")
    if fmt in PER_RECORDING:
        out.mkdir()
        (out / f"b{get_format(fmt).SUFFIX}").write_text("mine\n")
        (out / "notes.md").write_text("not ours\n")
    else:
        out.write_text("mine\n")
    before = folder_state(tmp_path)
    result = tfstudio("export", project, "--format", fmt, "-o", out)
    assert result.returncode == 2
    assert "already" in result.stderr and result.stderr.endswith("; add --force to replace it\n")
    assert folder_state(tmp_path) == before

    result = tfstudio("export", project, "--format", fmt, "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    if fmt in PER_RECORDING:
        assert (out / "notes.md").read_text() == "not ours\n"  # other files are left alone
        suffix = get_format(fmt).SUFFIX
        assert sorted(p.name for p in out.iterdir()) == ["a" + suffix, "b" + suffix, "notes.md"]
        assert (out / f"b{suffix}").read_text() != "mine\n"
    else:
        assert out.read_text() != "mine\n"
    # no temporary file or folder is left next to the output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["proj", out.name])


@pytest.mark.parametrize("fmt", ["dcase", "audacity", "raven"])
def test_a_class_name_with_a_tab_refuses_the_export_and_leaves_nothing(project, tmp_path, fmt):
    # A project from before class names were checked: 'dog' became 'dog\tbark'. Recording
    # a.wav (written first) is fine; b.wav holds the event that cannot be written.
    with sqlite3.connect(project / "project.sqlite") as db:
        db.execute("UPDATE classes SET name = 'dog' || char(9) || 'bark' WHERE name = 'dog'")
    db.close()
    out = tmp_path / ("out" if fmt in PER_RECORDING else "out.tsv")
    result = tfstudio("export", project, "--format", fmt, "-o", out)
    assert result.returncode == 2
    assert "'dog\\tbark'" in result.stderr and "rename the class" in result.stderr
    assert "nothing was written" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]  # no partial folder or file
    # and an existing output is kept whole when the replacement fails
    out.mkdir() if fmt in PER_RECORDING else out.write_text("mine\n")
    if fmt in PER_RECORDING:
        (out / "a.txt").write_text("mine\n")
    before = folder_state(tmp_path)
    result = tfstudio("export", project, "--format", fmt, "-o", out, "--force")
    assert result.returncode == 2
    assert folder_state(tmp_path) == before


def test_the_textgrid_short_form_is_a_cli_option(project, tmp_path):
    # praatio reads a label like "intervals [2]" as structure in the long form.
    with Project.open(project) as p:
        cls = p.add_class("intervals [2]")
        p.add_event(p.recordings()[0].id, cls.id, 0.5, 0.75)
    out = tmp_path / "tg"
    result = tfstudio("export", project, "--format", "textgrid", "-o", out)
    assert result.returncode == 2
    assert "write the short form instead (tfstudio export --textgrid-form short)" in result.stderr
    assert not out.exists()
    result = tfstudio(
        "export", project, "--format", "textgrid", "-o", out, "--textgrid-form", "short"
    )
    assert result.returncode == 0, result.stderr
    text = (out / "a.TextGrid").read_text(encoding="utf-8")
    assert "intervals [" not in text.replace('"intervals [2]"', "")  # the short form
    assert sorted(e.label for e in textgrid.read(out / "a.TextGrid").events) == [
        "bird",
        "intervals [2]",
    ]
    assert "--textgrid-form {long,short}" in tfstudio("export", "--help").stdout


def test_export_to_a_new_file_leaves_only_that_file(project, tmp_path):
    out = tmp_path / "sub" / "labels.tsv"
    result = tfstudio("export", project, "--format", "dcase", "-o", out)
    assert result.returncode == 0, result.stderr
    assert os.listdir(out.parent) == ["labels.tsv"]
    assert out.read_text().count("\n") == 4
