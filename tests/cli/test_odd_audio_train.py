"""tfstudio train on a project whose audio changed under it: refused with the file named, and
no features cached under the old content's name."""

from __future__ import annotations

import shutil

from tests.store.helpers import tfstudio
from tfstudio.features import FEATURE_PRESETS, FeatureCache
from tfstudio.importer import create_demo


def test_a_training_recording_replaced_by_another_of_the_same_size_is_refused(tmp_path):
    root = tmp_path / "p"
    with create_demo(root, recordings=3, seconds=2.0, seed=1) as project:
        train = project.recordings("train")[0]
        other = next(r for r in project.recordings() if r.id != train.id)
        replaced, source = project.absolute_path(train), project.absolute_path(other)
        old_hash = train.content_hash
    assert replaced.stat().st_size == source.stat().st_size
    shutil.copyfile(source, replaced)  # its labels are for the audio it held
    shutil.rmtree(root / "cache", ignore_errors=True)

    result = tfstudio("train", root, "--epochs", "1", "--max-batches", "1", "--quiet")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{replaced}: changed since it was imported" in result.stderr
    # Its features would have been cached under its old hash, for whatever held that content.
    assert not FeatureCache(root / "cache", FEATURE_PRESETS["fast"]).has(old_hash)


def test_a_training_recording_gone_is_left_out_and_named_and_the_run_goes_on(tmp_path):
    import json

    from tfstudio.train import parse_event

    root = tmp_path / "p"
    with create_demo(root, recordings=8, seconds=2.0, seed=2) as project:
        train = project.recordings("train")
        assert len(train) >= 2
        gone = project.absolute_path(train[0])
    gone.unlink()  # moved or deleted since the project last looked
    shutil.rmtree(root / "cache", ignore_errors=True)
    tiny = ["--epochs", "1", "--max-batches", "1", "--channels", "4", "--gru-hidden", "8",
            "--seq-len", "64", "--device", "cpu"]  # fmt: skip

    result = tfstudio("train", root, *tiny, "--json")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    [skipped] = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert f"skipped {gone}" in skipped and "'tfstudio relink' finds moved files" in skipped
    events = [parse_event(json.loads(line)) for line in result.stdout.splitlines()]
    start = next(e for e in events if e is not None and e.kind == "start")
    assert start.left_out == [skipped.removeprefix("skipped ")]
    assert start.train_recordings == len(train) - 1
    done = events[-1]
    assert done is not None and done.kind == "done" and done.status == "done"
    assert done.message.endswith(
        f"; 1 recording(s) left out, their audio cannot be read: {train[0].name}"
    )
