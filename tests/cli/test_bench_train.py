"""tfstudio bench train / bench detect, run as real commands at tiny sizes (timings are not
asserted, only that every measurement is there and makes sense)."""

from __future__ import annotations

import json

import pytest

from tests.store.helpers import tfstudio
from tfstudio.train.device import cpu_has_bf16

CPU_AMP = "bfloat16" if cpu_has_bf16() else "off"

CONTRACT = {
    "sequences_per_s", "step_ms", "device", "breakdown", "fused_gru_ms", "reference_loop_ms",
}  # fmt: skip


def test_bench_train_prints_the_issue_keys_measured_side_by_side():
    result = tfstudio(
        "bench", "train", "--batch-size", 2, "--frames", 24, "--classes", 3,
        "--repeats", 1, "--device", "cpu", "--no-amp", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= CONTRACT
    assert set(data["breakdown"]) == {"cnn", "recurrent", "output_loss", "optimizer"}
    assert all(v > 0 for v in data["breakdown"].values())
    assert data["device"] == "cpu" and data["amp"] == "off"
    timings = [data[k] for k in data if k.endswith("_ms")]
    assert len(timings) == 10 and all(v > 0 for v in timings)
    # On a CPU the step's recurrent part replays the first pass's states; both second
    # passes are timed side by side.
    assert data["recurrence"] == "replay"
    assert data["recurrent_replay_ms"] > 0 and data["recurrent_fused_ms"] > 0
    assert data["sequences_per_s"] == pytest.approx(2000 / data["step_ms"], rel=0.01)
    assert data["speedup"] == pytest.approx(data["reference_loop_ms"] / data["step_ms"], rel=0.01)
    assert data["recurrent_vs_fused_gru"] == pytest.approx(
        data["breakdown"]["recurrent"] / data["fused_gru_ms"], rel=0.01
    )
    assert data["recurrent_floor_vs_fused_gru"] == pytest.approx(
        1 + data["fused_gru_forward_ms"] / data["fused_gru_ms"], rel=0.01
    )
    assert (data["preset"], data["batch_size"], data["frames"], data["classes"]) == (
        "fast", 2, 24, 3,
    )  # fmt: skip
    assert data["n_mels"] == 64 and data["parameters"] > 0


def test_bench_train_runs_the_cnn_mixed_where_the_cpu_has_bf16():
    """Without --no-amp the bench times what training runs: bf16 on a CPU with native bf16
    (as this project's machine has), float32 elsewhere; --no-amp is float32 everywhere."""
    runs = {
        flag: json.loads(
            tfstudio(
                "bench", "train", "--batch-size", 1, "--frames", 8, "--repeats", 1,
                "--device", "cpu", "--json", *flag,
            ).stdout
        )
        for flag in ((), ("--no-amp",))
    }  # fmt: skip
    assert runs[()]["amp"] == CPU_AMP
    assert runs[("--no-amp",)]["amp"] == "off"
    for data in runs.values():
        assert data["speedup_vs_float32_reference"] == pytest.approx(
            data["reference_loop_float32_ms"] / data["step_ms"], rel=0.01
        )
    # Without autocast the float32 reference is the reference itself, not timed twice.
    plain = runs[("--no-amp",)]
    assert plain["reference_loop_float32_ms"] == plain["reference_loop_ms"]


def test_bench_train_prints_a_readable_table():
    result = tfstudio(
        "bench", "train", "--preset", "fast", "--batch-size", 1, "--frames", 16,
        "--repeats", 1, "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for words in (
        "reference loop", "fused GRU alone", "its forward", "output_loss",
        "as fast as the reference", "at least", "second pass: replay",
        "recurrent, replayed", "recurrent, fused",
    ):  # fmt: skip
        assert words in result.stdout


def test_bench_detect_times_a_file_to_stored_events():
    result = tfstudio(
        "bench", "detect", "--seconds", 3, "--classes", 2, "--repeats", 2,
        "--device", "cpu", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # progress went to stderr
    assert "repeat 2/2" in result.stderr
    seconds = data["seconds"]
    assert set(seconds) == {"detect", "load", "features", "model", "postprocess", "store"}
    assert all(v > 0 for v in seconds.values())
    # The stages are parts of the whole (medians of each, so within rounding of the sum).
    assert sum(v for k, v in seconds.items() if k != "detect") <= seconds["detect"] * 1.05
    assert (data["audio_seconds"], data["classes"], data["repeats"]) == (3, 2, 2)
    assert data["realtime"] == pytest.approx(3 / seconds["detect"], rel=0.01)
    assert data["events"] >= 0 and data["warm_up_s"] > 0
    assert data["amp"] == CPU_AMP
    assert data["peak_rss_mb"] > 0 and data["rss_before_mb"] > 0 and data["peak_scoped"]


def test_bench_bad_values_are_one_line_errors():
    for args in (
        ("train", "--device", "tpu"),
        ("train", "--frames", 0),
        ("detect", "--seconds", "-1"),
        ("detect", "--seconds", "inf"),  # was taken (inf > 0), then a traceback
        ("train", "--preset", "huge"),
        ("detect", "--device", "mps", "--seconds", 1),  # no Apple GPU here: a TrainError
    ):
        result = tfstudio("bench", *args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        # One line saying what is wrong (argparse's usage lines may come before it).
        assert "error" in result.stderr.strip().splitlines()[-1], result.stderr
