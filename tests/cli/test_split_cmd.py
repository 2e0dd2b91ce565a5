"""tfstudio split: labelled recordings without a split into train / val (/ test), then train."""

from __future__ import annotations

import json

import pytest

from tfstudio.cli import main
from tfstudio.store import Project


def _unsplit_demo(tmp_path, recordings=6):
    root = tmp_path / "proj"
    assert main(["demo", str(root), "--recordings", str(recordings), "--seconds", "3"]) == 0
    with Project.open(root) as project:
        project.set_split([r.id for r in project.recordings()], None)
    return root


def _splits(root):
    with Project.open(root) as project:
        return {r.name: r.split for r in project.recordings()}


def test_split_dry_run_json_then_for_real(tmp_path, capsys):
    root = _unsplit_demo(tmp_path)
    capsys.readouterr()
    assert main(["split", str(root), "--val", "0.34", "--dry-run", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["dry_run"] is True
    assert set(_splits(root).values()) == {None}  # nothing changed
    assert {a["split"] for a in shown["assigned"]} == {"train", "val"}
    assert shown["splits"]["val"]["recordings"] == 2
    assert shown["splits"]["train"]["recordings"] == 4
    assert set(shown["splits"]["val"]["labels"]) == set(shown["splits"]["train"]["labels"])

    assert main(["split", str(root), "--val", "0.34"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("put 6 recording(s) into a split")
    assert out.splitlines()[2].split() == ["recordings", "4", "2", "0"]
    assert _splits(root) == {a["recording"]: a["split"] for a in shown["assigned"]}

    # Again: nothing left without a split; the user's splits are never changed.
    assert main(["split", str(root), "--val", "0.5", "--test", "0.3"]) == 0
    captured = capsys.readouterr()
    assert "nothing to do" in captured.err
    assert _splits(root) == {a["recording"]: a["split"] for a in shown["assigned"]}


def test_bad_shares_are_refused_with_a_message(tmp_path, capsys):
    root = _unsplit_demo(tmp_path, recordings=3)
    capsys.readouterr()
    assert main(["split", str(root), "--val", "0.6", "--test", "0.5", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"].endswith("leave nothing to train on")
    with pytest.raises(SystemExit) as exited:
        main(["split", str(root), "--val", "1.5"])
    assert exited.value.code == 2
    assert "a share is at least 0 and below 1, got 1.5" in capsys.readouterr().err
    assert set(_splits(root).values()) == {None}


def test_training_without_splits_says_what_to_do_and_split_makes_it_train(tmp_path, capsys):
    root = _unsplit_demo(tmp_path, recordings=4)
    tiny = ["--epochs", "1", "--max-batches", "1", "--channels", "4", "--gru-hidden", "8",
            "--seq-len", "64", "--device", "cpu", "--quiet"]  # fmt: skip
    capsys.readouterr()
    assert main(["train", str(root), *tiny]) != 0
    assert "'tfstudio split PROJECT' puts the 4 labelled recording(s)" in capsys.readouterr().err
    assert main(["split", str(root)]) == 0
    assert main(["train", str(root), *tiny]) == 0


def test_one_labelled_recording_cannot_make_two_splits_and_still_trains(tmp_path, capsys):
    root = _unsplit_demo(tmp_path, recordings=3)
    with Project.open(root) as project:
        first, *others = project.recordings()
        project.delete_events([e.id for r in others for e in project.labels(r.id)])
    capsys.readouterr()
    assert main(["split", str(root), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["assigned"] == [
        {"id": first.id, "recording": first.name, "split": "train"}
    ]
    assert "warning: the val split stays empty: too few labelled recordings" in captured.err
    tiny = ["--epochs", "1", "--max-batches", "1", "--channels", "4", "--gru-hidden", "8",
            "--seq-len", "64", "--device", "cpu", "--quiet"]  # fmt: skip
    # One long recording still trains: the last fifth of it validates (val_within).
    assert main(["train", str(root), *tiny]) == 0
    out = capsys.readouterr().out
    assert "no val split: the last 20% of each training recording validates" in out
    assert "1 train / 1 val recordings" in out
    # Switched off, the empty split is an error that says what else to do.
    assert main(["train", str(root), *tiny, "--set", "val_within=0"]) != 0
    message = capsys.readouterr().err
    assert "no recordings in the val split" in message
    assert "--set val_within=0.2" in message
    assert "tfstudio split" not in message  # it would change nothing


def test_split_by_site_folder_keeps_each_sites_recordings_together(tmp_path, capsys):
    """Five sites' AudioMoth cards, two hours each, labelled: --group-by folder sends whole
    sites to val, so validation scores the detector on sites it never trained on."""
    import numpy as np
    import soundfile as sf

    card = tmp_path / "card"
    rng = np.random.default_rng(3)
    for site in range(5):
        (card / f"site{site}").mkdir(parents=True)
        for hour in ("05", "06"):
            audio = rng.normal(0, 0.01, 16000).astype("float32")
            sf.write(card / f"site{site}" / f"20240501_{hour}0000.WAV", audio, 16000)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(card), "-q"]) == 0
    with Project.open(root) as project:
        owl = project.add_class("owl")
        for rec in project.recordings():
            project.add_event(rec.id, owl.id, 0.1, 0.5)
    capsys.readouterr()
    assert main(["split", str(root), "--group-by", "folder", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["group_by"] == "folder"
    with Project.open(root) as project:
        by_site: dict[str, set] = {}
        for rec in project.recordings():
            by_site.setdefault(rec.path.rsplit("/", 2)[-2], set()).add(rec.split)
    assert all(len(splits) == 1 for splits in by_site.values()), by_site
    assert sorted(s for splits in by_site.values() for s in splits) == ["train"] * 4 + ["val"]
    with pytest.raises(SystemExit) as exited:  # not a grouping
        main(["split", str(root), "--group-by", "site"])
    assert exited.value.code == 2
    assert "invalid choice: 'site'" in capsys.readouterr().err


def test_group_test_only_needs_a_grouping_and_a_test_share(tmp_path, capsys):
    root = _unsplit_demo(tmp_path)
    capsys.readouterr()
    assert main(["split", str(root), "--group-test-only", "--test", "0.2"]) == 2
    assert "--group-test-only needs --group-by and a --test share" in capsys.readouterr().err
    assert main(["split", str(root), "--group-by", "folder", "--group-test-only"]) == 2
    assert set(_splits(root).values()) == {None}  # nothing changed
