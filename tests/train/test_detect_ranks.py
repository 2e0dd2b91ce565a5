"""Detection shared over torchrun's processes (gloo on the CPU) stores the same detections as
one process; how recordings are shared and reports merged; the CPU inference settings
(channels-last, windows a batch) change no posterior."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.store import Project
from tfstudio.train import detect_recordings, load_model, posteriors, train
from tfstudio.train.data import Normalizer
from tfstudio.train.detect import (
    CPU_LAYER_MIB,
    DetectReport,
    cpu_windows,
    run_checkpoint,
    select_run,
)
from tfstudio.train.distributed import Distributed
from tfstudio.train.layout import posteriors_dir

REPO = Path(__file__).resolve().parents[2]
THRESHOLD = "0.4"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "tfstudio-test-pycache")
    env["PYTHONPATH"] = str(REPO)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _stored(project: Project, run_id: int) -> list[tuple]:
    return sorted(
        (e.recording_id, e.class_id, e.onset, e.offset, round(e.confidence, 4))
        for e in project.events(source="model", run_id=run_id)
    )


@pytest.mark.slow
def test_torchrun_shares_recordings_and_stores_what_one_process_does(demo_project, tiny_config):
    events = list(train(demo_project, tiny_config(epochs=1)))
    run_id = events[-1].run
    recordings = demo_project.recordings()
    root = demo_project.root
    assert len(recordings) == 5  # rank 0 takes 3 of them, rank 1 takes 2
    names = [f"--recording={r.id}" for r in recordings]
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
         "-m", "tfstudio", "detect", str(root), *names, "--threshold", THRESHOLD,
         "--device", "cpu", "--json"],
        capture_output=True, text=True, env=_env(), timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    (summary,) = [x for x in lines if x["event"] == "summary"]  # rank 0 alone speaks
    progress = [x for x in lines if x["event"] == "progress"]
    assert [(x["done"], x["total"]) for x in progress] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert (summary["ranks"], summary["recordings"], summary["run"]) == (2, 5, run_id)
    assert list(summary["per_recording"]) == [r.name for r in recordings]
    assert summary["audio_s"] == pytest.approx(sum(r.duration for r in recordings))
    with Project.open(root) as project:
        shared = _stored(project, run_id)
        # Every rank saved its recordings' posteriors; none cleared another's.
        assert len(list(posteriors_dir(project, run_id).glob("*.npy"))) == 5
    assert len(shared) == summary["events"] == sum(summary["per_recording"].values())
    assert summary["events"] > 0

    # One process, the model run again on every recording: the same detections.
    report = detect_recordings(
        demo_project, recordings, threshold=float(THRESHOLD), device="cpu", reuse_posteriors=False
    )
    assert report.events == summary["events"] and report.ranks == 1
    assert report.per_recording == summary["per_recording"]
    assert _stored(demo_project, run_id) == shared


def test_ranks_share_recordings_round_robin():
    items = list(range(7))
    assert Distributed().share(items) == items and not Distributed().active
    shares = [Distributed(rank, 3).share(items) for rank in range(3)]
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert sorted(x for share in shares for x in share) == items
    assert Distributed(2, 3).active and not Distributed(2, 3).main
    # A single process's collectives are no-ops (no process group needed).
    assert Distributed().broadcast("mine") == "mine" and Distributed().gather(1) == [1]


def test_reports_of_the_ranks_merge_in_recording_order(demo_project):
    recordings = demo_project.recordings()[:3]
    first = DetectReport(
        run=1, recordings=2, events=5, audio_s=12.0, reused=1,
        per_recording={recordings[2].name: 3, recordings[0].name: 2},
        stage_s={"model": 1.0, "features": 0.5},
    )  # fmt: skip
    second = DetectReport(
        run=1, recordings=1, events=4, audio_s=6.0,
        per_recording={recordings[1].name: 4}, stage_s={"model": 2.0},
    )  # fmt: skip
    names = {rec.id: rec.name for rec in recordings}
    merged = DetectReport.merged([first, second], recordings, 3.0, names)
    assert list(merged.per_recording.items()) == [
        (recordings[0].name, 2),
        (recordings[1].name, 4),
        (recordings[2].name, 3),
    ]
    assert (merged.recordings, merged.events, merged.audio_s, merged.reused) == (3, 9, 18.0, 1)
    assert (merged.ranks, merged.elapsed_s, merged.speed) == (2, 3.0, 6.0)
    assert merged.stage_s == {"model": 3.0, "features": 0.5}


def test_cpu_windows_bound_the_largest_layer():
    paper = config_from_preset("paper", 40, 6)
    fast = config_from_preset("fast", 64, 6, pools=[2, 2, 2])
    # A paper window's first layer is 256 × 1024 × 40 floats (40 MiB): one at a time.
    assert cpu_windows(paper, 1024) == 1
    layer = fast.channels * 256 * fast.n_mels * 4
    assert cpu_windows(fast, 256) == (CPU_LAYER_MIB << 20) // layer >= 16
    assert cpu_windows(paper, 100_000) == 1  # never none


def test_a_loaded_model_on_the_cpu_is_channels_last_with_the_same_posteriors(
    demo_project, tiny_config
):
    # float32 (amp off): on a CPU with bf16 the CNN would run mixed, and this compares
    # memory layouts, not precisions.
    events = list(train(demo_project, tiny_config(epochs=1, amp=False)))
    checkpoint = run_checkpoint(demo_project, select_run(demo_project, events[-1].run))
    loaded = load_model(checkpoint, "cpu")
    conv = next(m for m in loaded.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    plain = CRNN(loaded.model.config).eval()
    plain.load_state_dict(loaded.model.state_dict())
    feats = np.random.default_rng(0).standard_normal((300, 64)).astype(np.float32)
    normalizer: Normalizer = loaded.normalizer
    expected = posteriors(plain, feats, normalizer, seq_len=64)
    np.testing.assert_allclose(loaded.posteriors(feats), expected, atol=1e-5)
