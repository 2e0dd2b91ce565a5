"""'tfstudio import' of a file already in the project whose content changed says that the
recording was updated to it (it was counted 'already present' without a word)."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.store import Project


def _noise(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(16000 * seconds)).astype("float32")


def test_a_changed_file_imported_again_is_said_updated(tmp_path):
    wav = tmp_path / "x.wav"
    sf.write(wav, _noise(2.0, 0) * 0.1, 16000)
    labels = tmp_path / "x.tsv"
    labels.write_text("onset\toffset\tevent_label\n0.1\t0.4\tdog\n0.2\t1.9\tdog\n")
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, wav, "--labels", labels).returncode == 0

    again = tfstudio("import", root, wav)  # unchanged: nothing to say
    assert "recordings: 0 added, 1 already present, 0 moved, 0 skipped" in again.stdout
    assert again.stderr == ""

    sf.write(wav, _noise(0.5, 1) * 0.1, 16000)  # another, shorter take at the same path
    result = tfstudio("import", root, wav)
    assert result.returncode == 0, result.stderr
    assert (
        "recordings: 0 added, 1 already present (1 changed, updated), 0 moved, 0 skipped"
        in result.stdout
    )
    assert result.stderr.strip() == (
        f"warning: {wav}: the file changed since it was imported (2.000 s, now 0.500 s): the "
        "recording is updated to it (its length, format and content hash), its labels kept "
        "as they were; 1 of them now end past its new end"
    )
    with Project.open(root) as project:
        (rec,) = project.recordings()
        assert rec.duration == 0.5
        assert len(project.events(rec.id)) == 2
    assert "no problems found" in tfstudio("check", root).stdout

    report = json.loads(tfstudio("import", root, wav, "--json").stdout)
    assert report["recordings"]["existing"] == 1 and report["recordings"]["updated"] == 0
    sf.write(wav, _noise(0.5, 2) * 0.1, 16000)  # same length, other sound
    report = json.loads(tfstudio("import", root, wav, "--json").stdout)
    assert report["recordings"]["updated"] == 1
    (warning,) = report["warnings"]
    assert warning["reason"].startswith(
        "the file changed since it was imported (0.500 s as before)"
    )
