"""EngineInfo: a ``tfstudio doctor --json`` report read, and what the dialog asks of it."""

from __future__ import annotations

from tfstudio.session.engine import EngineInfo
from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig

# What ``tfstudio doctor --json`` says on a machine with two GPUs (the fields the app reads).
GPU_REPORT = {
    "versions": {"tfstudio": "1.0", "torch": "2.11.0+cu130"},
    "devices": [
        {"device": "cpu", "name": "x86_64", "cores": 16},
        {"device": "cuda:0", "name": "NVIDIA H100", "memory_bytes": 80 * 2**30},
        {"device": "cuda:1", "name": "NVIDIA A100", "memory_bytes": 40 * 2**30},
        "not a device",
    ],
    "auto_device": "cuda:1",
    "errors": [],
}


def test_a_doctor_report_names_the_gpus_and_what_auto_picks():
    info = EngineInfo.from_doctor(GPU_REPORT, ["--set", "--device"])
    assert info.known and info.has_gpu and not info.mps and info.torch == "2.11.0+cu130"
    assert info.cuda == ("NVIDIA H100", "NVIDIA A100")
    assert info.cuda_memory == (80 * 2**30, 40 * 2**30)
    assert info.auto_device() == "CUDA: NVIDIA A100"
    assert info.supports("--set") and not info.supports("--unit") and info.has_recipe


def test_an_empty_or_failed_report_is_a_cpu_with_its_errors():
    info = EngineInfo.from_doctor({"errors": ["torch: not installed"], "devices": None})
    assert info.known and not info.has_gpu and info.auto_device() == "CPU"
    assert info.torch is None and info.errors == ("torch: not installed",)
    assert not info.has_recipe  # no options given: train --set is not known to exist


def test_auto_device_in_words():
    assert EngineInfo(mps=True).auto_device() == "Apple MPS"
    assert EngineInfo(cuda=("GPU",)).auto_device() == "CUDA: GPU"
    assert EngineInfo(auto="cuda:3", cuda=("GPU",)).auto_device() == "CUDA:3"
    assert EngineInfo(auto="cpu", cuda=("GPU",)).auto_device() == "CPU"


def test_the_guess_knows_presets_and_recipe_but_no_devices():
    info = EngineInfo()
    assert not info.known and not info.cuda and info.auto_device() == "CPU"
    assert info.presets == {n: TrainConfig.from_preset(n).to_dict() for n in TRAIN_PRESETS}
    assert info.recipe_off == RECIPE_OFF and info.recipe_off is not RECIPE_OFF
