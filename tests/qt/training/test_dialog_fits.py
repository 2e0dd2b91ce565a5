"""The Train dialog on small screens: within the screen's free area, Start training and
Cancel always in view, on a 1366 × 768 laptop every setting in view without scrolling, long
texts in its combo boxes shortened with their whole text on hover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QDialog, QGroupBox, QToolTip

from tfstudio.qt.training.dialog import ElidingComboBox, TrainDialog

ON_SCREEN = Path(__file__).with_name("dialog_on_screen.py")


def offscreen_screen(folder: Path, width: int, height: int) -> str:
    """A QT_QPA_PLATFORM value: the offscreen platform with one screen of this size, whose
    windows have a frame."""
    config = folder / f"screen-{width}x{height}.json"
    screen = {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"windowFrameMargins": True, "screens": [screen]}))
    return f"offscreen:configfile={config}"


def dialog_on_screen(tmp_path: Path, root: Path, width: int, height: int, point_size: float):
    """What a user of a ``width`` × ``height`` screen sees of the dialog (dialog_on_screen.py)."""
    env = {**os.environ, "QT_QPA_PLATFORM": offscreen_screen(tmp_path, width, height)}
    done = subprocess.run(
        [sys.executable, str(ON_SCREEN), str(root), str(tmp_path / "s.ini"), str(point_size)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("point_size", [9, 11])
def test_on_a_1366_by_768_laptop_every_setting_is_in_view_without_scrolling(
    tmp_path, demo_root, point_size
):
    # 9 pt: Qt's default font without a desktop; 11 pt: a desktop's larger one (Ubuntu's).
    seen = dialog_on_screen(tmp_path, demo_root, 1366, 768, point_size)
    assert seen["frame_on_screen"], seen
    assert seen["buttons_in_view"], seen
    assert {"Data", "Run", "Teacher forcing", "Generalisation"} <= set(seen["groups"])
    # Before, two columns 936 × 720 px cut the plot and five of the recipe's twelve parts.
    assert seen["groups_out_of_view"] == [], seen


def test_on_a_smaller_screen_the_settings_scroll_between_the_frame_and_the_buttons(
    qtbot, demo_root, engine, settings
):
    # The test platform's screen is 800 × 800: too small for the settings in any layout.
    dialog = TrainDialog(demo_root, engine=engine, settings=settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    free = dialog.screen().availableGeometry()
    assert dialog.frameGeometry().height() <= free.height()
    assert free.contains(dialog.frameGeometry())
    for button in (
        dialog.start_button,
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel),
    ):
        assert button.visibleRegion().boundingRect() == button.rect()
    bar = dialog.body.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.isVisible() and bar.maximum() > 0)
    # Each group can be brought into view; the buttons stay where they were.
    buttons_at = dialog.buttons.mapTo(dialog, QPoint(0, 0))
    for box in dialog.findChildren(QGroupBox):
        if box.isVisibleTo(dialog):
            dialog.body.ensureWidgetVisible(box, 0, 0)
            assert not box.visibleRegion().isEmpty(), box.title()
    assert dialog.buttons.mapTo(dialog, QPoint(0, 0)) == buttons_at
    cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


def test_a_text_too_long_for_its_combo_box_ends_in_an_ellipsis_and_shows_whole_on_hover(qtbot):
    combo = ElidingComboBox(minimum=12, preferred=30)
    qtbot.addWidget(combo)
    text = "Resume run 12 (stopped after epoch 37 of 300, paper, inverse-sigmoid)"
    combo.addItem(text)
    combo.setToolTip("Continue a stopped run")
    # It asks for 30 characters, not for the whole description, and makes do with 12.
    assert combo.sizeHint().width() < combo.fontMetrics().horizontalAdvance(text)
    assert combo.minimumSizeHint().width() < combo.sizeHint().width()
    combo.resize(combo.sizeHint())
    combo.show()
    qtbot.waitExposed(combo)
    assert combo.is_elided()
    at = QPoint(10, combo.height() // 2)
    QApplication.sendEvent(combo, QHelpEvent(QEvent.Type.ToolTip, at, combo.mapToGlobal(at)))
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == f"{text}\n\nContinue a stopped run"
    QToolTip.hideText()
    combo.resize(combo.fontMetrics().horizontalAdvance(text) + 60, combo.height())
    assert not combo.is_elided()
