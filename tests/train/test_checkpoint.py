"""Damaged checkpoints: one line naming the file from detect, evaluate and resume."""

from __future__ import annotations

import io
import zipfile

import pytest
import torch

from tfstudio.cli import main
from tfstudio.store import Project
from tfstudio.train import TrainError, load_model
from tfstudio.train.checkpoint import read_checkpoint, write_checkpoint
from tfstudio.train.layout import checkpoint_paths

TINY_ARGS = [
    "--epochs", "1", "--batch-size", "4", "--seq-len", "64", "--max-batches", "2",
    "--channels", "4", "--gru-hidden", "8", "--device", "cpu",
]  # fmt: skip


def _not_a_dict() -> bytes:
    buffer = io.BytesIO()
    torch.save([1, 2, 3], buffer)
    return buffer.getvalue()


def _garbage_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x05not a pickle")
    return buffer.getvalue()


def _overwritten_inside(good: bytes) -> bytes:
    """Bytes of a stored member overwritten in place (a bad disk block, a partial copy): the
    archive still opens and torch.load reads it without a word, with wrong weights."""
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        storages = [i for i in archive.infolist() if "/data/" in i.filename]
        member = max(storages, key=lambda info: info.compress_size)  # weights, not the pickle
    header = member.header_offset  # the local header's own name and extra lengths
    name, extra = (int.from_bytes(good[header + k : header + k + 2], "little") for k in (26, 28))
    middle = header + 30 + name + extra + member.compress_size // 2
    return good[:middle] + b"\xff" * 64 + good[middle + 64 :]


