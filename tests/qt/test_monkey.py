"""A seeded random walk through the main window: resizes, docks (floated, re-docked to another
area, tabified), recordings and their splits (context menu, one or several), detections,
labels, the Events table (sorted by each column, rows multi-selected, relabelled, deleted,
undone), the Review dock (filters, sort, class filter, thresholds, Accept/Reject), the
Evaluation dock (split, threshold, Evaluate, Cancel, rows), class edits in the Classes list's
context menu (add, rename, recolour cancelled, hotkey, merge, delete, confirmed or not),
undo, the Train, Settings and Export dialogs (an export sometimes accepted, in a format drawn
at random), the menu bar, the Runs menu and one detection in a real child process, in any
order, by keys, mouse and the window's own actions and menus. It asserts only what must hold
after anything: no Python exception in a slot, no unexpected modal dialog, no layout item's
wrapper left at a freed address, no label or detection of a class that is gone and no list
naming a class as it no longer is, and an accepted export that says what it wrote.

Dialogs a gesture asks for are answered as a user would (Escape; typing and Enter, or Yes,
where that is the point). Evaluate runs a stand-in child (fake_cli.py) that prints scores
(the fake run has no model); Detect runs the real command line, which fails on the fake run's
missing checkpoint with a message box the walk expects at any time (the walk goes on while
it runs, or cancels it).

``TFSTUDIO_MONKEY_SEEDS=6,7,8 TFSTUDIO_MONKEY_STEPS=300`` walks other seeds (by hand, a few
at a time; the committed seeds are kept few for the run's time, ~22 s on two busy cores);
``TFSTUDIO_MONKEY_LOG=1`` (with ``-s``) prints the steps taken, their time and what happened
meanwhile. Without removeWidget in TrainingPanel._place_plots (the crash this guards
against), seed 5 fails by step 20 (seed 3 in some runs); seed 3 walks every gesture above.
It found class names with an "&" drawn without it in the Classes menu.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTabBar,
    QToolButton,
    QWidget,
)

from tests.qt.conftest import open_review_window, stale_layout_items
from tests.qt.test_annotation import drag, mid_hz
from tests.qt.test_detect import FAKE_CLI
from tfstudio.qt.dialogs import ExportDialog, ReportDialog, SettingsDialog
from tfstudio.qt.training.dialog import TrainDialog

SEEDS = [int(s) for s in os.environ.get("TFSTUDIO_MONKEY_SEEDS", "3,5").split(",") if s]
STEPS = int(os.environ.get("TFSTUDIO_MONKEY_STEPS", "120"))
SIZES = [(800, 600), (1024, 640), (1280, 720), (1366, 768), (1600, 900), (1920, 1080)]
TABS = ["training", "runs", "review", "events", "evaluation"]
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton
AREAS = [
    Qt.DockWidgetArea.LeftDockWidgetArea,
    Qt.DockWidgetArea.RightDockWidgetArea,
    Qt.DockWidgetArea.TopDockWidgetArea,
    Qt.DockWidgetArea.BottomDockWidgetArea,
]
# What a user might type as a class name: new ones, one that exists, blanks, an ampersand, a
# long one, letters beyond ASCII.
CLASS_NAMES = ["owl", "wren", "bird", "Frog", "", "  ", "a & b", "x" * 70, "grüne Kröte"]
# A detection's child (torch's import, then the missing checkpoint) on a busy machine.
CHILD_MS = 60_000


def menu_text(text: str) -> str:
    """An action's text as shown: without its mnemonic '&' (a '&&' is one '&')."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def clickable(widget: QWidget) -> bool:
    """Shown, enabled and not scrolled or squeezed out of sight."""
    return widget.isVisible() and widget.isEnabled() and not widget.visibleRegion().isEmpty()


@dataclass
class Expect:
    """A modal dialog a gesture asks for (of ``kind``, its title containing ``title``), and
    how the user answers it."""

    kind: type
    answer: Callable[[QWidget], None]
    title: str = ""


