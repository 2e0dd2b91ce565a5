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


@pytest.fixture
def detected(tmp_path) -> Path:
    """A project whose rec.wav holds two detections of a run (and one label)."""
    root = project_of(tmp_path, [("rec.wav", 8000, 3.0), ("other.wav", 8000, 3.0)])
    with Project.open(root) as project:
        rec = project.find_recording("rec.wav")
        assert rec is not None
        run = project.create_run({"kind": "detect"})
        bird = project.add_class("bird").id
        project.add_events(
            [
                dict(
                    recording_id=rec.id,
                    class_id=bird,
                    onset=0.5,
                    offset=1.0,
                    source="model",
                    run_id=run.id,
                    confidence=0.25,
                ),
                dict(
                    recording_id=rec.id,
                    class_id=bird,
                    onset=1.5,
                    offset=2.0,
                    source="model",
                    run_id=run.id,
                    confidence=0.75,
                ),
                dict(recording_id=rec.id, class_id=bird, onset=2.5, offset=2.75),
            ]
        )
    return root


def _export_detections(root, out, fmt: str, capsys) -> tuple[int, dict]:
    """``tfstudio export ROOT --format FMT --source detections -o OUT --json``: its exit
    status and JSON summary."""
    capsys.readouterr()
    code = main(
        ["export", str(root), "--format", fmt, "--source", "detections", "-o", str(out), "--json"]
    )
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fmt", ["textgrid", "sonicvisualiser", "reaper"])
def test_detections_to_a_format_without_confidence_say_they_lose_it(
    detected, tmp_path, fmt, capsys
):
    out = tmp_path / f"det-{fmt}"
    code, summary = _export_detections(detected, out, fmt, capsys)
    assert code == 0 and summary["events"] == 2
    [warning] = summary["warnings"]
    assert warning["message"].startswith(
        f"rec.wav: 2 detection(s) written without their confidence, which {fmt} files cannot "
        "hold: imported again they are labels"
    )
    # As said: they come back as labels.
    again = fresh_project(tmp_path)
    assert main(["import", str(again), "--labels", str(out), "--format", fmt, "-q"]) == 0
    with Project.open(again) as project:
        assert [(e.source, e.confidence) for e in project.events()] == [("human", None)] * 2


@pytest.mark.parametrize("fmt", ["audacity", "raven", "dcase", "audition", "labelstudio"])
def test_detections_to_a_format_with_confidence_keep_it_without_a_word(
    detected, tmp_path, fmt, capsys
):
    out = tmp_path / f"det-{fmt}"
    code, summary = _export_detections(detected, out, fmt, capsys)
    assert code == 0 and summary["warnings"] == []
    again = fresh_project(tmp_path)
    assert main(["import", str(again), "--labels", str(out), "--format", fmt, "-q"]) == 0
    with Project.open(again) as project:
        assert [(e.source, e.confidence) for e in project.events()] == [
            ("model", 0.25),
            ("model", 0.75),
        ]
