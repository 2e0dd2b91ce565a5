"""`tfstudio export -o -`: every format that writes one file goes to stdout, byte for byte the
file, and the help names each of them (it said dcase/json only); a format of one file per
recording is refused with the ones that can."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.cli.commands import tfstudio

ONE_FILE = ["birdnet", "dcase", "json", "kaleidoscope", "labelstudio", "soundevent"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stdout")
    sf.write(tmp / "rec.wav", np.zeros(16000, dtype="float32"), 8000)
    (tmp / "rec.txt").write_text("0.25\t0.5\tdog\n1.0\t1.5\tcat\n", encoding="utf-8")
    root = tmp / "proj"
    assert tfstudio("init", root).returncode == 0
    assert tfstudio("import", root, tmp / "rec.wav", "--labels", tmp / "rec.txt").returncode == 0
    return root


def test_the_help_names_every_format_that_goes_to_stdout():
    result = tfstudio("export", "--help")
    help_text = " ".join(result.stdout.split())
    assert (
        "'-' for stdout with birdnet, dcase, json, kaleidoscope, labelstudio, soundevent)"
        in help_text
    )


@pytest.mark.parametrize("fmt", ONE_FILE)
def test_each_one_file_format_goes_to_stdout_as_its_file(project, tmp_path, fmt):
    written = tmp_path / f"labels-{fmt}"
    assert tfstudio("export", project, "--format", fmt, "-o", written).returncode == 0
    result = tfstudio("export", project, "--format", fmt, "-o", "-")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == written.read_text(encoding="utf-8")
    assert "dog" in result.stdout and "cat" in result.stdout


def test_a_folder_format_to_stdout_names_those_that_can(project):
    result = tfstudio("export", project, "--format", "raven", "-o", "-")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: raven writes one file per recording; give -o FOLDER "
        "(-o - takes birdnet, dcase, json, kaleidoscope, labelstudio, soundevent)"
    )
