"""tfstudio doctor: versions, devices, presets and train's options, as text or one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tfstudio import __version__
from tfstudio.cli import main
from tfstudio.model.schedules import SCHEDULE_NAMES
from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig

VERSIONS = (
    "tfstudio",
    "python",
    "torch",
    "torchaudio",
    "numpy",
    "soundfile",
    "libsndfile",
    "sqlite",
)


@pytest.fixture(scope="module")
def report() -> dict:
    """``doctor --json`` in a child without a display (or Qt platform), as the app runs it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    code = (
        "import sys\n"
        "from tfstudio.__main__ import main\n"
        "code = main(['doctor', '--json'])\n"
        "sys.stderr.write('\\nQt loaded: %s\\n' % any(m.startswith('PySide6') for m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.rstrip().endswith("Qt loaded: False")
    lines = out.stdout.splitlines()
    assert len(lines) == 1  # one JSON object, nothing else on stdout
    return json.loads(lines[0])


def test_versions(report):
    versions = report["versions"]
    assert set(VERSIONS) <= set(versions)
    assert versions["tfstudio"] == __version__
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert all(versions[name] for name in VERSIONS), versions
    assert report["errors"] == []


def test_devices_and_what_auto_picks(report):
    devices = report["devices"]
    assert devices[0]["device"] == "cpu" and devices[0]["cores"] >= 1
    names = [d["device"] for d in devices]
    assert report["auto_device"] in names
    import torch

    cuda = [d for d in devices if d["device"].startswith("cuda")]
    assert len(cuda) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    for i, device in enumerate(cuda):
        assert device["device"] == f"cuda:{i}" and device["name"] and device["memory_bytes"] > 0
    if cuda:
        assert report["auto_device"] == "cuda:0"


def test_presets_recipe_schedules_and_train_options(report):
    assert report["presets"] == {
        name: json.loads(json.dumps(TrainConfig.from_preset(name).to_dict()))
        for name in TRAIN_PRESETS
    }
    assert report["recipe_off"] == RECIPE_OFF
    assert report["schedules"] == list(SCHEDULE_NAMES)
    options = {name: o for o in report["train_options"] for name in o["names"]}
    for name in ("--preset", "--epochs", "--device", "--resume", "--json", "--set", "-q"):
        assert name in options
    assert set(options["--preset"]["choices"]) == set(TRAIN_PRESETS)
    assert options["--json"]["takes_value"] is False and options["--epochs"]["takes_value"]
    assert "--help" not in options and "project" not in options


def test_the_text_summary(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"tfstudio {__version__}, Python ")
    for heading in ("Devices", "Training presets", "Generalisation recipe", "train options"):
        assert heading in out
    assert "--device auto trains on " in out
    assert "epochs" in out and "paper" in out and "fast" in out
    assert "--set FIELD=VALUE" in out and "Problems" not in out


def test_a_torch_that_does_not_load_is_reported_not_fatal(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    monkeypatch.setitem(sys.modules, "torchaudio", None)
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"]["torch"] is None and report["auto_device"] is None
    assert [d["device"] for d in report["devices"]] == ["cpu"]
    assert any(e.startswith("torch: ") for e in report["errors"])
    assert report["presets"].keys() == TRAIN_PRESETS.keys()  # the rest is still there
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "torch missing" in out and "Problems" in out and "nothing can train" in out
