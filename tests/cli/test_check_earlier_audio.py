"""`tfstudio check` lists the detections made from a recording's earlier audio (its file changed
and was imported again) with the command that makes them again; once that command has run,
or for a project that never changed a file, it lists none. Real commands, real audio."""

from __future__ import annotations

import json
import shlex

import numpy as np
import soundfile as sf

from tests.store.helpers import tfstudio
from tfstudio.store import Project

SR = 22050  # the fast preset's rate
KIND = "earlier_audio_detections"


def _write(path, seconds, seed):
    noise = np.random.default_rng(seed).standard_normal(round(seconds * SR)).astype("float32")
    sf.write(path, noise * 0.1, SR)


def _check(root):
    result = tfstudio("check", root, "--json")
    report = json.loads(result.stdout)
    return result.returncode, [f for f in report["findings"] if f["kind"] == KIND], report


def test_check_lists_detections_of_the_earlier_audio_until_detected_again(trained_demo, tmp_path):
    wav = tmp_path / "take.wav"
    _write(wav, 3.0, seed=5)
    assert tfstudio("import", trained_demo, wav, "-q").returncode == 0
    with Project.open(trained_demo) as project:
        rec = project.find_recording("take.wav")
    detect = tfstudio("detect", trained_demo, "--run", "1", "--recording", rec.id, "-q")
    assert detect.returncode == 0, detect.stderr
    _code, found, _report = _check(trained_demo)
    assert found == []

    _write(wav, 2.0, seed=6)  # another take written over it, imported again
    assert tfstudio("import", trained_demo, wav, "-q").returncode == 0
    with Project.open(trained_demo) as project:
        pending = [e for e in project.events(rec.id, source="model") if e.review == "none"]
    assert pending
    code, found, report = _check(trained_demo)
    command = f"tfstudio detect {shlex.quote(str(trained_demo))} --run 1 --recording {rec.id}"
    assert code == 1 and not report["ok"]
    (finding,) = found
    assert finding["subject"] == f"{wav}: run 1"
    assert finding["repairable"] is False
    assert finding["message"] == (
        f"{wav}: {len(pending)} detection(s) of run 1 on recording take.wav were made from "
        "its earlier audio (the file changed and was imported again) and no longer match it; "
        f"'{command}' makes them again from this audio (reviewed ones are kept)"
    )
    # The readable report says it too, and --repair cannot: it is left as a problem.
    text = tfstudio("check", trained_demo, "--repair")
    assert text.returncode == 1
    assert f"problem   {finding['message']}" in text.stdout.splitlines()

    again = tfstudio(*shlex.split(command)[1:], "-q", timeout=300)
    assert again.returncode == 0, again.stderr
    code, found, after = _check(trained_demo)
    assert found == []
    assert code == (0 if after["ok"] else 1)


def test_another_tools_detections_of_the_earlier_audio_say_where_to_make_them(
    two_recordings, tmp_path
):
    results = tmp_path / "rec1.BirdNET.results.txt"
    results.write_text("0.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.8345\n")
    assert tfstudio("import", two_recordings, "--labels", results, "-q").returncode == 0
    assert _check(two_recordings)[:2] == (0, [])

    rec1 = tmp_path / "audio" / "rec1.wav"
    sf.write(rec1, np.full(5 * 8000, 0.01, dtype="float32"), 8000)
    imported = tfstudio("import", two_recordings, rec1, "-q")
    assert imported.returncode == 0, imported.stderr
    code, found, _ = _check(two_recordings)
    assert code == 1
    (finding,) = found
    assert finding["message"] == (
        f"{rec1}: 1 detection(s) of run 1 on recording rec1.wav were made from its earlier "
        "audio (the file changed and was imported again) and no longer match it; they came "
        "from another tool's table: run that tool on this audio and import its new table"
    )