class Monkey:
    """The walk's actions on ``win``; each is one user gesture (or a few)."""

    def __init__(self, qtbot, win, rng: random.Random, out: Path):
        self.qtbot, self.win, self.rng, self.out = qtbot, win, rng, out
        self.modals: list[str] = []  # modal dialogs nobody asked for (closed by the watcher)
        self.failures: list[str] = []  # what a gesture found wrong besides dialogs
        self.expected: list[Expect] = []  # for the gesture under way
        self.standing: list[Expect] = []  # at any time (a detection's end)
        self.seen_modal: list[str] = []
        self.notes: list[str] = []  # what happened besides the gesture (a detection's end)
        self._answered: dict[int, tuple[QWidget, float]] = {}
        self.detected = False  # one detection per walk
        self.step = 0
        self.watcher = QTimer(interval=30)
        self.watcher.timeout.connect(self._close_modal)
        self.watcher.start()

    # ------------------------------------------------------------------ dialogs
    @contextmanager
    def expecting(self, *expected: Expect) -> Iterator[list[str]]:
        """During the block, these dialogs are answered; yields what was seen (type names)."""
        before = len(self.seen_modal)
        seen: list[str] = []
        self.expected = list(expected)
        try:
            yield seen
        finally:
            self.expected = []
            seen.extend(self.seen_modal[before:])

    def _close_modal(self) -> None:
        box = QApplication.activeModalWidget()
        if box is None or not box.isVisible():
            return
        # An answer closes its dialog at once; one still there after a while is answered again.
        now = time.monotonic()
        if now - self._answered.get(id(box), (None, -1.0))[1] < 0.5:
            return
        self._answered[id(box)] = (box, now)  # held: no later dialog gets its id
        for expect in (*self.expected, *self.standing):
            if isinstance(box, expect.kind) and expect.title in box.windowTitle():
                self.seen_modal.append(f"{type(box).__name__}: {box.windowTitle()}")
                if expect in self.standing:
                    self.notes.append(f"answered {box.windowTitle()!r}")
                expect.answer(box)
                return
        self.modals.append(f"{type(box).__name__}: {box.windowTitle()}")
        if isinstance(box, QDialog):
            box.reject()
        else:
            box.close()

    def escape(self, box: QWidget) -> None:
        self.qtbot.keyClick(box, Qt.Key.Key_Escape)  # Cancel, as a user would

    def press(self, which: QMessageBox.StandardButton) -> Callable[[QWidget], None]:
        def answer(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            self.qtbot.mouseClick(box.button(which), LEFT)

        return answer

    def type_text(self, text: str) -> Callable[[QWidget], None]:
        """Type ``text`` over what the dialog's field holds, then Enter."""

        def answer(box: QWidget) -> None:
            field = box.findChild(QLineEdit)
            assert field is not None
            field.selectAll()
            self.qtbot.keyClick(field, Qt.Key.Key_Delete)
            self.type_into(field, text)
            self.qtbot.keyClick(field, Qt.Key.Key_Return)

        return answer

    def type_into(self, widget: QWidget, text: str) -> None:
        """Key presses that type ``text`` (QTest's keyClicks aborts on letters beyond ASCII:
        those go as the key events a keyboard layout sends, with their text)."""
        for char in text:
            if char.isascii():
                self.qtbot.keyClicks(widget, char)
                continue
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, NONE, char))

    def ok(self, box: QWidget) -> None:
        buttons = box.findChild(QDialogButtonBox)
        assert buttons is not None
        self.qtbot.mouseClick(buttons.buttons()[0], LEFT)

    # -------------------------------------------------------------------- input
    def key(self, key: Qt.Key, modifier=NONE) -> None:
        if QApplication.activeWindow() is not self.win:
            # The window's shortcuts need it active; offscreen, nothing gives it back after
            # a dialog closes, as a window manager would. Asked again while waiting: a
            # detection's message box may come and go meanwhile and take it with it.
            def active() -> bool:
                if QApplication.activeWindow() is self.win:
                    return True
                if QApplication.activeModalWidget() is None:
                    self.win.windowHandle().requestActivate()
                return False

            try:
                self.qtbot.waitUntil(active, timeout=2000)
            except Exception:
                app = QApplication
                shown = [f"{type(w).__name__}" for w in app.topLevelWidgets() if w.isVisible()]
                raise AssertionError(
                    f"the window is not active: active {app.activeWindow()}, popup "
                    f"{app.activePopupWidget()}, modal {app.activeModalWidget()}, focus window "
                    f"{app.focusWindow()}, shown {shown}"
                ) from None
        self.qtbot.keyClick(self.win.view.graphics, key, modifier)

    def context_pick(self, view: QAbstractItemView, pos: QPoint, path: list[str]) -> list[str]:
        """A right click at ``pos`` of the view, then clicks on ``path`` in its menu."""
        return self.menu_pick(lambda: self.context_menu(view, pos), path)

    def menubar_pick(self, path: list[str]) -> list[str]:
        """A click on the menu bar's ``path[0]``, then on ``path[1:]`` in its menu."""
        bar = self.win.menuBar()
        action = next(a for a in bar.actions() if menu_text(a.text()) == path[0])
        center = bar.actionGeometry(action).center()

        def open_menu() -> None:
            self.qtbot.mouseMove(bar, center)
            self.qtbot.mouseClick(bar, LEFT, pos=center)

        return [path[0], *self.menu_pick(open_menu, path[1:])]

    def menu_pick(self, open_menu: Callable[[], None], path: list[str]) -> list[str]:
        """``open_menu()``, then in the menu that pops up a click on the entry whose text
        starts with ``path[0]``, in the submenu that opens on ``path[1]``…, as a user's
        clicks. What was clicked (✓: it chose an action), or what was not there (the menu
        then closed)."""
        clicked: list[str] = []
        left = list(path)
        state: dict = {"tries": 0, "menu": None, "over": False, "done": False}

        def step() -> None:
            if state["over"]:
                return
            popup = QApplication.activePopupWidget()
            wanted = state["menu"]
            if (
                not isinstance(popup, QMenu)
                or not popup.isVisible()
                or (wanted is not None and popup is not wanted)
            ):
                state["tries"] += 1
                if state["tries"] < 100:
                    QTimer.singleShot(20, step)
                else:
                    clicked.append("(no menu)")
                    state["done"] = True
                    self._close_popups()
                return
            action = next(
                (
                    a
                    for a in popup.actions()
                    if a.isVisible()
                    and a.isEnabled()
                    and not a.isSeparator()
                    and menu_text(a.text()).startswith(left[0])
                ),
                None,
            )
            if action is None:
                clicked.append(f"(no {left[0]!r})")
                state["done"] = True
                self._close_popups()
                return
            center = popup.actionGeometry(action).center()
            self.qtbot.mouseMove(popup, center)
            clicked.append(menu_text(action.text()))
            left.pop(0)
            if left:
                state["tries"], state["menu"] = 0, action.menu()
                self.qtbot.mouseClick(popup, LEFT, pos=center)  # opens the submenu
                QTimer.singleShot(20, step)
            else:

                def triggered(_action) -> None:
                    clicked.append("✓")  # the click chose it (not a release taken for none)

                popup.triggered.connect(triggered)
                state["done"] = True
                self.qtbot.mouseClick(popup, LEFT, pos=center)
                popup.triggered.disconnect(triggered)

        QTimer.singleShot(0, step)
        open_menu()  # a context menu's exec() returns once it is done with; the bar's not
        try:
            self.qtbot.waitUntil(lambda: state["done"], timeout=3000)
        except Exception:
            self._close_popups()
        state["over"] = True  # a menu that never came: not the next gesture's to click in
        self.qtbot.wait(5)
        return clicked or ["(no menu)"]

    def _close_popups(self) -> None:
        for _ in range(5):
            popup = QApplication.activePopupWidget()
            if popup is None:
                return
            popup.close()

    def context_menu(self, view: QAbstractItemView, pos: QPoint) -> None:
        """What a right click at ``pos`` of the view's viewport sends (QTest's clicks do not
        make the context-menu event)."""
        viewport = view.viewport()
        # The pointer is where the right click is: the menu takes a release where it popped
        # up for no choice (closes), and a pointer left on an entry by the last menu was that.
        self.qtbot.mouseMove(viewport, pos)
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
        QApplication.sendEvent(viewport, event)

    def front(self, name: str) -> None:
        """The dock shown and in front: a click on its tab where it is tabbed, as a user's."""
        dock = self.win.docks[name]
        if dock.isHidden():
            dock.toggleViewAction().trigger()
        bars = [b for b in self.win.findChildren(QTabBar) if b.isVisible() and b.count()]
        title = dock.windowTitle()
        for bar in bars:
            index = next((i for i in range(bar.count()) if bar.tabText(i) == title), None)
            if index is not None:
                self.qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
                break
        else:
            dock.raise_()
        self.qtbot.wait(5)

    def scroll_to(self, widget: QWidget) -> None:
        """Scroll the dock's area to ``widget``, as a user scrolls to a button below."""
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if isinstance(area, QScrollArea):
            area.ensureWidgetVisible(widget)

    def click(self, widget: QWidget, modifier=NONE) -> bool:
        """A click on ``widget`` where a user could click it; False where it is out of reach."""
        self.scroll_to(widget)
        if not clickable(widget):
            return False
        self.qtbot.mouseClick(widget, LEFT, modifier, widget.rect().center())
        return True

    def click_row(self, table: QAbstractItemView, row: int, modifier=NONE) -> bool:
        index = table.model().index(row, 0)
        table.scrollTo(index)
        rect = table.visualRect(index)
        if rect.isEmpty() or not clickable(table.viewport()):
            return False
        self.qtbot.mouseClick(table.viewport(), LEFT, modifier, rect.center())
        return True

    def combo_step(self, combo) -> str:
        """The next or previous entry of a combo box by its arrow keys."""
        key = self.rng.choice((Qt.Key.Key_Down, Qt.Key.Key_Up))
        if not clickable(combo):
            return "(out of reach)"
        self.qtbot.keyClick(combo, key)
        return combo.currentText()

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
        self.front(name)
        return f"front {name}"

    def redock(self) -> str:
        """Where a user's drag of a dock's title bar ends: another area, or on another dock
        (they become tabs)."""
        docks = self.win.docks
        if self.rng.random() < 0.6:
            name = self.rng.choice(list(docks))
            area = self.rng.choice(AREAS)
            self.win.addDockWidget(area, docks[name])
            what = f"dock {name} to {area.name}"
        else:
            first, second = self.rng.sample(list(docks), 2)
            self.win.tabifyDockWidget(docks[first], docks[second])
            what = f"tabify {second} onto {first}"
        self.qtbot.wait(10)
        return what

    def press_one_of(self, *keys: Qt.Key) -> str:
        key = self.rng.choice(keys)
        self.key(key)
        return f"key {key.name}"

    def recording(self) -> str:
        return self.press_one_of(Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)

    def zoom(self) -> str:
        return self.press_one_of(Qt.Key.Key_Equal, Qt.Key.Key_Minus, Qt.Key.Key_0, Qt.Key.Key_Right)

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
        return self.press_one_of(Qt.Key.Key_A, Qt.Key.Key_R, Qt.Key.Key_J, Qt.Key.Key_K)

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
        with self.expecting(Expect(TrainDialog, self.escape)) as seen:
            self.key(Qt.Key.Key_T, CTRL)  # exec() returns once the watcher cancels it
        return f"train dialog at {w}x{h} (opened: {bool(seen)})"

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
        self.context_menu(table, table.visualItemRect(table.item(0, 0)).center())
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
                (Qt.Key.Key_Tab, NONE),
                (Qt.Key.Key_Backtab, SHIFT),
                (Qt.Key.Key_Delete, NONE),
                (Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier),
                (Qt.Key.Key_Right, SHIFT),
                (Qt.Key.Key_2, NONE),
                (Qt.Key.Key_Escape, NONE),
                (Qt.Key.Key_Z, NONE),
            ]
        )
        self.key(key, modifier)
        return f"key {key.name} {modifier}"

    def click_a_row(self) -> str:
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
        self.qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
        return f"click {name} row {index.row()}"

    def settings_dialog(self) -> str:
        with self.expecting(Expect(SettingsDialog, self.escape)) as seen:
            self.key(Qt.Key.Key_Comma, CTRL)
        return f"settings dialog (opened: {bool(seen)})"

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

    # ------------------------------------------------------ the docks' controls
    def events_table(self) -> str:
        """Sort by a column; select one, several (Ctrl/Shift+click) rows; relabel them with
        a class key, delete them, or undo."""
        self.front("events")
        table = self.win.events.table
        rows = table.model().rowCount()
        what = self.rng.choice(["sort", "sort", "select", "relabel", "delete"])
        if what == "sort" or not rows:
            header = table.horizontalHeader()
            column = self.rng.randrange(header.count())
            x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
            if not clickable(header.viewport()) or x < 0 or x >= header.width():
                return "events sort (header out of reach)"
            self.qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(x, header.height() // 2))
            return f"events sort by {column} {header.sortIndicatorOrder().name}"
        first = self.rng.randrange(rows)
        if not self.click_row(table, first):
            return "events rows (out of reach)"
        picked = [first]
        for _ in range(self.rng.choice((0, 1, 2))):
            modifier = self.rng.choice((CTRL, SHIFT))
            row = self.rng.randrange(rows)
            if self.click_row(table, row, modifier):
                picked.append(row)
        selected = len(self.win.workspace.selection())
        if what == "relabel":
            digit = self.rng.choice((Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3))
            self.qtbot.keyClick(table, digit)  # the class keys act on every selected event
            return f"events rows {picked} ({selected} selected) to class {digit.name}"
        if what == "delete":
            self.qtbot.keyClick(table, Qt.Key.Key_Delete)
            if self.rng.random() < 0.5:
                self.qtbot.keyClick(table, Qt.Key.Key_Z, CTRL)
                return f"events rows {picked} ({selected} selected) deleted, undone"
            return f"events rows {picked} ({selected} selected) deleted"
        return f"events rows {picked} ({selected} selected)"

    def review_panel(self) -> str:
        """The Review dock's filters, sort, class filter, threshold controls and buttons."""
        self.front("review")
        panel = self.win.review
        controls = panel.thresholds
        what = self.rng.choice(["combo", "combo", "button", "button", "button", "thresholds"])
        if what == "combo":
            name, combo = self.rng.choice(
                [
                    ("show", panel.show_combo),
                    ("scope", panel.scope_combo),
                    ("sort", panel.sort_combo),
                    ("class", panel.class_combo),
                    ("threshold of", controls.scope),
                ]
            )
            return f"review {name}: {self.combo_step(combo)}"
        if what == "button":
            command = self.rng.choice(["accept", "reject", "accept", "next", "previous", "adjust"])
            button = panel.buttons[command]
            if not button.isEnabled() and clickable(panel.scope_combo):
                # Nothing listed here: the list's other scope, as a user looks further.
                self.qtbot.keyClick(panel.scope_combo, Qt.Key.Key_Down)
            clicked = self.click(button)
            return f"review button {command} (clicked: {clicked})"
        name, button = self.rng.choice(
            [
                ("per class", controls.per_class_button),
                ("reset", controls.reset_button),
                ("apply to all", controls.apply_all_button),
            ]
        )
        clicked = self.click(button)
        table = controls.table
        if clicked and table.isVisible() and table.rowCount():
            row = self.rng.randrange(table.rowCount())
            if self.click_row(table, row):
                return f"review {name}, then class row {row}"
        return f"review {name} (clicked: {clicked})"

    def evaluation(self) -> str:
        """The Evaluation dock: its split, the review threshold box, Evaluate (a stand-in
        child that prints scores), Cancel, a click on a row of the scores."""
        self.front("evaluation")
        panel = self.win.evaluation
        what = self.rng.choice(["split", "threshold", "evaluate", "evaluate", "row"])
        if what == "split":
            return f"evaluation split: {self.combo_step(panel.split_combo)}"
        if what == "threshold":
            return f"evaluation at the review threshold (clicked: {self.click(panel.use_slider)})"
        if what == "row":
            rows = panel.table.rowCount()
            if not rows:
                return "evaluation row (none)"
            row = self.rng.randrange(rows)
            return f"evaluation row {row} (clicked: {self.click_row(panel.table, row)})"
        if not panel.evaluate_button.isEnabled() and "choose the" in panel.summary.text():
            self.combo_step(panel.split_combo)  # as its message says: the other split
        if not self.click(panel.evaluate_button):
            return f"evaluate (not clickable: {panel.summary.text()[:60]!r})"
        if not panel.is_running():
            return "evaluate (did not start)"
        with self.qtbot.waitSignal(panel.finished, timeout=CHILD_MS) as finished:
            if self.rng.random() < 0.3:
                self.qtbot.wait(self.rng.choice((0, 30)))
                if not self.click(panel.cancel_button):
                    panel.cancel()  # its row scrolled away: as the busy row's own button
        return f"evaluate: {finished.args[0].status}, {panel.table.rowCount()} rows"

    # ------------------------------------------------------------------ classes
    def classes(self) -> str:
        """A class edit through the Classes list's context menu (or + Add class), each
        dialog answered as a user would: add, rename, recolour (cancelled), hotkey, merge
        into another and delete, confirmed or not."""
        self.front("classes")
        palette = self.win.palette_widget
        listing = palette.list
        what = self.rng.choice(
            ["add", "rename", "colour", "hotkey", "merge", "merge", "delete", "delete", "delete"]
        )
        if listing.count() == 0 or not clickable(listing.viewport()):
            what = "add"
        name = self.rng.choice(CLASS_NAMES)
        confirm = self.rng.random() < 0.7
        yes_no = self.press(
            QMessageBox.StandardButton.Yes if confirm else QMessageBox.StandardButton.No
        )
        if what == "add" and (listing.count() == 0 or self.rng.random() < 0.5):
            add = next(
                b for b in palette.findChildren(QToolButton) if b.text().endswith("Add class")
            )
            with self.expecting(Expect(QInputDialog, self.type_text(name))) as seen:
                clicked = self.click(add)
            return f"add class {name!r} by its button (clicked: {clicked}, {seen})"
        row = self.rng.randrange(listing.count())
        item = listing.item(row)
        listing.scrollToItem(item)
        pos = listing.visualItemRect(item).center()
        ws = self.win.workspace
        names = [
            getattr(ws.event_class(listing.item(r).data(Qt.ItemDataRole.UserRole)), "name", "?")
            for r in range(listing.count())
        ]
        cls, others = names[row], names[:row] + names[row + 1 :]
        path, expect = {
            "add": (["Add class"], Expect(QInputDialog, self.type_text(name))),
            "rename": (["Rename"], Expect(QInputDialog, self.type_text(name))),
            "colour": (["Change colour"], Expect(QColorDialog, self.escape)),
            "hotkey": (["Hotkey", self.rng.choice([*"123456789", "None"])], None),
            "merge": (
                ["Merge", self.rng.choice(others) if others else "?"],
                Expect(QMessageBox, yes_no, "Merge"),
            ),
            "delete": (["Delete"], Expect(QMessageBox, yes_no, "Delete")),
        }[what]
        with self.expecting(*([expect] if expect else [])) as seen:
            clicked = self.context_pick(listing, pos, path)
        answer = {"add": name, "rename": name, "merge": confirm, "delete": confirm}.get(what, "")
        return f"class {cls!r}: {' > '.join(clicked)} {answer!r} ({seen})"

    def check_classes(self) -> None:
        """No label or detection shown is of a class that is gone; the lists that name the
        classes (the Classes list, the Review dock's class filter and threshold choice, the
        Events table) name them as they are now."""
        ws = self.win.workspace
        if ws.project is None:
            return
        classes = {c.id: c.name for c in ws.classes()}
        found = []
        for kind, index in (("label", ws.labels), ("detection", ws.detections)):
            orphans = [e for e in index.order if e.class_id not in classes]
            if orphans:
                found.append(f"{len(orphans)} {kind}(s) of a class that is gone")
        if self.win.palette_widget.list.count() != len(classes):
            found.append(f"the Classes list has {self.win.palette_widget.list.count()} rows")
        for what, combo in (
            ("review class filter", self.win.review.class_combo),
            ("threshold choice", self.win.review.thresholds.scope),
        ):
            named = {
                combo.itemData(i): combo.itemText(i)
                for i in range(combo.count())
                if combo.itemData(i) is not None
            }
            stale = {i: n for i, n in named.items() if classes.get(i) != n}
            if stale:
                found.append(f"the {what} names {stale}, the classes are {classes}")
        model = self.win.events.model
        shown = {model.index(r, 0).data() for r in range(model.rowCount())}
        if not shown <= set(classes.values()):
            found.append(f"the Events table shows {shown - set(classes.values())}")
        self.failures.extend(found)

    # ------------------------------------------------------------------- splits
    def splits(self) -> str:
        """Set split ▸ train/val/test/none (or automatically) from the Recordings list's
        context menu, on one recording or on several selected (Ctrl/Shift+click)."""
        self.front("recordings")
        table = self.win.browser.table
        rows = table.model().rowCount()
        if not rows:
            return "splits (no recordings)"
        first = self.rng.randrange(rows)
        if not self.click_row(table, first):
            return "splits (out of reach)"
        if self.rng.random() < 0.5:
            self.click_row(table, self.rng.randrange(rows), self.rng.choice((CTRL, SHIFT)))
        chosen = len(self.win.browser.selected_ids())
        split = self.rng.choice(["Train", "Validation", "Test", "None", "Automatically"])
        index = table.model().index(first, 0)
        clicked = self.context_pick(table, table.visualRect(index).center(), [split])
        return f"split of {chosen} recording(s): {clicked}"

    # ------------------------------------------------------------------- export
    def export(self) -> str:
        """File ▸ Export (Ctrl+E): cancelled, or a format drawn at random exported to a
        folder of the walk's; the window must say what it wrote."""
        accept = self.rng.random() < 0.4
        if not accept:
            with self.expecting(Expect(ExportDialog, self.escape)) as seen:
                self.key(Qt.Key.Key_E, CTRL)
            return f"export cancelled (opened: {bool(seen)})"
        out = self.out / f"step-{self.step}"
        out.mkdir(parents=True)
        chosen: list[str] = []

        def fill(box: QWidget) -> None:
            assert isinstance(box, ExportDialog)
            box.format.setCurrentIndex(self.rng.randrange(box.format.count()))
            box.source.setCurrentIndex(self.rng.randrange(box.source.count()))
            chosen.extend((box.format.currentData(), box.source.currentData()))
            target = out / Path(box.path.text()).name
            box.path.selectAll()
            self.type_into(box.path, str(target))
            buttons = box.findChild(QDialogButtonBox)
            assert buttons is not None
            self.qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok), LEFT)

        with self.expecting(Expect(ExportDialog, fill), Expect(ReportDialog, self.ok)) as seen:
            self.key(Qt.Key.Key_E, CTRL)
        said = self.win.statusBar().currentMessage()
        written = sorted(p.name for p in out.rglob("*") if p.is_file())
        if not said.startswith("Exported") or not written:
            self.failures.append(f"export {chosen} said {said!r}, wrote {written} ({seen})")
        return f"export {chosen}: {said!r} ({seen})"

    # -------------------------------------------------------------------- menus
    def menus(self) -> str:
        """A command chosen in the window's menu bar: Model ▸ Evaluate…, Annotate ▸ Set
        split ▸ …, File ▸ Export labels… (cancelled), Edit ▸ Undo/Redo, a dock in View, a
        frequency scale."""
        rng = self.rng
        path = rng.choice(
            [
                ["Model", "Evaluate"],
                ["Annotate", "Set split", rng.choice(["Train", "Validation", "Test", "None"])],
                ["File", "Export labels"],
                ["Edit", rng.choice(["Undo", "Redo"])],
                ["View", rng.choice([d.windowTitle() for d in self.win.docks.values()])],
                ["View", "Frequency scale", rng.choice(["Linear", "Logarithmic", "Mel"])],
                ["Model", "Show detections"],
            ]
        )
        panel = self.win.evaluation
        running = panel.is_running()
        with self.expecting(Expect(ExportDialog, self.escape)) as seen:
            clicked = self.menubar_pick(path)
        if path[1] == "Evaluate" and panel.is_running() and not running:
            with self.qtbot.waitSignal(panel.finished, timeout=CHILD_MS) as finished:
                pass
            clicked.append(f"scored: {finished.args[0].status}")
        return f"menu {' > '.join(clicked)} ({seen})"

    # ------------------------------------------------------------------- detect
    def detect(self) -> str:
        """Ctrl+D (or Ctrl+Shift+D): the real command line in a child, once per walk; then
        cancelled, waited for, or left to end while the walk goes on. On the fake run it
        fails (no checkpoint), which the window says in a message box."""
        if self.detected:
            return "detect (once per walk)"
        win = self.win
        key, modifier = self.rng.choice([(Qt.Key.Key_D, CTRL), (Qt.Key.Key_D, CTRL | SHIFT)])
        self.key(key, modifier)
        if not win.detector.is_running():
            return f"detect (not started: {win.statusBar().currentMessage()!r})"
        self.detected = True
        win.detector.finished.connect(
            lambda outcome: self.notes.append(f"detection {outcome.status}: {outcome.message}")
        )
        self.standing.append(Expect(QMessageBox, self.escape, "Detection failed"))
        # Waited for at the walk's end when not cancelled: its end (the message box) comes
        # in the middle of other gestures, as it does for a user who goes on working.
        how = self.rng.choice(["cancel", "go on"])
        if how == "go on":
            return "detect started, the walk goes on"
        with self.qtbot.waitSignal(win.detector.finished, timeout=CHILD_MS) as finished:
            if how == "cancel":
                self.qtbot.wait(self.rng.choice((0, 200, 800)))
                if win.detector.is_running() and not self.click(win.review.cancel_button):
                    win.cancel_detect_action.trigger()
        return f"detect: {how}, {finished.args[0].status}"

    def end(self) -> None:
        """A detection still running ends before the window does."""
        if self.win.detector.is_running():
            with self.qtbot.waitSignal(self.win.detector.finished, timeout=CHILD_MS):
                pass