DAMAGE = {
    "empty": lambda good: b"",
    "overwritten inside": _overwritten_inside,
    "truncated": lambda good: good[: len(good) // 2],
    "text": lambda good: b"version https://git-lfs.github.com/spec/v1\n",
    "zip of garbage": lambda good: _garbage_zip(),
    "a list": lambda good: _not_a_dict(),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, demo_template):
    import shutil

    root = tmp_path_factory.mktemp("ckpt") / "demo"
    shutil.copytree(demo_template, root)
    assert main(["train", str(root), "--quiet", *TINY_ARGS]) == 0
    return root


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_detect_and_evaluate_name_the_damaged_file(trained, tmp_path, damage, capsys):
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(trained, root)
    with Project.open(root) as project:
        run_id = project.runs()[-1].id
        best, last = checkpoint_paths(project, run_id)
    good = best.read_bytes()
    for path in (best, last):
        path.write_bytes(DAMAGE[damage](good))
    for command in (["detect", str(root)], ["evaluate", str(root)]):
        capsys.readouterr()
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert str(best) in err and "Traceback" not in err
    with pytest.raises(TrainError, match="checkpoint"):
        load_model(best, "cpu")


def test_resume_names_the_damaged_file(trained, tmp_path, capsys):
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(trained, root)
    with Project.open(root) as project:
        run_id = project.runs()[-1].id
        _, last = checkpoint_paths(project, run_id)
    last.write_bytes(last.read_bytes()[:100])
    assert main(["train", str(root), "--resume", str(run_id), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(last) in err and "not a readable tfstudio checkpoint" in err


def test_a_dict_that_is_not_a_checkpoint_says_what_is_missing(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(TrainError, match=r"other\.pt: not a tfstudio checkpoint \(missing model"):
        read_checkpoint(path)
    with pytest.raises(TrainError, match="is a folder"):
        read_checkpoint(tmp_path)


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    write_checkpoint(path, {"model": {"w": torch.ones(2)}})

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(
        TrainError,
        match=r"last\.pt: could not save the checkpoint \(disk full\); "
        "the previous one is kept",
    ):
        write_checkpoint(path, {"model": Unsaveable()})
    assert torch.equal(torch.load(path, weights_only=True)["model"]["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_a_full_disk_during_training_fails_the_run_and_keeps_the_last_checkpoint(
    demo_project, tiny_config, monkeypatch
):
    # A full disk cannot be made on demand here (no tmpfs without privileges): torch.save
    # fails the way its zip writer does on ENOSPC, from the third save on.
    import tfstudio.train.checkpoint as checkpoint
    from tfstudio.train import train

    real_save, calls = torch.save, {"n": 0}

    def save(obj, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= 3:
            raise RuntimeError(
                "[enforce fail at inline_container.cc:595] . PytorchStreamWriter "
                "failed writing file data/7: file write failed"
            )
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    done = list(train(demo_project, tiny_config(epochs=3)))[-1]
    assert done.status == "failed"
    assert "could not save the checkpoint" in done.message and "resume" in done.message
    run = demo_project.run(done.run)
    assert run.status == "failed" and "could not save" in run.message
    _, last = checkpoint_paths(demo_project, done.run)
    state = read_checkpoint(last)  # the last good one, whole
    assert state["epoch"] >= 1
    assert not list(last.parent.glob("*.tmp"))


def test_a_full_disk_while_keeping_the_best_reports_the_best_that_is_there_and_resume_repairs_it(
    demo_project, tiny_config, monkeypatch
):
    # The run names an epoch best, saves its last checkpoint, then copies that to the best
    # one: a disk that fills in between must not leave it claiming a best epoch no file holds.
    import tfstudio.train.checkpoint as checkpoint
    from tfstudio.train import train

    real_copy, copies = checkpoint.shutil.copyfile, []

    def copyfile(source, target):
        copies.append(source)
        if len(copies) == 2:  # the second best epoch's copy
            raise OSError(28, "No space left on device")
        return real_copy(source, target)

    monkeypatch.setattr(checkpoint.shutil, "copyfile", copyfile)
    events = list(train(demo_project, tiny_config(epochs=4, patience=10)))
    done = events[-1]
    assert len(copies) == 2, "the test needs a second improving epoch"
    failed_at = max(e.epoch for e in events if e.kind == "epoch")
    best, last = checkpoint_paths(demo_project, done.run)
    assert done.status == "failed"
    assert f"{best}: could not save the checkpoint (No space left on device)" in done.message
    assert "the previous one is kept" in done.message
    # What is reported is what the best checkpoint holds: the first best epoch, not the one
    # whose copy failed (the last checkpoint already calls that one best).
    held = read_checkpoint(best)["epoch"]
    assert done.best_epoch == held < failed_at == read_checkpoint(last)["best_epoch"]
    assert done.best_checkpoint == str(best)
    assert not list(best.parent.glob("*.tmp"))

    monkeypatch.setattr(checkpoint.shutil, "copyfile", real_copy)  # space again
    resumed = list(train(demo_project, resume=done.run))
    assert resumed[0].kind == "start" and resumed[0].resumed
    # Resuming copies the last checkpoint (the failed epoch's end: its best) to the best one.
    assert read_checkpoint(best)["epoch"] >= failed_at
    assert resumed[-1].status == "done"
    assert read_checkpoint(best)["epoch"] == resumed[-1].best_epoch >= failed_at


def test_a_full_disk_at_the_first_best_leaves_no_best_and_resume_makes_it(
    demo_project, tiny_config, monkeypatch
):
    import tfstudio.train.checkpoint as checkpoint
    from tfstudio.train import train

    real_copy = checkpoint.shutil.copyfile

    def full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.shutil, "copyfile", full)
    done = list(train(demo_project, tiny_config(epochs=2)))[-1]
    best, last = checkpoint_paths(demo_project, done.run)
    assert done.status == "failed" and "no earlier checkpoint exists" in done.message
    assert (done.best_checkpoint, done.best_epoch) == (None, 0)
    assert not best.exists() and read_checkpoint(last)["best_epoch"] == 1
    assert demo_project.run(done.run).best_checkpoint is None

    monkeypatch.setattr(checkpoint.shutil, "copyfile", real_copy)
    resumed = list(train(demo_project, resume=done.run))[-1]
    assert resumed.status == "done" and resumed.best_checkpoint == str(best)
    assert read_checkpoint(best)["epoch"] == resumed.best_epoch >= 1
    assert demo_project.run(done.run).best_checkpoint == "runs/run-1/best.pt"
