"""TrainDialog: defaults, the p_tf preview, the CLI arguments, remembered settings, resume,
the pretrained front end."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

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


# ---------------------------------------------------------------- pretrained front end
LEFT = Qt.MouseButton.LeftButton


def shown_dialog(qtbot, root, engine, settings) -> TrainDialog:
    dialog = TrainDialog(root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def frontend_file(tmp_path, name: str = "frontend.pt") -> Path:
    """Bytes the dialog only checks for being there to read (tfstudio train reads them)."""
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 a front end")
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def choose_returns(monkeypatch, path) -> list[tuple]:
    """Make "Choose…" pick ``path`` (None: the user cancels); the calls are recorded."""
    calls: list[tuple] = []

    def pick(*args):
        calls.append(args)
        return ("" if path is None else str(path), "Front ends (*.pt)")

    monkeypatch.setattr(dialog_module.QFileDialog, "getOpenFileName", pick)
    return calls


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def frontend_args(args: list[str]) -> list[str]:
    """The arguments about the front end: --init-cnn FILE and --set cnn_lr_scale=X."""
    out = []
    for option, value in itertools.pairwise(args):
        if option == "--init-cnn" or (option == "--set" and value.startswith("cnn_lr_scale=")):
            out += [option, value]
    return out


def test_a_chosen_front_end_is_passed_with_the_cnn_s_share_of_the_learning_rate(
    qtbot, demo_root, engine, settings, tmp_path, monkeypatch
):
    dialog = shown_dialog(qtbot, demo_root, engine, settings)
    assert dialog.frontend_edit.text() == ""
    assert dialog.frontend_edit.placeholderText() == "None: the CNN starts from random weights"
    assert not dialog.cnn_lr_spin.isEnabled() and not dialog.clear_frontend_button.isEnabled()
    assert frontend_args(dialog.config()) == []

    path = frontend_file(tmp_path)
    calls = choose_returns(monkeypatch, path)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    ((_parent, _caption, start, filters),) = calls
    assert start == str(demo_root) and filters == "Front ends (*.pt);;All files (*)"
    assert dialog.frontend_edit.text() == str(path) and dialog.frontend() == str(path)
    assert dialog.cnn_lr_spin.isEnabled() and dialog.clear_frontend_button.isEnabled()
    assert "Checked when training starts" in dialog.frontend_note.text()
    # × 1: the CNN learns at the learning rate, the engine's default; nothing to set.
    assert frontend_args(dialog.config()) == ["--init-cnn", str(path)]

    type_into(qtbot, dialog.cnn_lr_spin, "0.25")
    assert frontend_args(dialog.config()) == ["--init-cnn", str(path), "--set", "cnn_lr_scale=0.25"]
    type_into(qtbot, dialog.cnn_lr_spin, "0")
    assert dialog.cnn_lr_spin.text() == "× 0: frozen"
    assert frontend_args(dialog.config()) == ["--init-cnn", str(path), "--set", "cnn_lr_scale=0"]

    # A single-label run starts from the same CNN: the choice stays and is passed.
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("single-label"))
    assert dialog.cnn_lr_spin.isEnabled()
    assert frontend_args(dialog.config()) == ["--init-cnn", str(path), "--set", "cnn_lr_scale=0"]
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("multi-label"))

    # "Choose…" again opens where the chosen file is; cancelling keeps it.
    calls = choose_returns(monkeypatch, None)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    assert calls[0][2] == str(tmp_path) and dialog.frontend() == str(path)

    qtbot.mouseClick(dialog.clear_frontend_button, LEFT)
    assert dialog.frontend_edit.text() == "" and dialog.frontend() == ""
    assert not dialog.cnn_lr_spin.isEnabled() and not dialog.clear_frontend_button.isEnabled()
    assert not dialog.frontend_note.isVisible()
    assert frontend_args(dialog.config()) == []


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "gone.pt", "no such file"),
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: empty_file(tmp / "empty.pt"), "is empty"),
    ],
    ids=["missing", "folder", "empty"],
)
def test_a_file_that_cannot_be_a_front_end_is_refused_at_once(
    qtbot, demo_root, engine, settings, tmp_path, monkeypatch, make, reason
):
    dialog = shown_dialog(qtbot, demo_root, engine, settings)
    good = frontend_file(tmp_path, "good.pt")
    choose_returns(monkeypatch, good)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    bad = make(tmp_path)
    choose_returns(monkeypatch, bad)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    note = dialog.frontend_note.text()
    assert dialog.frontend_note.isVisible() and str(bad) in note and reason in note
    assert dialog.frontend() == str(good)  # the earlier choice stays
    assert frontend_args(dialog.config()) == ["--init-cnn", str(good)]


def test_start_refuses_a_front_end_that_went_away_after_it_was_chosen(
    qtbot, demo_root, engine, settings, tmp_path, monkeypatch
):
    dialog = shown_dialog(qtbot, demo_root, engine, settings)
    path = frontend_file(tmp_path)
    choose_returns(monkeypatch, path)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    path.unlink()
    qtbot.mouseClick(dialog.start_button, LEFT)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "no such file" in dialog.frontend_note.text()
    qtbot.mouseClick(dialog.clear_frontend_button, LEFT)
    qtbot.mouseClick(dialog.start_button, LEFT)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_the_front_end_is_remembered_and_a_vanished_one_is_dropped_with_a_note(
    qtbot, demo_root, engine, settings, tmp_path, monkeypatch
):
    path = frontend_file(tmp_path)
    dialog = shown_dialog(qtbot, demo_root, engine, settings)
    choose_returns(monkeypatch, path)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    type_into(qtbot, dialog.cnn_lr_spin, "0.5")
    qtbot.mouseClick(dialog.start_button, LEFT)
    assert dialog.result() == QDialog.DialogCode.Accepted

    again = shown_dialog(qtbot, demo_root, engine, settings)
    assert again.frontend_edit.text() == str(path) and again.cnn_lr_spin.isEnabled()
    assert again.cnn_lr_spin.value() == pytest.approx(0.5)
    assert frontend_args(again.config()) == ["--init-cnn", str(path), "--set", "cnn_lr_scale=0.5"]
    again.reject()

    path.unlink()
    gone = shown_dialog(qtbot, demo_root, engine, settings)
    assert gone.frontend_edit.text() == "" and not gone.cnn_lr_spin.isEnabled()
    note = gone.frontend_note.text()
    assert gone.frontend_note.isVisible() and str(path) in note and "random weights" in note
    assert frontend_args(gone.config()) == []
    # Starting without it forgets it: no note next time.
    qtbot.mouseClick(gone.start_button, LEFT)
    assert gone.result() == QDialog.DialogCode.Accepted
    path.write_bytes(b"back again")
    last = shown_dialog(qtbot, demo_root, engine, settings)
    assert last.frontend() == "" and not last.frontend_note.isVisible()


def test_a_resumed_run_shows_its_own_front_end_read_only(
    qtbot, empty_root, engine, settings, tmp_path, monkeypatch
):
    theirs, mine = frontend_file(tmp_path, "theirs.pt"), frontend_file(tmp_path, "mine.pt")
    stored = TrainConfig.from_preset("fast", init_cnn=str(theirs), cnn_lr_scale=0.2)
    with Project.open(empty_root) as project:
        run = project.create_run(stored.to_dict())
        project.update_run(run.id, status="stopped", last_checkpoint="last.pt")
        plain = project.create_run(TrainConfig.from_preset("fast").to_dict())
        project.update_run(plain.id, status="failed", last_checkpoint="last.pt")
    dialog = shown_dialog(qtbot, empty_root, engine, settings)
    choose_returns(monkeypatch, mine)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    # Remembered as the user's own (accepted in code: Start is off, this project has no
    # labels to train on).
    dialog.accept()

    dialog = shown_dialog(qtbot, empty_root, engine, settings)
    dialog.set_resume(run.id)
    assert dialog.frontend_edit.text() == str(theirs)
    assert dialog.cnn_lr_spin.value() == pytest.approx(0.2)
    for widget in (
        dialog.frontend_edit,
        dialog.choose_frontend_button,
        dialog.clear_frontend_button,
        dialog.cnn_lr_spin,
    ):
        assert not widget.isEnabled()
    assert frontend_args(dialog.config()) == []  # the engine refuses to change a resumed run
    dialog.set_resume(plain.id)
    assert dialog.frontend_edit.text() == "" and dialog.cnn_lr_spin.value() == 1.0
    assert not dialog.choose_frontend_button.isEnabled()
    dialog.set_resume(None)  # a new run: the user's own choice, editable again
    assert dialog.frontend_edit.text() == str(mine)
    assert dialog.choose_frontend_button.isEnabled() and dialog.cnn_lr_spin.isEnabled()
    assert frontend_args(dialog.config()) == ["--init-cnn", str(mine)]


def test_an_engine_without_init_cnn_shows_no_front_end_and_passes_none(
    qtbot, demo_root, engine, settings, tmp_path, monkeypatch
):
    path = frontend_file(tmp_path)
    dialog = shown_dialog(qtbot, demo_root, engine, settings)
    choose_returns(monkeypatch, path)
    qtbot.mouseClick(dialog.choose_frontend_button, LEFT)
    qtbot.mouseClick(dialog.start_button, LEFT)
    older = EngineInfo(options=engine.options - {"--init-cnn"}, known=True)
    dialog = shown_dialog(qtbot, demo_root, older, settings)
    assert not dialog.frontend_box.isVisible()
    assert frontend_args(dialog.config()) == []


def test_labelled_recordings_without_a_split_are_split_with_one_click(
    qtbot, demo_root, engine, settings, tmp_path
):
    """A project labelled in the window has no splits; training would fail. The button under
    the warning puts the labelled recordings into train and val and the dialog says so."""
    import shutil

    root = tmp_path / "unsplit"
    shutil.copytree(demo_root, root)
    with Project.open(root) as project:
        recordings = project.recordings()
        project.set_split([r.id for r in recordings], None)
        kept = recordings[0]
        project.set_split([kept.id], "test")  # a choice of the user's: kept
    dialog = TrainDialog(root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert "training will fail" in dialog.warning_label.text()
    # Nothing to learn from: Start (and Return) started a run that failed at once.
    assert not dialog.start_button.isEnabled()
    assert "train split has no labels" in dialog.start_button.toolTip()
    qtbot.keyClick(dialog.epochs_spin.lineEdit(), Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0
    button = dialog.split_button
    assert button.isVisible()
    n = len(recordings) - 1
    assert button.text().startswith(f"Put the {n} labelled recordings without a split")

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    with Project.open(root) as project:
        splits = {r.id: r.split for r in project.recordings()}
    assert splits[kept.id] == "test"
    others = [s for i, s in splits.items() if i != kept.id]
    assert others.count("val") >= 1 and others.count("train") >= 1
    assert set(others) == {"train", "val"}
    assert f"train</b>: {others.count('train')} recording" in dialog.data_label.text()
    assert not dialog.warning_label.isVisible()
    assert not button.isVisible()
    assert dialog.start_button.isEnabled()


def test_without_a_val_split_the_dialog_says_the_end_of_each_recording_validates(
    qtbot, demo_root, engine, settings, tmp_path
):
    import shutil

    root = tmp_path / "noval"
    shutil.copytree(demo_root, root)
    with Project.open(root) as project:
        project.set_split([r.id for r in project.recordings("val")], "train")
    dialog = TrainDialog(root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    text = dialog.warning_label.text()
    assert "the last 20 % of each training recording validates instead" in text
    assert "fail" not in text
    assert "--set" not in " ".join(dialog.config())  # nothing to pass: the run's default