def walk(qtbot, win, seed: int, steps: int, out: Path) -> list[str]:
    rng = random.Random(seed)
    monkey = Monkey(qtbot, win, rng, out)
    win.evaluation.program = FAKE_CLI  # scores printed by a stand-in (no model to run)
    weighted: list[tuple[Callable[[], str], int]] = [
        (monkey.resize, 6),
        (monkey.float_dock, 3),
        (monkey.toggle_dock, 2),
        (monkey.raise_tab, 4),
        (monkey.redock, 2),
        (monkey.recording, 4),
        (monkey.zoom, 3),
        (monkey.show_detections, 2),
        (monkey.threshold, 3),
        (monkey.review, 4),
        (monkey.undo, 4),
        (monkey.label, 3),
        (monkey.train_dialog, 1),
        (monkey.runs_menu, 1),
        (monkey.view_look, 2),
        (monkey.edit, 3),
        (monkey.click_a_row, 2),
        (monkey.settings_dialog, 1),
        (monkey.reopen, 1),
        (monkey.floating_size, 2),
        (monkey.settle, 2),
        (monkey.events_table, 4),
        (monkey.review_panel, 4),
        (monkey.evaluation, 3),
        (monkey.classes, 4),
        (monkey.splits, 3),
        (monkey.export, 2),
        (monkey.detect, 1),
        (monkey.menus, 3),
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
            monkey.step = step
            with qtbot.captureExceptions() as errors:
                try:
                    started = time.monotonic()
                    done = action()
                    notes = "".join(f"; {n}" for n in monkey.notes)
                    monkey.notes.clear()
                    log.append(f"{step}: {done} [{time.monotonic() - started:.2f} s]{notes}")
                except Exception:
                    pytest.fail(
                        f"seed {seed}, step {step}, after {log[-8:]}:\n{traceback.format_exc()}"
                    )
                qtbot.wait(1)
            if errors:
                text = "".join(traceback.format_exception(errors[0][1]))
                pytest.fail(f"seed {seed}, step {step}, after {log[-8:]}:\n{text}")
            monkey.check_classes()
            if monkey.modals:
                pytest.fail(
                    f"seed {seed}, step {step}, unexpected dialog {monkey.modals} after {log[-8:]}"
                )
            if monkey.failures:
                pytest.fail(f"seed {seed}, step {step}: {monkey.failures} after {log[-8:]}")
            if step % 20 == 19:
                stale = stale_layout_items()
                assert not stale, f"seed {seed}, stale {stale} after {log[-8:]}"
        with qtbot.captureExceptions() as errors:
            monkey.end()
        log.extend(f"end: {note}" for note in monkey.notes)
        if errors or monkey.modals:
            pytest.fail(f"seed {seed}, at the end: {errors or monkey.modals}")
    finally:
        monkey.watcher.stop()
    return log


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_walk_raises_nothing_and_leaves_no_stale_wrappers(
    qtbot, detected_project, tmp_path, seed
):
    win = open_review_window(qtbot, detected_project)
    log = walk(qtbot, win, seed, STEPS, tmp_path / "exports")
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
