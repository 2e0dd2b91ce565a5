"""``tfstudio review``: a run's detections chosen by recording, class, confidence, state and id,
listed, accepted (merging with labels), rejected and reset as the app's review does, each
command one undoable step; every mistake is one line naming the option, nothing changed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_recording
from tests.session.fake_run import detect_on, make_fake_run
from tfstudio.cli import main
from tfstudio.store import Project


@pytest.fixture
def root(tmp_path):
    """Two 10 s recordings with a fake run's detections: bird 1-2 s (0.9), 3-4 s (0.7),
    5-6 s (0.55) and frog 2.5-3.5 s (0.8) on each; a bird label at 1.5-2.5 s on rec0."""
    with Project.create(tmp_path / "proj") as project:
        recs = [project.recording(fake_recording(project, f"rec{i}.wav")) for i in range(2)]
        bird = project.add_class("bird")
        project.add_class("frog")
        run = make_fake_run(project)
        for rec in recs:
            detect_on(project, run, rec)
        project.add_event(recs[0].id, bird.id, 1.5, 2.5)
        return project.root


def review(root, *args, capsys=None):
    code = main(["review", str(root), *args])
    return code, (capsys.readouterr() if capsys is not None else None)


def _detections(root):
    with Project.open(root) as p:
        names = {c.id: c.name for c in p.classes()}
        recs = {r.id: r.name for r in p.recordings()}
        return [
            (recs[e.recording_id], names[e.class_id], e.onset, e.offset, e.review)
            for e in p.events(source="model")
        ]


def test_listing_chooses_by_recording_class_and_confidence(root, capsys):
    code, out = review(root, "--json", capsys=capsys)
    result = json.loads(out.out)
    assert code == 0 and result["action"] is None and result["selected"] == 8
    assert result["changed"] == 0
    code, out = review(
        root, "--recording", "rec1.wav", "--class", "bird", "--min-confidence", "0.6",
        "--json", capsys=capsys,
    )  # fmt: skip
    rows = json.loads(out.out)["detections"]
    assert [(r["recording"], r["class"], r["onset"], r["confidence"]) for r in rows] == [
        ("rec1.wav", "bird", 1.0, 0.9),
        ("rec1.wav", "bird", 3.0, 0.7),
    ]
    code, out = review(root, "--max-confidence", "0.6", capsys=capsys)
    assert code == 0
    lines = out.out.splitlines()
    assert lines[-1] == "run 1: 2 detection(s)"
    assert all("bird" in line and "0.550" in line for line in lines[:-1])


def test_accept_merges_with_labels_reject_keeps_negatives_and_each_is_one_undo_step(root, capsys):
    before = _detections(root)
    code, out = review(root, "--class", "bird", "--min-confidence", "0.8", "--accept",
                       capsys=capsys)  # fmt: skip
    assert code == 0 and out.out.strip() == "run 1: accepted 2 detection(s)"
    with Project.open(root) as p:
        labels = sorted((e.recording_id, e.onset, e.offset, e.review) for e in p.labels())
        # rec0's 1-2 s detection absorbed the 1.5-2.5 s label: one label of the sound.
        assert [(on, off) for _, on, off, _ in labels] == [(1.0, 2.5), (1.0, 2.0)]
        assert all(review == "accepted" for *_, review in labels)

    # Accept and reject take the unreviewed ones only: the two accepted stay accepted.
    code, out = review(root, "--class", "bird", "--reject", capsys=capsys)
    assert code == 0 and out.out.strip() == "run 1: rejected 4 detection(s)"
    states = [(name, cls, on, state) for name, cls, on, _, state in _detections(root)]
    assert ("rec0.wav", "bird", 1.0, "accepted") in states
    assert sum(state == "rejected" for *_, state in states) == 4
    assert all(state == "none" for _, cls, _, state in states if cls == "frog")

    with Project.open(root) as p:
        assert p.undo() is not None  # the rejection, all four at once
        assert sum(e.review == "rejected" for e in p.events(source="model")) == 0
        assert p.undo() is not None  # the acceptance, merge included
        assert len(p.labels()) == 1
    assert _detections(root) == before


def test_reset_dry_run_and_events_by_id(root, capsys):
    review(root, "--reject")
    code, out = review(root, "--reset", "--class", "frog", "--dry-run", capsys=capsys)
    assert code == 0 and out.out.splitlines()[-1] == (
        "run 1: would reset 2 detection(s) (dry run: nothing changed)"
    )
    assert all(state == "rejected" for *_, state in _detections(root))
    code, out = review(root, "--json", "--class", "frog", capsys=capsys)
    assert code == 0
    ids = [r["id"] for r in json.loads(out.out)["detections"]]
    code, out = review(root, "--reset", "--event", str(ids[0]), "--json", capsys=capsys)
    result = json.loads(out.out)
    assert code == 0
    assert (result["action"], result["selected"], result["changed"]) == ("reset", 1, 1)
    assert result["detections"][0]["review"] == "rejected"  # as chosen, before the change
    assert sum(state == "none" for *_, state in _detections(root)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--class", "dog"], "--class 'dog': no such class (the project's: bird, frog)"),
        (["--recording", "nope.wav"], "--recording 'nope.wav': no recording with that id"),
        (["--event", "999", "--accept"], "--event 999: not a detection of run 1"),
        (["--min-confidence", "1.5"], "--min-confidence must be between 0 and 1"),
        (["--run", "7"], "--run 7:"),
    ],
)
def test_mistakes_are_one_line_and_change_nothing(root, capsys, args, message):
    before = _detections(root)
    code, out = review(root, *args, capsys=capsys)
    assert code == 2 and message in out.err and "Traceback" not in out.err
    assert _detections(root) == before


def test_a_label_is_not_a_detection_to_review(root):
    from tfstudio.store import ProjectError, set_review

    with Project.open(root) as p:
        label = p.labels()[0]
        detection = p.events(source="model")[0]
        with pytest.raises(ProjectError, match="is a label, not a detection"):
            set_review(p, [detection.id, label.id], "rejected")
        assert p.event(detection.id).review == "none"  # checked before anything changed
        with pytest.raises(ProjectError, match="review state"):
            set_review(p, [detection.id], "maybe")


def test_without_a_run_it_says_to_train_first(tmp_path, capsys):
    with Project.create(tmp_path / "empty") as p:
        root = p.root
    code, out = review(root, capsys=capsys)
    assert code == 2 and "no finished run with detections to review yet" in out.err
    assert "'tfstudio train'" in out.err and "'tfstudio import'" in out.err
    # With --json the refusal is an object on stdout too, as import and export give.
    code, out = review(root, "--json", capsys=capsys)
    refused = json.loads(out.out)
    assert code == 2 and refused["ok"] is False and refused["exit_code"] == 2
    assert "no finished run with detections to review yet" in refused["error"]


def test_without_run_an_imported_detectors_run_is_reviewed(tmp_path, capsys):
    """BirdNET's results imported as detections: no training run, and still a run to review."""
    from tfstudio.importer import import_labels

    with Project.create(tmp_path / "birds") as p:
        fake_recording(p, "rec1.wav")
        results = tmp_path / "rec1.BirdNET.results.txt"
        results.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
        report = import_labels(p, [results])
        root, run_id = p.root, report.run_id
    code, out = review(root, "--json", capsys=capsys)
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result["run"] == run_id and result["selected"] == 1


