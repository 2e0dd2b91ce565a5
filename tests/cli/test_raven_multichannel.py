"""A Raven selection drawn across the channels of a stereo recording: Raven Pro writes one row
per view and per channel under the one selection number. It is one label, imported without a
word; only rows that disagree (nothing may be lost) are kept apart and said."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.formats import raven
from tfstudio.store import Project

# Raven Pro's default columns; the measurements (Avg Power Density) differ per channel and the
# Waveform view's band is the whole range, as Raven writes them.
HEADER = (
    "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
    "Delta Time (s)\tDelta Freq (Hz)\tAvg Power Density (dB FS/Hz)\tAnnotation\n"
)


def _row(selection, view, channel, begin, end, low, high, power, label):
    return (
        f"{selection}\t{view}\t{channel}\t{begin:.9f}\t{end:.9f}\t{low:.3f}\t{high:.3f}\t"
        f"{end - begin:.4f}\t{high - low:.3f}\t{power}\t{label}\n"
    )


def _selection(selection, channels, begin, end, low, high, label):
    """The rows Raven Pro writes for one selection on ``channels``: waveforms, spectrograms."""
    rows = [_row(selection, "Waveform 1", c, begin, end, 0, 8000, "", label) for c in channels]
    rows += [
        _row(selection, "Spectrogram 1", c, begin, end, low, high, f"-7{c}.25", label)
        for c in channels
    ]
    return "".join(rows)


def _project(tmp_path):
    noise = np.random.default_rng(0).standard_normal((32000, 2)).astype("float32") * 0.1
    sf.write(tmp_path / "stereo.wav", noise, 16000)
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, tmp_path / "stereo.wav").returncode == 0
    return root


def _import(root, table):
    result = tfstudio("import", root, "--labels", table, "--json")
    return result.returncode, json.loads(result.stdout)


def _labels(root):
    with Project.open(root) as project:
        rec = project.find_recording("stereo.wav")
        names = {c.id: c.name for c in project.classes()}
        return sorted(
            (e.onset, e.offset, e.low_hz, e.high_hz, names[e.class_id])
            for e in project.events(rec.id)
        )


def test_a_selection_on_both_channels_is_one_label_without_a_word(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "stereo.Table.1.selections.txt"
    table.write_text(
        HEADER
        + _selection(1, (1, 2), 0.25, 0.75, 500, 3000, "dog")
        + _selection(2, (1,), 1.1, 1.4, 800, 2000, "cat")
    )
    code, report = _import(root, table)
    assert code == 0, report
    assert report["labels"]["added"] == 2
    assert report["problems"] == [] and report["warnings"] == []
    assert _labels(root) == [(0.25, 0.75, 500.0, 3000.0, "dog"), (1.1, 1.4, 800.0, 2000.0, "cat")]

    # Raven out and in again: the same labels, nothing more.
    out = tmp_path / "out"
    assert tfstudio("export", root, "--format", "raven", "-o", out).returncode == 0
    (written,) = out.iterdir()
    events = raven.read(written).events
    assert sorted((e.onset, e.offset, e.low_hz, e.high_hz, e.label) for e in events) == _labels(
        root
    )
    again = tmp_path / "again"
    assert tfstudio("init", again).returncode == 0
    assert tfstudio("import", again, tmp_path / "stereo.wav").returncode == 0
    code, report = _import(again, written)
    assert code == 0 and report["warnings"] == [] and _labels(again) == _labels(root)


def test_channels_that_disagree_are_kept_apart_and_said(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "stereo.Table.1.selections.txt"
    # Selection 1's second channel was relabelled in Raven: two labels, the second said.
    table.write_text(
        HEADER
        + _selection(1, (1,), 0.25, 0.75, 500, 3000, "dog")
        + _selection(1, (2,), 0.25, 0.75, 500, 3000, "wolf")
    )
    code, report = _import(root, table)
    assert code == 0, report
    assert report["labels"]["added"] == 2
    assert report["problems"] == []
    (warning,) = report["warnings"]
    assert warning["reason"].startswith(
        "channel 2 of stereo.wav: 1 selection(s) on it, e.g. 'wolf' at 0.25 s"
    )
    assert _labels(root) == [
        (0.25, 0.75, 500.0, 3000.0, "dog"),
        (0.25, 0.75, 500.0, 3000.0, "wolf"),
    ]


def test_a_repeated_view_on_one_channel_is_still_a_problem(tmp_path):
    root = _project(tmp_path)
    table = tmp_path / "stereo.Table.1.selections.txt"
    table.write_text(
        HEADER
        + _row(1, "Spectrogram 1", 1, 0.25, 0.75, 500, 3000, "-71", "dog")
        + _row(1, "Spectrogram 1", 1, 1.25, 1.75, 500, 3000, "-71", "dog")
    )
    code, report = _import(root, table)
    assert code == 3
    (problem,) = report["problems"]
    assert problem["line"] == 3
    assert problem["reason"] == (
        "selection 1 appears twice in view 'Spectrogram 1'; this row is ignored"
    )
    assert _labels(root) == [(0.25, 0.75, 500.0, 3000.0, "dog")]
