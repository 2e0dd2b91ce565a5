"""A recording whose file changed, imported again: its labels are kept and its detections,
made by a run's model from the old audio, are said to be so, with the command that makes them
again; that command runs the model on the new audio (the posteriors saved for the old content
are not reused) and keeps the human labels."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import soundfile as sf

from tests.store.helpers import tfstudio
from tfstudio.store import Project

SR = 22050  # the fast preset's rate


@pytest.fixture
def trained(trained_demo):
    return trained_demo


def _write(path, seconds, seed):
    noise = np.random.default_rng(seed).standard_normal(round(seconds * SR)).astype("float32")
    sf.write(path, noise * 0.1, SR)


def _detect(root, *args):
    result = tfstudio("detect", root, "--run", "1", "--json", "-q", *args, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_detections_of_the_old_audio_are_said_and_made_again(trained, tmp_path):
    wav = tmp_path / "take.wav"
    _write(wav, 3.0, seed=5)
    labels = tmp_path / "take.txt"
    labels.write_text("0.5\t1.0\tdog\n2.0\t2.8\tdog\n")
    assert tfstudio("import", trained, wav, "--labels", labels).returncode == 0
    with Project.open(trained) as project:
        rec = project.find_recording("take.wav")
        old_hash = rec.content_hash
    first = _detect(trained, "--recording", rec.id)
    assert first["recordings"] == 1 and first["reused"] == 0

    _write(wav, 2.0, seed=6)  # another, shorter take written over it
    result = tfstudio("import", trained, wav, "--json")
    assert result.returncode == 0, result.stderr
    (warning,) = json.loads(result.stdout)["warnings"]
    command = f"tfstudio detect {shlex.quote(str(trained))} --run 1 --recording {rec.id}"
    with Project.open(trained) as project:
        detections = len(project.events(rec.id, source="model"))
    assert detections > 0
    assert warning["reason"] == (
        "the file changed since it was imported (3.000 s, now 2.000 s): the recording is "
        "updated to it (its length, format and content hash), its labels kept as they were; "
        f"1 of them now end past its new end; its {detections} detection(s) (run 1) were made "
        "from the old audio and no longer match it (kept as they were): "
        f"'{command}' makes them again from this audio (reviewed ones are kept)"
    )

    # The command as said: the model runs on the new audio, the labels stay.
    again = _detect(trained, *shlex.split(command)[3:])
    assert again["recordings"] == 1 and again["reused"] == 0
    with Project.open(trained) as project:
        rec = project.recording(rec.id)
        assert rec.content_hash != old_hash and rec.duration == 2.0
        assert [(e.onset, e.offset) for e in project.events(rec.id, source="human")] == [
            (0.5, 1.0),
            (2.0, 2.8),
        ]
        assert all(e.offset <= 2.0 + 0.05 for e in project.events(rec.id, source="model"))
