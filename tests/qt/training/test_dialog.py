"""TrainDialog: defaults, the p_tf preview, the CLI arguments, remembered settings, resume."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from tfstudio import __version__
from tfstudio.qt.training import dialog as dialog_module
from tfstudio.qt.training.dialog import (
    PRESET_HELP,
    LearningRateBox,
    TrainDialog,
)
from tfstudio.qt.training.engine import EngineProbe, engine_info
from tfstudio.session.engine import EngineInfo
from tfstudio.session.jobs import tfstudio_command
from tfstudio.store import Project
from tfstudio.train.config import RECIPE_OFF, TRAIN_PRESETS, TrainConfig

# What ``tfstudio doctor --json`` says on a machine with two GPUs (the fields the app reads).
GPU_REPORT = {
    "versions": {"tfstudio": __version__, "torch": "2.11.0+cu130"},
    "devices": [
        {"device": "cpu", "name": "x86_64", "cores": 16},
        {"device": "cuda:0", "name": "NVIDIA H100", "memory_bytes": 80 * 2**30},
        {"device": "cuda:1", "name": "NVIDIA A100", "memory_bytes": 40 * 2**30},
    ],
    "auto_device": "cuda:0",
    "errors": [],
}


def curve(dialog: TrainDialog) -> tuple[np.ndarray, np.ndarray]:
    x, y = dialog.preview_curve.getData()
    return np.asarray(x), np.asarray(y)


def test_cpu_defaults_to_the_fast_preset_and_gives_contract_arguments(
    qtbot, demo_root, engine, settings
):
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    args = dialog.config()
    assert args[:2] == ["--preset", "fast"]
    pairs = dict(zip(args[::2], args[1::2]))
    assert pairs["--epochs"] == "40" and pairs["--lr"] == "0.002" and pairs["--batch-size"] == "8"
    assert pairs["--schedule"] == "drossos" and pairs["--gamma"] == "1"
    assert pairs["--p-min"] == "0.05" and pairs["--p-max"] == "0.9"
    assert pairs["--device"] == "auto"
    assert "--max-batches" not in pairs  # "all" is the engine's default: not passed
    assert "train</b>: 2 recordings" in dialog.data_label.text()
    assert not dialog.warning_label.isVisibleTo(dialog)


def test_a_gpu_machine_defaults_to_the_paper_preset_and_names_the_gpu(
    qtbot, demo_root, engine, settings
):
    gpu = EngineInfo(cuda=("NVIDIA H100",), options=engine.options, known=True)
    dialog = TrainDialog(demo_root, engine=gpu, settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.preset_combo.currentData() == "paper"
    paper = TrainConfig.from_preset("paper")
    assert dialog.epochs_spin.value() == paper.epochs
    assert paper.gamma is None and dialog.gamma_spin.value() == pytest.approx(0.125)
    assert "NVIDIA H100" in dialog.device_combo.itemText(0)
    assert dialog.device_combo.model().item(2).isEnabled() is False  # no MPS here


def test_the_preview_follows_gamma_and_the_schedule(qtbot, demo_root, engine, settings):
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.gamma_spin.value() == pytest.approx(1.0)  # the fast preset's γ
    dialog.gamma_spin.setValue(0.125)  # the paper's: eight times slower decay
    x, before = curve(dialog)
    assert x[-1] == pytest.approx(40) and before[0] == pytest.approx(0.9)
    dialog.gamma_spin.setValue(1.0)
    _, after = curve(dialog)
    assert after[len(after) // 4] < before[len(before) // 4] - 0.2
    assert "gamma" not in dialog.schedule_summary.text()
    dialog.schedule_combo.setCurrentIndex(dialog.schedule_combo.findData("none"))
    assert not dialog.gamma_spin.isEnabled()
    assert np.all(curve(dialog)[1] == 0)
    assert "--gamma" not in dialog.config() and "--p-min" not in dialog.config()
    dialog.schedule_combo.setCurrentIndex(dialog.schedule_combo.findData("linear"))
    assert dialog.decay_spin.isEnabled() and "--decay-epochs" in dialog.config()
    # The preview follows "Decay over": p_min is reached after that many epochs.
    p_min = dialog.p_min_spin.value()
    dialog.decay_spin.setValue(10)
    x, p = curve(dialog)
    assert p[np.searchsorted(x, 10.0)] == pytest.approx(p_min)
    dialog.decay_spin.setValue(30)
    x, p = curve(dialog)
    assert p[np.searchsorted(x, 10.0)] > p_min + 0.2
    # Counting time steps advances by a sequence per batch: p_min within the first epoch.
    dialog.unit_combo.setCurrentIndex(dialog.unit_combo.findData("step"))
    x, p = curve(dialog)
    assert p[np.searchsorted(x, 1.0)] == pytest.approx(p_min)


def test_p_min_above_p_max_disables_start(qtbot, demo_root, engine, settings):
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.p_min_spin.setValue(0.95)
    assert not dialog.start_button.isEnabled()
    assert "p_min" in dialog.schedule_summary.text()


def test_choices_are_remembered(qtbot, demo_root, engine, settings):
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.epochs_spin.setValue(7)
    dialog.schedule_combo.setCurrentIndex(dialog.schedule_combo.findData("constant"))
    dialog.lr_box.setValue(5e-4)
    dialog.accept()
    again = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(again)
    assert again.epochs_spin.value() == 7
    assert again.schedule_combo.currentData() == "constant"
    assert again.config()[again.config().index("--lr") + 1] == "0.0005"


def test_learning_rate_steps_along_1_2_5(qtbot):
    box = LearningRateBox()
    qtbot.addWidget(box)
    box.setValue(1e-4)
    values = []
    for _ in range(4):
        box.stepBy(1)
        values.append(box.text())
    assert values == ["0.0002", "0.0005", "0.001", "0.002"]
    box.stepBy(-4)
    assert box.value() == pytest.approx(1e-4)


def test_a_stopped_run_can_be_resumed_with_its_own_settings(qtbot, empty_root, engine, settings):
    with Project.open(empty_root) as project:
        run = project.create_run({"preset": "paper", "schedule": "none", "epochs": 12, "lr": 0.01})
        project.update_run(run.id, status="stopped", last_checkpoint="last.pt")
    dialog = TrainDialog(empty_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    assert "Resume run" in dialog.resume_combo.itemText(1)
    assert dialog.warning_label.text()  # an empty project: no labels, no val
    dialog.set_resume(run.id)
    assert dialog.schedule_combo.currentData() == "none"
    assert not dialog.schedule_combo.isEnabled() and not dialog.preset_combo.isEnabled()
    assert dialog.preset_help.text() == PRESET_HELP["paper"]  # the run's preset, not the last
    args = dialog.config()
    assert args[:4] == ["--resume", str(run.id), "--epochs", "12"]
    assert "--preset" not in args and "--seed" not in args  # the engine refuses to change them
    dialog.set_resume(None)
    assert dialog.schedule_combo.isEnabled() and dialog.config()[0] == "--preset"


def test_presets_recipe_and_options_are_known_before_any_probe():
    """Read in the GUI process from the train config and the CLI's parser: no torch, no wait."""
    info = engine_info()
    assert not info.known and not info.cuda and info.auto_device() == "CPU"
    assert info.presets == {n: TrainConfig.from_preset(n).to_dict() for n in TRAIN_PRESETS}
    assert info.recipe_off == RECIPE_OFF and info.has_recipe
    for option in ("--max-batches", "--patience", "--decay-epochs", "--unit", "--json", "--set"):
        assert info.supports(option)
    assert not info.supports("--no-such-option")


