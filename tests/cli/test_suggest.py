"""tfstudio suggest: which recordings to label next, on a real (tiny) trained run."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import write_wav
from tfstudio.cli import main
from tfstudio.session.detections import RunInfo
from tfstudio.session.suggest import rank_by_uncertainty
from tfstudio.store import Project
from tfstudio.train.layout import posteriors_file


@pytest.fixture
def project(trained_demo, tmp_path):
    """The tiny trained demo (three labelled recordings, one per split) and three new
    recordings without labels, in no split."""
    new = tmp_path / "new"
    new.mkdir()
    for i in range(3):
        write_wav(new / f"new{i}.wav", 3.0 + i, sample_rate=16000, seed=i)
    assert main(["import", str(trained_demo), str(new), "-q"]) == 0
    return trained_demo


def suggest(root, *args, capsys):
    code = main(["suggest", str(root), "--quiet", *args])
    return code, capsys.readouterr()


def test_it_ranks_the_unlabelled_recordings_and_leaves_their_detections_to_review(project, capsys):
    code, out = suggest(project, "--json", capsys=capsys)
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result["run"] == 1 and result["candidates"] == 3 and result["skipped"] == []
    rows = result["suggestions"]
    assert sorted(r["recording"] for r in rows) == ["new0.wav", "new1.wav", "new2.wav"]
    scores = [r["uncertainty"] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    with Project.open(project) as p:
        run = p.run(1)
        # The order and scores are the session's ranking of the saved posteriors, which
        # the app's list shows too.
        info = RunInfo.from_run(p, run)
        assert info is not None
        ranked = rank_by_uncertainty(p, info, p.recordings())
        assert [p.recording(r["id"]).name for r in rows] == [s.recording.name for s in ranked]
        for row in rows:
            rec = p.recording(row["id"])
            stored = p.events(rec.id, source="model", run_id=1)
            assert row["detections"] == len(stored)
            assert 0 <= row["peak_s"] <= rec.duration
            assert posteriors_file(p, 1, rec).exists()
        saved = {
            r["id"]: posteriors_file(p, 1, p.recording(r["id"])).stat().st_mtime_ns for r in rows
        }

    # Again: the saved posteriors are read, not made anew, and say the same.
    code, again = suggest(project, "--json", capsys=capsys)
    assert code == 0 and json.loads(again.out)["suggestions"] == rows
    with Project.open(project) as p:
        assert {i: posteriors_file(p, 1, p.recording(i)).stat().st_mtime_ns for i in saved} == saved


def test_the_listing_says_what_to_label_and_count_chooses_how_many(project, capsys):
    code, out = suggest(project, "-n", "2", capsys=capsys)
    assert code == 0, out.err
    lines = out.out.splitlines()
    assert lines[0].startswith("run 1: the 2 of 3 unlabelled recordings it is least sure about")
    assert "label these next" in lines[0]
    assert len(lines) == 3
    assert lines[1].lstrip().startswith("1. new") and "uncertainty " in lines[1]
    assert "most unsure at " in lines[1] and lines[2].lstrip().startswith("2. new")


def test_split_and_recording_choose_the_candidates(project, capsys):
    # The demo's recordings are labelled: none of its splits has candidates.
    code, out = suggest(project, "--split", "val", capsys=capsys)
    assert code == 2 and "no unlabelled recordings in the val split to rank" in out.err
    code, out = suggest(project, "--split", "none", "--json", capsys=capsys)
    assert code == 0 and json.loads(out.out)["candidates"] == 3
    # --recording ranks exactly those, labelled or not.
    code, out = suggest(
        project, "--recording", "new1.wav", "--recording", "1", "--json", capsys=capsys
    )
    assert code == 0, out.err
    with Project.open(project) as p:
        first = p.recording(1).name
    assert {r["recording"] for r in json.loads(out.out)["suggestions"]} == {"new1.wav", first}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "-1"], "--count must be 0 (all) or more"),
        (
            ["--split", "none", "--recording", "new0.wav"],
            "give only one of --recording and --split",
        ),
        (["--run", "7"], "no run with id 7"),
        (["--recording", "nothing.wav"], "no recording with that id or name"),
    ],
)
def test_mistakes_are_one_line_and_store_nothing(project, capsys, args, message):
    code, out = suggest(project, *args, capsys=capsys)
    assert code == 2 and message in out.err
    assert "Traceback" not in out.err
    with Project.open(project) as p:
        assert not any(p.events(r.id, source="model") for r in p.recordings())


def test_a_recording_whose_file_is_gone_is_skipped_and_the_rest_ranked(project, capsys):
    os.remove(project.parent / "new" / "new1.wav")
    code, out = suggest(project, "--json", capsys=capsys)
    assert code == 3
    result = json.loads(out.out)
    assert [r["recording"] for r in result["suggestions"]].count("new1.wav") == 0
    assert result["candidates"] == 2
    assert len(result["skipped"]) == 1 and result["skipped"][0].startswith("new1.wav")
    assert "skipped new1.wav" in out.err


def test_without_a_finished_run_it_says_so(tmp_path, capsys):
    root = tmp_path / "empty"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()
    code, out = suggest(root, capsys=capsys)
    assert code == 2 and "Traceback" not in out.err and out.err.strip()
