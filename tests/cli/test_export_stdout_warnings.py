"""An export to standard output ('-o -') says on stderr what an export to a file says: a
frequency band left behind by a format of times only (it went out without a word)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.cli.commands import tfstudio


@pytest.fixture
def boxed(tmp_path):
    sf.write(tmp_path / "night.wav", np.zeros(96_000, dtype="float32"), 96_000)
    table = tmp_path / "night.Table.1.selections.txt"
    table.write_text(
        "Selection\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tSpecies\n"
        "1\t0.1\t0.2\t20000\t40000\tPipistrellus\n"
    )
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, tmp_path / "night.wav", "--labels", table).returncode == 0
    return root


@pytest.mark.parametrize("fmt", ["dcase", "labelstudio"])
def test_stdout_gets_the_band_warning_a_file_gets(boxed, tmp_path, fmt):
    to_file = tfstudio("export", boxed, "--format", fmt, "-o", tmp_path / f"out-{fmt}")
    to_stdout = tfstudio("export", boxed, "--format", fmt, "-o", "-")

    assert to_stdout.returncode == to_file.returncode == 0
    warning = f"warning: night.wav: 1 event(s) with a frequency band, which {fmt} files cannot hold"
    assert warning in to_file.stderr
    assert to_stdout.stderr.splitlines() == [
        line for line in to_file.stderr.splitlines() if line.startswith("warning:")
    ]
    assert "0.1" in to_stdout.stdout and "warning" not in to_stdout.stdout


def test_json_to_stdout_keeps_the_band_without_a_word(boxed):
    result = tfstudio("export", boxed, "--format", "json", "-o", "-")
    assert result.returncode == 0 and result.stderr == ""
    assert "20000" in result.stdout and "40000" in result.stdout