def test_the_probe_asks_tfstudio_doctor_once(qtbot):
    """One child ``tfstudio doctor --json`` (seconds: it loads torch), built like training's."""
    probe = EngineProbe()
    assert probe.command() == tfstudio_command(["doctor", "--json"])
    with qtbot.waitSignal(probe.ready, timeout=120_000) as ready:
        probe.request()
    info = ready.args[0]
    assert info.known and info.torch and not info.errors
    assert info.versions["tfstudio"] == __version__
    assert info.auto_device().startswith(("CUDA: ", "Apple MPS", "CPU"))
    assert info.presets == engine_info().presets
    with qtbot.waitSignal(probe.ready, timeout=5_000) as again:
        probe.request()  # cached: no second child
    assert again.args[0] is info


def fake_doctor(code: str) -> list[str]:
    """A stand-in for ``tfstudio``: runs ``code`` with ``doctor --json`` as its arguments."""
    return [sys.executable, "-c", code]


def test_a_dialog_opened_before_the_answer_takes_the_gpus_from_it(
    qtbot, demo_root, settings, monkeypatch
):
    code = (
        "import sys\n"
        "assert sys.argv[1:] == ['doctor', '--json'], sys.argv\n"
        "print('a library that talks first')\n"
        f"print({json.dumps(json.dumps(GPU_REPORT))})\n"
    )
    probe = EngineProbe(program=fake_doctor(code))
    monkeypatch.setattr(dialog_module, "engine_probe", lambda: probe)
    dialog = TrainDialog(demo_root, settings=settings)
    qtbot.addWidget(dialog)
    assert "detecting" in dialog.device_combo.itemText(0)
    assert dialog.preset_combo.currentData() == "fast"
    with qtbot.waitSignal(probe.ready, timeout=30_000) as ready:
        pass
    info = ready.args[0]
    assert info.cuda == ("NVIDIA H100", "NVIDIA A100") and info.cuda_memory[1] == 40 * 2**30
    assert info.known and not info.mps and info.torch == "2.11.0+cu130"
    assert dialog.device_combo.itemText(0) == "Auto: CUDA: NVIDIA H100"
    assert dialog.device_combo.itemText(1) == "CUDA: NVIDIA H100 (80 GiB)"
    assert dialog.preset_combo.currentData() == "paper"  # a GPU machine, no preset chosen
    assert dialog.device_combo.model().item(2).isEnabled() is False  # no MPS here


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (
            fake_doctor("import sys; sys.stderr.write('boom\\n'); sys.exit(3)"),
            "(exit code 3): boom",
        ),
        (fake_doctor("import time; time.sleep(60)"), "did not answer"),
        (["/nonexistent/tfstudio"], "could not start"),
    ],
    ids=["fails", "hangs", "missing"],
)
def test_a_doctor_without_an_answer_leaves_every_device_offered(
    qtbot, demo_root, settings, program, reason
):
    probe = EngineProbe(program=program, timeout_s=1.0)
    with qtbot.waitSignal(probe.ready, timeout=30_000) as ready:
        probe.request()
    info = ready.args[0]
    assert not info.known and reason in info.errors[0]
    dialog = TrainDialog(demo_root, engine=info, settings=settings)
    qtbot.addWidget(dialog)
    model = dialog.device_combo.model()
    assert all(model.item(row).isEnabled() for row in range(model.rowCount()))
    assert dialog.device_combo.itemText(0) == "Auto"  # not "detecting" for ever


