"""tfstudio bench softmax at tiny sizes through the CLI's main (the JSON keys and sane values;
the timings themselves are not asserted; in-process, so torch and the optimisers' import of
torch._dynamo, ~10 s on two cores, are paid once), its readable table, its errors as real
commands, and the generated Zipf task it trains on."""

from __future__ import annotations

import json
import math

import pytest

from tests.store.helpers import tfstudio

TINY = (
    "--classes", 50, "--hidden", 16, "--frames", 64, "--num-sampled", 10, "--steps", 20,
    "--held-out", 400, "--lr", 0.05, "--device", "cpu",
)  # fmt: skip
KEYS = ("full_ms", "sampled_ms", "speedup", "full_acc", "sampled_acc")


def test_bench_softmax_times_and_scores_both_heads(capfd):
    from tfstudio.cli import main

    assert main(["bench", "softmax", *map(str, TINY), "--json"]) == 0
    out, err = capfd.readouterr()
    data = json.loads(out)  # stdout is the one JSON object (file descriptor 1, not only print)
    assert tuple(data)[:5] == KEYS
    assert data["full_ms"] > 0 and data["sampled_ms"] > 0
    # speedup is printed to two decimals (0.41 for 0.4055) from unrounded times: within ~one unit.
    assert data["speedup"] == pytest.approx(data["full_ms"] / data["sampled_ms"], abs=0.01)
    # A learnable task: both heads well above always answering the most frequent class
    # (P(0) = 1 / H_50 ≈ 0.22) after 20 steps.
    assert 0.3 < data["full_acc"] <= 1 and 0.3 < data["sampled_acc"] <= 1
    assert (data["classes"], data["hidden"], data["frames"], data["num_sampled"]) == (
        50,
        16,
        64,
        10,
    )
    assert (data["steps"], data["held_out"], data["device"]) == (20, 400, "cpu")
    assert data["sampler"] == "log-uniform" and data["seen_classes"] <= 50
    assert 0 < data["held_out_seen"] <= 1
    assert set(data["variants_ms"]) == {"dense_adam", "sparse_adam", "lazy_adam"}
    assert all(v > 0 for v in data["variants_ms"].values())
    assert "step 20/20" in err  # progress goes to stderr


def test_bench_softmax_prints_a_readable_table(capsys):
    from tfstudio.cli import main

    args = [str(a) for a in TINY]
    args[args.index("--steps") + 1] = "3"
    assert main(["bench", "softmax", *args, "--sampler", "frequency", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "50 classes, hidden 16, 64 frames a step, 10 sampled (frequency), 3 steps" in out
    assert "the sampled step is" in out and "points" in out
    assert "torch.optim.SparseAdam" in out


def test_bench_softmax_bad_values_are_one_line_errors(capsys):
    # Caught before torch is imported: each child process is quick.
    for args in (
        ("--classes", 50, "--num-sampled", 50),
        ("--classes", 1, "--num-sampled", 1),
        ("--steps", 0),
        ("--lr", 0),
        ("--lr", "fast"),
        ("--sampler", "uniform"),
    ):
        result = tfstudio("bench", "softmax", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert "error" in result.stderr.strip().splitlines()[-1], result.stderr
    # A device that is not there (no Apple GPU here) is the training engine's one-line error.
    from tfstudio.cli import main

    assert (
        main(["bench", "softmax", "--device", "mps", "--classes", "10", "--num-sampled", "3"]) == 2
    )
    assert (
        capsys.readouterr().err.strip()
        == "error: MPS was requested but is not available on this machine"
    )


def test_zipf_task_is_zipf_and_reproducible():
    import torch

    from tfstudio.bench.softmax import ZipfTask

    task = ZipfTask(classes=20, hidden=32, noise=1.0, seed=3)
    labels = task.labels(200_000)
    frequency = torch.bincount(labels, minlength=20).double() / labels.numel()
    harmonic = sum(1 / k for k in range(1, 21))
    expected = torch.tensor([1 / (k * harmonic) for k in range(1, 21)], dtype=torch.float64)
    torch.testing.assert_close(frequency, expected, atol=4e-3, rtol=0)
    hidden, ids = task.frames(4_000)
    assert hidden.shape == (4_000, 32) and ids.shape == (4_000,)
    assert hidden.var().item() == pytest.approx(1.0, abs=0.1)
    # A frame is nearest its own class's prototype (so the task is learnable).
    nearest = torch.cdist(hidden, task.prototypes).argmin(1)
    assert (nearest == ids).float().mean().item() > 0.9
    again = ZipfTask(classes=20, hidden=32, noise=1.0, seed=3)
    again.labels(200_000)
    assert torch.equal(again.frames(4_000)[0], hidden)
    assert math.isclose(float(task.probabilities.sum()), 1.0)
