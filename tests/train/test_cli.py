"""train / detect / evaluate on the command line (in process; the child-process tests are in
test_processes.py)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tfstudio.cli import main
from tfstudio.store import Project

TINY_ARGS = [
    "--epochs", "2", "--batch-size", "4", "--seq-len", "64", "--max-batches", "2",
    "--channels", "4", "--gru-hidden", "8", "--device", "cpu",
]  # fmt: skip


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_train_json_lines_carry_the_contract_keys(demo_root, capsys):
    assert main(["train", str(demo_root), "--json", "--schedule", "linear", *TINY_ARGS]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[0]["event"] == "start"
    assert {"run", "device", "batches_per_epoch", "epochs", "config"} <= set(lines[0])
    batches = [x for x in lines if x["event"] == "batch"]
    epochs = [x for x in lines if x["event"] == "epoch"]
    assert len(batches) == 4 and len(epochs) == 2
    for b in batches:
        assert {"epoch", "iteration", "tf_prob", "loss"} <= set(b)
    for e in epochs:
        assert {"epoch", "train_loss", "val_loss", "f1", "er", "tf_prob"} <= set(e)
    done = lines[-1]
    assert done["event"] == "done" and done["status"] == "done"
    assert done["run"] == lines[0]["run"] and done["best_checkpoint"].endswith("best.pt")
    assert lines[0]["config"]["schedule"] == "linear"


def test_train_table_then_evaluate_and_detect(demo_root, capsys, tmp_path):
    assert main(["train", str(demo_root), "--quiet", *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "train loss" in out and "val loss" in out and "run 1 done" in out

    assert main(["evaluate", str(demo_root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"segment_f1", "segment_er", "event_f1", "per_class"} <= set(result)
    assert main(["evaluate", str(demo_root), "--split", "val", "--run", "1"]) == 0
    assert "segment F1" in capsys.readouterr().out

    assert main(["detect", str(demo_root), "--threshold", "0.1", "-q"]) == 0
    assert "event(s)" in capsys.readouterr().out
    # Test recordings without labels: no score, a reason, no 4.5e15 error rate.
    with Project.open(demo_root) as project:
        test = project.recordings("test")
        project.delete_events([e.id for r in test for e in project.labels(r.id)])
    assert main(["evaluate", str(demo_root), "--threshold", "0"]) == 0
    captured = capsys.readouterr()
    assert "segment F1 -  ER -   event F1 -" in captured.out
    assert "e+" not in captured.out and "00000" not in captured.out
    assert "nothing to score against: none of the test split's" in captured.err
    # With PATHs: imported without a split, then detected on.
    extra = tmp_path / "new.wav"
    with Project.open(demo_root) as project:
        shutil.copyfile(project.absolute_path(project.recordings("test")[0]), extra)
        before = len(project.recordings())
    assert main(["detect", str(demo_root), str(extra), "--json", "--threshold", "0.1"]) == 0
    *progress, report = map(json.loads, capsys.readouterr().out.splitlines())
    # one line as each recording starts and one when all are done
    assert [(p["event"], p["done"], p["total"], p["recording"]) for p in progress] == [
        ("progress", 0, 1, "new.wav"),
        ("progress", 1, 1, "new.wav"),
    ]
    assert report["recordings"] == 1 and report["run"] == 1
    with Project.open(demo_root) as project:
        new = project.find_recording("new.wav")
        assert len(project.recordings()) == before + 1 and new is not None and new.split is None
        assert len(project.events(new.id, source="model")) == report["events"]
    # A PATH that is no audio is skipped, said, and the exit says something was (3).
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert main(["detect", str(demo_root), str(empty), str(extra), "-q"]) == 3
    captured = capsys.readouterr()
    assert f"skipped {empty}: empty file (0 bytes)" in captured.err
    assert "new.wav:" in captured.out
    assert "lower sample rate" not in captured.err
    # A recording at a lower rate than the run's: detected, with a note on what it lacks.
    import numpy as np
    import soundfile as sf

    narrow = tmp_path / "phone.wav"
    sf.write(narrow, np.zeros(8000 * 3, dtype="float32"), 8000)
    assert main(["detect", str(demo_root), str(narrow), "-q"]) == 0
    captured = capsys.readouterr()
    assert "note: 1 recording(s) have a lower sample rate than run 1" in captured.err
    assert "phone.wav (8000 Hz)" in captured.err and "phone.wav:" in captured.out


def test_detect_on_the_projects_unlabelled_recordings_or_a_split(demo_root, capsys, tmp_path):
    """What the app's Detect on unlabelled recordings does, from the command line: hours of
    audio imported earlier (no split, no labels) are detected on without naming each file."""
    assert main(["train", str(demo_root), "--quiet", *TINY_ARGS]) == 0
    audio = tmp_path / "later"
    audio.mkdir()
    with Project.open(demo_root) as project:
        source = project.absolute_path(project.recordings("test")[0])
        for name in ("dawn.wav", "dusk.wav", "gone.wav"):
            shutil.copyfile(source, audio / name)
    assert main(["import", str(demo_root), str(audio), "-q"]) == 0
    (audio / "gone.wav").unlink()  # its audio is missing now
    with Project.open(demo_root) as project:
        project.check_files()
        dawn = project.find_recording("dawn.wav")
        labelled_val = project.recordings("val")
    capsys.readouterr()

    # One left out (said, exit 3: done, something skipped).
    assert main(["detect", str(demo_root), "--unlabelled", "--split", "none", "--json"]) == 3
    captured = capsys.readouterr()
    report = json.loads(captured.out.splitlines()[-1])
    assert sorted(report["per_recording"]) == ["dawn.wav", "dusk.wav"]
    assert "1 of the 3 unlabelled recordings in no split left out" in captured.err
    # Every recording here but the new ones has labels: --unlabelled alone finds the same.
    assert main(["detect", str(demo_root), "--unlabelled", "--json"]) == 3
    assert sorted(json.loads(capsys.readouterr().out.splitlines()[-1])["per_recording"]) == [
        "dawn.wav",
        "dusk.wav",
    ]
    assert main(["detect", str(demo_root), "--split", "val", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert sorted(report["per_recording"]) == sorted(r.name for r in labelled_val)

    assert main(["detect", str(demo_root), "--split", "val", "--unlabelled"]) == 2
    assert (
        capsys.readouterr().err == "error: no unlabelled recordings in the val split to detect on\n"
    )
    assert main(["detect", str(demo_root), "--unlabelled", "--recording", str(dawn.id)]) == 2
    assert "give only one of --recording and --split or --unlabelled" in capsys.readouterr().err


def test_resume_on_the_command_line(demo_root, capsys):
    assert main(["train", str(demo_root), "--json", *TINY_ARGS]) == 0
    capsys.readouterr()
    assert main(["train", str(demo_root), "--json", "--resume", "1", "--epochs", "3"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[0]["resumed"] and lines[0]["run"] == 1
    assert [x["iteration"] for x in lines if x["event"] == "batch"] == [4, 5]
    assert main(["train", str(demo_root), "--resume", "1", "--lr", "0.1"]) == 2
    assert "only these may change" in capsys.readouterr().err


def test_user_errors_are_one_line(demo_root, capsys, monkeypatch, tmp_path):
    assert main(["evaluate", str(demo_root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no finished training run") and err.count("\n") == 1
    for command in ("evaluate", "detect"):  # --json: the refusal as an object on stdout too
        assert main([command, str(demo_root), "--json"]) == 2
        refused = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert refused["ok"] is False and "no finished training run" in refused["error"]
    assert main(["detect", str(demo_root)]) == 2
    assert "no finished training run" in capsys.readouterr().err
    # No run: said before anything about recordings, and PATHs are not imported.
    with Project.open(demo_root) as project:
        before = [r.name for r in project.recordings()]
        source = project.absolute_path(project.recordings()[0])
    assert main(["detect", str(demo_root), "--split", "none"]) == 2
    assert "no finished training run" in capsys.readouterr().err
    assert main(["detect", str(demo_root), "--run", "7"]) == 2
    assert "7" in capsys.readouterr().err
    new = tmp_path / "new.wav"
    new.write_bytes(source.read_bytes())
    assert main(["detect", str(demo_root), str(new)]) == 2
    assert "no finished training run" in capsys.readouterr().err
    with Project.open(demo_root) as project:
        assert [r.name for r in project.recordings()] == before
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", str(demo_root), "--device", "cuda"]) == 2
    assert "CUDA was requested" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "nowhere")]) == 2
    assert "not a tfstudio project" in capsys.readouterr().err
    assert main(["train", str(demo_root), "--schedule", "none", "--gamma", "0.3"]) == 2
    assert "gamma" in capsys.readouterr().err
    with Project.open(demo_root) as project:
        assert project.runs() == []


def test_failed_run_exits_1(demo_root, capsys):
    assert main(["train", str(demo_root), "--json", "--lr", "1e30", *TINY_ARGS]) == 1
    done = _lines(capsys.readouterr().out)[-1]
    assert done["event"] == "done" and done["status"] == "failed"


def test_help_texts(capsys):
    for command in ("train", "detect", "evaluate"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "PROJECT" in capsys.readouterr().out


def test_a_test_recording_whose_audio_went_missing_is_left_out_not_a_traceback(
    demo_root, capsys, tmp_path
):
    """Moved away after the project last looked (no check in between): detect and evaluate
    say so and go on with the rest; --recording of it is one line."""
    assert main(["train", str(demo_root), "--quiet", *TINY_ARGS]) == 0
    with Project.open(demo_root) as project:
        if len(project.recordings("test")) < 2:
            project.set_split([project.recordings("val")[0].id], "test")
        first, *rest = project.recordings("test")
        path = project.absolute_path(first)
    shutil.rmtree(demo_root / "cache", ignore_errors=True)  # no features to fall back on
    path.rename(tmp_path / path.name)
    capsys.readouterr()
    assert main(["detect", str(demo_root), "--fresh", "--json"]) == 3
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"1 of the {1 + len(rest)} recordings in the test split left out" in captured.err
    report = json.loads(captured.out.splitlines()[-1])
    assert sorted(report["per_recording"]) == sorted(r.name for r in rest)
    assert report["skipped"] == [first.name]
    assert main(["evaluate", str(demo_root), "--json"]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["left_out"] == [first.name]
    assert f"left out: their audio is missing or changed ({first.name};" in captured.err
    assert main(["detect", str(demo_root), "--recording", first.name]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --recording {first.name}: missing: ") and err.count("\n") == 1


def test_detect_and_evaluate_with_a_run_still_training_say_so(demo_root, capsys):
    """Allowed (to look at a run while it learns), but its checkpoint is some epoch's best and
    its thresholds are not tuned yet: said on stderr."""
    import os

    assert main(["train", str(demo_root), "--quiet", *TINY_ARGS]) == 0
    with Project.open(demo_root) as project:
        project.update_run(1, status="running", pid=os.getpid())  # this process: alive
    capsys.readouterr()
    assert main(["detect", str(demo_root), "--run", "1", "-q"]) == 0
    assert "note: run 1 is still training" in capsys.readouterr().err
    assert main(["evaluate", str(demo_root), "--run", "1"]) == 0
    assert "note: run 1 is still training" in capsys.readouterr().err
    with Project.open(demo_root) as project:
        project.update_run(1, status="done")
    assert main(["detect", str(demo_root), "--run", "1", "-q"]) == 0
    assert "still training" not in capsys.readouterr().err
