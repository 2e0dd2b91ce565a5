"""'tfstudio check' on a recording whose file moved names the command that finds it again."""

from __future__ import annotations

import shlex

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.store import Project


def test_a_moved_recording_is_pointed_to_relink_and_its_command_keeps_the_labels(tmp_path):
    audio = tmp_path / "field day"  # a space: the command must survive copy and paste
    audio.mkdir()
    noise = np.random.default_rng(0).standard_normal(16000).astype("float32") * 0.1
    sf.write(audio / "a.wav", noise, 16000)
    (tmp_path / "a.tsv").write_text("onset\toffset\tevent_label\n0.1\t0.5\tdog\n")
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    imported = tfstudio("import", root, audio / "a.wav", "--labels", tmp_path / "a.tsv")
    assert imported.returncode == 0, imported.stderr
    moved = tmp_path / "moved here"
    moved.mkdir()
    (audio / "a.wav").rename(moved / "a.wav")

    result = tfstudio("check", root)
    assert result.returncode == 1
    message = result.stdout
    assert "a.wav is missing" in message
    assert "tfstudio relink" in message and "import it" not in message
    command = message.split("run '", 1)[1].split("' with NEW", 1)[0]
    args = shlex.split(command.replace("NEW", shlex.quote(str(moved / "a.wav"))))
    assert args[:2] == ["tfstudio", "relink"]
    relinked = tfstudio(*args[1:])
    assert relinked.returncode == 0, relinked.stdout + relinked.stderr

    assert "no problems found" in tfstudio("check", root).stdout
    with Project.open(root) as project:
        (rec,) = project.recordings()
        assert project.absolute_path(rec) == moved / "a.wav"
        assert [(e.onset, e.offset) for e in project.events(rec.id)] == [(0.1, 0.5)]