def test_without_run_an_imported_run_whose_detections_were_undone_is_passed_over(
    root, tmp_path, capsys
):
    """Runs are not in the undo history: undoing an import of BirdNET's results took its
    detections away and left its run, which review then chose, with nothing in it."""
    from tfstudio.importer import import_labels

    results = tmp_path / "rec1.BirdNET.results.txt"
    results.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
    with Project.open(root) as p:
        trained = p.latest_run(with_checkpoint=False)
        imported = import_labels(p, [results]).run_id
        assert imported is not None and imported != trained.id
        p.undo()
        assert not p.events(source="model", run_id=imported)
    code, out = review(root, "--json", capsys=capsys)
    assert code == 0, out.err
    assert json.loads(out.out)["run"] == trained.id


def test_a_review_waits_for_the_write_lock_before_choosing_its_detections(root):
    """Two reviews at once: this one chose its detections, then waited for the other's write
    and overrode it (the window rejected them, the command then accepted them anyway)."""
    import sqlite3
    import subprocess
    import sys
    import time

    from tfstudio.store import DB_NAME

    other = sqlite3.connect(root / DB_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process reviewing right now
    command = subprocess.Popen(
        [sys.executable, "-m", "tfstudio", "review", str(root), "--accept", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # the command starts and waits for the lock
    other.execute("UPDATE events SET review = 'rejected' WHERE source = 'model'")
    other.execute("COMMIT")
    other.close()
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    result = json.loads(out)
    assert result["selected"] == 0 and result["changed"] == 0  # nothing left unreviewed
    assert {review for *_, review in _detections(root)} == {"rejected"}
