"""A TextGrid export with one label running past its recording's end: that interval is cut at
the end with a warning naming recording, class and times, the rest is written (the whole
export was refused), and the project's label is left as it was."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.cli.commands import tfstudio
from tfstudio.formats import textgrid
from tfstudio.store import Project


def test_a_label_past_the_end_is_cut_and_said_and_the_export_written(tmp_path):
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.zeros(16000 * 2, dtype="float32"), 16000)  # 2 s each
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "filename\tonset\toffset\tevent_label\n"
        "a.wav\t0.1\t0.5\tdog\n"
        "a.wav\t1.5\t2.3\tbird\n"  # 0.3 s past a.wav's end
        "b.wav\t0.2\t0.4\tcat\n"
        "b.wav\t2.1\t2.4\tcat\n"  # wholly after b.wav's end
    )
    root = tmp_path / "p"
    assert tfstudio("init", root).returncode == 0
    imported = tfstudio("import", root, tmp_path / "a.wav", tmp_path / "b.wav", "--labels", labels)
    assert imported.returncode == 0, imported.stderr

    out = tmp_path / "tg"
    result = tfstudio("export", root, "--format", "textgrid", "-o", out)
    assert result.returncode == 3, result.stderr  # written, one label left out
    assert result.stderr.splitlines() == [
        "skipped b.wav: 'cat' event 2.1–2.4 s starts at or after the recording's end (2.0 s); "
        "its TextGrid, which spans the recording, cannot hold it",
        "warning: a.wav: 'bird' event 1.5–2.3 s ends 0.3 s after the recording (2.0 s); cut at "
        "its end in the TextGrid (1.5–2.0 s), the project's label unchanged",
    ]
    assert "wrote 3 label(s) in textgrid format" in result.stdout
    a = textgrid.read(out / "a.TextGrid").events
    assert sorted((e.label, e.onset, e.offset) for e in a) == [
        ("bird", 1.5, 2.0),
        ("dog", 0.1, 0.5),
    ]
    b = textgrid.read(out / "b.TextGrid").events
    assert [(e.label, e.onset, e.offset) for e in b] == [("cat", 0.2, 0.4)]
    with Project.open(root) as project:
        assert sorted((e.onset, e.offset) for e in project.events()) == [
            (0.1, 0.5),
            (0.2, 0.4),
            (1.5, 2.3),
            (2.1, 2.4),
        ]

    report = json.loads(
        tfstudio("export", root, "--format", "textgrid", "-o", out, "--force", "--json").stdout
    )
    assert [w["message"] for w in report["warnings"]] == [result.stderr.splitlines()[1][9:]]
    assert len(report["skipped"]) == 1
