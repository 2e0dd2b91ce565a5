"""The main window's menus and toolbar: which commands exist, their keys and where they sit.

Built by :func:`build_menus` and :func:`build_toolbar` on a :class:`MainWindow`, whose slots
they connect; the window keeps the actions it enables and disables (``project_actions``,
``detect_actions``, ``train_action``...). Kept apart from the window so that adding a command
is a change here and not to the window's layout and behaviour.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QMenu, QStyle, QToolBar

from tfstudio.qt.dialogs import SCALE_NAMES
from tfstudio.qt.display_controls import DisplayControls
from tfstudio.qt.playback import SPEEDS

if TYPE_CHECKING:
    from tfstudio.qt.main_window import MainWindow

__all__ = ["build_menus", "build_toolbar"]


def build_menus(window: MainWindow) -> None:
    """File, Edit, View, Annotate, Playback, Model and Help, with their shortcuts."""
    bar = window.menuBar()
    file = bar.addMenu("&File")
    window._action(file, "&New project…", window.ask_new_project, QKeySequence.StandardKey.New)
    window._action(file, "&Open project…", window.ask_open_project, QKeySequence.StandardKey.Open)
    window.recent_menu = file.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(window._fill_recent_menu)
    window._action(file, "Create &demo project…", window.ask_create_demo)
    file.addSeparator()
    window.project_actions = [
        window._action(file, "&Import recordings…", window.ask_import_recordings, "Ctrl+I"),
        window._action(file, "Import recordings from &folder…", window.ask_import_folder),
        window._action(file, "Import &labels…", window.ask_import_labels, "Ctrl+Shift+I"),
        window._action(file, "Import labels from f&older…", window.ask_import_label_folder),
        window._action(file, "&Locate missing recording…", window.ask_locate),
        window._action(file, "&Export labels…", window.ask_export, "Ctrl+E"),
    ]
    file.addSeparator()
    window.project_actions.append(window._action(file, "&Close project", window.close_project))
    window._action(file, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    window.undo_action = window._action(edit, "&Undo", window.workspace.undo, ["Ctrl+Z"])
    window.redo_action = window._action(
        edit, "&Redo", window.workspace.redo, ["Ctrl+Shift+Z", "Ctrl+Y"]
    )
    edit.addSeparator()
    window._action(edit, "&Delete event", window.workspace.delete_selected, ["Del", "Backspace"])
    window._action(edit, "Deselect", lambda: window.workspace.select_event(None), "Esc")
    window._action(edit, "Add &class…", window.palette_widget.ask_add_class, "Ctrl+K")
    window._action(edit, "&Find class…", window.find_class, QKeySequence.StandardKey.Find)

    view = bar.addMenu("&View")
    window._action(view, "Zoom &in", lambda: window.view.zoom(2.0), ["=", "+", "Ctrl+="])
    window._action(view, "Zoom &out", lambda: window.view.zoom(0.5), ["-", "Ctrl+-"])
    window._action(view, "Zoom to &selection", window.view.zoom_to_selection, "Z")
    window._action(view, "&Whole recording", window.view.show_all, ["0", "Ctrl+0"])
    # With an event selected the arrows nudge it instead (Annotate menu).
    window._action(view, "Scroll left", lambda: window.arrow(-1), "Left")
    window._action(view, "Scroll right", lambda: window.arrow(1), "Right")
    window._action(view, "Go to start", lambda: window.view.pan(-1e9), "Home")
    window._action(view, "Go to end", lambda: window.view.pan(1e9), "End")
    window._action(
        view,
        "&Go to time…",
        window.ask_go_to_time,
        "Ctrl+G",
        tip="Centre on a time into the recording, or with Clock time on a time of day",
    )
    scales = view.addMenu("&Frequency scale")
    group = QActionGroup(window)
    window.scale_actions = {}
    for kind, text in SCALE_NAMES.items():
        action = window._action(
            scales, text, partial(window.set_frequency_scale, kind), checkable=True
        )
        group.addAction(action)
        window.scale_actions[kind] = action
    scales.addSeparator()
    window._action(scales, "&Next scale", window.cycle_frequency_scale, "Ctrl+Shift+F")
    window.waveform_action = window._action(
        view,
        "Show &waveform",
        lambda: window.set_waveform_shown(window.waveform_action.isChecked()),
        "Ctrl+Shift+W",
        checkable=True,
        tip="The waveform (min/max per pixel) above the spectrogram, on the same time axis",
    )
    window.clock_action = window._action(
        view,
        "&Clock time",
        lambda: window.set_clock_time_shown(window.clock_action.isChecked()),
        "Ctrl+Shift+T",
        checkable=True,
        tip="Times of day on the time axis, where the recording's start is known (from its "
        "GUANO metadata, an AudioMoth's comment, a bext header or its file name)",
    )
    window._action(
        view, "&Reset brightness and contrast", lambda: window.set_brightness_contrast(0.0, 0.0)
    )
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    window._action(view, "&Settings…", window.ask_settings, "Ctrl+,")

    annotate = bar.addMenu("&Annotate")
    annotate.addMenu(window.browser.split_menu())
    window.step_event_actions = (
        window._action(annotate, "&Next event", lambda: window._step_event(1), "Tab"),
        window._action(
            annotate, "&Previous event", lambda: window._step_event(-1), ["Shift+Tab", "Backtab"]
        ),
    )
    window._action(
        annotate,
        "Next &recording",
        lambda: window.workspace.step_recording(1),
        ["PgDown", "Ctrl+Right"],
    )
    window._action(
        annotate,
        "Previous r&ecording",
        lambda: window.workspace.step_recording(-1),
        ["PgUp", "Ctrl+Left"],
    )
    window._action(
        annotate,
        "Next &unlabelled recording",
        lambda: window.workspace.step_recording(1, unlabelled=True),
        "Ctrl+U",
    )
    nudge = annotate.addMenu("&Nudge")
    for text, step, edge, fine, shortcut in (
        ("Event earlier (fine)", -1, "both", True, "Alt+Left"),
        ("Event later (fine)", 1, "both", True, "Alt+Right"),
        ("End earlier", -1, "offset", False, "Shift+Left"),
        ("End later", 1, "offset", False, "Shift+Right"),
        ("End earlier (fine)", -1, "offset", True, "Alt+Shift+Left"),
        ("End later (fine)", 1, "offset", True, "Alt+Shift+Right"),
    ):
        window._action(nudge, text, partial(window.nudge, step, edge, fine), shortcut)
    window._action(
        annotate, "Set &onset at the playback cursor", partial(window.set_edge, "onset"), "I"
    )
    window._action(
        annotate, "Set o&ffset at the playback cursor", partial(window.set_edge, "offset"), "O"
    )
    window._action(annotate, "Next event of this c&lass", lambda: window.step_same_class(1), ".")
    window._action(
        annotate, "Previous event of this cl&ass", lambda: window.step_same_class(-1), ","
    )
    classes = annotate.addMenu("Set &class")
    for key in range(1, 10):
        window._action(
            classes, f"Class on key {key}", partial(window._set_class_key, str(key)), str(key)
        )

    play = bar.addMenu("&Playback")
    style = window.style()
    window.play_action = window._action(play, "&Play / pause", window.toggle_play, "Space")
    window.play_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
    window.play_sel_action = window._action(
        play, "Play &selection", window.play_selection, ["Shift+Space", "P"]
    )
    window.play_sel_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
    window.loop_action = window._action(play, "&Loop", window._on_loop_toggle, "L", checkable=True)
    window._action(play, "&Faster", lambda: window._step_speed(1), "]")
    window._action(play, "S&lower", lambda: window._step_speed(-1), "[")
    window._action(play, "&Normal speed", lambda: window._set_speed(1.0), "\\")

    model = bar.addMenu("&Model")
    window.train_action = window._action(
        model,
        "&Train…",
        window.ask_train,
        "Ctrl+T",
        tip="Train a detector on the labelled recordings (runs in the background)",
    )
    window._action(model, "&Stop training", lambda: window.training.stop())
    model.addSeparator()
    window.detect_actions = {
        "current": window._action(
            model,
            "&Detect on this recording",
            lambda: window.detect("current"),
            "Ctrl+D",
            tip="Run the chosen model on the open recording",
        ),
        "selected": window._action(
            model,
            "Detect on &selected recordings",
            lambda: window.detect("selected"),
            "Ctrl+Shift+D",
            tip="Ctrl/Shift+click recordings in the list to select several",
        ),
        "unlabelled": window._action(
            model,
            "Detect on all &unlabelled recordings",
            lambda: window.detect("unlabelled"),
        ),
    }
    window.cancel_detect_action = window._action(model, "&Cancel detection", window.detector.cancel)
    window.cancel_detect_action.setEnabled(False)
    model.addSeparator()
    window.show_detections_action = window._action(
        model,
        "S&how detections",
        lambda: window.detections.set_visible(window.show_detections_action.isChecked()),
        "Ctrl+Shift+H",
        checkable=True,
    )
    window.show_detections_action.setChecked(True)
    review = model.addMenu("&Review")
    for text, command, keys in (
        ("&Accept detection", "accept", "A"),
        ("&Reject detection", "reject", "R"),
        ("A&djust detection", "adjust", "E"),
        ("&Next detection", "next", ["N", "J"]),
        ("&Previous detection", "previous", "K"),
    ):
        window._action(review, text, partial(window._review, command), keys)
    model.addSeparator()
    window._action(model, "&Evaluate…", window.ask_evaluate)
    window.model_menu = model

    help_menu = bar.addMenu("&Help")
    window._action(help_menu, "&Keyboard and mouse", window.show_help, "F1")
    help_menu.addSeparator()
    about = window._action(help_menu, "&About tfstudio", window.show_about)
    about.setMenuRole(QAction.MenuRole.AboutRole)


def build_toolbar(window: MainWindow) -> None:
    """Transport, speed, zoom, train and detect (with its menu), the detections toggle, then
    brightness, contrast and settings."""
    style = window.style()
    tools = QToolBar("Transport")
    tools.setObjectName("toolbar-transport")
    tools.setMovable(False)
    tools.addAction(window.play_action)
    tools.addAction(window.play_sel_action)
    window.loop_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
    tools.addAction(window.loop_action)
    window.speed_combo = QComboBox()
    for speed in SPEEDS:
        window.speed_combo.addItem(f"{speed:g}×", speed)
    window.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
    window.speed_combo.setToolTip("Playback speed ([ and ])")
    window.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    window.speed_combo.currentIndexChanged.connect(
        lambda i: window.player.set_rate(window.speed_combo.itemData(i))
    )
    tools.addWidget(window.speed_combo)
    tools.addSeparator()
    for text, slot, tip in (
        ("Zoom in", lambda: window.view.zoom(2.0), "Zoom in (+)"),
        ("Zoom out", lambda: window.view.zoom(0.5), "Zoom out (-)"),
        ("Fit selection", window.view.zoom_to_selection, "Zoom to the selected events (Z)"),
        ("Whole", window.view.show_all, "Show the whole recording (0)"),
    ):
        action = tools.addAction(text, slot)
        action.setToolTip(tip)
    tools.addSeparator()
    detect_menu = QMenu(window)
    for action in window.detect_actions.values():
        detect_menu.addAction(action)
    detect_menu.addSeparator()
    detect_menu.addAction(window.cancel_detect_action)
    tools.addAction(window.train_action)
    detect = tools.addAction("Detect", lambda: window.detect("current"))
    detect.setToolTip("Detect on this recording (Ctrl+D); more in the menu")
    detect.setMenu(detect_menu)
    window.detect_tool_action = detect
    window.show_detections_action.setToolTip("Show or hide detections and posteriors")
    tools.addAction(window.show_detections_action)
    # The look of the spectrogram last: in a narrow window it is what goes into the "»"
    # menu (it is in View ▸ Settings too), not Train, Detect or Show detections.
    tools.addSeparator()
    window.display_controls = DisplayControls()
    window.display_controls.set_values(
        window.view_settings.brightness, window.view_settings.contrast
    )
    window.display_controls.changed.connect(window.set_brightness_contrast)
    tools.addWidget(window.display_controls)
    tools.addAction("Settings…", window.ask_settings).setToolTip("View settings (Ctrl+,)")
    window.review.detect_button.setMenu(detect_menu)
    window.review.detect_button.setDefaultAction(detect)
    window.addToolBar(tools)
    window.toolbar = tools
