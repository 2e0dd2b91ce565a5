"""A seeded random walk through the main window: resizes, docks, recordings, detections,
labels, undo, the Train dialog and the Runs menu, in any order, by keys, mouse and the
window's own actions. It asserts only what must hold after anything: no Python exception in
a slot, no unexpected modal dialog, no layout item's wrapper left at a freed address.

``TFSTUDIO_MONKEY_SEEDS=3,4,5 TFSTUDIO_MONKEY_STEPS=300`` walks other seeds (by hand; the
committed seeds are kept few for the run's time); ``TFSTUDIO_MONKEY_LOG=1`` (with ``-s``) prints
the steps taken. Without removeWidget in TrainingPanel._place_plots (the crash this guards
against), both committed seeds fail by step 20.
"""

from __future__ import annotations

import os
import random
import traceback
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDialog, QMenu, QTabBar

from tests.qt.conftest import open_review_window, stale_layout_items
from tests.qt.test_annotation import drag, mid_hz
from tfstudio.qt.dialogs import SettingsDialog
from tfstudio.qt.training.dialog import TrainDialog

SEEDS = [int(s) for s in os.environ.get("TFSTUDIO_MONKEY_SEEDS", "1,2").split(",") if s]
STEPS = int(os.environ.get("TFSTUDIO_MONKEY_STEPS", "120"))
SIZES = [(800, 600), (1024, 640), (1280, 720), (1366, 768), (1600, 900), (1920, 1080)]
TABS = ["training", "runs", "review", "events", "evaluation"]
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class Monkey:
    """The walk's actions on ``win``; each is one user gesture (or a few)."""

    def __init__(self, qtbot, win, rng: random.Random):
        self.qtbot, self.win, self.rng = qtbot, win, rng
        self.modals: list[str] = []  # modal dialogs nobody asked for (closed by the watcher)
        self.expect_modal: type | None = None
        self.seen_modal: list[str] = []
        self.watcher = QTimer(interval=30)
        self.watcher.timeout.connect(self._close_modal)
        self.watcher.start()

    def _close_modal(self) -> None:
        box = QApplication.activeModalWidget()
        if box is None or not box.isVisible():
            return
        if self.expect_modal is not None and isinstance(box, self.expect_modal):
            self.seen_modal.append(type(box).__name__)
            self.qtbot.keyClick(box, Qt.Key.Key_Escape)  # Cancel, as a user would
            return
        self.modals.append(f"{type(box).__name__}: {box.windowTitle()}")
        if isinstance(box, QDialog):
            box.reject()
        else:
            box.close()

    def key(self, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        if QApplication.activeWindow() is not self.win:
            # The window's shortcuts need it active; offscreen, nothing gives it back after
            # a dialog closes, as a window manager would.
            self.win.activateWindow()
            self.qtbot.waitUntil(lambda: QApplication.activeWindow() is self.win, timeout=1000)
        self.qtbot.keyClick(self.win.view.graphics, key, modifier)

    # ------------------------------------------------------------------ actions
    def resize(self) -> str:
        w, h = self.rng.choice(SIZES)
        self.win.resize(w, h)
        self.qtbot.wait(self.rng.choice((0, 10, 40)))
        return f"resize {w}x{h}"

    def float_dock(self) -> str:
        name = self.rng.choice(["training", "runs", "review", "events", "classes", "recordings"])
        dock = self.win.docks[name]
        dock.setFloating(not dock.isFloating())
        self.qtbot.wait(10)
        return f"float {name} {dock.isFloating()}"

    def toggle_dock(self) -> str:
        name = self.rng.choice(["training", "runs", "review", "evaluation"])
        self.win.docks[name].toggleViewAction().trigger()
        return f"toggle {name} shown={not self.win.docks[name].isHidden()}"

    def raise_tab(self) -> str:
        name = self.rng.choice(TABS)
        dock = self.win.docks[name]
        if dock.isHidden():
            dock.toggleViewAction().trigger()
        bars = [b for b in self.win.findChildren(QTabBar) if b.isVisible() and b.count()]
        title = dock.windowTitle()
        for bar in bars:  # a click on its tab where it is tabbed, as a user would
            index = next((i for i in range(bar.count()) if bar.tabText(i) == title), None)
            if index is not None:
                self.qtbot.mouseClick(
                    bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center()
                )
                return f"click tab {name}"
        dock.raise_()
        return f"raise {name}"

    def recording(self) -> str:
        key = self.rng.choice((Qt.Key.Key_PageUp, Qt.Key.Key_PageDown))
        self.key(key)
        return f"key {key.name}"

    def zoom(self) -> str:
        key = self.rng.choice((Qt.Key.Key_Equal, Qt.Key.Key_Minus, Qt.Key.Key_0, Qt.Key.Key_Right))
        self.key(key)
        return f"key {key.name}"

    def show_detections(self) -> str:
        self.key(Qt.Key.Key_H, CTRL | SHIFT)
        return f"show detections {self.win.show_detections_action.isChecked()}"

    def threshold(self) -> str:
        slider = self.win.review.thresholds.slider
        if self.rng.random() < 0.5 and slider.isVisible():
            key = self.rng.choice((Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home))
            self.qtbot.keyClick(slider, key)
            return f"slider key {key.name}"
        slider.setSliderDown(True)
        slider.setValue(self.rng.randint(slider.minimum(), slider.maximum()))
        slider.setSliderDown(False)
        return f"slider drag to {slider.value()}"

    def review(self) -> str:
        key = self.rng.choice((Qt.Key.Key_A, Qt.Key.Key_R, Qt.Key.Key_J, Qt.Key.Key_K))
        self.key(key)
        return f"key {key.name}"

    def undo(self) -> str:
        redo = self.rng.random() < 0.4
        self.key(Qt.Key.Key_Z, CTRL | SHIFT if redo else CTRL)
        return "redo" if redo else "undo"

    def label(self) -> str:
        view = self.win.view
        if not view.isVisible() or not view.has_image():
            return "label (no view)"
        (t0, t1), _ = view.spec_vb.viewRange()
        a = self.rng.uniform(t0, t1)
        b = min(t1, a + self.rng.uniform(0.05, 0.3) * (t1 - t0))
        hz = mid_hz(view)
        drag(self.qtbot, view, "spec", (a, hz), (b, hz))
        return f"drag {a:.2f}-{b:.2f} s"

    def train_dialog(self) -> str:
        w, h = self.rng.choice([(800, 600), (1920, 1080)])
        self.win.resize(w, h)
        self.expect_modal = TrainDialog
        before = len(self.seen_modal)
        try:
            self.key(Qt.Key.Key_T, CTRL)  # exec() returns once the watcher cancels it
        finally:
            self.expect_modal = None
        return f"train dialog at {w}x{h} (opened: {len(self.seen_modal) > before})"

    def runs_menu(self) -> str:
        win = self.win
        dock = win.docks["runs"]
        if dock.isHidden():
            dock.toggleViewAction().trigger()
        dock.raise_()
        table = win.run_history.table
        self.qtbot.wait(10)
        if not table.isVisible() or table.rowCount() == 0:
            return "runs menu (no table)"
        pos = table.visualItemRect(table.item(0, 0)).center()
        viewport = table.viewport()
        # What a right click sends (QTest's clicks do not make the context-menu event).
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
        QApplication.sendEvent(viewport, event)
        menu = win.run_history.menu
        self.qtbot.wait(20)
        shown = isinstance(menu, QMenu) and menu.isVisible()
        if shown:
            self.qtbot.keyClick(menu, Qt.Key.Key_Escape)
        self.qtbot.wait(10)
        return f"runs menu (shown: {shown})"

    def view_look(self) -> str:
        key = self.rng.choice((Qt.Key.Key_F, Qt.Key.Key_W))
        self.key(key, CTRL | SHIFT)  # next frequency scale, waveform on/off
        return f"key Ctrl+Shift+{key.name}"

    def edit(self) -> str:
        key, modifier = self.rng.choice(
            [
                (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Backtab, SHIFT),
                (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier),
                (Qt.Key.Key_Right, SHIFT),
                (Qt.Key.Key_2, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
                (Qt.Key.Key_Z, Qt.KeyboardModifier.NoModifier),
            ]
        )
        self.key(key, modifier)
        return f"key {key.name} {modifier}"

    def click_row(self) -> str:
        name = self.rng.choice(["events", "review", "recordings"])
        widget = {
            "events": self.win.events,
            "review": self.win.review,
            "recordings": self.win.browser,
        }[name]
        views = [
            v
            for v in widget.findChildren(QAbstractItemView)
            if v.isVisible() and v.model() and v.model().rowCount()
        ]
        if not views:
            return f"click {name} (no rows)"
        table = self.rng.choice(views)
        index = table.model().index(self.rng.randrange(table.model().rowCount()), 0)
        rect = table.visualRect(index)
        if rect.isEmpty():
            return f"click {name} (row out of view)"
        self.qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        return f"click {name} row {index.row()}"

    def settings_dialog(self) -> str:
        self.expect_modal = SettingsDialog
        before = len(self.seen_modal)
        try:
            self.key(Qt.Key.Key_Comma, CTRL)
        finally:
            self.expect_modal = None
        return f"settings dialog (opened: {len(self.seen_modal) > before})"

    def reopen(self) -> str:
        root = self.win.workspace.project.root
        if self.rng.random() < 0.5:
            self.win.close_project()
            self.qtbot.wait(10)
        assert self.win.open_project(root)
        return "reopen project"

    def floating_size(self) -> str:
        floating = [n for n, d in self.win.docks.items() if d.isFloating() and d.isVisible()]
        if not floating:
            return "resize floating (none)"
        name = self.rng.choice(floating)
        w, h = self.rng.choice([(300, 200), (600, 400), (1200, 300), (900, 700)])
        self.win.docks[name].resize(w, h)
        self.qtbot.wait(10)
        return f"resize floating {name} {w}x{h}"

    def settle(self) -> str:
        self.qtbot.wait(self.rng.choice((20, 60)))
        return "wait"


def walk(qtbot, win, seed: int, steps: int) -> list[str]:
    rng = random.Random(seed)
    monkey = Monkey(qtbot, win, rng)
    weighted: list[tuple[Callable[[], str], int]] = [
        (monkey.resize, 8),
        (monkey.float_dock, 3),
        (monkey.toggle_dock, 2),
        (monkey.raise_tab, 6),
        (monkey.recording, 4),
        (monkey.zoom, 4),
        (monkey.show_detections, 2),
        (monkey.threshold, 4),
        (monkey.review, 6),
        (monkey.undo, 4),
        (monkey.label, 3),
        (monkey.train_dialog, 2),
        (monkey.runs_menu, 2),
        (monkey.view_look, 2),
        (monkey.edit, 4),
        (monkey.click_row, 3),
        (monkey.settings_dialog, 1),
        (monkey.reopen, 1),
        (monkey.floating_size, 2),
        (monkey.settle, 3),
    ]
    actions = [a for a, _ in weighted]
    weights = [w for _, w in weighted]
    log: list[str] = []
    try:
        for step in range(steps):
            action = rng.choices(actions, weights)[0]
            # The step's own details from a generator of its own: what the window shows
            # (rows, a dialog) may differ with the machine's speed, the steps taken do not.
            monkey.rng = random.Random(f"{seed}-{step}")
            with qtbot.captureExceptions() as errors:
                log.append(f"{step}: {action()}")
                qtbot.wait(1)
            if errors:
                text = "".join(traceback.format_exception(errors[0][1]))
                pytest.fail(f"seed {seed}, after {log[-8:]}:\n{text}")
            if monkey.modals:
                pytest.fail(f"seed {seed}, unexpected dialog {monkey.modals} after {log[-8:]}")
            if step % 20 == 19:
                stale = stale_layout_items()
                assert not stale, f"seed {seed}, stale {stale} after {log[-8:]}"
    finally:
        monkey.watcher.stop()
    return log


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_walk_raises_nothing_and_leaves_no_stale_wrappers(qtbot, detected_project, seed):
    win = open_review_window(qtbot, detected_project)
    log = walk(qtbot, win, seed, STEPS)
    if os.environ.get("TFSTUDIO_MONKEY_LOG"):
        print("\n".join(log))
    # The walk reached the window: every dialog it asked for by its keys opened.
    assert not [line for line in log if "opened: False" in line]
    for dock in win.docks.values():  # back in the window, then once more through sizes
        dock.setFloating(False)
    for size in SIZES:
        win.resize(*size)
        qtbot.wait(5)
    assert not stale_layout_items(), log[-8:]
    win.close()
