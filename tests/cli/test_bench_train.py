"""tfstudio bench train / bench detect, run as real commands at tiny sizes (timings are not
asserted, only that every measurement is there and makes sense)."""

from __future__ import annotations

import json

from tests.store.helpers import tfstudio

TRAIN_PARTS = {"step", "step_stepped", "cnn", "recurrent", "recurrent_stepped", "predict"}


def test_bench_train_times_the_fused_and_the_stepped_step():
    result = tfstudio(
        "bench", "train", "--batch-size", 2, "--frames", 24, "--classes", 3,
        "--repeats", 1, "--device", "cpu", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["seconds"]) == TRAIN_PARTS
    assert all(v > 0 for v in data["seconds"].values())
    assert (data["preset"], data["batch_size"], data["frames"], data["classes"]) == (
        "fast", 2, 24, 3,
    )  # fmt: skip
    assert data["n_mels"] == 64 and data["parameters"] > 0 and data["frames_per_second"] > 0


def test_bench_train_prints_a_readable_table():
    result = tfstudio(
        "bench", "train", "--preset", "fast", "--batch-size", 1, "--frames", 16,
        "--repeats", 1, "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "the fused step is" in result.stdout and "recurrent_stepped" in result.stdout


def test_bench_detect_times_features_model_and_postprocessing():
    result = tfstudio(
        "bench", "detect", "--seconds", 3, "--classes", 2, "--repeats", 1,
        "--device", "cpu", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["seconds"]) == {"features", "model", "postprocess"}
    assert data["audio_seconds"] == 3 and data["realtime"] > 0


def test_bench_bad_values_are_one_line_errors():
    for args in (
        ("train", "--device", "tpu"),
        ("train", "--frames", 0),
        ("detect", "--seconds", "-1"),
        ("train", "--preset", "huge"),
        ("detect", "--device", "mps", "--seconds", 1),  # no Apple GPU here: a TrainError
    ):
        result = tfstudio("bench", *args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        # One line saying what is wrong (argparse's usage lines may come before it).
        assert "error" in result.stderr.strip().splitlines()[-1], result.stderr
