"""tfstudio train on recordings far above the features' sample rate (a bat detector's 384 kHz
under the 22.05 kHz default): said before training, with the option that keeps the ultrasound,
and that option (--set features.sample_rate=R) changes only the rate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.cli import main
from tfstudio.store import Project
from tfstudio.train.config import TRAIN_PRESETS

TINY = ["--epochs", "1", "--max-batches", "1", "--channels", "4", "--gru-hidden", "8",
        "--seq-len", "64", "--device", "cpu", "--quiet"]  # fmt: skip


def _chirps(rate: int, seconds: float, low: float, high: float) -> np.ndarray:
    """Noise with a downward sweep from ``high`` to ``low`` Hz every 0.25 s, 10 ms long."""
    rng = np.random.default_rng(rate)
    audio = 0.01 * rng.standard_normal(int(rate * seconds))
    n = int(0.01 * rate)
    freq = np.linspace(high, low, n)
    sweep = 0.5 * np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.hanning(n)
    for start in np.arange(0.1, seconds - 0.05, 0.25):
        at = int(start * rate)
        audio[at : at + n] += sweep
    return audio.astype("float32")


def _project(tmp_path: Path, rate: int, *, low: float, high: float, box: bool) -> Path:
    """Three labelled recordings at ``rate`` (two train, one val) with Raven-style boxes
    (``box``) or DCASE times only."""
    audio = tmp_path / "audio"
    audio.mkdir()
    table = ["Selection\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tSpecies"]
    rows = ["filename\tonset\toffset\tevent_label"]
    for i in range(3):
        sf.write(audio / f"r{i}.wav", _chirps(rate, 1.0, low, high), rate, subtype="PCM_16")
        for k, start in enumerate(np.arange(0.1, 0.95, 0.25)):
            rows.append(f"r{i}.wav\t{start:.3f}\t{start + 0.01:.3f}\tpip")
            table.append(f"{k + 1}\t{start:.3f}\t{start + 0.01:.3f}\t{low}\t{high}\tpip")
        if box:
            (audio / f"r{i}.Table.1.selections.txt").write_text("\n".join(table[:1] + table[-4:]))
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    assert main(["import", str(root), str(audio), "-q"]) == 0
    if box:
        labels = [str(p) for p in sorted(audio.glob("*.txt"))]
    else:
        (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n")
        labels = [str(tmp_path / "labels.tsv")]
    for path in labels:
        assert main(["import", str(root), "--labels", path, "-q"]) == 0
    with Project.open(root) as project:
        recs = project.recordings()
        project.set_split([recs[0].id, recs[1].id], "train")
        project.set_split([recs[2].id], "val")
    return root


def _features_of_last_run(root: Path) -> dict:
    with Project.open(root) as project:
        return json.loads(project.runs()[-1].config)["features"]


def test_a_bat_detectors_recordings_are_said_to_lie_above_the_features(tmp_path):
    root = _project(tmp_path, 384_000, low=40_000, high=80_000, box=False)

    result = tfstudio("train", root, *TINY)

    assert result.returncode == 0, result.stderr
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert "features keep 0–11025 Hz" in note
    assert "3 of the 3 training recordings are at 384000 Hz" in note
    assert "--set features.sample_rate=384000" in note


def test_labels_above_the_features_are_counted_in_the_note(tmp_path):
    # 48 kHz is not far above 22.05 kHz, but boxes at 14–20 kHz are above its 11 kHz.
    root = _project(tmp_path, 48_000, low=14_000, high=20_000, box=True)

    result = tfstudio("train", root, *TINY)

    assert result.returncode == 0, result.stderr
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert "12 label(s) lie wholly above 11025 Hz" in note
    assert "training recordings" not in note
    assert "--set features.sample_rate=48000" in note


def test_the_suggested_option_keeps_the_presets_other_feature_fields(tmp_path):
    root = _project(tmp_path, 384_000, low=40_000, high=80_000, box=False)

    result = tfstudio("train", root, *TINY, "--set", "features.sample_rate=384000")

    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stderr
    features = _features_of_last_run(root)
    assert features == {**TRAIN_PRESETS["fast"]["features"], "sample_rate": 384_000}


def test_recordings_the_features_hold_get_no_note(tmp_path):
    root = _project(tmp_path, 44_100, low=2_000, high=6_000, box=True)

    result = tfstudio("train", root, *TINY)

    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stderr
