"""TrainDialog's Generalisation group: the recipe follows the preset, each part switches,
``--set`` carries only the changes, resumed runs show theirs, choices are remembered.

Expectations come from the engine's own TrainConfig / TRAIN_PRESETS / RECIPE_OFF, so they
hold whatever values the presets use.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton

from tfstudio.qt.training.dialog import RECIPE_PARTS, TrainDialog
from tfstudio.qt.training.engine import engine_info
from tfstudio.session.engine import EngineInfo
from tfstudio.store import Project
from tfstudio.train.config import RECIPE_OFF, TrainConfig

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def recipe_engine() -> EngineInfo:
    """This checkout's engine: the presets and the recipe come from its TrainConfig."""
    return engine_info(known=True)


def open_dialog(qtbot, root, engine, settings, **kwargs) -> TrainDialog:
    dialog = TrainDialog(root, engine=engine, settings=settings, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def click(qtbot, check: QCheckBox) -> None:
    """Click the check box's indicator, as a user would."""
    option = QStyleOptionButton()
    check.initStyleOption(option)
    box = check.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, check)
    qtbot.mouseClick(check, LEFT, pos=box.center() if box.isValid() else QPoint(8, 8))


def type_value(qtbot, spin, text: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def sets(args: list[str]) -> dict[str, object]:
    """The ``--set FIELD=VALUE`` arguments as {field: JSON value}."""
    pairs = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    return {k: json.loads(v) for k, v in (p.split("=", 1) for p in pairs)}


def is_on(values: dict, part) -> bool:
    return any(values[f] != RECIPE_OFF[f] for f in part.fields)


def parts() -> list:
    """The dialog's parts this engine has (the mean teacher only where it exists)."""
    return [p for p in RECIPE_PARTS if all(f in RECIPE_OFF for f in p.fields)]


def test_the_default_preset_shows_its_recipe_and_adds_no_set(
    qtbot, demo_root, recipe_engine, settings
):
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    fast = TrainConfig.from_preset("fast").to_dict()
    assert dialog.preset_combo.currentData() == "fast"
    assert "--set" not in dialog.config()
    for part in parts():
        check = dialog.recipe_checks[part.name]
        assert check.isVisibleTo(dialog) and check.isEnabled()
        assert check.isChecked() == is_on(fast, part), part.name
        assert check.toolTip()
    mixing = dialog.recipe_spins["mixing"]
    assert mixing.value() == pytest.approx(100 * fast["mix_probability"], abs=0.5)
    assert dialog.recipe_values() == {f: fast[f] for p in parts() for f in p.fields}
    assert not dialog.recipe_note.isVisibleTo(dialog)


def test_unticking_event_mixing_sets_its_probability_to_zero(
    qtbot, demo_root, recipe_engine, settings
):
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    fast = TrainConfig.from_preset("fast").to_dict()
    assert fast["mix_probability"] > 0, "the fast preset mixes events"
    check, spin = dialog.recipe_checks["mixing"], dialog.recipe_spins["mixing"]
    click(qtbot, check)
    assert not check.isChecked() and not spin.isEnabled()
    args = dialog.config()
    assert args[args.index("--set") : args.index("--set") + 2] == ["--set", "mix_probability=0"]
    assert sets(args) == {"mix_probability": 0}
    click(qtbot, check)  # back on: the preset's value again, nothing to set
    assert spin.isEnabled() and "--set" not in dialog.config()
    wanted = 0.35 if fast["mix_probability"] != 0.35 else 0.6
    type_value(qtbot, spin, f"{100 * wanted:.0f}")
    assert sets(dialog.config()) == {"mix_probability": pytest.approx(wanted)}


def test_switching_off_several_parts_sets_each_field_to_off(
    qtbot, demo_root, recipe_engine, settings
):
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    fast = TrainConfig.from_preset("fast").to_dict()
    switched = [p for p in parts() if p.name in ("specaugment", "balance", "tune")]
    switched = [p for p in switched if is_on(fast, p)]
    for part in switched:
        click(qtbot, dialog.recipe_checks[part.name])
    expected = {f: RECIPE_OFF[f] for p in switched for f in p.fields if fast[f] != RECIPE_OFF[f]}
    args = dialog.config()
    assert sets(args) == expected
    for f, value in expected.items():
        if isinstance(value, bool):  # JSON, as train --set reads it
            assert f"{f}={json.dumps(value)}" in args


def test_ticking_specaugment_switches_on_its_masks_level_and_shift(
    qtbot, demo_root, recipe_engine, settings
):
    # No preset has SpecAugment on (measured no better on unheard sounds), yet it stays one
    # tick away, with the sizes it was measured at.
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    check = dialog.recipe_checks["specaugment"]
    assert not check.isChecked() and check.isEnabled()
    click(qtbot, check)
    assert check.isChecked() and dialog.recipe_details["specaugment"].isEnabled()
    assert "4 bands and 20 frames" in dialog.recipe_details["specaugment"].text()
    assert sets(dialog.config()) == {
        "freq_mask_bands": 4,
        "time_mask_frames": 20,
        "gain_db": 6.0,
        "freq_shift_bands": 1,
    }
    click(qtbot, check)
    assert "--set" not in dialog.config()


def test_the_paper_preset_shows_its_own_recipe(qtbot, demo_root, recipe_engine, settings):
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    paper = TrainConfig.from_preset("paper").to_dict()
    fast = TrainConfig.from_preset("fast").to_dict()
    dialog.preset_combo.setFocus()
    qtbot.keyClick(dialog.preset_combo, Qt.Key.Key_Down)  # fast → paper, as a user picks it
    assert dialog.preset_combo.currentData() == "paper"
    assert not dialog.recipe_checks["mixing"].isChecked()  # the paper trains without mixing
    for part in parts():
        assert dialog.recipe_checks[part.name].isChecked() == is_on(paper, part), part.name
    assert "--set" not in dialog.config()
    # Switched on under paper, mixing takes the fast preset's probability.
    click(qtbot, dialog.recipe_checks["mixing"])
    assert sets(dialog.config()) == {"mix_probability": pytest.approx(fast["mix_probability"])}
    qtbot.keyClick(dialog.preset_combo, Qt.Key.Key_Up)  # back to fast: its recipe again
    assert dialog.recipe_checks["mixing"].isChecked()
    assert "--set" not in dialog.config()


def test_a_resumed_run_shows_its_stored_recipe_read_only(
    qtbot, empty_root, recipe_engine, settings
):
    stored = TrainConfig.from_preset("fast", mix_probability=0.3, balance_classes=False)
    with Project.open(empty_root) as project:
        run = project.create_run(stored.to_dict())
        project.update_run(run.id, status="stopped", last_checkpoint="last.pt")
        # A run stored before the recipe existed resumes without it.
        old = project.create_run({"preset": "fast", "schedule": "drossos", "epochs": 5})
        project.update_run(old.id, status="failed", last_checkpoint="last.pt")
    dialog = open_dialog(qtbot, empty_root, recipe_engine, settings)
    dialog.set_resume(run.id)
    config = stored.to_dict()
    for part in parts():
        check = dialog.recipe_checks[part.name]
        assert check.isChecked() == is_on(config, part), part.name
        assert not check.isEnabled()
        if part.name in dialog.recipe_spins:
            assert not dialog.recipe_spins[part.name].isEnabled()
    assert not dialog.recipe_details["specaugment"].isEnabled()
    assert dialog.recipe_spins["mixing"].value() == pytest.approx(30)
    assert not dialog.recipe_checks["balance"].isChecked()
    assert "--set" not in dialog.config()  # the engine refuses to change a resumed recipe
    dialog.set_resume(old.id)
    assert not any(dialog.recipe_checks[p.name].isChecked() for p in parts())
    dialog.set_resume(None)  # a new run: the user's own choices, editable again
    assert dialog.recipe_checks["mixing"].isEnabled()
    assert dialog.recipe_checks["balance"].isChecked() == TrainConfig().balance_classes
    assert "--set" not in dialog.config()


def test_recipe_choices_are_remembered_as_changes_to_the_preset(
    qtbot, demo_root, recipe_engine, settings
):
    dialog = open_dialog(qtbot, demo_root, recipe_engine, settings)
    click(qtbot, dialog.recipe_checks["balance"])
    click(qtbot, dialog.recipe_checks["mixup"])
    fast = TrainConfig.from_preset("fast")
    weight = 3.5 if fast.rejected_weight != 3.5 else 4.5
    if not dialog.recipe_checks["rejected"].isChecked():
        click(qtbot, dialog.recipe_checks["rejected"])
    type_value(qtbot, dialog.recipe_spins["rejected"], f"{weight}")
    chosen = dialog.config()
    changes = sets(chosen)
    assert changes["balance_classes"] is (not fast.balance_classes)
    assert changes["rejected_weight"] == pytest.approx(weight)
    assert ("mixup_probability" in changes) == (fast.mixup_probability == 0)
    dialog.accept()

    again = open_dialog(qtbot, demo_root, recipe_engine, settings)
    assert again.config() == chosen
    for name, check in dialog.recipe_checks.items():
        assert again.recipe_checks[name].isChecked() == check.isChecked(), name
    # Back to the preset's recipe and remembered as such: the next run has no --set.
    qtbot.keyClick(again.preset_combo, Qt.Key.Key_Down)
    qtbot.keyClick(again.preset_combo, Qt.Key.Key_Up)
    assert "--set" not in again.config()
    again.accept()
    third = open_dialog(qtbot, demo_root, recipe_engine, settings)
    assert "--set" not in third.config()


def test_an_engine_without_set_shows_a_note_and_passes_nothing(qtbot, demo_root, engine, settings):
    no_set = EngineInfo(options=engine.options - {"--set"}, known=True)
    dialog = open_dialog(qtbot, demo_root, no_set, settings)
    assert not any(c.isVisibleTo(dialog) for c in dialog.recipe_checks.values())
    assert dialog.recipe_note.isVisibleTo(dialog) and dialog.recipe_note.text()
    assert "--set" not in dialog.config()


def test_the_recipe_needs_no_answer_from_the_doctor_and_keeps_choices_when_it_comes(
    qtbot, demo_root, recipe_engine, settings
):
    # Before the devices are known the preset's recipe is shown and can be changed already.
    waiting = open_dialog(qtbot, demo_root, engine_info(), settings)
    fast = TrainConfig.from_preset("fast").to_dict()
    assert waiting.recipe_checks["mixing"].isVisibleTo(waiting)
    assert not waiting.recipe_note.isVisibleTo(waiting)
    assert waiting.recipe_checks["mixing"].isChecked() == (fast["mix_probability"] > 0)
    assert "detecting" in waiting.device_combo.itemText(0)
    click(qtbot, waiting.recipe_checks["balance"])
    chosen = waiting.config()
    waiting._on_engine_ready(recipe_engine)  # a CPU machine: the devices change, nothing else
    assert waiting.device_combo.itemText(0) == "Auto: CPU"
    assert waiting.config() == chosen
    assert sets(chosen) == {"balance_classes": not fast["balance_classes"]}