def test_the_single_label_task_and_its_sampled_softmax_are_chosen_in_the_dialog(
    qtbot, demo_root, engine, settings
):
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.task_combo.isVisibleTo(dialog) and "--task" not in dialog.config()
    assert not dialog.sampled_spin.isEnabled()  # the multi-label task has no softmax

    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("single-label"))
    assert not dialog.recipe_box.isEnabled()  # the recipe belongs to the multi-label task
    assert not dialog.recipe_checks["mixing"].isChecked()  # shown as the task trains: off
    assert "6 classes plus the background" in dialog.task_hint.text()
    args = dialog.config()
    assert args[args.index("--task") + 1] == "single-label"
    assert "--set" not in args and "--sampled-softmax" not in args
    assert not dialog.sampler_combo.isEnabled()

    dialog.sampled_spin.setValue(512)
    dialog.sampler_combo.setCurrentIndex(dialog.sampler_combo.findData("frequency"))
    pairs = dict(zip(dialog.config()[::2], dialog.config()[1::2]))
    assert pairs["--sampled-softmax"] == "512" and pairs["--sampler"] == "frequency"

    # Back to multi-label: the user's recipe again.
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("multi-label"))
    assert dialog.recipe_checks["mixing"].isChecked() and dialog.recipe_box.isEnabled()
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("single-label"))
    # Thousands of classes: the dialog suggests the sampled head.
    dialog._n_classes = 30_000
    dialog.sampled_spin.setValue(0)
    assert "30,000 classes: a sampled softmax of about 1,500" in dialog.task_hint.text()
