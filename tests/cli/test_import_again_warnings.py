"""Importing the same labels again adds nothing, so it says nothing of them: the warnings about
one label (it ends past its recording, reaches above its band, lies on another channel) are said
by the import that adds it, once, not by every import after (which found it already there)."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio

RAVEN = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
RAVEN += "Annotation\n"


def _project(tmp_path):
    noise = np.random.default_rng(1).standard_normal((16000, 2)).astype("float32") * 0.1
    sf.write(tmp_path / "rec.wav", noise, 8000)  # 2 s, stereo, 4 kHz band
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, tmp_path / "rec.wav").returncode == 0
    return root


def _import(root, *labels):
    result = tfstudio("import", root, "--labels", *labels, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_a_label_past_the_end_is_said_by_the_import_that_adds_it_only(tmp_path):
    root = _project(tmp_path)
    labels = tmp_path / "rec.txt"
    labels.write_text("0.5\t1.0\tdog\n1.5\t2.5\tdog\n")
    first = _import(root, labels)
    assert first["labels"]["added"] == 2
    assert [w["reason"] for w in first["warnings"]] == [
        "event 'dog' 1.5–2.5 s ends after rec.wav (2.000 s); kept as is"
    ]
    again = _import(root, labels)
    assert again["labels"] == {"files": 1, "added": 0, "existing": 2}
    assert again["warnings"] == []

    # One more label past the end: said; the one already there is not.
    labels.write_text("0.5\t1.0\tdog\n1.5\t2.5\tdog\n1.8\t2.9\tcat\n")
    more = _import(root, labels)
    assert more["labels"]["added"] == 1
    assert [w["reason"] for w in more["warnings"]] == [
        "event 'cat' 1.8–2.9 s ends after rec.wav (2.000 s); kept as is"
    ]


def test_a_band_and_a_channel_are_said_once_too(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "rec.Table.1.selections.txt"
    table.write_text(
        RAVEN
        + "1\tSpectrogram 1\t1\t0.1\t0.4\t100\t6000\tbat\n"
        + "2\tSpectrogram 1\t2\t0.6\t0.9\t100\t900\towl\n"
        + "3\tSpectrogram 1\t2\t1.2\t1.9\t100\t900\towl\n"
    )
    first = _import(root, table)
    assert first["labels"]["added"] == 3
    assert [w["reason"] for w in first["warnings"]] == [
        "event 'bat' at 0.1 s reaches 6000 Hz, above what rec.wav holds (4000 Hz at 8000 Hz); "
        "kept as is",
        "channel 2 of rec.wav: 2 selection(s) on it, e.g. 'owl' at 0.6 s; a project keeps "
        "labels per recording, not per channel: kept, for the whole recording (an export "
        "writes channel 1)",
    ]
    again = _import(root, table)
    assert again["labels"]["added"] == 0 and again["warnings"] == []


def test_a_label_twice_in_a_file_is_said_for_each_copy_added(tmp_path):
    root = _project(tmp_path)
    labels = tmp_path / "rec.txt"
    labels.write_text("1.5\t2.5\tdog\n")
    assert len(_import(root, labels)["warnings"]) == 1
    # The project has one copy; a file with two adds the second and says so, once.
    labels.write_text("1.5\t2.5\tdog\n1.5\t2.5\tdog\n")
    twice = _import(root, labels)
    assert twice["labels"]["added"] == 1
    assert [w["reason"] for w in twice["warnings"]] == [
        "event 'dog' 1.5–2.5 s ends after rec.wav (2.000 s); kept as is"
    ]
