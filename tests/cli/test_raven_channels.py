"""A Raven selection's Channel: the project keeps labels per recording, so a channel the
recording lacks, or any but the first of a recording that has several, is said once per file
(never a label dropped)."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.store import Project

HEADER = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation\n"


def _table(path, rows):
    path.write_text(
        HEADER
        + "".join(
            f"{n}\tSpectrogram 1\t{ch}\t{a}\t{b}\t{label}\n"
            for n, (ch, a, b, label) in enumerate(rows, start=1)
        )
    )
    return path


def _project(tmp_path):
    noise = np.random.default_rng(0).standard_normal((16000, 2)).astype("float32") * 0.1
    sf.write(tmp_path / "mono.wav", noise[:, 0], 16000)
    sf.write(tmp_path / "stereo.wav", noise, 16000)
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, tmp_path / "mono.wav", tmp_path / "stereo.wav").returncode == 0
    return root


def _import(root, table):
    result = tfstudio("import", root, "--labels", table, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _labels(root, name):
    with Project.open(root) as project:
        rec = project.find_recording(name)
        return sorted((e.onset, e.offset) for e in project.events(rec.id))


def test_a_channel_the_recording_lacks_is_said_once_and_the_labels_are_kept(tmp_path):
    root = _project(tmp_path)
    rows = [(2, 0.1, 0.3, "dog"), (2, 0.4, 0.5, "dog"), (1, 0.6, 0.9, "cat")]
    report = _import(root, _table(tmp_path / "mono.Table.1.selections.txt", rows))
    assert report["labels"]["added"] == 3
    (warning,) = report["warnings"]
    assert warning["path"].endswith("mono.Table.1.selections.txt")
    assert warning["reason"] == (
        "channel 2, which mono.wav does not have (1 channel): 2 selection(s) on it, "
        "e.g. 'dog' at 0.1 s; kept, for the whole recording"
    )
    assert _labels(root, "mono.wav") == [(0.1, 0.3), (0.4, 0.5), (0.6, 0.9)]


def test_a_second_channel_of_a_stereo_recording_is_said_not_kept(tmp_path):
    root = _project(tmp_path)
    rows = [(1, 0.1, 0.3, "dog"), (2, 0.4, 0.5, "cat"), (3, 0.6, 0.7, "cat")]
    report = _import(root, _table(tmp_path / "stereo.Table.1.selections.txt", rows))
    assert report["labels"]["added"] == 3
    reasons = [w["reason"] for w in report["warnings"]]
    assert reasons == [
        "channel 2 of stereo.wav: 1 selection(s) on it, e.g. 'cat' at 0.4 s; a project keeps "
        "labels per recording, not per channel: kept, for the whole recording (an export "
        "writes channel 1)",
        "channel 3, which stereo.wav does not have (2 channels): 1 selection(s) on it, "
        "e.g. 'cat' at 0.6 s; kept, for the whole recording",
    ]
    assert _labels(root, "stereo.wav") == [(0.1, 0.3), (0.4, 0.5), (0.6, 0.7)]


def test_the_first_channel_and_an_unreadable_one_keep_the_selection(tmp_path):
    root = _project(tmp_path)
    rows = [(1, 0.1, 0.3, "dog"), ("left", 0.4, 0.5, "cat")]
    report = _import(root, _table(tmp_path / "stereo.Table.1.selections.txt", rows))
    assert report["labels"]["added"] == 2
    (warning,) = report["warnings"]
    assert warning["line"] == 3
    assert warning["reason"] == (
        "channel 'left' is not a channel number (1, 2, …); the selection is kept, "
        "for the whole recording"
    )
