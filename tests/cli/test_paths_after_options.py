"""PATHs after options: ``tfstudio import P --split train a.wav`` and ``tfstudio detect P --run 1
b.wav`` are how people type them; argparse gave a PATH only the words before the first
option and refused the rest as "unrecognized arguments" under the top-level usage."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tfstudio.cli import main
from tfstudio.store import Project


def _recordings(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name, rate, subtype in (("a.wav", 48_000, "PCM_24"), ("b.flac", 96_000, "PCM_16")):
        path = tmp_path / name
        sf.write(path, (0.1 * rng.standard_normal((rate // 2, 2))).astype("float32"), rate,
                 subtype=subtype)  # fmt: skip
        paths.append(path)
    return paths


def test_import_takes_paths_before_and_after_options(tmp_path, capsys):
    a, b = _recordings(tmp_path)
    (tmp_path / "a.txt").write_text("0.1\t0.2\tcall\n")
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0

    code = main(["import", str(root), str(a), "--split", "train", "-q", str(b),
                 "--labels", str(tmp_path / "a.txt")])  # fmt: skip

    assert code == 0, capsys.readouterr().err
    with Project.open(root) as project:
        recordings = {r.name: r for r in project.recordings()}
        assert sorted(recordings) == ["a.wav", "b.flac"]
        assert {r.split for r in recordings.values()} == {"train"}
        assert recordings["b.flac"].sample_rate == 96_000
        assert [(e.onset, e.offset) for e in project.labels()] == [(0.1, 0.2)]


def test_a_mistyped_option_is_named_under_the_commands_own_usage(tmp_path, capsys):
    (a, _b) = _recordings(tmp_path)
    root = tmp_path / "proj"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()

    with pytest.raises(SystemExit) as exc:
        main(["import", str(root), "--splitt", "train", str(a)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: tfstudio import" in err
    assert "unrecognized arguments: --splitt" in err
