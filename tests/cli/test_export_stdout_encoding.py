"""`tfstudio export -o -` writes the file's UTF-8 bytes whatever the terminal's encoding is:
a Windows console's cp1252 or LC_ALL=C's ASCII once turned a label it could not encode into a
traceback and half a file, and one it could into a file in the wrong encoding."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main


@pytest.mark.parametrize("fmt", ["dcase", "json", "soundevent"])
@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_stdout_gets_the_same_bytes_as_the_file(tmp_path, fmt, encoding):
    sf.write(tmp_path / "rec.wav", np.zeros(8000, dtype="float32"), 8000)
    project = tmp_path / "proj"
    labels = tmp_path / "rec.txt"
    labels.write_text("0.25\t0.5\tMöwe\n0.5\t0.75\t鳥のさえずり\n", encoding="utf-8")
    assert main(["init", str(project)]) == 0
    assert main(["import", str(project), str(tmp_path / "rec.wav"), "--labels", str(labels)]) == 0
    exported = tmp_path / f"labels-{fmt}"
    assert main(["export", str(project), "--format", fmt, "-o", str(exported)]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "tfstudio", "export", str(project), "--format", fmt, "-o", "-"],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b""
    assert result.stdout == exported.read_bytes()
