"""A single-label demo made, trained, detected and exported from the command line alone, as
real commands (issue 13)."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.store.helpers import tfstudio
from tfstudio.store import Project


@pytest.mark.parametrize("sampled", [6, 0], ids=["sampled-softmax", "full-softmax"])
def test_single_label_demo_trains_detects_and_exports_from_the_cli(tmp_path, sampled):
    root = tmp_path / "mono"
    made = tfstudio(
        "demo",
        root,
        "--task",
        "single-label",
        "--classes",
        "12",
        "--recordings",
        "6",
        "--seconds",
        "6",
    )
    assert made.returncode == 0, made.stderr
    with Project.open(root) as project:
        assert len(project.classes()) == 12
        splits = {r.split for r in project.recordings()}
        assert {"train", "val"} <= splits
        # Monophonic: no two labels of a recording overlap.
        for rec in project.recordings():
            labels = project.labels(rec.id)
            assert all(a.offset <= b.onset for a, b in itertools.pairwise(labels))

    trained = tfstudio(
        "train",
        root,
        "--task",
        "single-label",
        *(["--sampled-softmax", str(sampled)] if sampled else []),
        "--epochs",
        "1",
        "--max-batches",
        "2",
        "--json",
        "--quiet",
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    lines = [json.loads(line) for line in trained.stdout.splitlines() if line.startswith("{")]
    epoch = next(e for e in lines if e.get("event") == "epoch")
    assert epoch["accuracy"] is not None and epoch["macro_f1"] is not None
    assert lines[-1]["event"] == "done" and lines[-1]["status"] == "done"
    with Project.open(root) as project:
        config = project.runs()[-1].config_dict
    assert config["task"] == "single-label" and config["sampled_softmax"] == sampled

    detected = tfstudio("detect", root, "--json", "--quiet")
    assert detected.returncode == 0, detected.stderr[-2000:]
    out = tmp_path / "detections.tsv"
    exported = tfstudio("export", root, "--format", "dcase", "--source", "detections", "-o", out)
    assert exported.returncode == 0, exported.stderr
    assert out.read_text(encoding="utf-8").startswith("filename")

    bad = tfstudio("demo", tmp_path / "x", "--task", "single-label", "--classes", "1")
    assert bad.returncode == 2 and "--classes must be between" in bad.stderr
