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
