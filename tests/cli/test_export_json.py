"""`tfstudio export --json` and the exit codes (issue 14): one JSON object, success or not;
2 for a usage mistake, 1 for a file that cannot be written; warnings are data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main
from tfstudio.store import Project


@pytest.fixture
def project(tmp_path) -> Path:
    """r.wav (2 s) labelled up to 4 µs past its end, as a TextGrid of its xmax would have it;
    q.wav (1 s) without labels."""
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "r.wav", np.zeros(16000, dtype="float32"), 8000)
    sf.write(audio / "q.wav", np.zeros(8000, dtype="float32"), 8000)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    with Project.open(root) as p:
        cls = p.add_class("wren")
        p.add_event(p.find_recording("r.wav").id, cls.id, 1.5, 2.000004)
    return root


def test_export_json_lists_files_and_warnings(project, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "tg"
    assert main(["export", str(project), "--format", "textgrid", "-o", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["ok"] is True and report["exit_code"] == 0
    assert report["events"] == 1 and report["format"] == "textgrid"
    assert sorted(Path(f).name for f in report["files"]) == ["q.TextGrid", "r.TextGrid"]
    (warning,) = report["warnings"]
    assert warning["reason"].startswith("r.wav: 'wren' event ends at 2.000004 s")
    assert report["skipped"] == [] and captured.err == ""


def test_export_json_of_a_refusal(project, tmp_path, capsys):
    out = tmp_path / "labels.tsv"
    out.write_text("mine\n")
    capsys.readouterr()
    assert main(["export", str(project), "--format", "dcase", "-o", str(out), "--json"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report == {
        "ok": False,
        "error": f"{out} already exists; add --force to replace it",
        "exit_code": 2,
    }
    assert captured.err.startswith("error: ")
    assert out.read_text() == "mine\n"


def test_a_file_that_cannot_be_written_is_exit_1(project, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    code = main(["export", str(project), "--format", "dcase", "-o", str(blocker / "l.tsv")])
    assert code == 1
    assert "cannot write" in capsys.readouterr().err


def test_json_and_stdout_output_are_a_usage_mistake(project, capsys):
    assert main(["export", str(project), "--format", "dcase", "-o", "-", "--json"]) == 2


def test_dcase_to_stdout_lists_every_recording(project, capsys):
    capsys.readouterr()
    assert main(["export", str(project), "--format", "dcase", "-o", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "filename\tonset\toffset\tevent_label",
        "r.wav\t1.5\t2.000004\twren",
        "q.wav\t\t\t",
    ]
