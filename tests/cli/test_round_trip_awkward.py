"""Export a project with awkward but legitimate labels to another tool's format, import that
into a fresh project of the same audio, and compare: the labels must come back (to the
format's precision), or the export must say what it could not keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.commands import project_of
from tfstudio.cli import main
from tfstudio.store import Project


def labels_of(root: Path) -> list[tuple]:
    with Project.open(root) as project:
        names = {c.id: c.name for c in project.classes()}
        recordings = {r.id: r.name for r in project.recordings()}
        return sorted(
            (recordings[e.recording_id], names[e.class_id], e.onset, e.offset)
            for e in project.events()
        )


def fresh_project(tmp_path: Path) -> Path:
    """Another project of the same audio as :func:`project_of` made."""
    root = tmp_path / "again"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(tmp_path / "audio"), "-q"]) == 0
    return root


@pytest.mark.parametrize("fmt", ["dcase", "labelstudio"])
def test_quoted_class_names_and_a_name_with_a_leading_space_come_back(tmp_path, fmt, capsys):
    root = project_of(tmp_path, [(" take 1.wav", 8000, 3.0), ("rec.wav", 8000, 3.0)])
    with Project.open(root) as project:
        recordings = project.recordings()
        rows = []
        for k, name in enumerate(['"q"', 'a""b', '"', 'say "hi", ok', "plain"]):
            cls = project.add_class(name)
            rows += [
                dict(recording_id=rec.id, class_id=cls.id, onset=0.1 * k, offset=0.1 * k + 0.05)
                for rec in recordings
            ]
        project.add_events(rows)
    out = tmp_path / f"out-{fmt}"
    assert main(["export", str(root), "--format", fmt, "-o", str(out)]) == 0
    again = fresh_project(tmp_path)
    capsys.readouterr()

    code = main(["import", str(again), "--labels", str(out), "--format", fmt, "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary
    assert labels_of(again) == labels_of(root)
    # And imported into the project it came from, it adds nothing.
    assert main(["import", str(root), "--labels", str(out), "--format", fmt, "-q"]) == 0
    assert len(labels_of(root)) == 10
